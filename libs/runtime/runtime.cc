#include "libs/runtime/runtime.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventstore/key_vault.h"
#include "libs/kafka/restore.h"
#include "libs/runtime/quarantine_service.h"
#include "libs/runtime/test_clock.h"
#include "libs/server/logging.h"

namespace cowork::runtime {
namespace {

std::string HostOf(const std::string& address) { return address.substr(0, address.rfind(':')); }

constexpr char kKeyWrappingVar[] = "COWORK_KEY_WRAPPING_KEY_FILE";
// --dev without COWORK_KEY_WRAPPING_KEY_FILE: a published key, for development only.
constexpr char kDevKeyWrappingKey[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// In the store (Space::kMeta) from the start of a restore until its views are rebuilt: a
// store holding it is half restored and refuses to serve.
constexpr char kRestoreMarker[] = "restore/unfinished";
// How long a rebuild waits for the consumers started before it to read their topics.
constexpr absl::Duration kCatchUpBound = absl::Minutes(30);

// The key that wraps the seal keys a service publishes (eventstore::StoreOptions): 64 hex
// digits in the file COWORK_KEY_WRAPPING_KEY_FILE names (a Kubernetes Secret).
absl::StatusOr<std::string> KeyWrappingKey(const server::ServiceFlags& flags) {
  const char* file = std::getenv(kKeyWrappingVar);
  const std::string source = file != nullptr ? file : "";
  std::string hex;
  if (source.empty()) {
    if (!flags.dev) {
      return absl::FailedPreconditionError(absl::StrCat(
          kKeyWrappingVar, ": not set; the ", flags.service,
          " service publishes its seal keys wrapped with this key (a file of 64 hex digits, "
          "e.g. from `openssl rand -hex 32`)"));
    }
    hex = kDevKeyWrappingKey;
  } else {
    std::ifstream in(source, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat(kKeyWrappingVar, ": cannot read ", source));
    }
    hex = std::string(absl::StripAsciiWhitespace(content.str()));
  }
  bool valid = hex.size() == 64;
  for (char c : hex) valid = valid && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (!valid) {
    return absl::FailedPreconditionError(
        absl::StrCat(kKeyWrappingVar, ": ", source, " must hold 64 hex digits (32 bytes)"));
  }
  return absl::HexStringToBytes(hex);
}

// A restore writes into an empty data dir only: never over a store that holds anything.
absl::Status CheckEmptyDataDir(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) && !ec) return absl::OkStatus();
  if (ec || !std::filesystem::is_empty(dir, ec) || ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--restore-from-topic needs an empty --data-dir: ", dir,
                     " holds files (move them away first, or start without the flag)"));
  }
  return absl::OkStatus();
}

// Asks every second whether the store takes writes (else the service is neither live nor
// serving) and whether a consumer is stalled on an event it cannot get past (kafka.h; then it
// is live but not serving), and tells `report` of each change, until destroyed.
class HealthMonitor {
 public:
  HealthMonitor(eventstore::Store& store,
                const std::vector<std::unique_ptr<kafka::EventConsumer>>& consumers,
                std::function<void(bool serving, bool live)> report)
      : store_(store),
        consumers_(consumers),
        report_(std::move(report)),
        thread_([this] { Loop(); }) {}
  ~HealthMonitor() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

 private:
  // OK, or why the service does not serve.
  absl::Status StalledConsumer() const {
    for (const std::unique_ptr<kafka::EventConsumer>& consumer : consumers_) {
      if (consumer->stalled()) {
        return absl::UnavailableError(
            absl::StrCat("consumer ", consumer->name(), " is stalled on an event"));
      }
    }
    return absl::OkStatus();
  }

  void Loop() {
    bool last_live = true, last_serving = true;
    for (;;) {
      const absl::Status writable = store_.CheckWritable();
      const absl::Status health = writable.ok() ? StalledConsumer() : writable;
      if (health.ok() != last_serving || writable.ok() != last_live) {
        last_serving = health.ok();
        last_live = writable.ok();
        server::LogJson(last_serving ? "info" : "error",
                        last_serving ? "serving again" : "not serving",
                        {{"error", health.ToString()}});
        report_(last_serving, last_live);
      }
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1))) return;
    }
  }

  eventstore::Store& store_;
  const std::vector<std::unique_ptr<kafka::EventConsumer>>& consumers_;
  const std::function<void(bool, bool)> report_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

// Dev mode's disk-fault switch: SIGUSR1 fills the disk, SIGUSR2 empties it.
class DevSignals {
 public:
  explicit DevSignals(eventstore::DiskFaults& faults)
      : faults_(faults), thread_([this] { Loop(); }) {}
  ~DevSignals() {
    stopping_ = true;
    thread_.join();
  }

