#ifndef COWORK_LIBS_KAFKA_KAFKA_H_
#define COWORK_LIBS_KAFKA_KAFKA_H_

// Kafka for the suite, on librdkafka, behind small interfaces: no other code includes
// rdkafka.h. Three parts:
//  - OutboxRelay: publishes a Store's outbox rows in commit order with the idempotent
//    producer (acks=all, no timeout: librdkafka retries through broker outages), removes a
//    row only after its delivery report, resumes after a restart from what is left.
//  - EventConsumer: reads topics by assign() of every partition, from offsets kept in the
//    Store (Space::kMeta) and committed in the same WriteSet as the projection update; skips
//    events already applied (by aggregate and sequence) and unknown payload types; can
//    rebuild from offset zero.
//  - ReadAll / ProduceAll: plain reading (a topic from offset zero) and writing, for tools
//    and tests.
// The dev broker that hosts librdkafka's mock cluster is in dev_broker.h.
//
// Topic names: cowork.<service>.events.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "cowork/common/v1/quarantine.pb.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/store.h"

namespace cowork::kafka {

std::string TopicFor(absl::string_view service);  // "cowork.<service>.events"
// The compacted topic of a service's wrapped seal keys (eventstore::KeyVault).
std::string KeysTopicFor(absl::string_view service);  // "cowork.<service>.keys"
// The service that owns `topic` ("customers" for "cowork.customers.events"); "" for a topic
// that is no service's events topic.
std::string ServiceOfTopic(absl::string_view topic);

struct KafkaOptions {
  // bootstrap.servers, e.g. "127.0.0.1:9092". Required.
  std::string brokers;
  // client.id, e.g. "customers".
  std::string client_id;
  // Extra librdkafka properties (security.protocol, sasl.*, ...), applied last.
  std::map<std::string, std::string> properties;
};

// ---------------------------------------------------------------- outbox relay

struct RelayOptions {
  // Rows read and produced per round. Default 5000.
  size_t batch_size = 5000;
  // Wait when the outbox is empty and nothing wakes the relay. Default 50 ms.
  absl::Duration idle_wait = absl::Milliseconds(50);
  // Producer linger (queue.buffering.max.ms). Default 2 ms.
  absl::Duration linger = absl::Milliseconds(2);
};

// Owns one background thread and one producer. Thread-safe. The Store must outlive it.
class OutboxRelay {
 public:
  static absl::StatusOr<std::unique_ptr<OutboxRelay>> Start(eventstore::Store& store,
                                                            const KafkaOptions& kafka,
                                                            const RelayOptions& options = {});
  // Stops after the current round; rows not yet delivered stay in the outbox.
  ~OutboxRelay();
  // Wakes the relay at once (the Store's outbox listener calls this).
  void Wake();
  uint64_t published() const;      // rows delivered since start
  uint64_t delivery_errors() const;  // delivery reports with an error since start

