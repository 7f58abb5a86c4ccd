// OutboxRelay: the Store's outbox -> Kafka, in commit order, at least once.
//
// One round: read the oldest rows, produce them all, wait for every delivery report, then
// remove the delivered rows that precede the first failure. A failed row and everything after
// it stay and are produced again next round (after a backoff), so an aggregate's events reach
// its partition in sequence order.
//
// Rows can reach a topic without the relay knowing: delivered just before a crash, before
// their reports came, or after a failed row of the same round. So the first round of every
// producer (after a start, a fatal error) and the round after a failure first read the tails
// of the topics the rows go to: as many last messages of each partition as there are rows for
// that topic, which holds every row a previous round delivered, since only this service writes
// its topics and the relay produces in order. A row whose event id is found there is removed
// as delivered instead of being sent again, unless an earlier row of its key (its aggregate)
// is not there: then the key's rows go again from that one, so a reader applying an
// aggregate's events in sequence still gets them all (after a failed row, a copy of what
// followed it is unavoidable). After a crash a plain Kafka reader sees each event once.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/kafka/client.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/topic_stream.h"

namespace cowork::kafka {
namespace {

constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
// How long one rd_kafka_poll may block: the bound on noticing a stop request.
constexpr int kPollMs = 20;
// Bound on the metadata request for a topic the producer has not seen yet.
constexpr absl::Duration kTopicMetadata = absl::Seconds(1);
// After a stop request the purged messages' reports are collected for at most this long.
constexpr absl::Duration kStopDrain = absl::Seconds(1);
// Bound of the metadata and watermark queries of a tail check.
constexpr absl::Duration kTailTimeout = absl::Seconds(5);

}  // namespace

struct OutboxRelay::Impl {
  eventstore::Store& store;
  KafkaOptions kafka;
  RelayOptions options;

  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool woken ABSL_GUARDED_BY(mu) = false;

  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> delivery_errors{0};

  // The current round, touched only by the relay thread: delivery reports run inside its
  // rd_kafka_poll calls. Index i of the round's rows is the message opaque.
  struct Report {
    bool done = false;
    int err = 0;
    std::string reason;
  };
  std::vector<Report> reports;
  size_t outstanding = 0;

  std::unique_ptr<internal::Client> producer;
  // The next round first removes the rows already on their topics (see the top).
  bool check_tails = true;
  // Topics this producer has asked metadata for.
  absl::flat_hash_set<std::string> known_topics;
  std::thread thread;

  Impl(eventstore::Store& s, KafkaOptions k, RelayOptions o)
      : store(s), kafka(std::move(k)), options(o) {}

  bool Stopping() {
    absl::MutexLock lock(&mu);
    return stop;
  }

  // Waits `d`, or less when stopped (or woken, if `wakeable`). Returns false when stopping.
  bool Wait(absl::Duration d, bool wakeable) {
    absl::MutexLock lock(&mu);
    auto done = [this, wakeable]() { return stop || (wakeable && woken); };
    mu.AwaitWithTimeout(absl::Condition(&done), d);
    return !stop;
  }

  void OnDelivery(void* opaque, int err, absl::string_view reason) {
    size_t i = reinterpret_cast<uintptr_t>(opaque);
    if (i >= reports.size() || reports[i].done) return;
    reports[i].done = true;
    reports[i].err = err;
    reports[i].reason = std::string(reason);
    --outstanding;
  }

  absl::Status CreateProducer() {
    absl::StatusOr<std::unique_ptr<internal::Client>> client =
        internal::Client::Create(internal::Client::Kind::kProducer, kafka, "kafka.relay",
                                 internal::ProducerProperties(options.linger, absl::ZeroDuration()),
                                 [this](void* opaque, int err, absl::string_view reason) {
                                   OnDelivery(opaque, err, reason);
                                 });
    if (!client.ok()) return client.status();
    producer = *std::move(client);
    known_topics.clear();
    return absl::OkStatus();
  }

  struct RoundResult {
    std::vector<uint64_t> delivered;  // positions to remove: the prefix before any failure
    bool failed = false;              // some row was not delivered
    bool fatal = false;               // the producer is unusable; make a new one
  };

  void LearnTopics(const std::vector<eventstore::OutboxRow>& rows) {
    for (const eventstore::OutboxRow& row : rows) {
      if (known_topics.insert(row.topic).second) {
        internal::LearnTopic(producer->get(), row.topic, kTopicMetadata);
      }
    }
  }

