// EventConsumer: topics -> handlers -> one Store commit per message, with the offset and the
// applied sequence in the same commit, so a crash at any point neither loses nor repeats an
// effect.
//
// Keys in Space::kMeta, all under "consumer/<name>/":
//   offset/<topic>/<partition>             next offset to read (decimal)
//   applied/<aggregate_type>/<aggregate_id> highest sequence applied (decimal)
//
// An aggregate's events are applied strictly in sequence: n only right after n - 1. Copies of
// what is applied are dropped; an event ahead of a missing one is skipped too, because the
// outbox relay republishes from the first event that failed, so it arrives again in order.
//
// One message per commit, because handlers read the store and must see what the previous
// message wrote.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/kafka/client.h"
#include "libs/kafka/kafka.h"

namespace cowork::kafka {
namespace {

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

  // Commits `writes`; non-retryable failures are logged and swallowed (the message is given
  // up), retryable ones returned.
  absl::Status CommitOrLog(eventstore::WriteSet writes, absl::string_view what,
                           const std::vector<std::pair<std::string, std::string>>& where) {
    absl::Status status = owner.store_.Commit(std::move(writes));
    if (status.ok() || Retryable(status)) return status;
    auto fields = where;
    fields.emplace_back("detail", std::string(status.message()));
    internal::LogJson("error", "kafka.consumer", absl::StrCat("cannot commit ", what), fields);
    return absl::OkStatus();
  }

  // One attempt at one message. OK: done with it (applied or skipped); retryable error: try
  // the same message again.
  absl::Status TryMessage(const std::string& topic, int32_t partition, int64_t offset,
                          absl::string_view value, uint64_t attempt) {
    const std::string offset_key = OffsetKey(topic, partition);
    const std::string next_offset = absl::StrCat(offset + 1);
    std::vector<std::pair<std::string, std::string>> where = {
        {"consumer", owner.options_.name},
        {"topic", topic},
        {"partition", absl::StrCat(partition)},
        {"offset", absl::StrCat(offset)}};

    // Skips the message: stores the offset (and the applied sequence when known).
    auto skip = [&](const std::string* applied_key, int64_t sequence) {
      eventstore::WriteSet writes;
      writes.Put(eventstore::Space::kMeta, offset_key, next_offset);
      if (applied_key != nullptr) {
        writes.Put(eventstore::Space::kMeta, *applied_key, absl::StrCat(sequence));
      }
      absl::Status status = CommitOrLog(std::move(writes), "a skipped event's offset", where);
      if (status.ok()) skipped.fetch_add(1, std::memory_order_relaxed);
      return status;
    };

    common::v1::EventEnvelope envelope;
    if (!envelope.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
        envelope.aggregate_type().empty() || envelope.aggregate_id().empty()) {
      if (attempt == 1) {
        internal::LogJson("error", "kafka.consumer", "not an event envelope; skipped", where);
      }
      return skip(nullptr, 0);
    }
    where.emplace_back("aggregate",
                       absl::StrCat(envelope.aggregate_type(), "/", envelope.aggregate_id()));
    where.emplace_back("sequence", absl::StrCat(envelope.sequence()));
    const std::string applied_key = AppliedKey(envelope.aggregate_type(), envelope.aggregate_id());

    absl::StatusOr<std::optional<std::string>> applied_value =
        owner.store_.Get(eventstore::Space::kMeta, applied_key);
    // A store that cannot be read now may be readable in a moment; never skip because of it.
    if (!applied_value.ok()) return absl::UnavailableError(applied_value.status().message());
    int64_t applied_sequence = 0;
    if (applied_value->has_value()) (void)absl::SimpleAtoi(**applied_value, &applied_sequence);
    if (applied_sequence >= envelope.sequence()) return skip(nullptr, 0);  // a duplicate
    if (envelope.sequence() > applied_sequence + 1) {
      // Ahead of its predecessor: the relay that published it had an earlier event of the
      // same aggregate fail, and publishes again from that one, so this event comes back in
      // order. Applying it now would make the missing one look like a duplicate later.
      if (attempt == 1) {
        auto fields = where;
        fields.emplace_back("applied", absl::StrCat(applied_sequence));
        internal::LogJson("warning", "kafka.consumer",
                          "event ahead of its predecessor; skipped until it comes in order",
                          fields);
      }
      return skip(nullptr, 0);
    }

    const std::string& type_url = envelope.payload().type_url();
    absl::string_view type_name = type_url;
    if (size_t slash = type_name.rfind('/'); slash != absl::string_view::npos) {
      type_name.remove_prefix(slash + 1);
    }
    auto handler = owner.handlers_.find(type_name);
    if (handler == owner.handlers_.end()) return skip(&applied_key, envelope.sequence());

    std::unique_ptr<google::protobuf::Message> payload = handler->second.make();
    if (!payload->ParseFromString(envelope.payload().value())) {
      if (attempt == 1) {
        auto fields = where;
        fields.emplace_back("type", std::string(type_name));
        internal::LogJson("error", "kafka.consumer", "payload does not parse; skipped", fields);
      }
      return skip(&applied_key, envelope.sequence());
    }

    eventstore::WriteSet writes;
    absl::Status handled = handler->second.handle(envelope, *payload, writes);
    if (!handled.ok()) {
      if (Retryable(handled)) return handled;
      auto fields = where;
      fields.emplace_back("type", std::string(type_name));
      fields.emplace_back("code", absl::StatusCodeToString(handled.code()));
      fields.emplace_back("detail", std::string(handled.message()));
      internal::LogJson("error", "kafka.consumer", "handler rejected the event; skipped", fields);
      return skip(&applied_key, envelope.sequence());
    }
    writes.Put(eventstore::Space::kMeta, offset_key, next_offset);
    writes.Put(eventstore::Space::kMeta, applied_key, absl::StrCat(envelope.sequence()));
    absl::Status committed = owner.store_.Commit(std::move(writes));
    if (committed.ok()) {
      applied.fetch_add(1, std::memory_order_relaxed);
      return committed;
    }
    if (Retryable(committed)) return committed;
    auto fields = where;
    fields.emplace_back("detail", std::string(committed.message()));
    internal::LogJson("error", "kafka.consumer", "projection commit rejected; event skipped",
                      fields);
    return skip(&applied_key, envelope.sequence());
  }

