#ifndef COWORK_LIBS_EVENTSTORE_STORE_H_
#define COWORK_LIBS_EVENTSTORE_STORE_H_

// A service's own event store over one RocksDB. Column families: events (per aggregate),
// log (global commit order), state (aggregate state + version), views (read models),
// outbox (envelopes waiting for Kafka), claims (unique keys), requests (answers by request id)
// and meta (consumer offsets and applied sequences).
//
// A commit is one rocksdb::WriteBatch: the events, the new aggregate state, the read views,
// the claims, the request record and the outbox rows happen together or not at all.
// Optimistic concurrency: Commit checks each appended aggregate's expected version and each
// claim under a striped lock, so of two racing writers exactly one wins and the other gets
// ABORTED (version) or ALREADY_EXISTS (claim). With durable writes (the default) every commit
// fsyncs the WAL before returning; RocksDB groups concurrent writers into one fsync.
//
// Thread-safe. Errors: ABORTED (version conflict), ALREADY_EXISTS (claim or request id taken),
// INVALID_ARGUMENT (malformed WriteSet), UNAVAILABLE / INTERNAL (RocksDB I/O).
//
//   ASSIGN_OR_RETURN(auto store, Store::Open({.path = "var/customers"}));
//   WriteSet w;
//   w.Append("customer", id, /*expected_version=*/0, {envelope}, state, "cowork.customers.events");
//   w.Put(Space::kViews, "customer/" + id, view);
//   RETURN_IF_ERROR(store->Commit(std::move(w)));

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "libs/clock/clock.h"

namespace cowork::eventstore {

// A switch for fault tests: while it is on, every file write of the store fails as on a full
// disk (ENOSPC). It sits under RocksDB (a FileSystem wrapper), so the store's own error paths
// run as they would on a real full disk. Thread-safe.
class DiskFaults {
 public:
  void SetFull(bool full) { full_.store(full); }
  bool full() const { return full_.load(); }

 private:
  std::atomic<bool> full_{false};
};

struct StoreOptions {
  // Directory of the RocksDB; created when missing. Required.
  std::string path;
  // true: fsync the WAL on every commit before it returns (group commit under concurrency).
  // false: the WAL is written but not synced; a machine crash may lose the last commits,
  // a process crash loses nothing. Default true.
  bool durable = true;
  // How long a request record (the answer a retry gets) is kept: after that FindRequest no
  // longer sees it, a new commit may record the same request again, and ExpireRequests
  // deletes it. Default 7 days.
  absl::Duration request_retention = absl::Hours(24 * 7);
  // The clock of request records (when recorded, when expired). Default (null): the real
  // clock. Must outlive the Store.
  const Clock* clock = nullptr;
  // Fault injection (DiskFaults); null: none. Must outlive the Store.
  const DiskFaults* disk_faults = nullptr;
  // The largest record an event to publish may make on its topic (serialized envelope, key
  // and kRecordOverheadBytes): the topics' max.message.bytes, which the relay's producer
  // takes as its message.max.bytes too. A commit appending a larger event to publish fails
  // with FAILED_PRECONDITION and writes nothing, so no row the brokers would refuse for good
  // reaches the outbox. 0: no limit. Default 1,000,000 (librdkafka's default).
  size_t max_event_bytes = 1'000'000;
  // Where KeyVault also publishes every seal key, wrapped with `key_wrapping_key` (a seal key,
  // crypto::NewSealKey), and a tombstone when one is erased, so that a restore from Kafka
  // gets back every key not erased (kafka/restore.h): the compacted topic
  // cowork.<service>.keys. Empty: the keys live only in this store.
  std::string keys_topic;
  std::string key_wrapping_key;
};

// What a Kafka record adds to its key and value at most (record and batch headers).
inline constexpr size_t kRecordOverheadBytes = 128;

// Keyspaces callers read and write directly.
enum class Space {
  kViews,  // read models of this service
  kMeta,   // consumer offsets, applied sequences, keys of this service's own bookkeeping
};

struct AggregateRecord {
  int64_t version = 0;  // 0: the aggregate does not exist yet
  std::string state;    // the serialized state as last committed
};

struct OutboxRow {
  uint64_t position = 0;  // commit order, strictly increasing, never reused
  std::string topic;
  std::string key;         // the aggregate id; a plain record's key
  std::string value;       // serialized EventEnvelope; a plain record's value
  bool plain = false;      // a record that is not an event (WriteSet::Publish)
  bool tombstone = false;  // a plain record without a value: produced with a null value
};

// Everything one commit writes. A value type; not thread-safe.
class WriteSet {
 public:
  // Appends `events` to an aggregate. Their sequences must be expected_version + 1, + 2, ...
  // `state` becomes the stored state, at version expected_version + events.size(). Each event
  // also goes to the outbox for `topic`, keyed by aggregate id. An empty `topic` stores the
  // events without publishing them (e.g. a service-private aggregate such as a key vault).
  void Append(std::string aggregate_type, std::string aggregate_id, int64_t expected_version,
              std::vector<common::v1::EventEnvelope> events, std::string state,
              std::string topic);
  // Publishes a record that is not an event to `topic` through the outbox, in commit order
  // with the events (e.g. a compacted topic of keys): `value` as is, or without a value (a
  // tombstone) when nullopt. Not in the event log; the relay sends it at least once.
  void Publish(std::string topic, std::string key, std::optional<std::string> value);
  void Put(Space space, std::string key, std::string value);
  void Delete(Space space, std::string key);
  // A unique key (e.g. "email/<operator>/<address>"): the commit fails with ALREADY_EXISTS
  // unless the key is free or already held by `owner`; afterwards `owner` holds it.
  void Claim(std::string key, std::string owner);
  void Release(std::string key);
  // Records the answer to a mutating request under `request_key` (Request::RecordKey); the
  // commit sets its recorded_at_micros and fails with ALREADY_EXISTS if the key holds a record
  // that has not expired (a concurrent retry won).
  void RecordRequest(std::string request_key, common::v1::StoredResponse response);
  // After this commit, the earlier values of every key it overwrites or deletes (state,
  // views, meta, claims) must be gone from the store's files, not only hidden: an erasure.
  // Commit then flushes every memtable (which retires the write-ahead log that held them) and
  // compacts those keys' ranges down to the last level, where even a deleted key's tombstone
  // goes. Slow (a flush and a few compactions): for erasures, which are rare. The commit
  // succeeds once written; the purge it owes is recorded in the same write, so one that then
  // fails, or a crash, leaves it to CheckWritable or the next Open.
  void PurgeOldValues() { purge_ = true; }
  bool purge() const { return purge_; }
  // Adds everything `other` holds after what this one holds (a consumer gathering several
  // events into one commit). At most one of the two may record a request.
  void Merge(WriteSet other);
  bool empty() const;