  RoundResult PublishRound(const std::vector<eventstore::OutboxRow>& rows) {
    rd_kafka_t* rk = producer->get();
    LearnTopics(rows);
    reports.assign(rows.size(), Report{});
    outstanding = 0;
    size_t produced = 0;
    for (; produced < rows.size(); ++produced) {
      const eventstore::OutboxRow& row = rows[produced];
      rd_kafka_resp_err_t err;
      while (true) {
        err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(row.topic.c_str()),
            RD_KAFKA_V_KEY(const_cast<char*>(row.key.data()), row.key.size()),
            // A tombstone has no value at all (null), which compaction takes for a deletion.
            RD_KAFKA_V_VALUE(row.tombstone ? nullptr : const_cast<char*>(row.value.data()),
                             row.tombstone ? 0 : row.value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(produced))),
            RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Stopping()) break;
        rd_kafka_poll(rk, kPollMs);  // make room: serve delivery reports
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Not accepted (too large, unknown topic, queue full at stop, fatal): this row and
        // everything after it wait for the next round.
        reports[produced] = Report{true, err, rd_kafka_err2str(err)};
        break;
      }
      ++outstanding;
    }

    while (outstanding > 0 && !Stopping()) rd_kafka_poll(rk, kPollMs);
    if (outstanding > 0) {
      // Stopping with messages still queued or in flight (a broker outage): give them up.
      // Their rows stay in the outbox; what the broker got anyway is delivered again later.
      rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      auto until = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(kStopDrain);
      while (outstanding > 0 && std::chrono::steady_clock::now() < until) {
        rd_kafka_poll(rk, kPollMs);
      }
    }

