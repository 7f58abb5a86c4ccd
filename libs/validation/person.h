#ifndef COWORK_LIBS_VALIDATION_PERSON_H_
#define COWORK_LIBS_VALIDATION_PERSON_H_

// Checks of a person's details that more than one service takes (customers and their primary
// contacts, visitors): names and email addresses. Like validation.h, each adds one violation
// per bad field and bounds the input's size before decoding it.
//
// Thread-safe (pure functions).

#include <string>

#include "absl/strings/string_view.h"
#include "libs/status/field_errors.h"
#include "libs/validation/validation.h"

namespace cowork::validation {

// A person's name: `min`..`max` characters (Unicode code points, after trimming spaces at both
// ends); letters of any alphabet (general category L*), combining marks (M*) right after a
// letter or mark, spaces, hyphens and apostrophes (' and U+2019); at least one letter. "Zoë",
// "O'Brien", "Jean-Luc", "李" pass; digits, symbols, control characters fail with
// `rule_message`.
void CheckPersonName(absl::string_view value, absl::string_view field, int min, int max,
                     absl::string_view rule_message, FieldErrors& errors);
// A full name ("Ana María López"): the same alphabet, 2..201 characters.
inline constexpr int kMaxFullNameLength = 201;
void CheckFullName(absl::string_view value, absl::string_view field, FieldErrors& errors);

// Email syntax: one '@'; local part 1..64 characters of RFC 5322's dot-atom (letters, digits
// and !#$%&'*+/=?^_`{|}~- with single dots between, not first or last); domain of at least two
// dot-separated labels of letters, digits and hyphens (1..63 each, no hyphen first or last),
// the last at least two characters and not all digits; at most 254 characters in all; no
// spaces or control characters. `required` false accepts the empty string.
inline constexpr size_t kMaxEmailLength = 254;
void CheckEmail(absl::string_view value, absl::string_view field, FieldErrors& errors,
                bool required = true);
// The form emails are stored and compared in: trimmed and lower-cased (ASCII; a valid email
// has nothing else).
std::string NormalizeEmail(absl::string_view email);

}  // namespace cowork::validation

#endif  // COWORK_LIBS_VALIDATION_PERSON_H_
