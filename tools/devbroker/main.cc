// cowork-devbroker: a Kafka cluster for development, on librdkafka's mock cluster.
//
// Prints "bootstrap: 127.0.0.1:PORT[,...]" on stdout once the topics exist (and writes the
// same address to --address-file, atomically), then waits for signals:
//   SIGUSR1  every broker down (clients see an outage; topics and messages stay)
//   SIGUSR2  every broker up again
//   SIGTERM / SIGINT  exit 0 (everything is forgotten: the mock keeps nothing on disk)
//
// The mock keeps at most 5 MB per partition and drops the oldest messages silently. Every
// two seconds the broker asks where each partition starts; when one has lost its head it says
// so, loudly: "history dropped: <topic>/<partition> starts at offset <n>" on stdout, a warning
// on stderr, and with --metrics-listen the gauge
// cowork_devbroker_dropped_messages{topic,partition} on /metrics.

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "libs/kafka/dev_broker.h"
#include "libs/server/metrics.h"

namespace {

constexpr const char* kDefaultTopics[] = {
    "cowork.customers.events",
    "cowork.contracts.events",
    "cowork.bookings.events",
    "cowork.checkins.events",
    "cowork.helpdesk.events",
    "cowork.billing.events",
    "cowork.notifications.events",
    // The wrapped seal keys of the services that keep them (compacted in production).
    "cowork.customers.keys",
    "cowork.checkins.keys",
    "cowork.helpdesk.keys",
};

// Writes `content` to `path` through a temporary file and a rename, so a reader polling for
// the file never sees half an address.
bool WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << content << "\n";
    out.flush();
    if (!out) return false;
  }
  return std::rename(temp.c_str(), path.c_str()) == 0;
}

// One JSON line on stderr (the suite's log format).
void LogError(const std::string& message, const std::string& detail) {
  std::string escaped;
  for (char c : detail) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c == '\n' ? ' ' : c);
  }
  std::cerr << "{\"level\":\"error\",\"component\":\"devbroker\",\"msg\":\"" << message
            << "\",\"detail\":\"" << escaped << "\"}" << std::endl;
}

// Messages dropped from each partition's head, as last asked.
class DroppedMessages {
 public:
  // Asks the broker; prints what is newly dropped.
  void Refresh(cowork::kafka::DevBroker& broker) {
    absl::StatusOr<std::vector<cowork::kafka::DevBroker::PartitionStart>> starts =
        broker.PartitionStarts();
    if (!starts.ok()) return;  // brokers down: asked again later
    absl::MutexLock lock(&mu_);
    for (const auto& start : *starts) {
      int64_t& known = dropped_[{start.topic, start.partition}];
      if (start.first_offset <= known) continue;
      known = start.first_offset;
      std::cout << "history dropped: " << start.topic << "/" << start.partition
                << " starts at offset " << start.first_offset << std::endl;
      std::cerr << "{\"level\":\"warning\",\"component\":\"devbroker\",\"msg\":\"the dev "
                   "broker dropped the oldest messages of a partition (it keeps 5 MB each): "
                   "readers from offset zero and rebuilds miss them\",\"topic\":\""
                << start.topic << "\",\"partition\":\"" << start.partition
                << "\",\"first_offset\":\"" << start.first_offset << "\"}" << std::endl;
    }
  }
  double Of(const std::string& topic, int partition) {
    absl::MutexLock lock(&mu_);
    auto it = dropped_.find({topic, partition});
    return it == dropped_.end() ? 0 : static_cast<double>(it->second);
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> dropped_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka dev broker (librdkafka mock cluster) on loopback"};
  int brokers = 1;
  int partitions = 6;
  std::vector<std::string> topics(std::begin(kDefaultTopics), std::end(kDefaultTopics));
  std::string address_file;
  app.add_option("--brokers", brokers, "Brokers in the cluster")
      ->envname("COWORK_DEVBROKER_BROKERS")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--partitions", partitions, "Partitions of each topic")
      ->envname("COWORK_DEVBROKER_PARTITIONS")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--topics", topics, "Topics to create (comma-separated or repeated)")
      ->envname("COWORK_DEVBROKER_TOPICS")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--address-file", address_file,
                 "Also write the bootstrap address to this file (atomically)")
      ->envname("COWORK_DEVBROKER_ADDRESS_FILE");
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "Serve /metrics here (e.g. 127.0.0.1:9109; port 0 picks one): the messages "
                 "dropped from each partition's head")
      ->envname("COWORK_DEVBROKER_METRICS_LISTEN");
  CLI11_PARSE(app, argc, argv);

  // Blocked before any thread starts, so every thread inherits the mask and the signals are
  // only ever taken by sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto broker = cowork::kafka::DevBroker::Start(
      {.brokers = brokers, .topics = topics, .partitions = partitions});
  if (!broker.ok()) {
    LogError("cannot start", std::string(broker.status().message()));
    return 1;
  }
  if (!address_file.empty() && !WriteFileAtomically(address_file, (*broker)->bootstrap())) {
    LogError("cannot write the address file", address_file);
    return 1;
  }
  DroppedMessages dropped;
  cowork::server::Metrics metrics;
  std::unique_ptr<cowork::server::MetricsHttpServer> http;
  if (!metrics_listen.empty()) {
    for (const std::string& topic : topics) {
      for (int p = 0; p < partitions; ++p) {
        metrics.Gauge("cowork_devbroker_dropped_messages",
                      "Messages the dev broker dropped from the head of a partition (it keeps "
                      "5 MB per partition)",
                      {{"topic", topic}, {"partition", std::to_string(p)}},
                      [&dropped, topic, p] { return dropped.Of(topic, p); });
      }
    }
    auto started = cowork::server::MetricsHttpServer::Start(metrics_listen, metrics);
    if (!started.ok()) {
      LogError("cannot serve metrics", std::string(started.status().message()));
      return 1;
    }
    http = *std::move(started);
  }
  std::cout << "bootstrap: " << (*broker)->bootstrap() << std::endl;
  if (http != nullptr) {
    std::cout << "metrics: " << metrics_listen.substr(0, metrics_listen.rfind(':')) << ":"
              << http->port() << std::endl;
  }

  constexpr int kWatchSeconds = 2;
  // While the brokers are down nothing is dropped, and asking would block this loop (each
  // watermark query waits for brokers that do not answer) instead of serving the signals.
  bool down = false;
  while (true) {
    const timespec wait{.tv_sec = kWatchSeconds, .tv_nsec = 0};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig < 0) {
      if (!down) dropped.Refresh(**broker);
    } else if (sig == SIGUSR1) {
      down = true;
      absl::Status s = (*broker)->SetDown();
      std::cout << (s.ok() ? "brokers: down" : "brokers: down failed: " + std::string(s.message()))
                << std::endl;
    } else if (sig == SIGUSR2) {
      down = false;
      absl::Status s = (*broker)->SetUp();
      std::cout << (s.ok() ? "brokers: up" : "brokers: up failed: " + std::string(s.message()))
                << std::endl;
    } else {
      std::cout << "stopping" << std::endl;
      return 0;
    }
  }
}
