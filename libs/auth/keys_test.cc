#include "libs/auth/keys.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/testing/process.h"

namespace cowork::auth {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A fake environment and the key files it names.
class KeysFromEnv : public ::testing::Test {
 protected:
  GetEnv Env() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  // Writes `pem` to a file and names it in `var`.
  void SetKey(const std::string& var, const std::string& pem) {
    const std::string path = dir_.Sub(var + ".pem");
    std::ofstream(path) << pem;
    env_[var] = path;
  }
  // Production keys: fresh pairs, files named by the four variables.
  void SetProductionKeys() {
    SetKey("COWORK_SESSION_PUBLIC_KEY_FILE", session_.public_pem);
    SetKey("COWORK_SESSION_PRIVATE_KEY_FILE", session_.private_pem);
    SetKey("COWORK_PLATFORM_PUBLIC_KEY_FILE", platform_.public_pem);
    SetKey("COWORK_ADMIN_PUBLIC_KEY_FILE", admin_.public_pem);
  }

  testing::TempDir dir_{"keys_test"};
  std::map<std::string, std::string> env_;
  const KeyPair session_ = NewEs256KeyPair();
  const KeyPair platform_ = NewEs256KeyPair();
  const KeyPair admin_ = NewEs256KeyPair();
};

TEST(Es256KeyPair, IsAFreshP256PairThatSignsAndVerifies) {
  const KeyPair a = NewEs256KeyPair();
  const KeyPair b = NewEs256KeyPair();
  EXPECT_NE(a.private_pem, b.private_pem);
  EXPECT_THAT(a.private_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_THAT(a.public_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  EXPECT_TRUE(CheckEs256PrivateKey(a.private_pem).ok());
  EXPECT_TRUE(CheckPublicKey(a.public_pem, /*rsa_allowed=*/false).ok());
  const absl::Time now = RealClock::Get().Now();
  const std::string token = MintPlatformToken(a.private_pem, "root", now);
  EXPECT_TRUE(TokenVerifier({.platform_public_key_pem = a.public_pem}).Verify(token, now).ok());
}

TEST(CheckKeys, RefuseOtherKindsOfKeyAndNonsense) {
  EXPECT_FALSE(CheckEs256PrivateKey("not a key").ok());
  EXPECT_FALSE(CheckEs256PrivateKey(NewEs256KeyPair().public_pem).ok());
  EXPECT_FALSE(CheckPublicKey(NewEs256KeyPair().private_pem, true).ok());
  EXPECT_FALSE(CheckPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", true)
                   .ok());
}

TEST_F(KeysFromEnv, OutsideDevEveryKeyIsRequiredAndNamed) {
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(keys.status().message()),
              AllOf(HasSubstr("COWORK_SESSION_PUBLIC_KEY_FILE"),
                    HasSubstr("COWORK_PLATFORM_PUBLIC_KEY_FILE"),
                    HasSubstr("COWORK_ADMIN_PUBLIC_KEY_FILE"),
                    HasSubstr("COWORK_SESSION_PRIVATE_KEY_FILE")));
  // A service that does not sign sessions does not need the private key.
  keys = TokenKeysFromEnv(false, /*signs_sessions=*/false, Env());
  EXPECT_THAT(std::string(keys.status().message()),
              Not(HasSubstr("COWORK_SESSION_PRIVATE_KEY_FILE")));
}

TEST_F(KeysFromEnv, OutsideDevTheFilesAreRead) {
  SetProductionKeys();
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->verifier.session_public_key_pem, session_.public_pem);
  EXPECT_EQ(keys->verifier.platform_public_key_pem, platform_.public_pem);
  EXPECT_EQ(keys->verifier.admin_public_key_pem, admin_.public_pem);
  EXPECT_EQ(keys->session_private_key_pem, session_.private_pem);
}

TEST_F(KeysFromEnv, OnlyTheCustomersServiceMayHoldTheSessionPrivateKey) {
  SetProductionKeys();
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/false, Env());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(keys.status().message()),
              HasSubstr("COWORK_SESSION_PRIVATE_KEY_FILE: only the customers service"));
  env_.erase("COWORK_SESSION_PRIVATE_KEY_FILE");
  EXPECT_TRUE(TokenKeysFromEnv(false, /*signs_sessions=*/false, Env()).ok());
}

