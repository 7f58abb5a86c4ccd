#ifndef COWORK_TOOLS_LOADGEN_UNARY_H_
#define COWORK_TOOLS_LOADGEN_UNARY_H_

// One blocking unary call for the tools' set-up steps (creating an operator, a location, a
// customer): a bearer token when given, a 30 s deadline, the error as an absl::Status with its
// field violations (server::FromGrpcStatus). The measured calls go through driver.h instead.
//
// Thread-safe as the stub is.
//
//   auto op = Unary(*directory, &v1::DirectoryService::Stub::CreateOperator, req, token);

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/clock/clock.h"
#include "libs/server/grpc_status.h"

namespace cowork::loadgen {

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(Stub& stub,
                               grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                            Response*),
                               const Request& request, const std::string& token) {
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context.set_deadline(absl::ToChronoTime(RealClock::Get().Now() + absl::Seconds(30)));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return server::FromGrpcStatus(status);
  return response;
}

}  // namespace cowork::loadgen

#endif  // COWORK_TOOLS_LOADGEN_UNARY_H_
