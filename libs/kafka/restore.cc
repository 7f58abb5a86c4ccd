#include "libs/kafka/restore.h"

#include <cstdint>
#include <queue>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cowork/common/v1/envelope.pb.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/key_vault.h"
#include "libs/kafka/topic_stream.h"
#include "libs/status/macros.h"

namespace cowork::kafka {
namespace {

using eventstore::Space;
using eventstore::WriteSet;

constexpr absl::string_view kStaged = "restore/staged/";

std::string StagedKey(int32_t partition, int64_t offset) {
  return absl::StrFormat("%s%05d/%020d", kStaged, partition, offset);
}

std::string Where(const std::string& topic, int32_t partition, int64_t offset) {
  return absl::StrCat(topic, "/", partition, " at offset ", offset);
}

// Appends events to the log in the order given, folding each aggregate's state, in commits of
// `batch` events. An aggregate is appended at most once per commit, so an event of one already
// in the commit (after another aggregate's) commits what is there first: the log keeps the
// order the events come in.
class Importer {
 public:
  Importer(eventstore::Store& store, const eventstore::Folds& folds, int batch, RestoreStats& stats)
      : store_(store), folds_(folds), batch_(batch), stats_(stats) {}

  absl::Status Add(const common::v1::EventEnvelope& e) {
    const std::string key = absl::StrCat(e.aggregate_type(), "/", e.aggregate_id());
    if (pending_.empty() || pending_.back().key != key) {
      if (in_batch_.contains(key)) COWORK_RETURN_IF_ERROR(Flush());
      COWORK_ASSIGN_OR_RETURN(eventstore::AggregateRecord record,
                              store_.Load(e.aggregate_type(), e.aggregate_id()));
      in_batch_.insert(key);
      pending_.push_back({key,
                          e.aggregate_type(),
                          e.aggregate_id(),
                          record.version,
                          record.version,
                          std::move(record.state),
                          {}});
    }
    Pending& p = pending_.back();
    if (e.sequence() <= p.version) {
      ++stats_.copies;
      return absl::OkStatus();
    }
    if (e.sequence() != p.version + 1) {
      return absl::DataLossError(absl::StrCat("event ", e.sequence(), " of ", key,
                                              " follows event ", p.version,
                                              ": the events between are not on the topic"));
    }
    COWORK_ASSIGN_OR_RETURN(p.state, folds_.Fold(e.aggregate_type(), p.state, e));
    p.events.push_back(e);
    p.version = e.sequence();
    if (++events_ >= batch_) return Flush();
    return absl::OkStatus();
  }

  absl::Status Flush() {
    WriteSet writes;
    for (Pending& p : pending_) {
      if (p.events.empty()) continue;
      stats_.events += static_cast<int64_t>(p.events.size());
      if (p.base_version == 0) ++stats_.aggregates;
      // Topic "": on the topic already; nothing goes to the outbox.
      writes.Append(std::move(p.type), std::move(p.id), p.base_version, std::move(p.events),
                    std::move(p.state), "");
    }
    pending_.clear();
    in_batch_.clear();
    events_ = 0;
    return writes.empty() ? absl::OkStatus() : store_.Commit(std::move(writes));
  }

 private:
  struct Pending {
    std::string key, type, id;
    int64_t base_version;  // the stored version the commit appends after
    int64_t version;       // after the events below
    std::string state;
    std::vector<common::v1::EventEnvelope> events;
  };

  eventstore::Store& store_;
  const eventstore::Folds& folds_;
  const int batch_;
  RestoreStats& stats_;
  std::vector<Pending> pending_;
  absl::flat_hash_set<std::string> in_batch_;
  int events_ = 0;
};

// Where an event sits on the topic, and when it occurred (the merge order).
struct Indexed {
  int64_t occurred_micros;
  int64_t offset;
};

// Stages every message of the events topic in the store; returns the index per partition.
absl::StatusOr<std::vector<std::vector<Indexed>>> Stage(eventstore::Store& store,
                                                        const KafkaOptions& kafka,
                                                        const RestoreOptions& options) {
  COWORK_ASSIGN_OR_RETURN(
      std::unique_ptr<TopicStream> stream,
      TopicStream::Open(kafka, {.topics = {options.events_topic}, .timeout = options.timeout}));
  const std::vector<int64_t> starts = stream->starts();
  for (size_t p = 0; p < starts.size(); ++p) {
    if (starts[p] > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          options.events_topic, "/", p, " starts at offset ", starts[p],
          ": the events before it are gone from the topic, so it cannot restore the service"));
    }
  }
  std::vector<std::vector<Indexed>> index(starts.size());
  WriteSet writes;
  int staged = 0;
  COWORK_RETURN_IF_ERROR(stream->Run([&](const Message& m) -> absl::Status {
    common::v1::EventEnvelope e;
    if (m.tombstone || !e.ParseFromString(m.value) || e.aggregate_type().empty()) {
      return absl::DataLossError(
          absl::StrCat(Where(m.topic, m.partition, m.offset), " does not hold an event envelope"));
    }
    index[m.partition].push_back({absl::ToUnixMicros(FromTimestamp(e.occurred_at())), m.offset});
    writes.Put(Space::kMeta, StagedKey(m.partition, m.offset), m.value);
    if (++staged % options.batch != 0) return absl::OkStatus();
    absl::Status committed = store.Commit(std::move(writes));
    writes = WriteSet();
    return committed;
  }));
  if (!writes.empty()) COWORK_RETURN_IF_ERROR(store.Commit(std::move(writes)));
  return index;
}

