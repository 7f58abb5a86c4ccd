#include <string>

#include "absl/strings/str_cat.h"
#include "libs/server/flags.h"

namespace cowork::server {

void AddStandardFlags(CLI::App& app, ServiceFlags& flags, const ServiceDefaults& defaults) {
  flags.service = defaults.service;
  flags.signs_sessions = defaults.signs_sessions;
  flags.keeps_keys = defaults.keeps_keys;
  flags.listen = absl::StrCat("127.0.0.1:", defaults.port);
  flags.metrics_listen = absl::StrCat("127.0.0.1:", defaults.metrics_port);
  flags.data_dir = absl::StrCat("var/", defaults.service);

  app.add_option("--listen", flags.listen, "gRPC listen address (host:port)")
      ->envname("COWORK_LISTEN")
      ->capture_default_str();
  // No capture_default_str() here: CLI11 would then read "--metrics-listen=" as "use the
  // default" instead of the empty value that disables the endpoint.
  app.add_option("--metrics-listen", flags.metrics_listen,
                 absl::StrCat("Prometheus metrics HTTP address (host:port); empty disables "
                              "(default ", flags.metrics_listen, ")"))
      ->envname("COWORK_METRICS_LISTEN")
      ->expected(0, 1);
  app.add_option("--data-dir", flags.data_dir, "RocksDB directory of this service")
      ->envname("COWORK_DATA_DIR")
      ->capture_default_str();
  app.add_option("--kafka-brokers", flags.kafka_brokers, "Kafka bootstrap servers")
      ->envname("COWORK_KAFKA_BROKERS")
      ->capture_default_str();
  // ';' separates several properties in one value, which is how the environment variable
  // carries more than one (values such as SASL settings may contain commas).
  app.add_option("--kafka-property", flags.kafka_properties,
                 "Extra librdkafka property key=value (repeatable; ';' separates several)")
      ->envname("COWORK_KAFKA_PROPERTY")
      ->delimiter(';')
      ->allow_extra_args(false);
  app.add_flag("--durable,!--no-durable", flags.durable,
               "fsync every commit (--durable=false for throughput tests)")
      ->envname("COWORK_DURABLE")
      ->capture_default_str();
  app.add_flag("--dev", flags.dev, "Dev mode: dev secrets when none are set, test-only calls")
      ->envname("COWORK_DEV");
  app.add_option("--simulated-clock", flags.simulated_clock,
                 "Dev mode only: run on a simulated clock starting at this RFC 3339 time (or "
                 "\"now\"), moved by the TestClockService")
      ->envname("COWORK_SIMULATED_CLOCK");
  app.add_flag("--rebuild-projections", flags.rebuild_projections,
               "Rebuild every consumer projection from offset zero at start")
      ->envname("COWORK_REBUILD_PROJECTIONS");
  app.add_flag("--restore-from-topic", flags.restore_from_topic,
               "Rebuild the store from the service's Kafka topics into an empty --data-dir "
               "(disaster recovery; refuses a data dir that holds anything)")
      ->envname("COWORK_RESTORE_FROM_TOPIC");
  app.add_option("--workers", flags.workers, "Threads running handlers")
      ->envname("COWORK_WORKERS")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--drain-seconds", flags.drain_seconds,
                 "Seconds a SIGTERM waits for calls in flight")
      ->envname("COWORK_DRAIN_SECONDS")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_flag("--log-requests,!--no-log-requests", flags.log_requests,
               "One JSON line per call on stderr")
      ->envname("COWORK_LOG_REQUESTS")
      ->capture_default_str();
  app.add_option("--tls-cert-file", flags.tls_cert_file,
                 "PEM certificate chain of the gRPC port (with --tls-key-file; none: plaintext)")
      ->envname("COWORK_TLS_CERT_FILE");
  app.add_option("--tls-key-file", flags.tls_key_file, "PEM private key of the gRPC port")
      ->envname("COWORK_TLS_KEY_FILE");
  app.add_option("--tls-client-ca-file", flags.tls_client_ca_file,
                 "PEM CAs of the clients' certificates: mutual TLS, a client without one is "
                 "refused")
      ->envname("COWORK_TLS_CLIENT_CA_FILE");
  app.add_flag_function(
         "--reflection,!--no-reflection",
         [&flags](std::int64_t count) {
           flags.reflection = count > 0;
           flags.reflection_given = true;
         },
         "Serve gRPC reflection (default: only in --dev)")
      ->envname("COWORK_REFLECTION");
  app.add_option("--request-retention-hours", flags.request_retention_hours,
                 "Hours a request id's answer is kept for retries; after that the same id runs "
                 "the call again")
      ->envname("COWORK_REQUEST_RETENTION_HOURS")
      ->check(CLI::Range(1, 24 * 366))
      ->capture_default_str();
  app.add_option("--kafka-max-message-bytes", flags.kafka_max_message_bytes,
                 "The max.message.bytes of the service's topic: a command whose event would be "
                 "larger fails and writes nothing")
      ->envname("COWORK_KAFKA_MAX_MESSAGE_BYTES")
      ->check(CLI::Range(64 * 1024, 64 * 1024 * 1024))
      ->capture_default_str();
  if (defaults.more_flags) defaults.more_flags(app);
}

absl::StatusOr<std::map<std::string, std::string>> KafkaProperties(const ServiceFlags& flags) {
  std::map<std::string, std::string> out;
  for (const std::string& entry : flags.kafka_properties) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kafka-property \"", entry, "\": expected key=value"));
    }
    const std::string key = entry.substr(0, eq);
    // The outbox relay's guarantees rest on these: no event lost (acks=all), none published
    // twice or out of order (the idempotent producer, which bounds requests in flight).
    for (const absl::string_view fixed : {"enable.idempotence", "acks", "request.required.acks",
                                          "max.in.flight", "max.in.flight.requests.per.connection"}) {
      if (key == fixed) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--kafka-property \"", key, "\": fixed by the suite (idempotent producer, acks=all)"));
      }
    }
    if (key == "message.max.bytes") {
      return absl::InvalidArgumentError(
          "--kafka-property \"message.max.bytes\": set --kafka-max-message-bytes, which the "
          "store checks every event against");
    }
    out[key] = entry.substr(eq + 1);
  }
  return out;
}

}  // namespace cowork::server