    RoundResult result;
    size_t first_failure = rows.size();
    for (size_t i = 0; i < rows.size(); ++i) {
      const Report& r = reports[i];
      if (r.done && r.err != 0 && r.err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
          r.err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        delivery_errors.fetch_add(1, std::memory_order_relaxed);
      }
      if (first_failure == rows.size() && !(r.done && r.err == 0)) first_failure = i;
    }
    for (size_t i = 0; i < first_failure; ++i) result.delivered.push_back(rows[i].position);
    result.failed = first_failure < rows.size();
    if (result.failed) {
      const Report& r = reports[first_failure];
      bool purged = r.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                    r.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT || !r.done;
      if (!purged) {
        internal::LogJson("error", "kafka.relay", "outbox row not delivered; retrying from it",
                          {{"position", absl::StrCat(rows[first_failure].position)},
                           {"topic", rows[first_failure].topic},
                           {"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(r.err))},
                           {"detail", r.reason}});
      }
    }
    char fatal[256];
    result.fatal = rd_kafka_fatal_error(rk, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR;
    reports.clear();
    return result;
  }

  // The positions of the rows among `rows` whose events are already on their topics.
  absl::StatusOr<absl::flat_hash_set<uint64_t>> AlreadyDelivered(
      const std::vector<eventstore::OutboxRow>& rows) {
    std::map<std::string, int64_t> rows_per_topic;
    absl::flat_hash_map<std::string, uint64_t> position_of;  // by event id
    for (const eventstore::OutboxRow& row : rows) {
      // A plain record (a key on a compacted topic) is not looked for: a copy of it is
      // harmless, the topic keeps the last value of each key.
      if (row.plain) continue;
      common::v1::EventEnvelope envelope;
      if (!envelope.ParseFromString(row.value)) continue;
      ++rows_per_topic[row.topic];
      position_of[envelope.event_id()] = row.position;
    }
    absl::flat_hash_set<uint64_t> delivered;
    for (const auto& [topic, count] : rows_per_topic) {
      absl::StatusOr<std::unique_ptr<TopicStream>> stream =
          TopicStream::Open(kafka, {.topics = {topic},
                                    .start = {.kind = StreamStart::Kind::kTail, .offset = count},
                                    .timeout = kTailTimeout});
      if (absl::IsNotFound(stream.status())) continue;  // no topic yet: nothing on it
      if (!stream.ok()) return stream.status();
      absl::Status read = (*stream)->Run(
          [&](const Message& m) {
            common::v1::EventEnvelope envelope;
            if (!envelope.ParseFromString(m.value)) return absl::OkStatus();
            auto found = position_of.find(envelope.event_id());
            if (found != position_of.end()) delivered.insert(found->second);
            return absl::OkStatus();
          },
          [this] { return Stopping(); });
      if (!read.ok()) return read;
    }
    return delivered;
  }

  // With check_tails: removes the rows already on their topics. False when the check could not
  // be made (the cluster does not answer): nothing is produced until it can.
  bool DropAlreadyDelivered(const std::vector<eventstore::OutboxRow>& rows) {
    if (!check_tails) return true;
    absl::StatusOr<absl::flat_hash_set<uint64_t>> found = AlreadyDelivered(rows);
    if (!found.ok()) {
      internal::LogJson("warning", "kafka.relay",
                        "cannot read the topics' tails; not producing until it can",
                        {{"detail", std::string(found.status().message())}});
      return false;
    }
    std::vector<uint64_t> delivered;
    absl::flat_hash_set<absl::string_view> missing;  // keys with an earlier row not found
    for (const eventstore::OutboxRow& row : rows) {
      if (found->contains(row.position) && !missing.contains(row.key)) {
        delivered.push_back(row.position);
      } else {
        missing.insert(row.key);
      }
    }
    if (!delivered.empty()) {
      if (absl::Status removed = store.RemoveFromOutbox(delivered); !removed.ok()) {
        internal::LogJson("error", "kafka.relay", "cannot remove delivered rows",
                          {{"detail", std::string(removed.message())}});
        return false;
      }
      published.fetch_add(delivered.size(), std::memory_order_relaxed);
      internal::LogJson("info", "kafka.relay", "rows already on their topics; not sent again",
                        {{"rows", absl::StrCat(delivered.size())}});
    }
    check_tails = false;
    return true;
  }

  void Run() {
    absl::Duration backoff = kMinBackoff;
    auto fail_and_wait = [&]() {
      bool go_on = Wait(backoff, /*wakeable=*/false);
      backoff = std::min(backoff * 2, kMaxBackoff);
      return go_on;
    };
    while (!Stopping()) {
      if (producer == nullptr) {
        absl::Status created = CreateProducer();
        if (!created.ok()) {
          internal::LogJson("error", "kafka.relay", "cannot create producer",
                            {{"detail", std::string(created.message())}});
          if (!fail_and_wait()) break;
          continue;
        }
      }
      {
        // A commit after this point wakes the next wait, so nothing it adds is missed.
        absl::MutexLock lock(&mu);
        woken = false;
      }
      if (store.OutboxDepth() == 0) {
        // The depth is counted before a commit's rows are written, so zero means nothing to
        // read; an idle relay then costs no RocksDB iterator per wake-up.
        Wait(options.idle_wait, /*wakeable=*/true);
        continue;
      }
      absl::StatusOr<std::vector<eventstore::OutboxRow>> rows =
          store.ReadOutbox(options.batch_size);
      if (!rows.ok()) {
        internal::LogJson("error", "kafka.relay", "cannot read the outbox",
                          {{"detail", std::string(rows.status().message())}});
        if (!fail_and_wait()) break;
        continue;
      }
      if (rows->empty()) {
        Wait(options.idle_wait, /*wakeable=*/true);
        continue;
      }
      if (check_tails) {
        if (!DropAlreadyDelivered(*rows) && !fail_and_wait()) break;
        continue;  // read the outbox again, without what was found
      }
      RoundResult round = PublishRound(*rows);
      if (!round.delivered.empty()) {
        absl::Status removed = store.RemoveFromOutbox(round.delivered);
        if (removed.ok()) {
          published.fetch_add(round.delivered.size(), std::memory_order_relaxed);
        } else {
          // They were delivered; keeping them only means delivering them again.
          internal::LogJson("error", "kafka.relay", "cannot remove delivered rows",
                            {{"detail", std::string(removed.message())}});
          round.failed = true;
        }
      }
      if (round.fatal) {
        internal::LogJson("error", "kafka.relay", "producer failed fatally; recreating it");
        producer.reset();
      }
      // Rows after a failed one may have been delivered, and a new producer knows nothing.
      if (round.failed || round.fatal) check_tails = true;
      if (round.failed) {
        if (!fail_and_wait()) break;
      } else {
        backoff = kMinBackoff;
      }
    }
    producer.reset();
  }
};

OutboxRelay::OutboxRelay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<OutboxRelay>> OutboxRelay::Start(eventstore::Store& store,
                                                                const KafkaOptions& kafka,
                                                                const RelayOptions& options) {
  if (kafka.brokers.empty()) return absl::InvalidArgumentError("relay: brokers are required");
  if (options.batch_size == 0) return absl::InvalidArgumentError("relay: batch_size is 0");
  auto impl = std::make_unique<Impl>(store, kafka, options);
  // A bad property is a start-up error, not a retry loop.
  absl::Status created = impl->CreateProducer();
  if (!created.ok()) return created;
  Impl* raw = impl.get();
  std::unique_ptr<OutboxRelay> relay(new OutboxRelay(std::move(impl)));
  raw->thread = std::thread([raw] { raw->Run(); });
  return relay;
}

OutboxRelay::~OutboxRelay() {
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->stop = true;
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&impl_->mu);
  impl_->woken = true;
}

uint64_t OutboxRelay::published() const { return impl_->published.load(std::memory_order_relaxed); }

uint64_t OutboxRelay::delivery_errors() const {
  return impl_->delivery_errors.load(std::memory_order_relaxed);
}

}  // namespace cowork::kafka
