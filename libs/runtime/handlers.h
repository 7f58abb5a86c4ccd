#ifndef COWORK_LIBS_RUNTIME_HANDLERS_H_
#define COWORK_LIBS_RUNTIME_HANDLERS_H_

// The body every service's gRPC handlers share: authenticate the bearer token, call the
// application, map its absl::Status to a gRPC status (server::Run does the mapping and runs
// the work on the worker pool).
//
// Thread-safe (the Authenticator is, authenticator.h).
//
//   grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* ctx,
//                                     const GetPlanRequest* request, Plan* response) override {
//     return runtime::Authed(authn_, ctx, request, response,
//                            [this](const auth::Principal& p, const GetPlanRequest& r) {
//                              return app_.GetPlan(p, r);
//                            });
//   }

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/runtime/authenticator.h"
#include "libs/server/server.h"

namespace cowork::runtime {

// The caller of a gRPC call: its bearer token through the Authenticator.
absl::StatusOr<auth::Principal> Authenticate(const Authenticator& authn,
                                             const grpc::ServerContextBase& context);

// Authenticates, then `*response = fn(principal, *request)`.
template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* Authed(const Authenticator& authn, grpc::CallbackServerContext* ctx,
                                 const Request* request, Response* response, Fn fn) {
  return server::Run(ctx, [&authn, ctx, request, response, fn]() -> absl::Status {
    absl::StatusOr<auth::Principal> p = Authenticate(authn, *ctx);
    if (!p.ok()) return p.status();
    absl::StatusOr<Response> result = fn(*p, *request);
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

}  // namespace cowork::runtime

// Defines the handler Service::Method as Authed calling `app_.Method(principal, request)`;
// the service class holds `App& app_` (whose authenticator() authenticates).
//
//   COWORK_AUTHED_HANDLER(PlansServiceImpl, GetPlan, v1::GetPlanRequest, v1::Plan)
#define COWORK_AUTHED_HANDLER(Service, Method, Request, Response)                            \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx,                \
                                            const Request* request, Response* response) {    \
    return ::cowork::runtime::Authed(                                                        \
        app_.authenticator(), ctx, request, response,                                        \
        [this](const ::cowork::auth::Principal& p, const Request& r) {                       \
          return app_.Method(p, r);                                                          \
        });                                                                                  \
  }

#endif  // COWORK_LIBS_RUNTIME_HANDLERS_H_
