#include "services/customers/domain/validation.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::customers::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename Check>
std::vector<FieldViolation> Violations(Check check) {
  FieldErrors errors;
  check(errors);
  return errors.violations();
}

std::vector<FieldViolation> FirstName(absl::string_view v) {
  return Violations([&](FieldErrors& e) { CheckFirstName(v, "first_name", e); });
}
std::vector<FieldViolation> LastName(absl::string_view v) {
  return Violations([&](FieldErrors& e) { CheckLastName(v, "last_name", e); });
}
std::vector<FieldViolation> Email(absl::string_view v) {
  return Violations([&](FieldErrors& e) { CheckEmail(v, "email", e); });
}
std::vector<FieldViolation> Password(absl::string_view v, absl::string_view email = "") {
  return Violations([&](FieldErrors& e) { CheckPassword(v, email, "password", e); });
}

TEST(Names, AcceptLettersOfAnyAlphabetSpacesHyphensApostrophes) {
  for (absl::string_view name :
       {"Zoë", "O'Brien", "Jean-Luc", "Ana María", "O’Connor", "Łukasz", "Ὀδυσσεύς", "Влади́мир",
        "小龙", "محمد", "José", "'t Hooft"}) {
    EXPECT_THAT(FirstName(name), IsEmpty()) << name;
    EXPECT_THAT(LastName(name), IsEmpty()) << name;
  }
  // "Zoë" written with a combining diaeresis (e + U+0308).
  EXPECT_THAT(FirstName("Zoe\xCC\x88"), IsEmpty());
  EXPECT_THAT(LastName("李"), IsEmpty());
  EXPECT_THAT(LastName("X"), IsEmpty());
}

TEST(Names, FirstNameNeedsTwoCharactersLastNameOne) {
  EXPECT_THAT(FirstName("A"), ElementsAre(FieldViolation{"first_name",
                                                         std::string(kFirstNameMessage)}));
  EXPECT_THAT(FirstName("李"), ElementsAre(FieldViolation{"first_name",
                                                          std::string(kFirstNameMessage)}));
  EXPECT_THAT(FirstName(""), ElementsAre(FieldViolation{"first_name",
                                                        std::string(kFirstNameMessage)}));
  EXPECT_THAT(FirstName("  A  "), ElementsAre(FieldViolation{"first_name",
                                                             std::string(kFirstNameMessage)}));
  EXPECT_THAT(FirstName("Al"), IsEmpty());
  EXPECT_THAT(LastName(""), ElementsAre(FieldViolation{"last_name",
                                                       std::string(kLastNameMessage)}));
  EXPECT_THAT(LastName("   "), ElementsAre(FieldViolation{"last_name",
                                                          std::string(kLastNameMessage)}));
}

TEST(Names, RefuseDigitsAndSpecialCharacters) {
  for (absl::string_view name :
       {"Ann3", "R2D2", "Bob!", "a@b", "Robert'); DROP TABLE customers;--", "<script>x</script>",
        "Jo_hn", "Ann.", "--", "''", "Ann\tLee", "Ann\nLee", "Ann\x01", "Zoe\xE2\x80\xAE",
        "\xCC\x88Zoe", "😀😀"}) {
    EXPECT_THAT(FirstName(name), ElementsAre(FieldViolation{"first_name",
                                                            std::string(kFirstNameMessage)}))
        << name;
  }
}

TEST(Names, InvalidUtf8IsAViolationNotACrash) {
  for (absl::string_view name : {"\xFF\xFE", "Zo\xC3", "A\xED\xA0\x80", "\xC0\xAF\x41"}) {
    EXPECT_THAT(FirstName(name),
                ElementsAre(FieldViolation{"first_name", "must be valid UTF-8 text"}))
        << name;
  }
}

TEST(Names, AtMostOneHundredCharactersAndHugeInputIsRefusedBySize) {
  EXPECT_THAT(LastName(std::string(100, 'a')), IsEmpty());
  EXPECT_THAT(LastName(std::string(101, 'a')),
              ElementsAre(FieldViolation{"last_name", "must have at most 100 characters"}));
  // 100 two-byte letters are fine: the bound is in characters.
  std::string greek;
  for (int i = 0; i < 100; ++i) greek += "λ";
  EXPECT_THAT(LastName(greek), IsEmpty());
  EXPECT_THAT(LastName(std::string(1 << 20, 'a')),
              ElementsAre(FieldViolation{"last_name", "must have at most 100 characters"}));
}

