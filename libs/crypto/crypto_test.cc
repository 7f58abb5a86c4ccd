#include "libs/crypto/crypto.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::crypto {
namespace {

using ::testing::MatchesRegex;

TEST(NewUuid, IsVersion4LowerCaseHyphenated) {
  for (int i = 0; i < 100; ++i) {
    EXPECT_THAT(NewUuid(),
                MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  }
}

TEST(NewUuid, IsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(NewUuid()).second);
}

TEST(NewId, PrefixAndTwentyBase32Characters) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId("c-");
    EXPECT_THAT(id, MatchesRegex("c-[a-z2-7]{20}"));
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(NewCode, LengthAndAlphabetWithoutLookAlikes) {
  EXPECT_EQ(NewCode(0), "");
  for (int i = 0; i < 200; ++i) {
    std::string code = NewCode(8);
    EXPECT_THAT(code, MatchesRegex("[2-9A-HJ-NP-Z]{8}"));
    EXPECT_EQ(code.find_first_of("01OIL"), std::string::npos);
  }
}

TEST(Seal, RoundTrip) {
  std::string key = NewSealKey();
  ASSERT_EQ(key.size(), 32u);
  std::string plain = "Ada Lovelace <ada@example.com>";
  std::string sealed = Seal(key, "customer/c-1", plain);
  EXPECT_EQ(sealed.find(plain), std::string::npos);
  EXPECT_EQ(sealed.size(), 24 + plain.size() + 16);
  absl::StatusOr<std::string> opened = Open(key, "customer/c-1", sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, plain);
}

TEST(Seal, EmptyPlaintextRoundTrips) {
  std::string key = NewSealKey();
  absl::StatusOr<std::string> opened = Open(key, "x", Seal(key, "x", ""));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "");
}

TEST(Seal, FreshNonceEachTime) {
  std::string key = NewSealKey();
  EXPECT_NE(Seal(key, "c", "same"), Seal(key, "c", "same"));
}

TEST(Open, TamperedValueFails) {
  std::string key = NewSealKey();
  std::string sealed = Seal(key, "customer/c-1", "secret");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(Open(key, "customer/c-1", bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "byte " << i;
  }
  EXPECT_EQ(Open(key, "customer/c-1", sealed.substr(0, sealed.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open(key, "customer/c-1", "short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Open, WrongKeyFails) {
  std::string sealed = Seal(NewSealKey(), "customer/c-1", "secret");
  EXPECT_EQ(Open(NewSealKey(), "customer/c-1", sealed).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open("too short", "customer/c-1", sealed).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Open, WrongContextFails) {
  std::string key = NewSealKey();
  std::string sealed = Seal(key, "customer/c-1", "secret");
  EXPECT_EQ(Open(key, "customer/c-2", sealed).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Password, HashVerifies) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_THAT(*hash, ::testing::StartsWith("$argon2id$"));
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
}

TEST(Password, WrongPasswordFails) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword("", "correct horse battery staple"));
}

TEST(Password, SaltedSoEqualPasswordsHashDifferently) {
  absl::StatusOr<std::string> a = HashPassword("pw-123456");
  absl::StatusOr<std::string> b = HashPassword("pw-123456");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(SecretEquals, ComparesContentAndLength) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_TRUE(SecretEquals("", ""));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
  EXPECT_FALSE(SecretEquals("", "a"));
}

TEST(Sha256Hex, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace cowork::crypto
