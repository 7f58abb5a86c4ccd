// EventConsumer: topics -> handlers -> Store commits, with the offsets and the applied
// sequences in the same commit as the projection's writes, so a crash at any point neither
// loses nor repeats an effect.
//
// Keys in Space::kMeta, all under "consumer/<name>/":
//   offset/<topic>/<partition>             next offset to read (decimal)
//   applied/<aggregate_type>/<aggregate_id> highest sequence applied (decimal)
//
// An aggregate's events are applied strictly in sequence: n only right after n - 1. Copies of
// what is applied are dropped; an event ahead of a missing one is skipped too, because the
// outbox relay republishes from the first event that failed, so it arrives again in order.
//
// One message per commit by default, because handlers may read the store and must see what
// the previous message wrote. With write_only, the messages of one poll round share a commit:
// each is decided as on its own (its handler writes into a WriteSet of its own, merged into
// the round's only when it succeeds), the applied sequences the round has written answer the
// duplicate check before the store does, and the round's commit carries each partition's
// last offset and each aggregate's last sequence once. A message whose handler asks for a
// retry ends the round early (what came before is committed) and is retried on its own; a
// round whose commit fails is applied again one message at a time.

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
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "libs/kafka/client.h"
#include "libs/kafka/kafka.h"

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

bool Retryable(const absl::Status& status) {
  return absl::IsAborted(status) || absl::IsUnavailable(status);
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

  // One message as librdkafka returned it; `topic` and `value` live as long as the message.
  struct Received {
    absl::string_view topic;
    int32_t partition;
    int64_t offset;
    absl::string_view value;
  };

  static Received Of(const rd_kafka_message_t* m) {
    return {rd_kafka_topic_name(m->rkt), m->partition, m->offset,
            absl::string_view(m->payload != nullptr ? static_cast<const char*>(m->payload) : "",
                              m->payload != nullptr ? m->len : 0)};
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

  // What Decide made of one message: applied (its handler's writes are in the WriteSet) or
  // skipped, and the aggregate sequence to store with its offset (none when `applied_key` is
  // empty: garbage, a copy, an event ahead of its predecessor).
  struct Decision {
    bool applied = false;
    std::string applied_key;
    int64_t sequence = 0;
  };

  // Decides one message without committing: parses the envelope, checks its sequence against
  // `applied_of` (the aggregate's applied sequence), runs its handler into `writes` (emptied
  // again when the handler rejects the event). OK: `decision` says what to store; a
  // retryable error: try the message again later. Logs what it skips when `attempt` is 1.
  absl::Status Decide(const Received& r, uint64_t attempt,
                      const std::function<absl::StatusOr<int64_t>(const std::string&)>& applied_of,
                      eventstore::WriteSet& writes, Decision& decision) {
    common::v1::EventEnvelope envelope;
    if (!envelope.ParseFromArray(r.value.data(), static_cast<int>(r.value.size())) ||
        envelope.aggregate_type().empty() || envelope.aggregate_id().empty()) {
      if (attempt == 1) {
        internal::LogJson("error", "kafka.consumer", "not an event envelope; skipped", Where(r));
      }
      return absl::OkStatus();
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

    const absl::string_view type_name = TypeNameOf(envelope);
    auto handler = owner.handlers_.find(type_name);
    if (handler == owner.handlers_.end()) return absl::OkStatus();  // not this projection's

    std::unique_ptr<google::protobuf::Message> payload = handler->second.make();
    if (!payload->ParseFromString(envelope.payload().value())) {
      if (attempt == 1) {
        auto fields = Where(r, &envelope);
        fields.emplace_back("type", std::string(type_name));
        internal::LogJson("error", "kafka.consumer", "payload does not parse; skipped", fields);
      }
      return absl::OkStatus();
    }
    absl::Status handled = handler->second.handle(envelope, *payload, writes);
    if (handled.ok()) {
      decision.applied = true;
      return absl::OkStatus();
    }
    writes = eventstore::WriteSet();
    if (Retryable(handled)) return handled;
    auto fields = Where(r, &envelope);
    fields.emplace_back("type", std::string(type_name));
    fields.emplace_back("code", absl::StatusCodeToString(handled.code()));
    fields.emplace_back("detail", std::string(handled.message()));
    internal::LogJson("error", "kafka.consumer", "handler rejected the event; skipped", fields);
    return absl::OkStatus();
  }

  // ---- one message per commit

  // One attempt at one message. OK: done with it (applied or skipped); retryable error: try
  // the same message again.
  absl::Status TryMessage(const Received& r, uint64_t attempt) {
    Decision decision;
    eventstore::WriteSet writes;
    absl::Status decided = Decide(
        r, attempt, [this](const std::string& key) { return StoredSequence(key); }, writes,
        decision);
    if (!decided.ok()) return decided;
    const std::string offset_key = OffsetKey(r.topic, r.partition);
    const std::string next_offset = absl::StrCat(r.offset + 1);
    if (decision.applied) {
      writes.Put(eventstore::Space::kMeta, offset_key, next_offset);
      writes.Put(eventstore::Space::kMeta, decision.applied_key, absl::StrCat(decision.sequence));
      absl::Status committed = owner.store_.Commit(std::move(writes));
      if (committed.ok()) {
        applied.fetch_add(1, std::memory_order_relaxed);
        commits.fetch_add(1, std::memory_order_relaxed);
        return committed;
      }
      if (Retryable(committed)) return committed;
      auto fields = Where(r);
      fields.emplace_back("detail", std::string(committed.message()));
      internal::LogJson("error", "kafka.consumer", "projection commit rejected; event skipped",
                        fields);
    }
    // Skipped: the offset (and the applied sequence when known) on their own. Non-retryable
    // failures are logged and the message given up.
    eventstore::WriteSet skip;
    skip.Put(eventstore::Space::kMeta, offset_key, next_offset);
    if (!decision.applied_key.empty()) {
      skip.Put(eventstore::Space::kMeta, decision.applied_key, absl::StrCat(decision.sequence));
    }
    absl::Status status = owner.store_.Commit(std::move(skip));
    if (status.ok()) {
      skipped.fetch_add(1, std::memory_order_relaxed);
      commits.fetch_add(1, std::memory_order_relaxed);
      return status;
    }
    if (Retryable(status)) return status;
    auto fields = Where(r);
    fields.emplace_back("detail", std::string(status.message()));
    internal::LogJson("error", "kafka.consumer", "cannot commit a skipped event's offset", fields);
    return absl::OkStatus();
  }

  void HandleMessage(const Received& r) {
    absl::Duration backoff = kMinRetry;
    for (uint64_t attempt = 1; !Stopping(); ++attempt) {
      absl::Status status = TryMessage(r, attempt);
      if (status.ok()) {
        partitions[{std::string(r.topic), r.partition}].next = r.offset + 1;
        return;
      }
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

  // Decides one message into the round. A retryable error leaves the round as it was.
  absl::Status AddToRound(const Received& r, Round& round) {
    Decision decision;
    eventstore::WriteSet writes;
    absl::Status decided = Decide(
        r, /*attempt=*/1,
        [&](const std::string& key) -> absl::StatusOr<int64_t> {
          auto it = round.sequences.find(key);
          if (it != round.sequences.end()) return it->second;
          return StoredSequence(key);
        },
        writes, decision);
    if (!decided.ok()) return decided;
    if (decision.applied) {
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
      Round round;
      size_t end = done;
      while (end < messages.size() && AddToRound(Of(messages[end]), round).ok()) ++end;
      if (end > done && !CommitRound(round)) {
        for (size_t i = done; i < end; ++i) HandleMessage(Of(messages[i]));
      }
      // The message that asked for a retry, on its own.
      if (end < messages.size()) HandleMessage(Of(messages[end++]));
      done = end;
    }
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