  void HandleMessage(const rd_kafka_message_t* m) {
    std::string topic = rd_kafka_topic_name(m->rkt);
    absl::string_view value(m->payload != nullptr ? static_cast<const char*>(m->payload) : "",
                            m->payload != nullptr ? m->len : 0);
    absl::Duration backoff = kMinRetry;
    for (uint64_t attempt = 1; !Stopping(); ++attempt) {
      absl::Status status = TryMessage(topic, m->partition, m->offset, value, attempt);
      if (status.ok()) {
        partitions[{topic, m->partition}].next = m->offset + 1;
        return;
      }
      if (WorthLogging(attempt)) {
        internal::LogJson("warning", "kafka.consumer", "retrying event",
                          {{"consumer", owner.options_.name},
                           {"topic", topic},
                           {"partition", absl::StrCat(m->partition)},
                           {"offset", absl::StrCat(m->offset)},
                           {"attempt", absl::StrCat(attempt)},
                           {"code", absl::StatusCodeToString(status.code())},
                           {"detail", std::string(status.message())}});
      }
      if (SteadyClock::now() >= next_watermarks) RefreshLag();
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, kMaxRetry);
    }
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
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Fetch errors are retried by librdkafka itself; outages are logged by error_cb.
        auto& last = fetch_error_logged[m->err];
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && now - last >= kFetchErrorLogWindow) {
          last = now;
          internal::LogJson("warning", "kafka.consumer", "fetch error",
                            {{"consumer", owner.options_.name},
                             {"error", rd_kafka_err2name(m->err)},
                             {"detail", rd_kafka_message_errstr(m)}});
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      HandleMessage(m);
      rd_kafka_message_destroy(m);
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

uint64_t EventConsumer::skipped() const {
  return impl_ == nullptr ? 0 : impl_->skipped.load(std::memory_order_relaxed);
}

}  // namespace cowork::kafka
