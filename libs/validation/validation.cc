#include "libs/validation/validation.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "libs/clock/proto_time.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace cowork::validation {
namespace {

constexpr absl::string_view kCurrencies[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG"};

}  // namespace

// Decodes UTF-8 into code points; false for ill-formed input (overlong forms, surrogates,
// truncated sequences), which ICU's U8_NEXT reports as a negative code point.
bool DecodeUtf8(absl::string_view s, std::vector<UChar32>& out) {
  out.clear();
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return false;
    out.push_back(c);
  }
  return true;
}

// Control (Cc), format (Cf: bidi overrides, zero-width characters), unassigned, private use
// and surrogates: nothing a person types into a name or a label.
bool IsControlLike(UChar32 c) {
  return (U_GET_GC_MASK(c) & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CN_MASK | U_GC_CO_MASK |
                              U_GC_CS_MASK)) != 0;
}

absl::string_view TrimSpaces(absl::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}


void CheckLabel(absl::string_view raw, absl::string_view field, int max, FieldErrors& errors,
                bool required) {
  const absl::string_view value = TrimSpaces(raw);
  if (value.empty()) {
    if (required) errors.Add(std::string(field), "is required");
    return;
  }
  if (value.size() > static_cast<size_t>(max) * kMaxBytesPerCodePoint) {
    errors.Add(std::string(field), absl::StrCat("must have at most ", max, " characters"));
    return;
  }
  std::vector<UChar32> cps;
  if (!DecodeUtf8(value, cps)) {
    errors.Add(std::string(field), "must be valid UTF-8 text");
    return;
  }
  if (cps.size() > static_cast<size_t>(max)) {
    errors.Add(std::string(field), absl::StrCat("must have at most ", max, " characters"));
    return;
  }
  if (std::any_of(cps.begin(), cps.end(), IsControlLike)) {
    errors.Add(std::string(field), "must not contain control characters");
  }
}


absl::string_view TrimText(absl::string_view value) { return absl::StripAsciiWhitespace(value); }

void CheckText(absl::string_view raw, absl::string_view field, int max, FieldErrors& errors) {
  const absl::string_view value = TrimText(raw);
  if (value.empty()) {
    errors.Add(std::string(field), "is required");
    return;
  }
  const std::string too_long = absl::StrCat("must have at most ", max, " characters");
  if (value.size() > static_cast<size_t>(max) * kMaxBytesPerCodePoint) {
    errors.Add(std::string(field), too_long);
    return;
  }
  std::vector<UChar32> cps;
  if (!DecodeUtf8(value, cps)) {
    errors.Add(std::string(field), "must be valid UTF-8 text");
    return;
  }
  if (cps.size() > static_cast<size_t>(max)) {
    errors.Add(std::string(field), too_long);
    return;
  }
  // Line breaks and tabs are how people lay out a message; other controls are not text.
  if (std::any_of(cps.begin(), cps.end(), [](UChar32 c) {
        return c != '\n' && c != '\r' && c != '\t' && IsControlLike(c);
      })) {
    errors.Add(std::string(field), "must not contain control characters");
  }
}


bool InTzdata(absl::string_view name) {
  const char* dir = std::getenv("TZDIR");  // where Abseil (cctz) looks too
  std::error_code ec;
  return std::filesystem::is_regular_file(
      std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") /
          std::string(name),
      ec);
}

void CheckTimeZone(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  const std::string message = "must be an IANA time zone name, e.g. Europe/Madrid";
  bool valid = !value.empty() && value.size() <= 64 && value.front() != '/' &&
               value != "localtime" && !absl::StartsWith(value, "Fixed/");
  for (char c : value) {
    if (!valid) break;
    valid = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' ||
            c == '-' || c == '+';
  }
  // No "." at all above, so no "." or ".." path segment can reach the file system. Only a
  // name tzdata has is loaded: Abseil keeps every name it was asked to load, found or not, for
  // the life of the process, so loading whatever a caller sends would grow memory without
  // bound.
  absl::TimeZone tz;
  if (!valid || !InTzdata(value) || !absl::LoadTimeZone(std::string(value), &tz)) {
    errors.Add(std::string(field), message);
  }
}


void CheckTimestamp(const google::protobuf::Timestamp& value, absl::string_view field,
                    FieldErrors& errors) {
  if (!IsValidTimestamp(value)) {
    errors.Add(std::string(field),
               "must be a time between the years 1 and 9999 (nanos 0 to 999,999,999)");
  }
}

bool IsActiveCurrency(absl::string_view code) {
  return std::find(std::begin(kCurrencies), std::end(kCurrencies), code) != std::end(kCurrencies);
}


void CheckCurrency(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  if (!IsActiveCurrency(value)) {
    errors.Add(std::string(field), "must be an active ISO 4217 currency code, e.g. EUR");
  }
}


bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
           c == '.';
  });
}


void CheckId(absl::string_view value, absl::string_view field, FieldErrors& errors,
             bool required) {
  if (value.empty()) {
    if (required) errors.Add(std::string(field), "is required");
    return;
  }
  if (!IsValidId(value)) {
    errors.Add(std::string(field),
               absl::StrCat("must be 1 to ", kMaxIdLength,
                            " letters, digits, '-', '_' or '.', not starting with '.'"));
  }
}


void CheckRequestId(absl::string_view value, FieldErrors& errors) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e;
  });
  if (value.size() > kMaxRequestIdLength || !printable) {
    errors.Add("request_id", absl::StrCat("must be at most ", kMaxRequestIdLength,
                                          " printable ASCII characters"));
  }
}

absl::Status CheckIds(absl::string_view request_id,
                      std::initializer_list<std::pair<absl::string_view, absl::string_view>> ids) {
  FieldErrors errors;
  CheckRequestId(request_id, errors);
  for (const auto& [field, value] : ids) CheckId(value, field, errors);
  return errors.ToStatus();
}

}  // namespace cowork::validation
