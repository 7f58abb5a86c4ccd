#ifndef COWORK_LIBS_STATUS_FIELD_ERRORS_H_
#define COWORK_LIBS_STATUS_FIELD_ERRORS_H_

// Bad input is reported all at once: every bad field gets its own violation, carried as a
// google.rpc.BadRequest payload of an INVALID_ARGUMENT absl::Status. The gRPC server kit turns
// that payload into the rich error details clients read (libs/server/grpc_status.h).
//
// Not thread-safe (a value type).
//
//   FieldErrors errors;
//   if (first_name.size() < 2) errors.Add("first_name", "must have at least 2 characters");
//   if (!errors.empty()) return errors.ToStatus();

#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cowork {

// The payload URL under which an absl::Status carries a serialized google.rpc.BadRequest.
inline constexpr absl::string_view kBadRequestTypeUrl =
    "type.googleapis.com/google.rpc.BadRequest";

struct FieldViolation {
  std::string field;        // e.g. "first_name", "rows[3].email"
  std::string description;  // a sentence a person can act on
  bool operator==(const FieldViolation&) const = default;
};

class FieldErrors {
 public:
  void Add(std::string field, std::string description);
  // Adds every violation of `status` (if it carries any), each field prefixed "prefix.".
  void Merge(const absl::Status& status, absl::string_view prefix = "");
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // OK when empty; otherwise INVALID_ARGUMENT whose message lists every violation
  // ("first_name: must ...; email: ...") and whose payload is the BadRequest.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// The violations an absl::Status carries (empty if none).
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

// Shorthand for one bad field.
absl::Status InvalidField(std::string field, std::string description);

}  // namespace cowork

#endif  // COWORK_LIBS_STATUS_FIELD_ERRORS_H_
