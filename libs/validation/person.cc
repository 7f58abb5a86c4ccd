#include "libs/validation/person.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cowork::validation {
namespace {

bool IsLetter(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0; }
bool IsMark(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0; }
bool IsNameSeparator(UChar32 c) {
  return c == ' ' || c == '-' || c == 0x2010 || c == 0x2011 || c == '\'' || c == 0x2019;
}

enum class NameProblem { kNone, kInvalidUtf8, kTooLong, kRule };

NameProblem PersonNameProblem(absl::string_view raw, int min, int max) {
  const absl::string_view value = TrimSpaces(raw);
  if (value.size() > static_cast<size_t>(max) * kMaxBytesPerCodePoint) {
    return NameProblem::kTooLong;
  }
  std::vector<UChar32> cps;
  if (!DecodeUtf8(value, cps)) return NameProblem::kInvalidUtf8;
  if (cps.size() > static_cast<size_t>(max)) return NameProblem::kTooLong;
  if (cps.size() < static_cast<size_t>(min)) return NameProblem::kRule;
  bool any_letter = false;
  bool after_letter = false;  // a combining mark (or ZWJ/ZWNJ) belongs to the letter before it
  for (UChar32 c : cps) {
    if (IsLetter(c)) {
      any_letter = true;
      after_letter = true;
    } else if ((IsMark(c) || c == 0x200C || c == 0x200D) && after_letter) {
      // Persian and Indic names use zero-width (non-)joiners between letters.
    } else if (IsNameSeparator(c)) {
      after_letter = false;
    } else {
      return NameProblem::kRule;
    }
  }
  return any_letter ? NameProblem::kNone : NameProblem::kRule;
}

void AddNameProblem(NameProblem problem, absl::string_view field, absl::string_view rule_message,
                    int max, FieldErrors& errors) {
  switch (problem) {
    case NameProblem::kNone:
      return;
    case NameProblem::kInvalidUtf8:
      errors.Add(std::string(field), "must be valid UTF-8 text");
      return;
    case NameProblem::kTooLong:
      errors.Add(std::string(field), absl::StrCat("must have at most ", max, " characters"));
      return;
    case NameProblem::kRule:
      errors.Add(std::string(field), std::string(rule_message));
      return;
  }
}

bool IsAtext(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  static constexpr absl::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-";
  return kSpecials.find(c) != absl::string_view::npos;
}

bool ValidLocalPart(absl::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  char previous = 0;
  for (char c : local) {
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!IsAtext(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool ValidDomain(absl::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) return false;
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  absl::string_view tld = labels.back();
  if (tld.size() < 2) return false;
  return !std::all_of(tld.begin(), tld.end(),
                      [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

void CheckPersonName(absl::string_view value, absl::string_view field, int min, int max,
                     absl::string_view rule_message, FieldErrors& errors) {
  AddNameProblem(PersonNameProblem(value, min, max), field, rule_message, max, errors);
}

void CheckFullName(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  CheckPersonName(value, field, 2, kMaxFullNameLength,
                  "must have at least 2 characters; numbers and special characters are not "
                  "allowed",
                  errors);
}

void CheckEmail(absl::string_view raw, absl::string_view field, FieldErrors& errors,
                bool required) {
  const absl::string_view value = TrimSpaces(raw);
  if (value.empty()) {
    if (required) errors.Add(std::string(field), "is required: enter a valid email address");
    return;
  }
  bool valid = value.size() <= kMaxEmailLength;
  if (valid) {
    const size_t at = value.find('@');
    valid = at != absl::string_view::npos && value.find('@', at + 1) == absl::string_view::npos &&
            ValidLocalPart(value.substr(0, at)) && ValidDomain(value.substr(at + 1));
  }
  if (!valid) errors.Add(std::string(field), "must be a valid email address");
}

std::string NormalizeEmail(absl::string_view email) {
  return absl::AsciiStrToLower(TrimSpaces(email));
}

}  // namespace cowork::validation
