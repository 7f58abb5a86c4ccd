#ifndef COWORK_LIBS_KAFKA_DEV_BROKER_H_
#define COWORK_LIBS_KAFKA_DEV_BROKER_H_

// A Kafka cluster in this process for development and tests: librdkafka's mock cluster, an
// in-memory implementation of the Kafka protocol listening on random loopback ports. Any
// Kafka client (the services, kcat) connects to bootstrap() over TCP as to a real cluster.
// It keeps nothing across restarts.
//
// Limits of the mock in librdkafka 2.0.2, which shape how the suite uses Kafka: no admin API
// (topics are created here, by the host), slow consumer-group rebalances (the suite's
// consumers use assign(), not subscribe()), no transaction markers, and a bounded log: each
// partition keeps at most 5 MB (or 100,000 batches) of messages and silently drops its
// oldest beyond that, so a topic holds about 5 MB times its partitions, and one aggregate's
// events (one key, one partition) at most 5 MB: a year of a large location's invoice book
// does not fit.
//
// Thread-safe: SetDown/SetUp/CreateTopic may be called from any thread. Errors: INTERNAL when
// the mock cannot be created or refuses a command, INVALID_ARGUMENT for bad options.
//
//   ASSIGN_OR_RETURN(auto broker, DevBroker::Start({.topics = {"cowork.customers.events"}}));
//   KafkaOptions kafka{.brokers = broker->bootstrap()};
//   broker->SetDown();  // every client sees an outage; the data stays
//   broker->SetUp();

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cowork::kafka {

struct DevBrokerOptions {
  // Brokers in the cluster, each on its own loopback port. Default 1.
  int brokers = 1;
  // Topics created at start. Default none.
  std::vector<std::string> topics;
  // Partitions of each topic created at start. Default 6.
  int partitions = 6;
};

class DevBroker {
 public:
  static absl::StatusOr<std::unique_ptr<DevBroker>> Start(const DevBrokerOptions& options = {});
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // bootstrap.servers for clients: "127.0.0.1:PORT[,127.0.0.1:PORT...]".
  const std::string& bootstrap() const;
  int brokers() const;

  // Creates a topic (the mock has no admin API). `partitions` <= 0: the options' count.
  absl::Status CreateTopic(absl::string_view topic, int partitions = 0);
  // Takes every broker down (connections closed, new ones refused) / brings them back.
  // Topics and messages survive.
  absl::Status SetDown();
  absl::Status SetUp();
  // Fault injection: the next `count` produce requests the cluster receives are answered with
  // a non-retriable error (topic authorization failed), so the producer reports those
  // messages as not delivered.
  absl::Status FailProduceRequests(int count);

  // Where each partition of the topics created here starts now: its low watermark, the number
  // of messages the mock dropped from its head (beyond 5 MB). Asked over the protocol, as any
  // client would. UNAVAILABLE while the brokers are down.
  struct PartitionStart {
    std::string topic;
    int32_t partition = 0;
    int64_t first_offset = 0;
  };
  absl::StatusOr<std::vector<PartitionStart>> PartitionStarts();

 private:
  struct Impl;
  explicit DevBroker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cowork::kafka

#endif  // COWORK_LIBS_KAFKA_DEV_BROKER_H_