 private:
  void Loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    const timespec wait = {.tv_sec = 0, .tv_nsec = 200'000'000};
    while (!stopping_) {
      const int signal = sigtimedwait(&set, nullptr, &wait);
      if (signal != SIGUSR1 && signal != SIGUSR2) continue;
      faults_.SetFull(signal == SIGUSR1);
      server::LogJson("warning", signal == SIGUSR1 ? "dev: the disk is full (injected)"
                                                   : "dev: the disk has room again");
    }
  }

  eventstore::DiskFaults& faults_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

int ExitWith(const server::ServiceFlags& flags, absl::string_view what,
             const absl::Status& status) {
  server::LogJson("error", what, {{"error", std::string(status.message())}});
  std::cerr << "cowork-" << flags.service << ": " << what << ": " << status.message()
            << std::endl;
  const bool configuration = status.code() == absl::StatusCode::kFailedPrecondition ||
                             status.code() == absl::StatusCode::kInvalidArgument;
  return configuration ? 2 : 1;
}

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Start(const server::ServiceFlags& flags) {
  server::SetLogService(flags.service);
  // Debian builds Abseil without NDEBUG, which turns on the Mutex deadlock detector: a
  // lock-order graph updated on every lock, in gRPC's mutexes as well as ours (about 7% of a
  // service's CPU). Tests keep it; running services don't pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::unique_ptr<Runtime> runtime(new Runtime(flags));

  // A missing or bad key outside --dev, or a production key in --dev, stops the service here.
  absl::StatusOr<auth::TokenKeys> keys = auth::TokenKeysFromEnv(flags.dev, flags.signs_sessions);
  if (!keys.ok()) return keys.status();
  runtime->keys_ = *std::move(keys);
  if (!flags.simulated_clock.empty()) {
    if (!flags.dev) {
      return absl::FailedPreconditionError(
          "--simulated-clock is for tests and needs --dev; production runs on the real clock");
    }
    absl::Time start = RealClock::Get().Now();
    std::string error;
    if (flags.simulated_clock != "now" &&
        !absl::ParseTime(absl::RFC3339_full, flags.simulated_clock, &start, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--simulated-clock must be an RFC 3339 time or \"now\": ", error));
    }
    runtime->simulated_clock_ = std::make_unique<SimulatedClock>(start);
  }
  absl::StatusOr<std::map<std::string, std::string>> properties = server::KafkaProperties(flags);
  if (!properties.ok()) return properties.status();
  runtime->kafka_ = {
      .brokers = flags.kafka_brokers, .client_id = flags.service, .properties = *properties};
  runtime->kafka_.properties["message.max.bytes"] = absl::StrCat(flags.kafka_max_message_bytes);

  if (flags.dev) {
    runtime->disk_faults_ = std::make_unique<eventstore::DiskFaults>();
    runtime->dev_signals_ = std::make_unique<DevSignals>(*runtime->disk_faults_);
  }
  std::string key_wrapping_key;
  if (flags.keeps_keys) {
    absl::StatusOr<std::string> key = KeyWrappingKey(flags);
    if (!key.ok()) return key.status();
    key_wrapping_key = *std::move(key);
  }
  if (flags.restore_from_topic) {
    if (absl::Status empty = CheckEmptyDataDir(flags.data_dir); !empty.ok()) return empty;
  }
  absl::StatusOr<std::unique_ptr<eventstore::Store>> store = eventstore::Store::Open(
      {.path = flags.data_dir,
       .durable = flags.durable,
       .request_retention = absl::Hours(flags.request_retention_hours),
       .clock = &runtime->clock(),
       .disk_faults = runtime->disk_faults_.get(),
       .max_event_bytes = static_cast<size_t>(flags.kafka_max_message_bytes),
       .keys_topic = flags.keeps_keys ? kafka::KeysTopicFor(flags.service) : "",
       .key_wrapping_key = std::move(key_wrapping_key)});
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("cannot open the store: ", store.status().message()));
  }
  runtime->store_ = *std::move(store);
  if (flags.restore_from_topic) {
    eventstore::WriteSet marker;
    marker.Put(eventstore::Space::kMeta, kRestoreMarker, "");
    if (absl::Status s = runtime->store_->Commit(std::move(marker)); !s.ok()) return s;
  } else {
    absl::StatusOr<std::optional<std::string>> marker =
        runtime->store_->Get(eventstore::Space::kMeta, kRestoreMarker);
    if (!marker.ok()) return marker.status();
    if (marker->has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a restore from the topics into ", flags.data_dir,
          " did not finish: delete the data dir and start again with --restore-from-topic"));
    }
  }
  if (flags.keeps_keys) {
    // Keys made before the service had its keys topic are published once (an upgrade).
    absl::StatusOr<int> published = eventstore::KeyVault(*runtime->store_).PublishExisting();
    if (!published.ok()) return published.status();
    if (*published > 0) {
      server::LogJson("info", "existing seal keys published to the keys topic",
                      {{"keys", absl::StrCat(*published)}});
    }
  }
  runtime->request_expiry_ = std::make_unique<Scheduler>(
      "expired request records",
      [store = runtime->store_.get()]() -> absl::StatusOr<int> {
        int expired = 0;
        for (;;) {
          absl::StatusOr<int> batch = store->ExpireRequests();
          if (!batch.ok()) return batch.status();
          expired += *batch;
          if (*batch == 0) return expired;
        }
      },
      absl::Minutes(1), &runtime->metrics_);

  absl::StatusOr<std::unique_ptr<kafka::OutboxRelay>> relay =
      kafka::OutboxRelay::Start(*runtime->store_, runtime->kafka_);
  if (!relay.ok()) return relay.status();
  runtime->relay_ = *std::move(relay);
  runtime->store_->SetOutboxListener([relay = runtime->relay_.get()] { relay->Wake(); });

  eventstore::Store* store_ptr = runtime->store_.get();
  runtime->metrics_.Gauge("cowork_outbox_depth", "Events committed and not yet delivered to Kafka",
                          [store_ptr] { return static_cast<double>(store_ptr->OutboxDepth()); });
  kafka::OutboxRelay* relay_ptr = runtime->relay_.get();
  runtime->metrics_.Gauge(
      "cowork_outbox_delivery_errors",
      "Outbox rows the producer or the brokers refused since start (the relay retries from the "
      "first refused, in order)",
      [relay_ptr] { return static_cast<double>(relay_ptr->delivery_errors()); });
  if (!flags.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<server::MetricsHttpServer>> http =
        server::MetricsHttpServer::Start(
            flags.metrics_listen, runtime->metrics_,
            [serving = &runtime->serving_] { return serving->load(); },
            [live = &runtime->live_] { return live->load(); });
    if (!http.ok()) return http.status();
    runtime->http_ = *std::move(http);
    server::LogJson("info", "metrics listening",
                    {{"address", absl::StrCat(HostOf(flags.metrics_listen), ":",
                                              runtime->http_->port())}});
  }
  return runtime;
}

