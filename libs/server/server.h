#ifndef COWORK_LIBS_SERVER_SERVER_H_
#define COWORK_LIBS_SERVER_SERVER_H_

// The gRPC server of every service: a callback-API server with the health service, TLS
// (tls.h) and, when asked, reflection; an interceptor that logs one JSON line per call
// (logging.h) and feeds the request metrics (metrics.h); a worker pool that runs handlers
// (which block on RocksDB and argon2) off gRPC's threads; graceful drain on SIGTERM / SIGINT.
// The standard flags are in flags.h.
//
// Thread-safe: Server may be used from any thread.
//
// No service wires these by hand: every main() calls runtime::RunService
// (libs/runtime/runtime.h), which parses the standard flags (AddStandardFlags), starts
// Metrics and Server::Start with the service's handlers, waits for SIGTERM and shuts down.
// Use the pieces directly only in tests of the kit itself (server_test.cc).
//
// The pieces, in the order RunService uses them:
//   BlockTerminationSignals();                 before any thread starts
//   AddStandardFlags(app, flags, defaults);    CLI11; environment fallbacks
//   MetricsHttpServer::Start(address, ...);    /metrics and /healthz
//   Server::Start(options, services, metrics); gRPC, health, TLS, reflection if asked
//   WaitForTerminationSignal();                then server->Shutdown()

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/server/metrics.h"
#include "libs/server/tls.h"

namespace cowork::server {

// ---------------------------------------------------------------- handlers

// Runs `fn` on the worker pool and finishes the call with its status, mapped by
// ToGrpcStatus. The usual body of every callback-API handler:
//
//   grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* ctx,
//                                         const GetCustomerRequest* req, Customer* resp) override {
//     return server::Run(ctx, [=] { return impl_.GetCustomer(ctx, *req, *resp); });
//   }
grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                              std::function<absl::Status()> fn);

// The bearer token of a call ("authorization: Bearer <jwt>"), or UNAUTHENTICATED.
absl::StatusOr<std::string> BearerToken(const grpc::ServerContextBase& context);

// The address of the client of a call, without its port ("203.0.113.7", "2001:db8::1"): the
// first address in the metadata `trusted_header` when it is given and the call carries it
// (frontends that set it themselves, e.g. "x-forwarded-for"), else the connection's peer.
std::string ClientAddress(const grpc::ServerContextBase& context,
                          absl::string_view trusted_header = "");

// ---------------------------------------------------------------- server

struct ServerOptions {
  std::string service;   // for logs and metrics
  std::string listen;    // "127.0.0.1:0" picks a free port
  int workers = 64;
  bool log_requests = true;
  absl::Duration drain = absl::Seconds(10);
  ServerTls tls;
  bool reflection = false;  // serve grpc.reflection.v1alpha.ServerReflection
};

class Server {
 public:
  // Builds and starts the server with health checking (SERVING). FAILED_PRECONDITION when the
  // TLS files are missing, unreadable or do not match.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                      const std::vector<grpc::Service*>& services,
                                                      Metrics& metrics);
  ~Server();  // Shutdown() if not done
  int port() const;
  // Health of every service: SERVING or NOT_SERVING (the store refuses writes). Ignored after
  // Shutdown.
  void SetServing(bool serving);
  // Health NOT_SERVING, stop accepting, wait for calls in flight up to the drain time.
  void Shutdown();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGTERM and SIGINT (and SIGUSR1 and SIGUSR2, which dev mode's disk-fault switch
// waits for) in the calling thread and every thread it starts afterwards. Call first in main().
void BlockTerminationSignals();
// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForTerminationSignal();

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_SERVER_H_
