#ifndef COWORK_LIBS_TESTING_SUITE_H_
#define COWORK_LIBS_TESTING_SUITE_H_

// Starting the suite's real executables for end-to-end tests and talking to them the way any
// client would: the dev broker, the customers service, gRPC channels and stubs, dev tokens.
//
// Each Start* launches the executable from BinDir() on loopback port 0, waits (bounded) for the
// line announcing its address and returns the process with that address. Destroying the
// returned process stops it (SIGTERM, then SIGKILL) — see process.h.
//
// Thread-safety: the functions are thread-safe; the returned objects are as process.h says.
// Errors: the Subprocess errors (NOT_FOUND when the executable is not built yet,
// FAILED_PRECONDITION when it exits during start-up, DEADLINE_EXCEEDED), each with the tail of
// the process's log.
//
//   TempDir dir;
//   auto broker = StartDevBroker(dir.path());
//   auto customers = StartCustomers({.data_dir = dir.Sub("customers"),
//                                    .bootstrap = broker->bootstrap});
//   auto stubs = CustomersStubs::Connect(customers->address);
//   grpc::ClientContext ctx;
//   AddMetadata(ctx, MintDevPlatformToken());
//   stubs.directory->CreateOperator(&ctx, request, &op);

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/keys.h"
#include "libs/server/grpc_status.h"
#include "libs/server/tls.h"
#include "libs/testing/process.h"

namespace cowork::testing {

// The suite's topics.
inline constexpr absl::string_view kCustomersTopic = "cowork.customers.events";
inline constexpr absl::string_view kContractsTopic = "cowork.contracts.events";
inline constexpr absl::string_view kBookingsTopic = "cowork.bookings.events";

// ---------------------------------------------------------------- dev broker

struct DevBroker {
  std::unique_ptr<Subprocess> process;
  std::string bootstrap;  // "127.0.0.1:PORT"
};

// Starts build/bin/cowork-devbroker with its log and address file in `dir`.
absl::StatusOr<DevBroker> StartDevBroker(const std::string& dir,
                                         absl::Duration timeout = absl::Seconds(30));

// ---------------------------------------------------------------- customers service

struct ServiceOptions {
  // RocksDB directory (--data-dir). Required. The log goes next to it as
  // "<data_dir>.<n>.log", a new file for every start.
  std::string data_dir;
  // Kafka bootstrap (--kafka-brokers). Required.
  std::string bootstrap;
  // --dev (dev secrets, test-only calls). Default true.
  bool dev = true;
  // --durable. Default true.
  bool durable = true;
  // More arguments, after the standard ones.
  std::vector<std::string> extra_args;
  // Environment set for the process, and environment removed from it. The COWORK_* secrets
  // of the test's own environment are always removed, so a developer's shell cannot change
  // what a test sees; set them here instead.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> unset_env;
  // How long to wait for "<service> listening on ..." and a connected channel. Default 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // How the test reaches the service: plaintext by default; the CA (and a client certificate)
  // when the service serves TLS (extra_args --tls-*).
  server::ClientTls client_tls;
};

struct Service {
  std::unique_ptr<Subprocess> process;
  std::string address;          // "127.0.0.1:PORT"
  std::string metrics_address;  // "127.0.0.1:PORT" of /metrics and /healthz
};

// The arguments StartCustomers passes (without the program), for tests that start the
// executable by other means.
std::vector<std::string> CustomersArgs(const ServiceOptions& options);

// The log path the next start for `data_dir` gets.
std::string NextLogPath(const std::string& data_dir, absl::string_view service);

// Starts build/bin/cowork-customers, waits for "customers listening on ADDR" and for a gRPC
// channel to ADDR to connect.
absl::StatusOr<Service> StartCustomers(const ServiceOptions& options);
// Starts build/bin/cowork-<name> the same way (e.g. "contracts"), waiting for
// "<name> listening on ADDR".
absl::StatusOr<Service> StartService(absl::string_view name, const ServiceOptions& options);

// The value of one series of the service's /metrics, named as Prometheus prints it (e.g.
// `cowork_scheduler_passes_total{scheduler="contracts"}`); 0 while the series is absent (a
// counter that has not counted yet). UNAVAILABLE when /metrics does not answer.
absl::StatusOr<double> MetricValue(const Service& service, absl::string_view series);
// The HTTP status of GET `path` (/healthz, /livez) on the service's metrics port;
// UNAVAILABLE when it does not answer.
absl::StatusOr<int> MetricsPortStatus(const Service& service, absl::string_view path);

// ---------------------------------------------------------------- gRPC

// A channel to a loopback address (tests only ever talk to 127.0.0.1): plaintext, or TLS as
// `tls` says (a file that cannot be read fails the test's process: a test bug).
std::shared_ptr<grpc::Channel> Connect(const std::string& address,
                                       const server::ClientTls& tls = {});
// Waits until the channel is connected. UNAVAILABLE when it is not within `timeout`.
absl::Status WaitConnected(grpc::Channel& channel, absl::Duration timeout);

struct CustomersStubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<customers::v1::DirectoryService::Stub> directory;
  std::unique_ptr<customers::v1::CustomersService::Stub> customers;
  std::unique_ptr<customers::v1::AccountsService::Stub> accounts;
  std::unique_ptr<customers::v1::TeamsService::Stub> teams;