Runtime::Runtime(server::ServiceFlags flags) : flags_(std::move(flags)) {}

Runtime::~Runtime() {
  // Stop what reads or writes the store before the store itself.
  consumers_.clear();
  relay_.reset();
  request_expiry_.reset();
  dev_signals_.reset();
  http_.reset();
  store_.reset();
}

int RunService(int argc, char** argv, const std::string& description,
               const server::ServiceDefaults& defaults,
               const std::function<int(Runtime&)>& body) {
  server::BlockTerminationSignals();
  CLI::App cli{description};
  server::ServiceFlags flags;
  server::AddStandardFlags(cli, flags, defaults);
  CLI11_PARSE(cli, argc, argv);
  absl::StatusOr<std::unique_ptr<Runtime>> runtime = Runtime::Start(flags);
  if (!runtime.ok()) return ExitWith(flags, "start-up", runtime.status());
  return body(**runtime);
}

absl::Status Runtime::Restore(const eventstore::Folds& folds) {
  if (!flags_.restore_from_topic) return absl::OkStatus();
  server::LogJson("info", "restoring the store from the topics",
                  {{"topic", kafka::TopicFor(flags_.service)}});
  const absl::Time start = absl::Now();
  absl::StatusOr<kafka::RestoreStats> stats = kafka::RestoreFromTopics(
      *store_, kafka_,
      {.events_topic = kafka::TopicFor(flags_.service),
       .keys_topic = flags_.keeps_keys ? kafka::KeysTopicFor(flags_.service) : "",
       .folds = &folds});
  if (!stats.ok()) return stats.status();
  server::LogJson("info", "events restored from the topics",
                  {{"events", absl::StrCat(stats->events)},
                   {"aggregates", absl::StrCat(stats->aggregates)},
                   {"copies_skipped", absl::StrCat(stats->copies)},
                   {"keys", absl::StrCat(stats->keys)},
                   {"seconds", absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start))}});
  return absl::OkStatus();
}

