// cowork-devbroker: a Kafka cluster for development, on librdkafka's mock cluster.
//
// Prints "bootstrap: 127.0.0.1:PORT[,...]" on stdout once the topics exist (and writes the
// same address to --address-file, atomically), then waits for signals:
//   SIGUSR1  every broker down (clients see an outage; topics and messages stay)
//   SIGUSR2  every broker up again
//   SIGTERM / SIGINT  exit 0 (everything is forgotten: the mock keeps nothing on disk)

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "libs/kafka/dev_broker.h"

namespace {

constexpr const char* kDefaultTopics[] = {
    "cowork.customers.events",     "cowork.contracts.events", "cowork.bookings.events",
    "cowork.checkins.events",      "cowork.helpdesk.events",  "cowork.billing.events",
    "cowork.notifications.events",
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
  std::cout << "bootstrap: " << (*broker)->bootstrap() << std::endl;

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      absl::Status s = (*broker)->SetDown();
      std::cout << (s.ok() ? "brokers: down" : "brokers: down failed: " + std::string(s.message()))
                << std::endl;
    } else if (sig == SIGUSR2) {
      absl::Status s = (*broker)->SetUp();
      std::cout << (s.ok() ? "brokers: up" : "brokers: up failed: " + std::string(s.message()))
                << std::endl;
    } else {
      std::cout << "stopping" << std::endl;
      return 0;
    }
  }
}
