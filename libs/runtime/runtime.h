#ifndef COWORK_LIBS_RUNTIME_RUNTIME_H_
#define COWORK_LIBS_RUNTIME_RUNTIME_H_

// What every service's main() does, once: from the standard flags, read the secrets, open
// the service's Store (and delete its expired request records now and then), start the
// outbox relay (woken by every commit), serve the metrics,
// start the consumers of other services' topics, then serve gRPC until SIGTERM and stop
// everything in order (drain calls, consumers, relay, metrics, store).
//
// Not thread-safe: built and driven by main() alone.
//
//   int main(int argc, char** argv) {
//     return runtime::RunService(argc, argv, "cowork-customers: ...",
//                                {.service = "customers", .port = 50051, .metrics_port = 9101},
//                                [](runtime::Runtime& rt) {
//       ... build the app on rt.store(), add consumers ...
//       return rt.Serve(app.authenticator(), {&svc_a, &svc_b});
//     });
//   }

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/handlers.h"
#include "libs/runtime/scheduler.h"
#include "libs/server/flags.h"
#include "libs/server/server.h"

namespace cowork::runtime {

class DevSignals;

class Runtime {
 public:
  // FAILED_PRECONDITION when a token key is missing or bad outside --dev, or a production key
  // is set in --dev (ExitWith turns it into exit code 2); other errors when the store, the relay or the metrics endpoint cannot start.
  static absl::StatusOr<std::unique_ptr<Runtime>> Start(const server::ServiceFlags& flags);
  ~Runtime();

  const server::ServiceFlags& flags() const { return flags_; }
  // The real clock, or with --dev --simulated-clock a simulated one (moved by tests through
  // the TestClockService that Serve adds).
  const Clock& clock() const;
  eventstore::Store& store() { return *store_; }
  // The token keys (auth/keys.h): what every service verifies with, and for the customers
  // service the session private key.
  const auth::TokenKeys& keys() const { return keys_; }
  const kafka::KafkaOptions& kafka() const { return kafka_; }
  server::Metrics& metrics() { return metrics_; }

  // With --restore-from-topic (the data dir was empty, Start checked): brings back the
  // service's event log, aggregate states (folded with `folds`) and seal keys from its topics
  // (kafka::RestoreFromTopics). RebuildViews then rebuilds the rest, and the consumers read
  // the other topics from their start. Until RebuildViews has finished, the store is marked
  // half restored and a start without the flag refuses it. Without the flag: nothing.
  absl::Status Restore(const eventstore::Folds& folds);

  // With --rebuild-projections or --restore-from-topic: waits until the consumers started so
  // far (the directory, FollowCustomers) have read their topics to the end, then deletes and
  // rewrites the service's own read views from its event log, one `rebuild` after another
  // (each App's Rebuild), before anything is served. Without either flag: nothing.
  absl::Status RebuildViews(std::initializer_list<std::function<absl::Status()>> rebuilds);

  // Starts `consumer` and reports its lag as cowork_consumer_lag{consumer=<name>} and its
  // refused events as cowork_consumer_refused_events{consumer=<name>}.
  absl::Status AddConsumer(absl::string_view name, std::unique_ptr<kafka::EventConsumer> consumer);

  // Starts the consumer "<service>.customers" of cowork.customers.events feeding `directory`
  // (re-read from offset zero with --rebuild-projections). `directory` must outlive this.
  absl::Status FollowCustomers(const directory::Directory& directory);

  // Starts the gRPC server with `services` and the TestClockService (authenticated by
  // `authn`), over TLS and with reflection as the flags say, prints "<service> listening on
  // <host>:<port>" on stdout (tests and the launcher read the bound port there), reports
  // health (gRPC health and /healthz: NOT_SERVING while the store refuses writes or a
  // consumer is stalled; /livez: 503 while the store refuses writes; probed every second),
  // serves the QuarantineService over the consumers, waits for SIGTERM or SIGINT and stops
  // everything. Returns main()'s exit code.
  //
  // In --dev, SIGUSR1 makes every file write of the store fail as on a full disk and SIGUSR2
  // ends that (eventstore::DiskFaults), for fault tests.
  int Serve(const Authenticator& authn, std::vector<grpc::Service*> services);

 private:
  explicit Runtime(server::ServiceFlags flags);

  server::ServiceFlags flags_;
  auth::TokenKeys keys_;
  kafka::KafkaOptions kafka_;
  server::Metrics metrics_;
  std::unique_ptr<SimulatedClock> simulated_clock_;  // with --simulated-clock
  std::unique_ptr<eventstore::DiskFaults> disk_faults_;  // with --dev
  std::atomic<bool> serving_{false};                     // what health says (/healthz)
  std::atomic<bool> live_{true};                         // the store takes writes (/livez)
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<Scheduler> request_expiry_;  // deletes expired request records
  std::unique_ptr<kafka::OutboxRelay> relay_;
  std::unique_ptr<server::MetricsHttpServer> http_;
  std::vector<std::unique_ptr<kafka::EventConsumer>> consumers_;
  std::unique_ptr<DevSignals> dev_signals_;  // with --dev
};

// A service's main(): blocks the termination signals (Serve waits for them), parses the
// standard flags (`description` is the --help title), starts the Runtime and runs `body` on
// it. Returns main()'s exit code: body's, or ExitWith's when the flags or the start-up fail.
int RunService(int argc, char** argv, const std::string& description,
               const server::ServiceDefaults& defaults,
               const std::function<int(Runtime&)>& body);

// Logs `status` as a JSON line and on stderr ("cowork-<service>: <what>: <message>") and
// returns the exit code: 2 for configuration errors (FAILED_PRECONDITION, INVALID_ARGUMENT),
// 1 otherwise.
int ExitWith(const server::ServiceFlags& flags, absl::string_view what,
             const absl::Status& status);

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_RUNTIME_H_
