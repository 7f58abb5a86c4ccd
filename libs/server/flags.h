#ifndef COWORK_LIBS_SERVER_FLAGS_H_
#define COWORK_LIBS_SERVER_FLAGS_H_

// The standard flags of every service, the same names everywhere, each with an environment
// fallback COWORK_<NAME> (CLI11's envname); a flag on the command line wins.
//
// Not thread-safe: parsed once by main() (runtime::RunService).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace cowork::server {

struct ServiceDefaults {
  std::string service;  // "customers"
  int port = 0;         // 50051
  int metrics_port = 0; // 9101
  // True for the customers service alone: it signs customer sessions (auth/keys.h).
  bool signs_sessions = false;
  // True for a service that seals personal data with keys of its own (eventstore::KeyVault):
  // it publishes them, wrapped, to cowork.<service>.keys and needs the key-wrapping key
  // (COWORK_KEY_WRAPPING_KEY_FILE).
  bool keeps_keys = false;
  // The service's own flags, added after the standard ones (each with an environment
  // fallback COWORK_<NAME> through CLI11's envname, like the standard flags).
  std::function<void(CLI::App&)> more_flags;
};

// Every flag has an environment fallback COWORK_<NAME> (e.g. --kafka-brokers and
// COWORK_KAFKA_BROKERS); a flag on the command line wins.
struct ServiceFlags {
  std::string service;
  bool signs_sessions = false;  // from ServiceDefaults
  bool keeps_keys = false;      // from ServiceDefaults
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
  // --restore-from-topic: rebuild the store from the service's own topics into an empty
  // data dir, then the views and projections as --rebuild-projections does
  // (runtime::Runtime::Restore). Refuses a data dir that holds anything.
  bool restore_from_topic = false;
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
  // --kafka-max-message-bytes: the max.message.bytes of the service's topic; a command whose
  // event would be larger fails and writes nothing (eventstore::StoreOptions::max_event_bytes),
  // and the relay's producer takes it as its message.max.bytes. Default 1,000,000.
  int kafka_max_message_bytes = 1'000'000;
};

void AddStandardFlags(CLI::App& app, ServiceFlags& flags, const ServiceDefaults& defaults);
// The kafka_properties as a map; INVALID_ARGUMENT for an entry without '=', or one that sets
// what the outbox relay's guarantees rest on (enable.idempotence, acks, max.in.flight).
absl::StatusOr<std::map<std::string, std::string>> KafkaProperties(const ServiceFlags& flags);

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_FLAGS_H_
