#ifndef COWORK_LIBS_STATUS_RETRY_H_
#define COWORK_LIBS_STATUS_RETRY_H_

// "Too many at once: try again after a while": RESOURCE_EXHAUSTED carrying a
// google.rpc.RetryInfo payload, which the gRPC server kit sends as a rich error detail
// (libs/server/grpc_status.h) and clients read back with RetryDelayOf.
//
// Thread-safe (pure functions).
//
//   if (busy) return RetryLater("too many sign-ins at once", absl::Seconds(1));

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cowork {

// The payload URL under which an absl::Status carries a serialized google.rpc.RetryInfo.
inline constexpr absl::string_view kRetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

// RESOURCE_EXHAUSTED with `message` and a RetryInfo of `delay` (at least a millisecond).
absl::Status RetryLater(absl::string_view message, absl::Duration delay);

// The delay a status asks for; nullopt when it carries no RetryInfo.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace cowork

#endif  // COWORK_LIBS_STATUS_RETRY_H_
