// EventConsumer: topics -> handlers -> Store commits, with the offsets and the applied
// sequences in the same commit as the projection's writes, so a crash at any point neither
// loses nor repeats an effect.
//
// Keys in Space::kMeta, all under "consumer/<name>/":
//   offset/<topic>/<partition>             next offset to read (decimal)
//   applied/<aggregate_type>/<aggregate_id> highest sequence applied (decimal)
//   quarantine/<topic>/<partition, 10 digits>/<offset, 20 digits>   common.v1.QuarantinedEvent
//   held/<aggregate_type>/<aggregate_id>   the id of the aggregate's quarantined event that
//                                          its later events wait behind
//
// An aggregate's events are applied strictly in sequence: n only right after n - 1. Copies of
// what is applied are dropped; an event ahead of a missing one is skipped too, because the
// outbox relay republishes from the first event that failed, so it arrives again in order.
// The offset of a message moves in the same commit that applies, skips or quarantines it,
// never without: what cannot be committed is tried again.
//
// One message per commit by default, because handlers may read the store and must see what
// the previous message wrote. With write_only, the messages of one poll round share a commit:
// each is decided as on its own (its handler writes into a WriteSet of its own, merged into
// the round's only when it succeeds), the applied sequences the round has written answer the
// duplicate check before the store does, and the round's commit carries each partition's
// last offset and each aggregate's last sequence once. A message whose handler asks for a
// retry, or that goes to the quarantine, ends the round early (what came before is
// committed) and is handled on its own; a round whose commit fails is applied again one
// message at a time.
//
// The consumer's thread and the operator's calls (Retry, Discard) decide under one mutex, so
// a release never races the message the thread is on.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/kafka/client.h"
#include "libs/kafka/kafka.h"
#include "libs/status/macros.h"

namespace cowork::kafka {
namespace {

// "cowork.customers.v1.CustomerAdded" of "type.googleapis.com/cowork.customers.v1.CustomerAdded".
absl::string_view TypeNameOf(const common::v1::EventEnvelope& envelope) {
  absl::string_view type_name = envelope.payload().type_url();
  if (size_t slash = type_name.rfind('/'); slash != absl::string_view::npos) {
    type_name.remove_prefix(slash + 1);
  }
  return type_name;
}

using SteadyClock = std::chrono::steady_clock;

// Metadata is asked again this often while a topic is missing, and otherwise this often (to
// notice partitions added to a topic).
constexpr auto kMissingTopicRecheck = std::chrono::seconds(1);
constexpr auto kTopicRecheck = std::chrono::seconds(30);
constexpr auto kWatermarkRefresh = std::chrono::milliseconds(500);
// One log line per fetch error code and window.
constexpr auto kFetchErrorLogWindow = std::chrono::seconds(10);
constexpr absl::Duration kMetadataTimeout = absl::Seconds(2);
constexpr absl::Duration kMinRetry = absl::Milliseconds(10);
constexpr absl::Duration kMaxRetry = absl::Seconds(1);

// A handler's verdict that no retry will change: the event goes to the quarantine. Every
// other error (a full disk, an I/O error, a conflict) may pass and is retried.
bool Permanent(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

// "<type>/<id>": an aggregate in the held index and in memory.
std::string AggregateOf(absl::string_view type, absl::string_view id) {
  return absl::StrCat(type, "/", id);
}

// The service of a consumer named "<service>.<projection>".
std::string ServiceOfConsumer(absl::string_view name) {
  return std::string(name.substr(0, name.find('.')));
}

// 1, 2, 3, 10, 20, 30, 100, ...: enough lines to see a stuck message without flooding.
bool WorthLogging(uint64_t attempt) {
  uint64_t scale = 1;
  while (attempt >= scale * 10) scale *= 10;
  return attempt % scale == 0 && attempt / scale <= 3;
}

}  // namespace

struct EventConsumer::Impl {
  EventConsumer& owner;
  std::string prefix;  // "consumer/<name>/"
  std::unique_ptr<internal::Client> client;
  std::thread thread;

  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;

  // Held by whoever decides and commits messages: the thread, Retry and Discard.
  absl::Mutex apply_mu;
  // Aggregates whose later events wait in the quarantine -> the id of the event they wait
  // behind. As stored under held/.
  absl::flat_hash_map<std::string, std::string> held ABSL_GUARDED_BY(apply_mu);

  std::atomic<int64_t> quarantine_size{0};
  std::atomic<bool> stalled{false};
  std::atomic<int64_t> lag{0};
  std::atomic<uint64_t> applied{0};
  std::atomic<uint64_t> skipped{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> commits{0};

  // Consumer-thread state (and Start's, before the thread exists).
  struct Partition {
    // Next offset to read. Zero when nothing is stored: topics keep everything, and an offset
    // below the log start is reset to the earliest one (auto.offset.reset). An explicit
    // offset also spares the ListOffsets round trip a logical "beginning" would cost.
    int64_t next = 0;
    int64_t high = -1;  // high watermark as last seen; -1: unknown
  };
  std::map<std::pair<std::string, int32_t>, Partition> partitions;
  std::set<std::string> missing;  // configured topics the cluster does not have yet
  SteadyClock::time_point next_metadata;
  SteadyClock::time_point next_watermarks;
  bool metadata_failing = false;                              // to log an outage once, and its end
  std::map<int, SteadyClock::time_point> fetch_error_logged;  // by error code

  explicit Impl(EventConsumer& o)
      : owner(o), prefix(absl::StrCat("consumer/", o.options_.name, "/")) {}

  bool Stopping() {
    absl::MutexLock lock(&mu);
    return stop;
  }

  // Sleeps `d` or until stop. Returns false when stopping.
  bool Sleep(absl::Duration d) {
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&stop), d);
    return !stop;
  }

