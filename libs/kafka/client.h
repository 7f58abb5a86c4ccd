#ifndef COWORK_LIBS_KAFKA_CLIENT_H_
#define COWORK_LIBS_KAFKA_CLIENT_H_

// Internal to libs/kafka: one owning wrapper around an rd_kafka_t with the suite's defaults,
// the JSON log line every part of the library writes, and librdkafka error -> absl::Status.
// Not part of the public interface (kafka.h is); rdkafka.h stays in the .cc files, so the
// handle is only forward-declared here.
//
// Thread-safety: a Client is as thread-safe as librdkafka's handle (fully); the delivery
// callback runs on whichever thread calls rd_kafka_poll / rd_kafka_flush.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/kafka/kafka.h"

struct rd_kafka_s;

namespace cowork::kafka::internal {

// One JSON object on one line of stderr, e.g.
// {"level":"error","component":"kafka.relay","msg":"...","detail":"..."}.
void LogJson(absl::string_view level, absl::string_view component, absl::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields = {});

// librdkafka error code (rd_kafka_resp_err_t) -> status with `context` in the message.
absl::Status ErrorToStatus(int err, absl::string_view context);

// Partition counts of every topic the cluster knows (one metadata request for all topics, so
// a consumer never asks the broker to auto-create one). UNAVAILABLE when no broker answers
// within `timeout`.
absl::StatusOr<std::map<std::string, int>> TopicPartitions(rd_kafka_s* rk, absl::Duration timeout);

// Asks the cluster about `topic` now, so a producer that has not produced to it yet does not
// wait for librdkafka 2.0.2's one-second topic scan before its first message goes out. Best
// effort: errors are ignored (the scan still finds the topic later).
void LearnTopic(rd_kafka_s* rk, const std::string& topic, absl::Duration timeout);

// The producer settings every producer of the suite shares: idempotent (acks=all, ordered
// per partition, no duplicates from retries), keys hashed like the Java client
// (murmur2_random) so every Kafka client agrees on a key's partition, lz4 batches.
// message_timeout zero: retry forever (through any outage).
std::map<std::string, std::string> ProducerProperties(absl::Duration linger,
                                                      absl::Duration message_timeout);

class Client {
 public:
  enum class Kind { kProducer, kConsumer };
  // Called for every delivery report (producers): the per-message opaque given to producev,
  // the error code (0 = delivered) and its description.
  using DeliveryFn = std::function<void(void* msg_opaque, int err, absl::string_view reason)>;

  // Creates a client. Property order: the suite's defaults, then `overrides`, then
  // `kafka.properties` (the operator's word is last). INVALID_ARGUMENT on a bad property.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      Kind kind, const KafkaOptions& kafka, std::string component,
      const std::map<std::string, std::string>& overrides, DeliveryFn on_delivery = nullptr);
  // Destroys the handle without a consumer-group close (we never join a group), so it does
  // not wait for a coordinator that may be down.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  rd_kafka_s* get() const { return rk_; }
  const std::string& component() const { return component_; }

  // Internal to the callbacks.
  struct Callbacks;

 private:
  Client() = default;
  rd_kafka_s* rk_ = nullptr;
  std::string component_;
  std::unique_ptr<Callbacks> callbacks_;
};

}  // namespace cowork::kafka::internal

#endif  // COWORK_LIBS_KAFKA_CLIENT_H_