  static CustomersStubs Connect(const std::string& address,
                                const server::ClientTls& tls = {});
};

// Adds "authorization: Bearer <token>" (nothing when `token` is empty).
void AddMetadata(grpc::ClientContext& context, absl::string_view token);
// A deadline `timeout` from now, on the monotonic clock.
void SetDeadline(grpc::ClientContext& context, absl::Duration timeout);

// Calls a unary method of a synchronous stub with a bearer token and a deadline, and returns
// the answer or the error as an absl::Status (code, message and field violations kept, by
// server::FromGrpcStatus).
//
//   absl::StatusOr<Customer> c = Call(*stubs.customers, &CustomersService::Stub::GetCustomer,
//                                     request, token);
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                           Response*),
                              const Request& request, absl::string_view token,
                              absl::Duration timeout = absl::Seconds(20)) {
  grpc::ClientContext context;
  AddMetadata(context, token);
  SetDeadline(context, timeout);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return server::FromGrpcStatus(status);
  return response;
}

// ---------------------------------------------------------------- tokens

// Tokens signed with the dev keys (auth::DevAdminKeys, DevPlatformKeys), as a service started
// with --dev (and no dev keys directory) accepts.
// `permissions` empty means every permission (auth::AllPermissions()).
std::string MintDevAdminToken(absl::string_view operator_id,
                              const std::vector<std::string>& locations,
                              const std::vector<std::string>& permissions = {},
                              absl::Duration ttl = absl::Hours(1),
                              absl::string_view subject = "admin@example.test");
std::string MintDevPlatformToken(absl::string_view subject = "platform@example.test",
                                 absl::Duration ttl = absl::Hours(1),
                                 const std::vector<std::string>& permissions = {});

// Fresh key pairs for services started without --dev, written under `dir`
// (libs/auth/keys.h).
struct ProductionKeys {
  auth::KeyPair session, platform, admin;
  std::string dir;
  // The environment of cowork-<service>: the three public key files, the key-wrapping key
  // file, and for "customers" the session private key file too (any other service refuses it).
  std::vector<std::pair<std::string, std::string>> EnvFor(absl::string_view service) const;
};
ProductionKeys WriteProductionKeys(const std::string& dir);

// A dev CA and certificates made by tools/dev-certs under `dir` (once): ca.pem, server.pem and
// server-key.pem (for 127.0.0.1 and localhost), client.pem and client-key.pem.
absl::Status MakeDevCertificates(const std::string& dir);

// A request id no other call uses.
std::string NewRequestId();

}  // namespace cowork::testing

#endif  // COWORK_LIBS_TESTING_SUITE_H_