  std::string OffsetKey(absl::string_view topic, int32_t partition) const {
    return absl::StrCat(prefix, "offset/", topic, "/", partition);
  }
  std::string AppliedKey(absl::string_view type, absl::string_view id) const {
    return absl::StrCat(prefix, "applied/", type, "/", id);
  }
  std::string HeldKey(absl::string_view aggregate) const {
    return absl::StrCat(prefix, "held/", aggregate);
  }
  std::string QuarantinePrefix() const { return absl::StrCat(prefix, "quarantine/"); }
  std::string QuarantineKey(absl::string_view topic, int32_t partition, int64_t offset) const {
    return absl::StrFormat("%s%s/%010d/%020d", QuarantinePrefix(), topic, partition, offset);
  }
  // The key of a quarantined event's id ("<topic>/<partition>/<offset>").
  absl::StatusOr<std::string> QuarantineKeyOf(absl::string_view id) const {
    const size_t last = id.rfind('/');
    const size_t middle = last == absl::string_view::npos ? last : id.rfind('/', last - 1);
    int32_t partition = 0;
    int64_t offset = 0;
    if (middle == absl::string_view::npos || middle == 0 ||
        !absl::SimpleAtoi(id.substr(middle + 1, last - middle - 1), &partition) ||
        !absl::SimpleAtoi(id.substr(last + 1), &offset) || partition < 0 || offset < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("id: not a quarantined event's id (<topic>/<partition>/<offset>): ", id));
    }
    return QuarantineKey(id.substr(0, middle), partition, offset);
  }

  // Asks the cluster which configured topics exist and assigns every partition of them, each
  // from its stored offset. OK also when some topics are still missing (retried later);
  // UNAVAILABLE when the cluster did not answer.
  absl::Status RefreshAssignment() {
    absl::StatusOr<std::map<std::string, int>> topics =
        internal::TopicPartitions(client->get(), kMetadataTimeout);
    if (!topics.ok()) {
      next_metadata = SteadyClock::now() + kMissingTopicRecheck;
      return topics.status();
    }
    bool changed = false;
    missing.clear();
    for (const std::string& topic : owner.options_.topics) {
      auto found = topics->find(topic);
      if (found == topics->end()) {
        missing.insert(topic);
        continue;
      }
      for (int32_t p = 0; p < found->second; ++p) {
        auto key = std::make_pair(topic, p);
        if (partitions.contains(key)) continue;
        absl::StatusOr<std::optional<std::string>> stored =
            owner.store_.Get(eventstore::Space::kMeta, OffsetKey(topic, p));
        if (!stored.ok()) return stored.status();
        Partition partition;
        if (stored->has_value() && !absl::SimpleAtoi(**stored, &partition.next)) {
          return absl::InternalError(absl::StrCat("consumer ", owner.options_.name,
                                                  ": bad stored offset for ", topic, "/", p, ": ",
                                                  **stored));
        }
        partitions[key] = partition;
        changed = true;
      }
    }
    next_metadata = SteadyClock::now() + (missing.empty() ? kTopicRecheck : kMissingTopicRecheck);
    if (!changed) return absl::OkStatus();

    // A full assign() at the offsets this consumer has stored or processed: partitions already
    // being read continue where the last applied message left them.
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (const auto& [key, partition] : partitions) {
      rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second)->offset =
          partition.next;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(client->get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return internal::ErrorToStatus(err,
                                     absl::StrCat("consumer ", owner.options_.name, ": assign"));
    }
    return absl::OkStatus();
  }