 private:
  struct Impl;
  explicit OutboxRelay(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- consumer

// What a handler sees: the envelope and its decoded payload.
using EventHandler =
    std::function<absl::Status(const common::v1::EventEnvelope& envelope,
                               const google::protobuf::Message& payload,
                               eventstore::WriteSet& writes)>;

struct ConsumerOptions {
  // The name of this projection; keys of its offsets and applied sequences start with it.
  // Required, e.g. "customers.contracts".
  std::string name;
  std::vector<std::string> topics;
  // With `write_only`: messages per WriteSet (and commit) at most; at least 1. Default 500.
  size_t batch_size = 500;
  // true: the handlers only add writes to their WriteSet and never read the Store, so no
  // message depends on what an earlier one wrote. The consumer then applies the messages of
  // one poll round (those librdkafka has already fetched, up to `batch_size`) into one
  // WriteSet with their offsets and applied sequences, and commits once: one RocksDB write
  // (and, durable, one fsync) for many events. Copies within the round are recognised in
  // memory; every guarantee of the one-by-one mode holds. Default false: one commit per
  // message, so a handler that reads the Store sees the previous message's writes (the
  // Directory's handlers do).
  bool write_only = false;
  // Poll wait when nothing arrives. Default 100 ms.
  absl::Duration poll_wait = absl::Milliseconds(100);
  // Before starting: forget offsets and applied sequences of this consumer and call `reset`
  // (which deletes the projection's views), then read every topic from offset zero.
  bool rebuild = false;
  // Called on rebuild; must delete this projection's views.
  std::function<absl::Status(eventstore::Store&)> reset;
  // Messages the quarantine holds at most; then the consumer stalls on the next one that
  // would go there (an alert is due long before). At least 1.
  int64_t max_quarantined = 10'000;
};

// What a consumer does with an event its handler cannot apply for good.
enum class OnFailure {
  // Sets it aside in the quarantine; the consumer goes on with other aggregates.
  kQuarantine,
  // Never goes past it: retries with backoff (stalled()) until it applies or an operator acts
  // on the events before it. For the events whose loss would leave access open (suspension,
  // password change, sign-out, erasure).
  kStall,
};

// Owns one background thread. The handlers run on it, one message at a time, in partition
// order. A handler adds its projection writes (and may append events) to `writes`; the
// consumer adds the offset and the applied sequence and commits, after each message or, with
// ConsumerOptions::write_only, after each poll round.
//
// The offset never moves past a message that was not handled:
//  - A handler error that may pass (a storage error such as a full disk, ABORTED, UNAVAILABLE,
//    INTERNAL, anything but the codes below) and any failed commit are retried with backoff;
//    stalled() is true meanwhile and the service reports NOT_SERVING.
//  - A message that is not an event envelope, a payload that does not parse, and an event its
//    handler rejects for good (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
//    ALREADY_EXISTS, OUT_OF_RANGE, PERMISSION_DENIED) go to the quarantine, a record in the
//    store with the raw bytes (common.v1.QuarantinedEvent). The later events of the same
//    aggregate wait in the quarantine behind it, so nothing is applied out of order; other
//    aggregates go on. An event registered with OnFailure::kStall is never set aside, nor
//    put behind one that is: the consumer stalls on it instead.
//  - The quarantine holds at most ConsumerOptions::max_quarantined messages; beyond that the
//    consumer stalls.
// An envelope whose `service` is not the topic's owner, or whose payload is not an event of
// the owner's package, is refused: logged and counted (refused()), never applied.
class EventConsumer {
 public:
  // Registers a handler for payloads of type T (by full proto name). Before Start.
  template <typename T>
  void On(
      std::function<absl::Status(const common::v1::EventEnvelope&, const T&, eventstore::WriteSet&)>
          handler,
      OnFailure on_failure = OnFailure::kQuarantine) {
    handlers_[T::descriptor()->full_name()] = {
        [] { return std::unique_ptr<google::protobuf::Message>(new T()); },
        [handler = std::move(handler)](
            const common::v1::EventEnvelope& e, const google::protobuf::Message& m,
            eventstore::WriteSet& w) { return handler(e, static_cast<const T&>(m), w); },
        on_failure};
  }

  EventConsumer(eventstore::Store& store, KafkaOptions kafka, ConsumerOptions options);
  const std::string& name() const { return options_.name; }
  ~EventConsumer();  // stops the thread
  absl::Status Start();
  // Messages behind the high watermarks, summed over partitions (for the lag metric).
  int64_t Lag() const;
  uint64_t applied() const;  // events applied since start
  uint64_t skipped() const;  // duplicates, unknown types and refused events since start
  uint64_t refused() const;  // envelopes of another service than their topic's, since start
  // Store commits since start: one per message, fewer when write_only gathers several.
  uint64_t commits() const;
  // True when this consumer has committed every message the brokers hold now: for each
  // partition of its topics, the stored next offset has reached the high watermark the
  // cluster reports (asked now, waiting at most `timeout`). False before Start. UNAVAILABLE
  // when the cluster does not answer. Thread-safe.
  absl::StatusOr<bool> CaughtUp(absl::Duration timeout) const;
  // True while the consumer retries a message it cannot get past (see above). Thread-safe.
  bool stalled() const;
  // Messages in the quarantine now. Thread-safe.
  int64_t quarantined() const;

  // The quarantine, oldest first (by topic, partition, offset), from after `after` (an id;
  // empty: from the start), at most `limit`. Thread-safe, as are the calls below.
  absl::StatusOr<std::vector<common::v1::QuarantinedEvent>> ListQuarantined(absl::string_view after,
                                                                            size_t limit) const;
  absl::StatusOr<common::v1::QuarantinedEvent> GetQuarantined(absl::string_view id) const;
  struct Released {
    int applied = 0;     // the event and those that waited behind it, applied now
    int still_held = 0;  // events of the aggregate still in the quarantine
  };
  // Applies a quarantined event again (after a fix), then the events of its aggregate that
  // waited behind it, in order; one of them that fails for good heads the quarantine of the
  // aggregate in its place. NOT_FOUND, FAILED_PRECONDITION when it waits behind another one
  // or still fails (the record's reason updated).
  absl::StatusOr<Released> Retry(absl::string_view id);
  // Gives up a quarantined event: records QuarantinedEventDiscarded (`by`, `note`) in the
  // store's event log (aggregate "quarantine", id: the consumer's name; never published), then
  // releases what waited behind it as Retry does.
  absl::StatusOr<Released> Discard(absl::string_view id, absl::string_view by,
                                   absl::string_view note);

  struct Registered {
    std::function<std::unique_ptr<google::protobuf::Message>()> make;
    EventHandler handle;
    OnFailure on_failure = OnFailure::kQuarantine;
  };

 private:
  struct Impl;
  eventstore::Store& store_;
  KafkaOptions kafka_;
  ConsumerOptions options_;
  absl::flat_hash_map<std::string, Registered> handlers_;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- plain reading and writing

struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  bool tombstone = false;  // no value at all (null): a compacted topic's deletion
  absl::Time timestamp;
};

// Reads every partition of `topic` from offset zero to the high watermark seen at the start
// (or until `deadline`). For tools and tests.
absl::StatusOr<std::vector<Message>> ReadAll(const KafkaOptions& kafka, const std::string& topic,
                                             absl::Duration timeout = absl::Seconds(30));

// Produces messages synchronously (waits for every delivery report). For tools and tests.
absl::Status ProduceAll(const KafkaOptions& kafka, const std::string& topic,
                        const std::vector<std::pair<std::string, std::string>>& key_values,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace cowork::kafka

#endif  // COWORK_LIBS_KAFKA_KAFKA_H_
