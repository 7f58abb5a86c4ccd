#ifndef COWORK_LIBS_SERVER_SERVER_H_
#define COWORK_LIBS_SERVER_SERVER_H_

// The gRPC server kit every service starts with:
//  - standard flags with environment fallbacks (the same names in every service),
//  - a callback-API gRPC server with the health service, TLS (mutual TLS optional, the
//    certificates reloaded when they change on disk) and, when asked, reflection,
//  - an interceptor that logs one JSON line per call and feeds the request metrics,
//  - a worker pool that runs handlers (which block on RocksDB and argon2) off gRPC's threads,
//  - Prometheus text metrics over HTTP (cpp-httplib),
//  - graceful drain on SIGTERM / SIGINT.
//
// Thread-safe: Metrics and Server may be used from any thread.
//
// No service wires these by hand: every main() calls service::RunService
// (libs/service/runtime.h), which parses the standard flags (AddStandardFlags), starts
// Metrics and Server::Start with the service's handlers, waits for SIGTERM and shuts down.
// Use the pieces directly only in tests of the kit itself (server_test.cc).
//
// The pieces, in the order RunService uses them:
//   BlockTerminationSignals();                 before any thread starts
//   AddStandardFlags(app, flags, defaults);    CLI11; environment fallbacks
//   MetricsHttpServer::Start(address, ...);    /metrics and /healthz
//   Server::Start(options, services, metrics); gRPC, health, TLS, reflection if asked
//   WaitForTerminationSignal();                then server->Shutdown()
//

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace cowork::server {

// ---------------------------------------------------------------- flags

struct ServiceDefaults {
  std::string service;  // "customers"
  int port = 0;         // 50051
  int metrics_port = 0; // 9101
  // True for the customers service alone: it signs customer sessions (auth/keys.h).
  bool signs_sessions = false;
  // The service's own flags, added after the standard ones (each with an environment
  // fallback COWORK_<NAME> through CLI11's envname, like the standard flags).
  std::function<void(CLI::App&)> more_flags;
};

// Every flag has an environment fallback COWORK_<NAME> (e.g. --kafka-brokers and
// COWORK_KAFKA_BROKERS); a flag on the command line wins.
struct ServiceFlags {
  std::string service;
  bool signs_sessions = false;  // from ServiceDefaults
  // --listen: gRPC address. Default 127.0.0.1:<port>.
  std::string listen;
  // --metrics-listen: Prometheus HTTP address. Default 127.0.0.1:<metrics_port>; "" disables.
  std::string metrics_listen;
  // --data-dir: RocksDB directory. Default var/<service>.
  std::string data_dir;
  // --kafka-brokers: bootstrap servers. Default 127.0.0.1:9092.
  std::string kafka_brokers = "127.0.0.1:9092";
  // --kafka-property key=value (repeatable): extra librdkafka properties (security, SASL).
  std::vector<std::string> kafka_properties;
  // --durable: fsync every commit (default true; --durable=false for throughput tests).
  bool durable = true;
  // --dev: dev mode: dev secrets when none are set, test-only calls allowed.
  bool dev = false;
  // --simulated-clock: dev mode only; a simulated clock starting at this RFC 3339 time or
  // "now", moved through cowork.common.v1.TestClockService. Empty: the real clock.
  std::string simulated_clock;
  // --rebuild-projections: rebuild every consumer projection from offset zero at start.
  bool rebuild_projections = false;
  // --workers: threads running handlers. Default 64.
  int workers = 64;
  // --drain-seconds: how long a SIGTERM waits for calls in flight. Default 10.
  int drain_seconds = 10;
  // --log-requests: one JSON line per call on stderr. Default true.
  bool log_requests = true;
  // --tls-cert-file, --tls-key-file: PEM certificate chain and private key of the gRPC port;
  // both empty: plaintext. --tls-client-ca-file: PEM CAs of the clients' certificates; set,
  // a client must present a certificate they signed (mutual TLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // --reflection / --no-reflection: the gRPC reflection service. Default: on in --dev, off
  // otherwise.
  bool reflection = false;
  bool reflection_given = false;  // set by the flag or COWORK_REFLECTION
  bool ReflectionOn() const { return reflection_given ? reflection : dev; }
  // --request-retention-hours: how long the answer to a request id is kept for retries
  // (eventstore::StoreOptions::request_retention). Default 168 (7 days).
  int request_retention_hours = 168;
};

void AddStandardFlags(CLI::App& app, ServiceFlags& flags, const ServiceDefaults& defaults);
// The kafka_properties as a map; INVALID_ARGUMENT for an entry without '=', or one that sets
// what the outbox relay's guarantees rest on (enable.idempotence, acks, max.in.flight).
absl::StatusOr<std::map<std::string, std::string>> KafkaProperties(const ServiceFlags& flags);

// ---------------------------------------------------------------- logging

// Writes one JSON object per line to stderr: {"ts":...,"level":...,"service":...,"msg":...,
// plus the given fields}. Values are JSON-escaped. Never pass secrets or passwords.
void LogJson(absl::string_view level, absl::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields = {});
void SetLogService(absl::string_view service);

// ---------------------------------------------------------------- metrics

// A small Prometheus registry: counters and histograms with labels, gauges read at scrape.
class Metrics {
 public:
  // The # HELP text of a counter or histogram (default: its name). Gauges take theirs in
  // Gauge().
  void Describe(absl::string_view name, absl::string_view help);
  void Increment(absl::string_view name, const std::map<std::string, std::string>& labels,
                 double by = 1);
  // Histogram in seconds with fixed buckets (0.5 ms .. 10 s).
  void Observe(absl::string_view name, const std::map<std::string, std::string>& labels,
               double seconds);
  // A gauge whose value is read from `read` at each scrape.
  void Gauge(absl::string_view name, absl::string_view help, std::function<double()> read);
  // One labelled series of a gauge, e.g. cowork_consumer_lag{consumer="customers.contracts"}.
  void Gauge(absl::string_view name, absl::string_view help,
             const std::map<std::string, std::string>& labels, std::function<double()> read);
  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  struct Data;
  mutable absl::Mutex mu_;
  std::shared_ptr<Data> data_ ABSL_GUARDED_BY(mu_);
};

// Serves GET /metrics and GET /healthz on `address` until destroyed. /healthz answers 200 "ok"
// while `healthy()` holds (always, without it) and 503 "not serving" otherwise: Kubernetes
// probes use it, since its gRPC probes cannot speak TLS.
class MetricsHttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view address, const Metrics& metrics,
      std::function<bool()> healthy = nullptr);
  ~MetricsHttpServer();
  int port() const;

 private:
  struct Impl;
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

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

// TLS of a gRPC port. cert_file and key_file both empty: plaintext. The files are read again
// when they change (a renewed certificate needs no restart).
struct ServerTls {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key of the first certificate
  std::string client_ca_file;  // PEM CAs; set: clients must present a certificate they signed
};

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

// ---------------------------------------------------------------- clients

// How a client reaches a gRPC port: plaintext when ca_file is empty; else TLS verified with
// the CAs of ca_file, presenting cert_file and key_file when given (mutual TLS), checking the
// server's certificate for server_name when given (instead of the address's host).
struct ClientTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
};
// The credentials of a client; `args` gets the server name override. INVALID_ARGUMENT naming
// a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientCredentials(
    const ClientTls& tls, grpc::ChannelArguments& args);
// A channel to `address` with those credentials.
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const std::string& address,
                                                          const ClientTls& tls = {});

// Blocks SIGTERM and SIGINT (and SIGUSR1 and SIGUSR2, which dev mode's disk-fault switch
// waits for) in the calling thread and every thread it starts afterwards. Call first in main().
void BlockTerminationSignals();
// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForTerminationSignal();

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_SERVER_H_