  struct Appended {
    std::string aggregate_type, aggregate_id;
    int64_t expected_version;
    std::vector<common::v1::EventEnvelope> events;
    std::string state, topic;
  };
  struct Write {
    Space space;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  struct ClaimOp {
    std::string key;
    std::optional<std::string> owner;  // nullopt: release
  };
  struct Record {
    std::string topic, key;
    std::optional<std::string> value;  // nullopt: tombstone
  };
  const std::vector<Appended>& appended() const { return appended_; }
  const std::vector<Write>& writes() const { return writes_; }
  const std::vector<ClaimOp>& claims() const { return claims_; }
  const std::vector<Record>& records() const { return records_; }
  const std::optional<std::pair<std::string, common::v1::StoredResponse>>& request() const {
    return request_;
  }

 private:
  std::vector<Appended> appended_;
  std::vector<Write> writes_;
  std::vector<ClaimOp> claims_;
  std::vector<Record> records_;
  std::optional<std::pair<std::string, common::v1::StoredResponse>> request_;
  bool purge_ = false;
};

class Store {
 public:
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  absl::Status Commit(WriteSet writes);
  const StoreOptions& options() const;

  // Whether the store takes writes now: writes (and syncs, when durable) a probe record. After
  // a failed write RocksDB refuses every write until it is resumed, so a failed probe asks it
  // to resume. It does once the disk has room again when only a write of the log failed; when
  // a flush of the memtables failed too, RocksDB takes no more writes until the store is
  // opened again (the service restarted). RESOURCE_EXHAUSTED (no space) or UNAVAILABLE while
  // writes are refused. Also finishes the purges commits could not (WriteSet::PurgeOldValues),
  // and fails while they fail.
  absl::Status CheckWritable();

  // Version 0 and empty state when the aggregate does not exist.
  absl::StatusOr<AggregateRecord> Load(absl::string_view aggregate_type,
                                       absl::string_view aggregate_id) const;
  // The aggregate's events with sequence > after_sequence, in order.
  absl::StatusOr<std::vector<common::v1::EventEnvelope>> ReadEvents(
      absl::string_view aggregate_type, absl::string_view aggregate_id,
      int64_t after_sequence = 0) const;
  // Every event of the store in commit order; `fn` returns false to stop early.
  absl::Status ForEachEvent(
      const std::function<bool(const common::v1::EventEnvelope&)>& fn) const;

  absl::StatusOr<std::optional<std::string>> Get(Space space, absl::string_view key) const;
  // Keys starting with `prefix`, in byte order, strictly after `start_after` when it is not
  // empty; `fn` returns false to stop.
  absl::Status Scan(Space space, absl::string_view prefix, absl::string_view start_after,
                    const std::function<bool(absl::string_view key, absl::string_view value)>& fn)
      const;
  // Deletes every key of `space` that starts with `prefix` (rebuilds of a projection).
  absl::Status DeletePrefix(Space space, absl::string_view prefix);

  // The record of `request_key`; nullopt when there is none or it has expired.
  absl::StatusOr<std::optional<common::v1::StoredResponse>> FindRequest(
      absl::string_view request_key) const;
  // Deletes up to `limit` request records that have expired, oldest first; returns how many.
  absl::StatusOr<int> ExpireRequests(int limit = 10'000);
  absl::StatusOr<std::optional<std::string>> ClaimOwner(absl::string_view key) const;

  // The oldest `limit` outbox rows, in commit order.
  absl::StatusOr<std::vector<OutboxRow>> ReadOutbox(size_t limit) const;
  // Removes delivered rows.
  absl::Status RemoveFromOutbox(std::span<const uint64_t> positions);
  // Rows waiting (exact; kept in memory, recounted at Open).
  uint64_t OutboxDepth() const;
  // Called (from the committing thread, after the commit) whenever a commit added outbox
  // rows. Set once, before commits start.
  void SetOutboxListener(std::function<void()> listener);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_STORE_H_
