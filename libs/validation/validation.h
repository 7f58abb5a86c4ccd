#ifndef COWORK_LIBS_VALIDATION_VALIDATION_H_
#define COWORK_LIBS_VALIDATION_VALIDATION_H_

// Input checks every service shares: ids, request ids, labels (free text naming a thing),
// texts (what a person writes), time zones and currencies. Each adds one violation per bad
// field to a FieldErrors, so a caller reports every bad field at once; each bounds the input's
// size before decoding it, so a hostile 1 MB value costs nothing, and invalid UTF-8 is a
// violation, never a crash.
// Person names and emails: person.h. Passwords are the customers service's own rule.
//
// Thread-safe (pure functions).
//
//   FieldErrors errors;
//   CheckRequestId(request.request_id(), errors);
//   CheckId(request.location_id(), "location_id", errors);
//   CheckLabel(request.name(), "name", 100, errors);
//   RETURN_IF_ERROR(errors.ToStatus());

#include <unicode/umachine.h>

#include <cstddef>
#include <vector>

#include <initializer_list>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/status/field_errors.h"

namespace cowork::validation {

// A code point is at most 4 bytes of UTF-8: anything longer than 4 * max bytes is too long
// without looking at it.
inline constexpr size_t kMaxBytesPerCodePoint = 4;

// Decodes UTF-8 into code points; false for ill-formed input (overlong forms, surrogates,
// truncated sequences).
bool DecodeUtf8(absl::string_view s, std::vector<UChar32>& out);
// Control (Cc), format (Cf), unassigned, private use and surrogate code points: nothing a
// person types into a name or a label.
bool IsControlLike(UChar32 c);

// Free text that names a thing (company, location, team): 1..`max` characters after trimming,
// valid UTF-8, no control or formatting characters. `required` false accepts "".
void CheckLabel(absl::string_view value, absl::string_view field, int max, FieldErrors& errors,
                bool required = true);

// Free text a person writes (a message, a note): 1..`max` characters after trimming ASCII
// whitespace, valid UTF-8, no control or formatting characters but line breaks and tabs.
// Callers store TrimText(value).
void CheckText(absl::string_view value, absl::string_view field, int max, FieldErrors& errors);
// Trims ASCII whitespace (line breaks too) at both ends.
absl::string_view TrimText(absl::string_view value);

// An IANA time zone name that absl::LoadTimeZone accepts (the system's tzdata), e.g.
// "Europe/Madrid" or "UTC". Names that are not IANA names ("localtime", absl's "Fixed/...")
// and anything that looks like a path are refused before any file is opened.
void CheckTimeZone(absl::string_view value, absl::string_view field, FieldErrors& errors);
// Whether tzdata (TZDIR, else /usr/share/zoneinfo) has a zone file of that name. Call it only
// with a name of the characters CheckTimeZone allows.
bool InTzdata(absl::string_view name);

// A timestamp a request gives: a valid google.protobuf.Timestamp (years 1 to 9999), refused
// rather than clamped.
void CheckTimestamp(const google::protobuf::Timestamp& value, absl::string_view field,
                    FieldErrors& errors);

// An active ISO 4217 currency code, upper-case ("EUR", "USD", "JPY").
void CheckCurrency(absl::string_view value, absl::string_view field, FieldErrors& errors);
bool IsActiveCurrency(absl::string_view code);

// Ids that callers may choose (operators, locations) and ids that come back in requests:
// 1..64 characters of letters, digits, '-', '_' and '.', not starting with '.'. They become
// parts of store keys separated by '/', so '/' and anything else are refused.
inline constexpr size_t kMaxIdLength = 64;
bool IsValidId(absl::string_view id);
void CheckId(absl::string_view value, absl::string_view field, FieldErrors& errors,
             bool required = true);

// Request ids: empty (no idempotency) or 1..128 printable ASCII characters.
inline constexpr size_t kMaxRequestIdLength = 128;
void CheckRequestId(absl::string_view value, FieldErrors& errors);

// INVALID_ARGUMENT naming each bad id of `ids` (field, value; all required) and a bad request
// id; OK when all are good.
absl::Status CheckIds(absl::string_view request_id,
                      std::initializer_list<std::pair<absl::string_view, absl::string_view>> ids);

// Trims ASCII spaces and tabs at both ends.
absl::string_view TrimSpaces(absl::string_view value);

}  // namespace cowork::validation

#endif  // COWORK_LIBS_VALIDATION_VALIDATION_H_