  // From the watermarks librdkafka caches from fetch responses: no request, no blocking.
  void RefreshLag() {
    int64_t total = 0;
    for (auto& [key, partition] : partitions) {
      int64_t low = -1, high = -1;
      rd_kafka_resp_err_t err =
          rd_kafka_get_watermark_offsets(client->get(), key.first.c_str(), key.second, &low, &high);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0) partition.high = high;
      if (partition.high >= 0) total += std::max<int64_t>(0, partition.high - partition.next);
    }
    lag.store(total, std::memory_order_relaxed);
    next_watermarks = SteadyClock::now() + kWatermarkRefresh;
  }

  // One message as librdkafka returned it (or as the quarantine kept it); the views live as
  // long as the message.
  struct Received {
    absl::string_view topic;
    int32_t partition;
    int64_t offset;
    absl::string_view key;
    absl::string_view value;
  };

  static Received Of(const rd_kafka_message_t* m) {
    auto view = [](const void* data, size_t size) {
      return data != nullptr ? absl::string_view(static_cast<const char*>(data), size)
                             : absl::string_view();
    };
    return {rd_kafka_topic_name(m->rkt), m->partition, m->offset, view(m->key, m->key_len),
            view(m->payload, m->len)};
  }

  static Received Of(const common::v1::QuarantinedEvent& q) {
    return {q.topic(), q.partition(), q.offset(), q.key(), q.value()};
  }

  // Log fields naming the message (and its event, once known).
  std::vector<std::pair<std::string, std::string>> Where(
      const Received& r, const common::v1::EventEnvelope* envelope = nullptr) const {
    std::vector<std::pair<std::string, std::string>> where = {
        {"consumer", owner.options_.name},
        {"topic", std::string(r.topic)},
        {"partition", absl::StrCat(r.partition)},
        {"offset", absl::StrCat(r.offset)}};
    if (envelope != nullptr) {
      where.emplace_back("aggregate", absl::StrCat(envelope->aggregate_type(), "/",
                                                   envelope->aggregate_id()));
      where.emplace_back("sequence", absl::StrCat(envelope->sequence()));
    }
    return where;
  }

  // The highest sequence of an aggregate applied so far (0: none), as stored.
  absl::StatusOr<int64_t> StoredSequence(const std::string& applied_key) const {
    absl::StatusOr<std::optional<std::string>> value =
        owner.store_.Get(eventstore::Space::kMeta, applied_key);
    // A store that cannot be read now may be readable in a moment; never skip because of it.
    if (!value.ok()) return absl::UnavailableError(value.status().message());
    int64_t sequence = 0;
    if (value->has_value()) (void)absl::SimpleAtoi(**value, &sequence);
    return sequence;
  }

  // What Decide made of one message: applied (its handler's writes are in the WriteSet),
  // skipped or quarantined, and the aggregate sequence to store with its offset (none when
  // `applied_key` is empty: garbage, a copy, an event ahead of its predecessor, a quarantined
  // event).
  enum class Verdict { kApplied, kSkipped, kQuarantined };
  struct Decision {
    Verdict verdict = Verdict::kSkipped;
    std::string applied_key;
    int64_t sequence = 0;
    common::v1::QuarantinedEvent quarantine;  // kQuarantined
  };

  // Makes `decision` set `r` aside for `reason`, behind `waiting_behind` (an id) when not
  // empty; or, for an event never to be set aside (`stall`), returns the error that makes the
  // consumer stall on it.
  absl::Status Quarantine(const Received& r, const common::v1::EventEnvelope* envelope, bool stall,
                          std::string reason, std::string waiting_behind,
                          Decision& decision) const {
    if (stall) {
      return absl::UnavailableError(
          absl::StrCat("an event this consumer never sets aside cannot be applied: ", reason));
    }
    common::v1::QuarantinedEvent& q = decision.quarantine;
    q.set_id(absl::StrCat(r.topic, "/", r.partition, "/", r.offset));
    q.set_consumer(owner.options_.name);
    q.set_topic(std::string(r.topic));
    q.set_partition(r.partition);
    q.set_offset(r.offset);
    q.set_key(std::string(r.key));
    q.set_value(std::string(r.value));
    q.set_reason(std::move(reason));
    q.set_waiting_behind(std::move(waiting_behind));
    *q.mutable_quarantined_at() = ToTimestamp(absl::Now());
    if (envelope != nullptr) {
      q.set_aggregate_type(envelope->aggregate_type());
      q.set_aggregate_id(envelope->aggregate_id());
      q.set_sequence(envelope->sequence());
      q.set_type(std::string(TypeNameOf(*envelope)));
      q.set_operator_id(envelope->operator_id());
    }
    decision.verdict = Verdict::kQuarantined;
    decision.applied_key.clear();
    return absl::OkStatus();
  }

  // Decides one message without committing: parses the envelope, checks its sequence against
  // `applied_of` (the aggregate's applied sequence) and the held aggregates (unless
  // `releasing` them), runs its handler into `writes` (emptied again when the handler rejects
  // the event). OK: `decision` says what to store; an error: try the message again later.
  // Logs what it skips when `attempt` is 1.
  absl::Status Decide(const Received& r, uint64_t attempt,
                      const std::function<absl::StatusOr<int64_t>(const std::string&)>& applied_of,
                      bool releasing, eventstore::WriteSet& writes, Decision& decision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu) {
    common::v1::EventEnvelope envelope;
    if (!envelope.ParseFromArray(r.value.data(), static_cast<int>(r.value.size())) ||
        envelope.aggregate_type().empty() || envelope.aggregate_id().empty()) {
      return Quarantine(r, nullptr, false, "not an event envelope", "", decision);
    }
    // Only the service that owns a topic writes to it (Kafka's ACLs), and it publishes only its
    // own events: an envelope that says otherwise, or carries another service's event, was
    // forged or misrouted. It is refused, and changes nothing.
    const std::string owner_service = ServiceOfTopic(r.topic);
    if (envelope.service() != owner_service ||
        !absl::StartsWith(TypeNameOf(envelope),
                          absl::StrCat("cowork.", owner_service, ".v1."))) {
      refused.fetch_add(1, std::memory_order_relaxed);
      if (attempt == 1) {
        auto fields = Where(r, &envelope);
        fields.emplace_back("service", envelope.service());
        fields.emplace_back("type", std::string(TypeNameOf(envelope)));
        internal::LogJson("error", "kafka.consumer",
                          "event of another service than the topic's; refused", fields);
      }
      return absl::OkStatus();
    }
    std::string applied_key = AppliedKey(envelope.aggregate_type(), envelope.aggregate_id());
    absl::StatusOr<int64_t> applied_sequence = applied_of(applied_key);
    if (!applied_sequence.ok()) return applied_sequence.status();
    if (*applied_sequence >= envelope.sequence()) return absl::OkStatus();  // a copy

    const absl::string_view type_name = TypeNameOf(envelope);
    auto handler = owner.handlers_.find(type_name);
    const bool stall =
        handler != owner.handlers_.end() && handler->second.on_failure == OnFailure::kStall;
    if (!releasing) {
      auto head = held.find(AggregateOf(envelope.aggregate_type(), envelope.aggregate_id()));
      if (head != held.end()) {
        return Quarantine(r, &envelope, stall,
                          absl::StrCat("waits behind ", head->second, " of the same aggregate"),
                          head->second, decision);
      }
    }
    if (envelope.sequence() > *applied_sequence + 1) {
      // Ahead of its predecessor: the relay that published it had an earlier event of the
      // same aggregate fail, and publishes again from that one, so this event comes back in
      // order. Applying it now would make the missing one look like a copy later.
      if (attempt == 1) {
        auto fields = Where(r, &envelope);
        fields.emplace_back("applied", absl::StrCat(*applied_sequence));
        internal::LogJson("warning", "kafka.consumer",
                          "event ahead of its predecessor; skipped until it comes in order",
                          fields);
      }
      return absl::OkStatus();
    }
    decision.applied_key = std::move(applied_key);
    decision.sequence = envelope.sequence();
    if (handler == owner.handlers_.end()) return absl::OkStatus();  // not this projection's

    std::unique_ptr<google::protobuf::Message> payload = handler->second.make();
    if (!payload->ParseFromString(envelope.payload().value())) {
      return Quarantine(r, &envelope, stall, absl::StrCat("payload does not parse as ", type_name),
                        "", decision);
    }
    absl::Status handled = handler->second.handle(envelope, *payload, writes);
    if (handled.ok()) {
      decision.verdict = Verdict::kApplied;
      return absl::OkStatus();
    }
    writes = eventstore::WriteSet();
    if (!Permanent(handled)) return handled;
    return Quarantine(
        r, &envelope, stall,
        absl::StrCat("rejected by its handler: ", absl::StatusCodeToString(handled.code()), ": ",
                     handled.message()),
        "", decision);
  }

  // Adds what `decision` stores besides the handler's writes to `writes`: the applied
  // sequence, or the quarantine record (and, for the first of its aggregate, the held entry).
  void AddBookkeeping(const Decision& decision, eventstore::WriteSet& writes) const {
    if (decision.verdict == Verdict::kQuarantined) {
      const common::v1::QuarantinedEvent& q = decision.quarantine;
      writes.Put(eventstore::Space::kMeta, QuarantineKey(q.topic(), q.partition(), q.offset()),
                 q.SerializeAsString());
      if (!q.aggregate_type().empty() && q.waiting_behind().empty()) {
        writes.Put(eventstore::Space::kMeta,
                   HeldKey(AggregateOf(q.aggregate_type(), q.aggregate_id())), q.id());
      }
    } else if (!decision.applied_key.empty()) {
      writes.Put(eventstore::Space::kMeta, decision.applied_key, absl::StrCat(decision.sequence));
    }
  }

  // After the commit of a quarantined message: memory follows the store, the log says so.
  void Quarantined(const Decision& decision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu) {
    const common::v1::QuarantinedEvent& q = decision.quarantine;
    quarantine_size.fetch_add(1);
    if (!q.aggregate_type().empty() && q.waiting_behind().empty()) {
      held[AggregateOf(q.aggregate_type(), q.aggregate_id())] = q.id();
    }
    std::vector<std::pair<std::string, std::string>> fields = {
        {"consumer", owner.options_.name}, {"id", q.id()}, {"reason", q.reason()}};
    if (!q.aggregate_type().empty()) {
      fields.emplace_back("aggregate", AggregateOf(q.aggregate_type(), q.aggregate_id()));
      fields.emplace_back("sequence", absl::StrCat(q.sequence()));
      fields.emplace_back("type", q.type());
    }
    internal::LogJson(q.waiting_behind().empty() ? "error" : "warning", "kafka.consumer",
                      "event quarantined", fields);
  }

  // ---- one message per commit

  // One attempt at one message. OK: done with it (applied, skipped or quarantined, with its
  // offset); an error: try the same message again.
  absl::Status TryMessage(const Received& r, uint64_t attempt) {
    absl::MutexLock lock(&apply_mu);
    Decision decision;
    eventstore::WriteSet writes;
    absl::Status decided = Decide(
        r, attempt, [this](const std::string& key) { return StoredSequence(key); },
        /*releasing=*/false, writes, decision);
    if (!decided.ok()) return decided;
    // A new record only: a release re-decides records the quarantine already holds.
    if (decision.verdict == Verdict::kQuarantined &&
        quarantine_size.load() >= owner.options_.max_quarantined) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the quarantine is full (", owner.options_.max_quarantined,
                       " events); retry or discard some: ", decision.quarantine.reason()));
    }
    writes.Put(eventstore::Space::kMeta, OffsetKey(r.topic, r.partition),
               absl::StrCat(r.offset + 1));
    AddBookkeeping(decision, writes);
    absl::Status committed = owner.store_.Commit(std::move(writes));
    if (!committed.ok()) return committed;
    commits.fetch_add(1, std::memory_order_relaxed);
    switch (decision.verdict) {
      case Verdict::kApplied:
        applied.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::kSkipped:
        skipped.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::kQuarantined:
        Quarantined(decision);
        break;
    }
    return absl::OkStatus();
  }

  void HandleMessage(const Received& r) {
    absl::Duration backoff = kMinRetry;
    for (uint64_t attempt = 1; !Stopping(); ++attempt) {
      absl::Status status = TryMessage(r, attempt);
      if (status.ok()) {
        stalled.store(false);
        partitions[{std::string(r.topic), r.partition}].next = r.offset + 1;
        return;
      }
      // A conflict with a command's commit passes at once; anything else holds the topic.
      if (!absl::IsAborted(status)) stalled.store(true);
      if (WorthLogging(attempt)) {
        auto fields = Where(r);
        fields.emplace_back("attempt", absl::StrCat(attempt));
        fields.emplace_back("code", absl::StatusCodeToString(status.code()));
        fields.emplace_back("detail", std::string(status.message()));
        internal::LogJson("warning", "kafka.consumer", "retrying event", fields);
      }
      if (SteadyClock::now() >= next_watermarks) RefreshLag();
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, kMaxRetry);
    }
  }

  // ---- with write_only: one poll round per commit

  struct Round {
    eventstore::WriteSet writes;
    absl::flat_hash_map<std::string, int64_t> sequences;  // applied key -> sequence, this round
    struct Next {
      absl::string_view topic;
      int32_t partition;
      int64_t offset;
    };
    std::vector<Next> next;  // per partition read: the next offset (a few partitions: a list)
    uint64_t applied = 0;
    uint64_t skipped = 0;
  };

  // Decides one message into the round. An error (a retry, a message for the quarantine)
  // leaves the round as it was: the message is handled on its own.
  absl::Status AddToRound(const Received& r, Round& round) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu) {
    Decision decision;
    eventstore::WriteSet writes;
    absl::Status decided = Decide(
        r, /*attempt=*/1,
        [&](const std::string& key) -> absl::StatusOr<int64_t> {
          auto it = round.sequences.find(key);
          if (it != round.sequences.end()) return it->second;
          return StoredSequence(key);
        },
        /*releasing=*/false, writes, decision);
    if (!decided.ok()) return decided;
    if (decision.verdict == Verdict::kQuarantined) {
      return absl::AbortedError("quarantined on its own");
    }
    if (decision.verdict == Verdict::kApplied) {
      round.writes.Merge(std::move(writes));
      ++round.applied;
    } else {
      ++round.skipped;
    }
    if (!decision.applied_key.empty()) {
      round.sequences[std::move(decision.applied_key)] = decision.sequence;
    }
    auto next = std::find_if(round.next.begin(), round.next.end(), [&](const Round::Next& n) {
      return n.partition == r.partition && n.topic == r.topic;
    });
    if (next == round.next.end()) {
      round.next.push_back({r.topic, r.partition, r.offset + 1});
    } else {
      next->offset = r.offset + 1;
    }
    return absl::OkStatus();
  }

  // Commits the round with its offsets and sequences. False when the commit failed (logged;
  // nothing of the round was written).
  bool CommitRound(Round& round) {
    for (const auto& [key, sequence] : round.sequences) {
      round.writes.Put(eventstore::Space::kMeta, key, absl::StrCat(sequence));
    }
    for (const Round::Next& n : round.next) {
      round.writes.Put(eventstore::Space::kMeta, OffsetKey(n.topic, n.partition),
                       absl::StrCat(n.offset));
    }
    absl::Status committed = owner.store_.Commit(std::move(round.writes));
    if (!committed.ok()) {
      internal::LogJson("warning", "kafka.consumer",
                        "cannot commit a round of events; applying them one by one",
                        {{"consumer", owner.options_.name},
                         {"events", absl::StrCat(round.applied + round.skipped)},
                         {"code", absl::StatusCodeToString(committed.code())},
                         {"detail", std::string(committed.message())}});
      return false;
    }
    applied.fetch_add(round.applied, std::memory_order_relaxed);
    skipped.fetch_add(round.skipped, std::memory_order_relaxed);
    commits.fetch_add(1, std::memory_order_relaxed);
    for (const Round::Next& n : round.next) {
      partitions[{std::string(n.topic), n.partition}].next = n.offset;
    }
    return true;
  }

  void HandleRound(const std::vector<rd_kafka_message_t*>& messages) {
    size_t done = 0;
    while (done < messages.size() && !Stopping()) {
      size_t end = done;
      bool committed = true;
      {
        absl::MutexLock lock(&apply_mu);
        Round round;
        while (end < messages.size() && AddToRound(Of(messages[end]), round).ok()) ++end;
        if (end > done) committed = CommitRound(round);
      }
      if (!committed) {
        for (size_t i = done; i < end; ++i) HandleMessage(Of(messages[i]));
      }
      // The message that asked for a retry or goes to the quarantine, on its own.
      if (end < messages.size()) HandleMessage(Of(messages[end++]));
      done = end;
    }
  }

  // ---- the quarantine, for operators

  absl::StatusOr<common::v1::QuarantinedEvent> LoadQuarantined(const std::string& key) const {
    absl::StatusOr<std::optional<std::string>> value =
        owner.store_.Get(eventstore::Space::kMeta, key);
    if (!value.ok()) return value.status();
    common::v1::QuarantinedEvent q;
    if (!value->has_value()) return absl::NotFoundError("no such quarantined event");
    if (!q.ParseFromString(**value)) {
      return absl::DataLossError(absl::StrCat("quarantine record ", key, " does not parse"));
    }
    return q;
  }

  // Counts the quarantine and loads the held aggregates (Start).
  absl::Status LoadQuarantine() {
    absl::MutexLock lock(&apply_mu);
    int64_t size = 0;
    COWORK_RETURN_IF_ERROR(owner.store_.Scan(eventstore::Space::kMeta, QuarantinePrefix(), "",
                                             [&](absl::string_view, absl::string_view) {
                                               ++size;
                                               return true;
                                             }));
    quarantine_size.store(size);
    const std::string held_prefix = HeldKey("");
    return owner.store_.Scan(eventstore::Space::kMeta, held_prefix, "",
                             [&](absl::string_view key, absl::string_view id) {
                               held[key.substr(held_prefix.size())] = std::string(id);
                               return true;
                             });
  }

  // Retry (`discard` false) or Discard: see kafka.h.
  absl::StatusOr<Released> Release(absl::string_view id, bool discard, absl::string_view by,
                                   absl::string_view note) {
    absl::StatusOr<std::string> key = QuarantineKeyOf(id);
    if (!key.ok()) return key.status();
    absl::MutexLock lock(&apply_mu);
    absl::StatusOr<common::v1::QuarantinedEvent> head = LoadQuarantined(*key);
    if (absl::IsNotFound(head.status())) {
      return absl::NotFoundError(absl::StrCat("quarantined event ", id, " not found"));
    }
    if (!head.ok()) return head.status();
    if (!head->waiting_behind().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("quarantined event ", id, " waits behind ", head->waiting_behind(),
                       " of the same aggregate: retry or discard that one"));
    }
    // What waits behind it, in partition order (one aggregate lives on one partition).
    std::vector<common::v1::QuarantinedEvent> behind;
    if (!head->aggregate_type().empty()) {
      absl::Status failed;
      COWORK_RETURN_IF_ERROR(
          owner.store_.Scan(eventstore::Space::kMeta, QuarantinePrefix(), "",
                            [&](absl::string_view, absl::string_view value) {
                              common::v1::QuarantinedEvent q;
                              if (!q.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                failed = absl::DataLossError("a quarantine record does not parse");
                                return false;
                              }
                              if (q.waiting_behind() == head->id()) behind.push_back(std::move(q));
                              return true;
                            }));
      COWORK_RETURN_IF_ERROR(failed);
    }

    eventstore::WriteSet writes;
    absl::flat_hash_map<std::string, int64_t> sequences;  // applied key -> sequence, so far
    auto applied_of = [&](const std::string& applied_key) -> absl::StatusOr<int64_t> {
      auto it = sequences.find(applied_key);
      if (it != sequences.end()) return it->second;
      return StoredSequence(applied_key);
    };
    Released out;
    // Decides one quarantined event; false when it fails for good again (`reason` says why).
    auto apply = [&](const common::v1::QuarantinedEvent& q,
                     std::string& reason) -> absl::StatusOr<bool> {
      Decision decision;
      eventstore::WriteSet handled;
      COWORK_RETURN_IF_ERROR(
          Decide(Of(q), /*attempt=*/1, applied_of, /*releasing=*/true, handled, decision));
      if (decision.verdict == Verdict::kQuarantined) {
        reason = decision.quarantine.reason();
        return false;
      }
      writes.Merge(std::move(handled));
      if (!decision.applied_key.empty()) sequences[decision.applied_key] = decision.sequence;
      if (decision.verdict == Verdict::kApplied) ++out.applied;
      writes.Delete(eventstore::Space::kMeta, QuarantineKey(q.topic(), q.partition(), q.offset()));
      return true;
    };

    if (discard) {
      COWORK_RETURN_IF_ERROR(RecordDiscard(*head, by, note, writes));
      if (!head->aggregate_type().empty()) {
        const std::string applied_key = AppliedKey(head->aggregate_type(), head->aggregate_id());
        absl::StatusOr<int64_t> stored = applied_of(applied_key);
        if (!stored.ok()) return stored.status();
        sequences[applied_key] = std::max(*stored, head->sequence());
      }
      writes.Delete(eventstore::Space::kMeta, *key);
    } else {
      std::string reason;
      absl::StatusOr<bool> applied_now = apply(*head, reason);
      if (!applied_now.ok()) return applied_now.status();
      if (!*applied_now) {
        head->set_reason(reason);
        eventstore::WriteSet update;
        update.Put(eventstore::Space::kMeta, *key, head->SerializeAsString());
        COWORK_RETURN_IF_ERROR(owner.store_.Commit(std::move(update)));
        return absl::FailedPreconditionError(
            absl::StrCat("quarantined event ", id, " still fails: ", reason));
      }
    }
    std::string new_head;  // one of those behind that fails for good heads the aggregate
    for (common::v1::QuarantinedEvent& q : behind) {
      if (new_head.empty()) {
        std::string reason;
        absl::StatusOr<bool> applied_now = apply(q, reason);
        if (!applied_now.ok()) return applied_now.status();
        if (*applied_now) continue;
        new_head = q.id();
        q.set_reason(reason);
        q.clear_waiting_behind();
      } else {
        q.set_waiting_behind(new_head);
      }
      writes.Put(eventstore::Space::kMeta, QuarantineKey(q.topic(), q.partition(), q.offset()),
                 q.SerializeAsString());
      ++out.still_held;
    }
    for (const auto& [applied_key, sequence] : sequences) {
      writes.Put(eventstore::Space::kMeta, applied_key, absl::StrCat(sequence));
    }
    const std::string aggregate = AggregateOf(head->aggregate_type(), head->aggregate_id());
    if (!head->aggregate_type().empty()) {
      if (new_head.empty()) {
        writes.Delete(eventstore::Space::kMeta, HeldKey(aggregate));
      } else {
        writes.Put(eventstore::Space::kMeta, HeldKey(aggregate), new_head);
      }
    }
    COWORK_RETURN_IF_ERROR(owner.store_.Commit(std::move(writes)));
    if (!head->aggregate_type().empty()) {
      if (new_head.empty()) {
        held.erase(aggregate);
      } else {
        held[aggregate] = new_head;
      }
    }
    quarantine_size.fetch_sub(1 + static_cast<int64_t>(behind.size()) - out.still_held);
    applied.fetch_add(out.applied, std::memory_order_relaxed);
    internal::LogJson("info", "kafka.consumer",
                      discard ? "quarantined event discarded" : "quarantined event retried",
                      {{"consumer", owner.options_.name},
                       {"id", std::string(id)},
                       {"by", std::string(by)},
                       {"applied", absl::StrCat(out.applied)},
                       {"still_held", absl::StrCat(out.still_held)}});
    return out;
  }

  // Appends QuarantinedEventDiscarded to the store's event log (never published).
  absl::Status RecordDiscard(const common::v1::QuarantinedEvent& q, absl::string_view by,
                             absl::string_view note, eventstore::WriteSet& writes) const {
    constexpr absl::string_view kAggregate = "quarantine";
    absl::StatusOr<eventstore::AggregateRecord> record =
        owner.store_.Load(kAggregate, owner.options_.name);
    if (!record.ok()) return record.status();
    common::v1::QuarantinedEventDiscarded discarded;
    *discarded.mutable_event() = q;
    discarded.set_by(std::string(by));
    discarded.set_note(std::string(note));
    const eventstore::EnvelopeContext context = eventstore::CommandContext(
        ServiceOfConsumer(owner.options_.name), q.operator_id(), "", absl::Now());
    std::vector<common::v1::EventEnvelope> events = {eventstore::MakeEnvelope(
        context, kAggregate, owner.options_.name, record->version + 1, "", discarded)};
    writes.Append(std::string(kAggregate), owner.options_.name, record->version, std::move(events),
                  "", /*topic=*/"");
    return absl::OkStatus();
  }

  // Logs a fetch error (librdkafka retries fetches itself; outages are logged by error_cb).
  // True when `m` is a message to handle.
  bool Usable(const rd_kafka_message_t* m, SteadyClock::time_point now) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    auto& last = fetch_error_logged[m->err];
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && now - last >= kFetchErrorLogWindow) {
      last = now;
      internal::LogJson("warning", "kafka.consumer", "fetch error",
                        {{"consumer", owner.options_.name},
                         {"error", rd_kafka_err2name(m->err)},
                         {"detail", rd_kafka_message_errstr(m)}});
    }
    return false;
  }

  void Run() {
    while (!Stopping()) {
      auto now = SteadyClock::now();
      if (now >= next_metadata) {
        absl::Status status = RefreshAssignment();
        if (!status.ok() && !metadata_failing) {
          internal::LogJson(
              "warning", "kafka.consumer", "cannot refresh topic assignment",
              {{"consumer", owner.options_.name}, {"detail", std::string(status.message())}});
        } else if (status.ok() && metadata_failing) {
          internal::LogJson("info", "kafka.consumer", "topic assignment refreshed again",
                            {{"consumer", owner.options_.name}});
        }
        metadata_failing = !status.ok();
      }
      if (now >= next_watermarks) RefreshLag();
      rd_kafka_message_t* m = rd_kafka_consumer_poll(
          client->get(), static_cast<int>(absl::ToInt64Milliseconds(owner.options_.poll_wait)));
      if (m == nullptr) continue;
      if (!Usable(m, now)) {
        rd_kafka_message_destroy(m);
        continue;
      }
      if (!owner.options_.write_only) {
        HandleMessage(Of(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      // The round: what librdkafka has fetched already, without waiting for more.
      std::vector<rd_kafka_message_t*> round = {m};
      while (round.size() < std::max<size_t>(owner.options_.batch_size, 1)) {
        m = rd_kafka_consumer_poll(client->get(), 0);
        if (m == nullptr) break;
        if (Usable(m, now)) {
          round.push_back(m);
        } else {
          rd_kafka_message_destroy(m);
        }
      }
      HandleRound(round);
      for (rd_kafka_message_t* done : round) rd_kafka_message_destroy(done);
    }
  }
};

EventConsumer::EventConsumer(eventstore::Store& store, KafkaOptions kafka, ConsumerOptions options)
    : store_(store), kafka_(std::move(kafka)), options_(std::move(options)) {}

EventConsumer::~EventConsumer() {
  if (impl_ == nullptr) return;
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->stop = true;
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::Status EventConsumer::Start() {
  if (impl_ != nullptr) return absl::FailedPreconditionError("consumer already started");
  if (options_.name.empty()) return absl::InvalidArgumentError("consumer: name is required");
  if (options_.topics.empty()) return absl::InvalidArgumentError("consumer: no topics");
  if (kafka_.brokers.empty()) return absl::InvalidArgumentError("consumer: brokers are required");
  auto impl = std::make_unique<Impl>(*this);

  if (options_.rebuild) {
    absl::Status deleted = store_.DeletePrefix(eventstore::Space::kMeta, impl->prefix);
    if (!deleted.ok()) return deleted;
    if (options_.reset) {
      absl::Status reset = options_.reset(store_);
      if (!reset.ok()) return reset;
    }
  }

  absl::StatusOr<std::unique_ptr<internal::Client>> client = internal::Client::Create(
      internal::Client::Kind::kConsumer, kafka_, "kafka.consumer",
      {{"group.id", options_.name},
       {"enable.auto.commit", "false"},
       {"enable.auto.offset.store", "false"},
       {"auto.offset.reset", "earliest"},
       {"enable.partition.eof", "false"},
       // A fetch returns at the latest after this long even with nothing new: bounds how
       // late a message produced to an idle partition is seen where the broker does not
       // answer a waiting fetch early (the dev broker). Costs a few idle requests a second.
       {"fetch.wait.max.ms", "100"}});
  if (!client.ok()) return client.status();
  impl->client = *std::move(client);

  if (absl::Status loaded = impl->LoadQuarantine(); !loaded.ok()) return loaded;
  absl::Status assigned = impl->RefreshAssignment();
  if (!assigned.ok()) {
    // Not reachable yet (a broker outage at start-up): the thread keeps trying.
    if (!absl::IsUnavailable(assigned)) return assigned;
    internal::LogJson("warning", "kafka.consumer", "cluster not reachable at start; retrying",
                      {{"consumer", options_.name}, {"detail", std::string(assigned.message())}});
  }
  Impl* raw = impl.get();
  impl_ = std::move(impl);
  raw->thread = std::thread([raw] { raw->Run(); });
  return absl::OkStatus();
}

int64_t EventConsumer::Lag() const {
  return impl_ == nullptr ? 0 : impl_->lag.load(std::memory_order_relaxed);
}

uint64_t EventConsumer::applied() const {
  return impl_ == nullptr ? 0 : impl_->applied.load(std::memory_order_relaxed);
}

uint64_t EventConsumer::refused() const {
  return impl_ == nullptr ? 0 : impl_->refused.load(std::memory_order_relaxed);
}

uint64_t EventConsumer::skipped() const {
  return impl_ == nullptr ? 0 : impl_->skipped.load(std::memory_order_relaxed);
}

uint64_t EventConsumer::commits() const {
  return impl_ == nullptr ? 0 : impl_->commits.load(std::memory_order_relaxed);
}

bool EventConsumer::stalled() const { return impl_ != nullptr && impl_->stalled.load(); }

int64_t EventConsumer::quarantined() const {
  return impl_ == nullptr ? 0 : impl_->quarantine_size.load();
}

absl::StatusOr<std::vector<common::v1::QuarantinedEvent>> EventConsumer::ListQuarantined(
    absl::string_view after, size_t limit) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("consumer not started");
  std::string start_after;
  if (!after.empty()) {
    absl::StatusOr<std::string> key = impl_->QuarantineKeyOf(after);
    if (!key.ok()) return key.status();
    start_after = *std::move(key);
  }
  std::vector<common::v1::QuarantinedEvent> out;
  absl::Status failed;
  COWORK_RETURN_IF_ERROR(store_.Scan(
      eventstore::Space::kMeta, impl_->QuarantinePrefix(), start_after,
      [&](absl::string_view, absl::string_view value) {
        if (out.size() >= limit) return false;
        if (!out.emplace_back().ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          failed = absl::DataLossError("a quarantine record does not parse");
          return false;
        }
        return true;
      }));
  COWORK_RETURN_IF_ERROR(failed);
  return out;
}

absl::StatusOr<common::v1::QuarantinedEvent> EventConsumer::GetQuarantined(
    absl::string_view id) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("consumer not started");
  absl::StatusOr<std::string> key = impl_->QuarantineKeyOf(id);
  if (!key.ok()) return key.status();
  absl::StatusOr<common::v1::QuarantinedEvent> q = impl_->LoadQuarantined(*key);
  if (absl::IsNotFound(q.status())) {
    return absl::NotFoundError(absl::StrCat("quarantined event ", id, " not found"));
  }
  return q;
}

absl::StatusOr<EventConsumer::Released> EventConsumer::Retry(absl::string_view id) {
  if (impl_ == nullptr) return absl::FailedPreconditionError("consumer not started");
  return impl_->Release(id, /*discard=*/false, "", "");
}

absl::StatusOr<EventConsumer::Released> EventConsumer::Discard(absl::string_view id,
                                                               absl::string_view by,
                                                               absl::string_view note) {
  if (impl_ == nullptr) return absl::FailedPreconditionError("consumer not started");
  return impl_->Release(id, /*discard=*/true, by, note);
}

absl::StatusOr<bool> EventConsumer::CaughtUp(absl::Duration timeout) const {
  if (impl_ == nullptr) return false;
  absl::StatusOr<std::map<std::string, int>> topics =
      internal::TopicPartitions(impl_->client->get(), timeout);
  if (!topics.ok()) return topics.status();
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  for (const std::string& topic : options_.topics) {
    auto found = topics->find(topic);
    if (found == topics->end()) continue;  // no topic yet: nothing to read
    for (int32_t p = 0; p < found->second; ++p) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
          impl_->client->get(), topic.c_str(), p, &low, &high, timeout_ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(absl::StrCat("consumer ", options_.name, ": watermarks of ",
                                                   topic, "/", p, ": ", rd_kafka_err2str(err)));
      }
      absl::StatusOr<std::optional<std::string>> stored =
          store_.Get(eventstore::Space::kMeta, impl_->OffsetKey(topic, p));
      if (!stored.ok()) return stored.status();
      int64_t next = low;
      if (stored->has_value() && !absl::SimpleAtoi(**stored, &next)) {
        return absl::InternalError(absl::StrCat("consumer ", options_.name,
                                                ": bad stored offset for ", topic, "/", p));
      }
      if (next < high) return false;
    }
  }
  return true;
}

}  // namespace cowork::kafka
