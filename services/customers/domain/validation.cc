#include "services/customers/domain/validation.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace cowork::customers::domain {
namespace {

using validation::DecodeUtf8;
using validation::IsControlLike;
using validation::kMaxBytesPerCodePoint;

bool IsLetter(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0; }

}  // namespace

void CheckFirstName(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  validation::CheckPersonName(value, field, 2, kMaxNameLength, kFirstNameMessage, errors);
}

void CheckLastName(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  validation::CheckPersonName(value, field, 1, kMaxNameLength, kLastNameMessage, errors);
}

void CheckPhone(absl::string_view raw, absl::string_view field, FieldErrors& errors) {
  const absl::string_view value = TrimSpaces(raw);
  if (value.empty()) return;
  bool valid = value.size() <= kMaxPhoneLength;
  bool any_digit = false;
  for (char c : value) {
    if (!valid) break;
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      any_digit = true;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')' && c != '.') {
      valid = false;
    }
  }
  if (!valid || !any_digit) {
    errors.Add(std::string(field),
               absl::StrCat("must be a phone number: digits, spaces and + - ( ) . only, at most ",
                            kMaxPhoneLength, " characters"));
  }
}

void CheckPassword(absl::string_view password, absl::string_view email, absl::string_view field,
                   FieldErrors& errors) {
  const std::string length_rule = absl::StrCat("must have ", kMinPasswordLength, " to ",
                                               kMaxPasswordLength, " characters");
  if (password.size() > static_cast<size_t>(kMaxPasswordLength) * kMaxBytesPerCodePoint) {
    errors.Add(std::string(field), length_rule);
    return;
  }
  std::vector<UChar32> cps;
  if (!DecodeUtf8(password, cps)) {
    errors.Add(std::string(field), "must be valid UTF-8 text");
    return;
  }
  std::vector<std::string> problems;
  if (cps.size() < static_cast<size_t>(kMinPasswordLength) ||
      cps.size() > static_cast<size_t>(kMaxPasswordLength)) {
    problems.push_back(length_rule);
  }
  bool letter = false, non_letter = false, control = false;
  for (UChar32 c : cps) {
    if (IsControlLike(c)) control = true;
    if (IsLetter(c)) {
      letter = true;
    } else {
      non_letter = true;
    }
  }
  if (control) problems.push_back("must not contain control characters");
  if (!letter || !non_letter) {
    problems.push_back("must contain at least one letter and one number, space or symbol");
  }
  if (!email.empty() && absl::EqualsIgnoreCase(TrimSpaces(password), TrimSpaces(email))) {
    problems.push_back("must not be your email address");
  }
  if (!problems.empty()) errors.Add(std::string(field), absl::StrJoin(problems, "; "));
}

}  // namespace cowork::customers::domain
