#ifndef COWORK_LIBS_KAFKA_TOPIC_STREAM_H_
#define COWORK_LIBS_KAFKA_TOPIC_STREAM_H_

// Reading topics as a stream, for tools that replay the history (cowork-replay): every
// partition of the topics is assigned by hand (no consumer group, nothing committed: the dev
// broker's mock cluster rebalances groups slowly), read from a chosen start, and each message
// handed to a callback — in offset order within a partition, in arrival order across
// partitions. A run ends when every partition has reached the high watermark it had when the
// stream was opened, or, following, only when asked to.
//
// Where a partition starts (StreamStart): its beginning, an offset, its last n messages, or
// the first message at or after a time (the Kafka message timestamp: when it was published).
// Kafka finds the offset for a time with a ListOffsets request; the dev broker cannot answer
// one, and a real cluster answers "none" when nothing is that recent. In both cases the
// partition is read from its beginning and the messages before the time are dropped here, so
// the result is the same everywhere (a real cluster then reads a partition it could skip).
//
// Not thread-safe: one thread opens and runs a stream.
// Errors: INVALID_ARGUMENT for bad options or properties; NOT_FOUND for a topic the cluster
// does not have; UNAVAILABLE (or another code from librdkafka) when the cluster does not
// answer the metadata and watermark queries within the timeout; Run returns the callback's
// first error, or CANCELLED when `stop` said so.
//
//   ASSIGN_OR_RETURN(auto stream, TopicStream::Open(kafka, {.topics = {TopicFor("bookings")}}));
//   RETURN_IF_ERROR(stream->Run([](const Message& m) { Print(m.value); return absl::OkStatus(); }));

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/kafka/kafka.h"

namespace cowork::kafka {

struct StreamStart {
  enum class Kind {
    kBeginning,  // the first message each partition still holds
    kOffset,     // `offset` in every partition (within what the partition holds)
    kTail,       // the last `offset` messages of every partition
    kTime,       // the first message of every partition published at or after `time`
  };
  Kind kind = Kind::kBeginning;
  int64_t offset = 0;  // kOffset, kTail; >= 0
  absl::Time time;     // kTime
};

struct StreamOptions {
  // Topics to read, every partition of each. Required.
  std::vector<std::string> topics;
  // Where every partition starts. Default: its beginning.
  StreamStart start;
  // false: stop at the high watermarks seen at Open. true: keep reading what arrives until
  // `stop` says so. Default false.
  bool follow = false;
  // Bound of Open's metadata, watermark and offset-for-time queries. Default 30 s.
  absl::Duration timeout = absl::Seconds(30);
};

class TopicStream {
 public:
  static absl::StatusOr<std::unique_ptr<TopicStream>> Open(const KafkaOptions& kafka,
                                                           const StreamOptions& options);
  ~TopicStream();
  TopicStream(const TopicStream&) = delete;
  TopicStream& operator=(const TopicStream&) = delete;

  // Messages from the start positions to the high watermarks seen at Open, summed over every
  // partition: what a run that does not follow reads.
  int64_t backlog() const;
  // Messages read from the cluster so far (also those dropped for being before the time).
  int64_t consumed() const;
  // True once every partition has reached its high watermark at Open (while following too).
  bool caught_up() const;
  // Where each partition of options.topics[topic] starts in this stream, by partition number
  // (with StreamStart::kBeginning: the first offset it still holds).
  std::vector<int64_t> starts(size_t topic = 0) const;

  // Hands every message to `on_message`. `stop` (optional) is asked between messages and at
  // least every 100 ms while nothing arrives; true ends the run with CANCELLED. A message
  // given to `on_message` is valid only during the call.
  absl::Status Run(const std::function<absl::Status(const Message&)>& on_message,
                   const std::function<bool()>& stop = nullptr);

 private:
  struct Impl;
  explicit TopicStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cowork::kafka

#endif  // COWORK_LIBS_KAFKA_TOPIC_STREAM_H_
