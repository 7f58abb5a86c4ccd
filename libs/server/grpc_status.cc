#include "libs/server/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/status/field_errors.h"
#include "libs/status/retry.h"

namespace cowork::server {
namespace {

// absl::StatusCode and grpc::StatusCode share the canonical numbering (google.rpc.Code).
grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  const int value = static_cast<int>(code);
  if (value < 0 || value > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    return grpc::StatusCode::UNKNOWN;
  }
  return static_cast<grpc::StatusCode>(value);
}

absl::StatusCode ToAbslCode(grpc::StatusCode code) {
  const int value = static_cast<int>(code);
  if (value < 0 || value > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StatusCode::kUnknown;
  }
  return static_cast<absl::StatusCode>(value);
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const grpc::StatusCode code = ToGrpcCode(status.code());
  std::string message(status.message());
  // Only field violations and retry delays travel as details: other payloads are internal
  // bookkeeping of the server and stay there.
  google::rpc::Status rich;
  for (const absl::string_view type_url : {kBadRequestTypeUrl, kRetryInfoTypeUrl}) {
    absl::optional<absl::Cord> payload = status.GetPayload(type_url);
    if (!payload.has_value()) continue;
    google::protobuf::Any* detail = rich.add_details();
    detail->set_type_url(std::string(type_url));
    detail->set_value(std::string(*payload));
  }
  if (rich.details().empty()) return grpc::Status(code, std::move(message));
  rich.set_code(static_cast<int>(code));
  rich.set_message(message);
  return grpc::Status(code, std::move(message), rich.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(ToAbslCode(status.error_code()), status.error_message());
  if (status.error_details().empty()) return out;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return out;
  for (const google::protobuf::Any& detail : rich.details()) {
    // Each detail becomes a payload under its type URL, so FieldViolationsOf (which looks
    // for kBadRequestTypeUrl) works on the client as it does on the server.
    out.SetPayload(detail.type_url(), absl::Cord(detail.value()));
  }
  return out;
}

}  // namespace cowork::server