TEST(Email, AcceptsValidAddresses) {
  for (absl::string_view email :
       {"ana@example.com", "Ana.Lopez+desk@Mail.Example.CO.uk", "o'brien@example.ie",
        "x@a-b.io", "a_b-c@sub.domain.org", " ana@example.com "}) {
    EXPECT_THAT(Email(email), IsEmpty()) << email;
  }
}

TEST(Email, RefusesInvalidAddresses) {
  for (absl::string_view email :
       {"ana", "ana@", "@example.com", "ana@example", "ana@@example.com", "a@b@example.com",
        "ana lopez@example.com", "ana@exa mple.com", ".ana@example.com", "ana.@example.com",
        "an..a@example.com", "ana@-example.com", "ana@example-.com", "ana@example.c",
        "ana@example.123", "<script>@example.com", "ana@example.com\n", "ana\x01@example.com",
        "ana@exam_ple.com", "zoë@example.com", "ana@.example.com"}) {
    EXPECT_THAT(Email(email), ElementsAre(FieldViolation{"email", "must be a valid email address"}))
        << email;
  }
  EXPECT_THAT(Email(""),
              ElementsAre(FieldViolation{"email", "is required: enter a valid email address"}));
  EXPECT_THAT(Email(std::string(65, 'a') + "@example.com"),
              ElementsAre(FieldViolation{"email", "must be a valid email address"}));
  EXPECT_THAT(Email(std::string(64, 'a') + "@example.com"), IsEmpty());
  EXPECT_THAT(Email("a@" + std::string(250, 'b') + ".com"),
              ElementsAre(FieldViolation{"email", "must be a valid email address"}));
  EXPECT_THAT(Email(std::string(1 << 20, 'a')),
              ElementsAre(FieldViolation{"email", "must be a valid email address"}));
}

TEST(Email, NormalizedLowerCase) {
  EXPECT_EQ(NormalizeEmail("  Ana.Lopez@Example.COM "), "ana.lopez@example.com");
}

TEST(Phone, OptionalDigitsAndPunctuation) {
  auto phone = [](absl::string_view v) {
    return Violations([&](FieldErrors& e) { CheckPhone(v, "phone", e); });
  };
  EXPECT_THAT(phone(""), IsEmpty());
  EXPECT_THAT(phone("+34 (91) 123-45.67"), IsEmpty());
  EXPECT_THAT(phone("call me"), testing::SizeIs(1));
  EXPECT_THAT(phone("+-()"), testing::SizeIs(1));
  EXPECT_THAT(phone(std::string(33, '1')), testing::SizeIs(1));
  EXPECT_THAT(phone("12345; DROP"), testing::SizeIs(1));
}

TEST(Password, PolicyLengthLetterAndNonLetterNotTheEmail) {
  EXPECT_THAT(Password("correct horse 7"), IsEmpty());
  EXPECT_THAT(Password("Tr0ub4dor&3"), IsEmpty());
  EXPECT_THAT(Password("contraseña9x"), IsEmpty());
  EXPECT_THAT(Password("short1"),
              ElementsAre(FieldViolation{"password", "must have 10 to 128 characters"}));
  EXPECT_THAT(Password("onlyletterspassword"),
              ElementsAre(FieldViolation{
                  "password", "must contain at least one letter and one number, space or symbol"}));
  EXPECT_THAT(Password("1234567890123"),
              ElementsAre(FieldViolation{
                  "password", "must contain at least one letter and one number, space or symbol"}));
  EXPECT_THAT(Password("Ana@Example.com", "ana@example.com"),
              ElementsAre(FieldViolation{"password", "must not be your email address"}));
  EXPECT_THAT(Password(std::string(128, 'a') + "1"),
              ElementsAre(FieldViolation{"password", "must have 10 to 128 characters"}));
  EXPECT_THAT(Password(std::string(127, 'a') + "1"), IsEmpty());
  EXPECT_THAT(Password("abc\x01" "defghij1"),
              ElementsAre(FieldViolation{"password", "must not contain control characters"}));
  EXPECT_THAT(Password("abc\xFF" "defghij1"),
              ElementsAre(FieldViolation{"password", "must be valid UTF-8 text"}));
  EXPECT_THAT(Password(std::string(1 << 20, 'a')),
              ElementsAre(FieldViolation{"password", "must have 10 to 128 characters"}));
  EXPECT_THAT(Password("abc"),
              ElementsAre(FieldViolation{
                  "password",
                  "must have 10 to 128 characters; must contain at least one letter and one "
                  "number, space or symbol"}));
}

}  // namespace
}  // namespace cowork::customers::domain