TEST_F(KeysFromEnv, ASessionPrivateKeyThatDoesNotMatchItsPublicKeyIsRefused) {
  SetProductionKeys();
  SetKey("COWORK_SESSION_PRIVATE_KEY_FILE", NewEs256KeyPair().private_pem);
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  EXPECT_THAT(std::string(keys.status().message()),
              HasSubstr("does not match COWORK_SESSION_PUBLIC_KEY_FILE"));
}

TEST_F(KeysFromEnv, OutsideDevTheDevKeysAndTheDevKeysDirAreRefused) {
  SetProductionKeys();
  SetKey("COWORK_PLATFORM_PUBLIC_KEY_FILE", DevPlatformKeys().public_pem);
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(keys.status().message()),
              HasSubstr("COWORK_PLATFORM_PUBLIC_KEY_FILE: "));
  EXPECT_THAT(std::string(keys.status().message()), HasSubstr("is the documented dev key"));

  SetProductionKeys();
  env_["COWORK_DEV_KEYS_DIR"] = dir_.Sub("dev");
  keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  EXPECT_THAT(std::string(keys.status().message()), HasSubstr("COWORK_DEV_KEYS_DIR: is for --dev"));
}

TEST_F(KeysFromEnv, AKeyOfTheWrongKindIsRefused) {
  SetProductionKeys();
  SetKey("COWORK_SESSION_PUBLIC_KEY_FILE", "-----BEGIN PUBLIC KEY-----\nnope\n");
  env_["COWORK_ADMIN_PUBLIC_KEY_FILE"] = dir_.Sub("missing.pem");
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(false, /*signs_sessions=*/true, Env());
  EXPECT_THAT(std::string(keys.status().message()),
              AllOf(HasSubstr("COWORK_SESSION_PUBLIC_KEY_FILE: "), HasSubstr("not a PEM public key"),
                    HasSubstr("COWORK_ADMIN_PUBLIC_KEY_FILE: cannot read")));
}

TEST_F(KeysFromEnv, DevModeRefusesProductionKeys) {
  for (const std::string var : {"COWORK_SESSION_PUBLIC_KEY_FILE", "COWORK_PLATFORM_PUBLIC_KEY_FILE",
                                "COWORK_ADMIN_PUBLIC_KEY_FILE", "COWORK_SESSION_PRIVATE_KEY_FILE"}) {
    env_.clear();
    SetKey(var, NewEs256KeyPair().public_pem);
    absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(true, /*signs_sessions=*/true, Env());
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition) << var;
    EXPECT_THAT(std::string(keys.status().message()),
                HasSubstr(var + ": is a production key: --dev refuses"));
  }
}

TEST_F(KeysFromEnv, DevModeUsesTheDevKeysOrThoseOfTheDevKeysDir) {
  absl::StatusOr<TokenKeys> keys = TokenKeysFromEnv(true, /*signs_sessions=*/true, Env());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->verifier.session_public_key_pem, DevSessionKeys().public_pem);
  EXPECT_EQ(keys->session_private_key_pem, DevSessionKeys().private_pem);
  EXPECT_EQ(keys->verifier.platform_public_key_pem, DevPlatformKeys().public_pem);
  EXPECT_EQ(keys->verifier.admin_public_key_pem, DevAdminKeys().public_pem);

  const std::string dir = dir_.Sub("dev-keys");
  ASSERT_TRUE(EnsureDevKeys(dir).ok());
  absl::StatusOr<DevKeySet> written = ReadDevKeys(dir);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_TRUE(EnsureDevKeys(dir).ok());  // kept, not made again
  EXPECT_EQ(ReadDevKeys(dir)->session.private_pem, written->session.private_pem);
  EXPECT_EQ(std::filesystem::status(DevKeyFile(dir, "session", true)).permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  env_["COWORK_DEV_KEYS_DIR"] = dir;
  keys = TokenKeysFromEnv(true, /*signs_sessions=*/true, Env());
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->verifier.session_public_key_pem, written->session.public_pem);
  EXPECT_EQ(keys->session_private_key_pem, written->session.private_pem);
  EXPECT_EQ(keys->verifier.platform_public_key_pem, written->platform.public_pem);
  EXPECT_EQ(keys->verifier.admin_public_key_pem, written->admin.public_pem);

  std::filesystem::remove(DevKeyFile(dir, "admin", false));
  keys = TokenKeysFromEnv(true, /*signs_sessions=*/true, Env());
  EXPECT_THAT(std::string(keys.status().message()),
              HasSubstr(absl::StrCat(DevKeyFile(dir, "admin", false), ": cannot read")));
}

}  // namespace
}  // namespace cowork::auth