// Imports the staged events, the partitions merged by when their events occurred.
absl::Status Import(eventstore::Store& store, const RestoreOptions& options,
                    const std::vector<std::vector<Indexed>>& index, RestoreStats& stats) {
  Importer importer(store, *options.folds, options.batch, stats);
  // (occurred, partition, position in the partition's index): the earliest head first.
  using Head = std::tuple<int64_t, int32_t, size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (size_t p = 0; p < index.size(); ++p) {
    if (!index[p].empty()) heads.emplace(index[p][0].occurred_micros, p, 0);
  }
  while (!heads.empty()) {
    const auto [occurred, partition, i] = heads.top();
    heads.pop();
    const int64_t offset = index[partition][i].offset;
    if (i + 1 < index[partition].size()) {
      heads.emplace(index[partition][i + 1].occurred_micros, partition, i + 1);
    }
    COWORK_ASSIGN_OR_RETURN(std::optional<std::string> value,
                            store.Get(Space::kMeta, StagedKey(partition, offset)));
    common::v1::EventEnvelope e;
    if (!value.has_value() || !e.ParseFromString(*value)) {
      return absl::InternalError(absl::StrCat(
          "the staged copy of ", Where(options.events_topic, partition, offset), " is gone"));
    }
    if (absl::Status added = importer.Add(e); !added.ok()) {
      return absl::Status(added.code(), absl::StrCat(Where(options.events_topic, partition, offset),
                                                     ": ", added.message()));
    }
  }
  COWORK_RETURN_IF_ERROR(importer.Flush());
  return store.DeletePrefix(Space::kMeta, kStaged);
}

absl::Status RestoreKeys(eventstore::Store& store, const KafkaOptions& kafka,
                         const RestoreOptions& options, RestoreStats& stats) {
  COWORK_ASSIGN_OR_RETURN(
      std::unique_ptr<TopicStream> stream,
      TopicStream::Open(kafka, {.topics = {options.keys_topic}, .timeout = options.timeout}));
  const eventstore::KeyVault vault(store);
  WriteSet writes;
  int read = 0;
  COWORK_RETURN_IF_ERROR(stream->Run([&](const Message& m) -> absl::Status {
    absl::Status restored = vault.Restore(
        m.key, m.tombstone ? std::nullopt : std::optional<std::string>(m.value), writes);
    if (!restored.ok()) {
      return absl::Status(restored.code(), absl::StrCat(Where(m.topic, m.partition, m.offset), ": ",
                                                        restored.message()));
    }
    if (++read % options.batch != 0) return absl::OkStatus();
    absl::Status committed = store.Commit(std::move(writes));
    writes = WriteSet();
    return committed;
  }));
  if (!writes.empty()) COWORK_RETURN_IF_ERROR(store.Commit(std::move(writes)));
  return store.Scan(Space::kMeta, eventstore::KeyVault::kPrefix, "",
                    [&stats](absl::string_view, absl::string_view) {
                      ++stats.keys;
                      return true;
                    });
}

}  // namespace

absl::StatusOr<RestoreStats> RestoreFromTopics(eventstore::Store& store, const KafkaOptions& kafka,
                                               const RestoreOptions& options) {
  if (options.events_topic.empty() || options.folds == nullptr || options.batch < 1) {
    return absl::InvalidArgumentError("a restore needs an events topic, folds and a batch > 0");
  }
  RestoreStats stats;
  COWORK_ASSIGN_OR_RETURN(std::vector<std::vector<Indexed>> index, Stage(store, kafka, options));
  COWORK_RETURN_IF_ERROR(Import(store, options, index, stats));
  if (!options.keys_topic.empty())
    COWORK_RETURN_IF_ERROR(RestoreKeys(store, kafka, options, stats));
  return stats;
}

}  // namespace cowork::kafka
