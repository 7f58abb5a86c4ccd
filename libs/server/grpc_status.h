#ifndef COWORK_LIBS_SERVER_GRPC_STATUS_H_
#define COWORK_LIBS_SERVER_GRPC_STATUS_H_

// The one place absl::Status and grpc::Status meet. Field violations travel as gRPC's rich
// error model: a google.rpc.Status in the status details holding a google.rpc.BadRequest.
// Thread-safe (pure functions).

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cowork::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
// The reverse, for clients (coworkctl, tests): keeps code, message and field violations.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_GRPC_STATUS_H_