absl::Status Runtime::RebuildViews(
    std::initializer_list<std::function<absl::Status()>> rebuilds) {
  if (!flags_.rebuild_projections && !flags_.restore_from_topic) return absl::OkStatus();
  // The views read the projections of other topics (the directory's time zones): they are
  // read to their ends first.
  const absl::Time deadline = absl::Now() + kCatchUpBound;
  for (const std::unique_ptr<kafka::EventConsumer>& consumer : consumers_) {
    for (;;) {
      absl::StatusOr<bool> caught_up = consumer->CaughtUp(absl::Seconds(5));
      if (caught_up.ok() && *caught_up) break;
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("consumer ", consumer->name(), " did not read its topics to the end in ",
                         absl::FormatDuration(kCatchUpBound), ", so the views cannot be rebuilt"));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  for (const std::function<absl::Status()>& rebuild : rebuilds) {
    if (absl::Status s = rebuild(); !s.ok()) return s;
  }
  if (flags_.restore_from_topic) {
    eventstore::WriteSet done;
    done.Delete(eventstore::Space::kMeta, kRestoreMarker);
    if (absl::Status s = store_->Commit(std::move(done)); !s.ok()) return s;
  }
  server::LogJson("info", "views rebuilt from the event log");
  return absl::OkStatus();
}

absl::Status Runtime::FollowCustomers(const directory::Directory& directory) {
  const std::string name = absl::StrCat(flags_.service, ".customers");
  kafka::ConsumerOptions options{
      .name = name,
      .topics = {kafka::TopicFor("customers")},
      .rebuild = flags_.rebuild_projections,
      .reset = [&directory](eventstore::Store&) { return directory.Reset(); }};
  auto consumer = std::make_unique<kafka::EventConsumer>(*store_, kafka_, options);
  directory.Subscribe(*consumer);
  return AddConsumer(name, std::move(consumer));
}

absl::Status Runtime::AddConsumer(absl::string_view name,
                                  std::unique_ptr<kafka::EventConsumer> consumer) {
  if (absl::Status s = consumer->Start(); !s.ok()) return s;
  kafka::EventConsumer* raw = consumer.get();
  metrics_.Gauge("cowork_consumer_lag", "Messages of a consumed topic not yet applied",
                 {{"consumer", std::string(name)}},
                 [raw] { return static_cast<double>(raw->Lag()); });
  metrics_.Gauge("cowork_consumer_refused_events",
                 "Events refused since start: their envelope or payload is of another service "
                 "than the topic's (forged or misrouted)",
                 {{"consumer", std::string(name)}},
                 [raw] { return static_cast<double>(raw->refused()); });
  metrics_.Gauge("cowork_consumer_quarantined_events",
                 "Events of a consumed topic set aside in the quarantine (coworkctl quarantine)",
                 {{"consumer", std::string(name)}},
                 [raw] { return static_cast<double>(raw->quarantined()); });
  metrics_.Gauge("cowork_consumer_stalled",
                 "1 while the consumer retries an event it cannot get past (a storage error, a "
                 "security event that fails, a full quarantine)",
                 {{"consumer", std::string(name)}}, [raw] { return raw->stalled() ? 1.0 : 0.0; });
  consumers_.push_back(std::move(consumer));
  return absl::OkStatus();
}

const Clock& Runtime::clock() const {
  if (simulated_clock_ != nullptr) return *simulated_clock_;
  return RealClock::Get();
}

int Runtime::Serve(const Authenticator& authn, std::vector<grpc::Service*> services) {
  TestClockServiceImpl test_clock(authn, clock(), simulated_clock_.get());
  services.push_back(&test_clock);
  QuarantineServiceImpl quarantine(authn, consumers_);
  services.push_back(&quarantine);
  absl::StatusOr<std::unique_ptr<server::Server>> server = server::Server::Start(
      {.service = flags_.service,
       .listen = flags_.listen,
       .workers = flags_.workers,
       .log_requests = flags_.log_requests,
       .drain = absl::Seconds(flags_.drain_seconds),
       .tls = {.cert_file = flags_.tls_cert_file,
               .key_file = flags_.tls_key_file,
               .client_ca_file = flags_.tls_client_ca_file},
       .reflection = flags_.ReflectionOn()},
      services, metrics_);
  if (!server.ok()) return ExitWith(flags_, "cannot start the gRPC server", server.status());
  serving_ = true;
  std::cout << flags_.service << " listening on " << HostOf(flags_.listen) << ":"
            << (*server)->port() << std::endl;
  {
    HealthMonitor health(*store_, consumers_, [this, s = server->get()](bool serving, bool live) {
      serving_ = serving;
      live_ = live;
      s->SetServing(serving);
    });
    const int signal = server::WaitForTerminationSignal();
    server::LogJson("info", "shutting down", {{"signal", std::to_string(signal)}});
  }
  serving_ = false;
  (*server)->Shutdown();
  return 0;
}

}  // namespace cowork::runtime
