#ifndef COWORK_SERVICES_CUSTOMERS_DOMAIN_VALIDATION_H_
#define COWORK_SERVICES_CUSTOMERS_DOMAIN_VALIDATION_H_

// The input rules of the customers service (SPEC "Customers", reference 000), as pure checks
// that add one violation per bad field to a FieldErrors, so a caller reports every bad field
// at once. Every check first bounds the input's size in bytes, so a hostile 1 MB value costs
// nothing, then decodes UTF-8 (invalid UTF-8 and control characters are violations, never a
// crash).
//
// Thread-safe (pure functions).
//
//   FieldErrors errors;
//   CheckFirstName(request.first_name(), "first_name", errors);
//   CheckEmail(request.email(), "email", errors);
//   RETURN_IF_ERROR(errors.ToStatus());

#include <string>

#include "absl/strings/string_view.h"
#include "libs/status/field_errors.h"
#include "libs/validation/person.h"
#include "libs/validation/validation.h"

namespace cowork::customers::domain {

// Reference 000's wording, one per name field.
inline constexpr absl::string_view kFirstNameMessage =
    "must have at least 2 characters; numbers and special characters are not allowed";
inline constexpr absl::string_view kLastNameMessage =
    "must have at least 1 character; numbers and special characters are not allowed";

// First and last names (libs/validation/person.h's alphabet): first 2..100 characters, last
// 1..100, with reference 000's messages.
inline constexpr int kMaxNameLength = 100;
void CheckFirstName(absl::string_view value, absl::string_view field, FieldErrors& errors);
void CheckLastName(absl::string_view value, absl::string_view field, FieldErrors& errors);

// Optional phone: digits, spaces and + - ( ) . ; at most 32 characters, at least one digit.
inline constexpr size_t kMaxPhoneLength = 32;
void CheckPhone(absl::string_view value, absl::string_view field, FieldErrors& errors);

// Password policy (SPEC: "define and document the policy"):
//  - 10 to 128 characters (Unicode code points), valid UTF-8, no control characters;
//  - at least one letter and at least one character that is not a letter (a digit, a space,
//    punctuation, a symbol), so it is never letters only;
//  - not the account's email address (compared case-insensitively).
// Checked before hashing: a hostile 1 MB password is refused by its size alone.
inline constexpr int kMinPasswordLength = 10;
inline constexpr int kMaxPasswordLength = 128;
void CheckPassword(absl::string_view password, absl::string_view email, absl::string_view field,
                   FieldErrors& errors);

// The checks every service shares (libs/validation), named here too so the customers rules
// read as one list.
using validation::CheckCurrency;
using validation::CheckEmail;
using validation::CheckFullName;
using validation::CheckId;
using validation::CheckLabel;
using validation::CheckRequestId;
using validation::CheckTimeZone;
using validation::IsActiveCurrency;
using validation::IsValidId;
using validation::kMaxEmailLength;
using validation::kMaxIdLength;
using validation::kMaxRequestIdLength;
using validation::NormalizeEmail;
using validation::TrimSpaces;

}  // namespace cowork::customers::domain

#endif  // COWORK_SERVICES_CUSTOMERS_DOMAIN_VALIDATION_H_
