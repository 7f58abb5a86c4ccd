#include "libs/eventstore/store.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/table_properties_collectors.h"
#include "rocksdb/write_batch.h"

namespace cowork::eventstore {

// ---------------------------------------------------------------------------------------------
// WriteSet

void WriteSet::Append(std::string aggregate_type, std::string aggregate_id,
                      int64_t expected_version, std::vector<common::v1::EventEnvelope> events,
                      std::string state, std::string topic) {
  appended_.push_back(Appended{std::move(aggregate_type), std::move(aggregate_id),
                               expected_version, std::move(events), std::move(state),
                               std::move(topic)});
}

void WriteSet::Publish(std::string topic, std::string key, std::optional<std::string> value) {
  records_.push_back(Record{std::move(topic), std::move(key), std::move(value)});
}

void WriteSet::Put(Space space, std::string key, std::string value) {
  writes_.push_back(Write{space, std::move(key), std::move(value)});
}

void WriteSet::Delete(Space space, std::string key) {
  writes_.push_back(Write{space, std::move(key), std::nullopt});
}

void WriteSet::Claim(std::string key, std::string owner) {
  claims_.push_back(ClaimOp{std::move(key), std::move(owner)});
}

void WriteSet::Release(std::string key) { claims_.push_back(ClaimOp{std::move(key), std::nullopt}); }

void WriteSet::RecordRequest(std::string request_key, common::v1::StoredResponse response) {
  request_.emplace(std::move(request_key), std::move(response));
}

void WriteSet::Merge(WriteSet other) {
  auto append = [](auto& to, auto& from) {
    if (to.empty()) {
      to = std::move(from);
    } else {
      to.insert(to.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
    }
  };
  append(appended_, other.appended_);
  append(writes_, other.writes_);
  append(claims_, other.claims_);
  append(records_, other.records_);
  if (other.request_.has_value()) request_ = std::move(other.request_);
  purge_ = purge_ || other.purge_;
}

bool WriteSet::empty() const {
  return appended_.empty() && writes_.empty() && claims_.empty() && records_.empty() &&
         !request_.has_value();
}

// ---------------------------------------------------------------------------------------------
// Encodings
//
//   events    <type>\0<id>\0<seq: 8 bytes BE>   -> EventEnvelope
//   log       <position: 8 bytes BE>            -> events key ("" for a plain record)
//   state     <type>\0<id>                      -> <version: 8 bytes BE><state bytes>
//   views     caller's key                      -> caller's value
//   outbox    <position: 8 bytes BE>            -> OutboxRecord
//   claims    caller's key                      -> owner
//   requests  r<request key>                    -> StoredResponse
//             t<recorded at: 8 bytes BE micros><request key> -> "" (expiry order)
//   meta      caller's key                      -> caller's value
//
// Big-endian numbers sort numerically under RocksDB's bytewise comparator, so one aggregate's
// events are a prefix scan in sequence order and log/outbox iterate in position order. An
// event and its outbox row share one position.

namespace {

constexpr size_t kStripes = 4096;

std::string EncodeBE64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t DecodeBE64(absl::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  }
  return v;
}

std::string RequestRecordKey(absl::string_view request_key) {
  return absl::StrCat("r", request_key);
}

std::string RequestExpiryKey(int64_t recorded_at_micros, absl::string_view request_key) {
  return absl::StrCat("t", EncodeBE64(static_cast<uint64_t>(recorded_at_micros)), request_key);
}

std::string AggregateKey(absl::string_view type, absl::string_view id) {
  return absl::StrCat(type, absl::string_view("\0", 1), id);
}

std::string EventPrefix(absl::string_view type, absl::string_view id) {
  return absl::StrCat(type, absl::string_view("\0", 1), id, absl::string_view("\0", 1));
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

bool StartsWith(const rocksdb::Slice& s, absl::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The one place a rocksdb::Status becomes an absl::Status.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::InternalError(message);
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
      return absl::UnavailableError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    default:
      // InvalidArgument from RocksDB means our code or options are wrong, not the caller's
      // input, so it must not surface as a client error.
      return absl::InternalError(message);
  }
}

// The store's files through a wrapper that fails every write while DiskFaults says the disk is
// full, as ENOSPC would.
class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, const DiskFaults& faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(faults) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (faults_.full()) return Full();
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

  static rocksdb::IOStatus Full() { return rocksdb::IOStatus::NoSpace("disk full (injected)"); }

 private:
  const DiskFaults& faults_;
};

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target, const DiskFaults& faults)
      : FileSystemWrapper(target), faults_(faults) {}
  const char* Name() const override { return "CoworkFaultyFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::NewWritableFile(f, options, r, dbg), r);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::ReopenWritableFile(f, options, r, dbg), r);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    return Wrap(FileSystemWrapper::ReuseWritableFile(f, old, options, r, dbg), r);
  }

 private:
  rocksdb::IOStatus Wrap(rocksdb::IOStatus opened, std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (!opened.ok()) return opened;
    if (faults_.full()) {
      r->reset();
      return FaultyWritableFile::Full();
    }
    *r = std::make_unique<FaultyWritableFile>(std::move(*r), faults_);
    return opened;
  }

  const DiskFaults& faults_;
};

struct ColumnFamilies {
  static constexpr std::array<const char*, 8> kNames = {"events", "log",      "state", "views",
                                                        "outbox", "claims", "requests", "meta"};
};

absl::Status ValidateNoNul(absl::string_view what, absl::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (s.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " contains a NUL byte"));
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION when an event to publish would make a record over `max_bytes`.
absl::Status CheckEventSizes(const WriteSet& writes, size_t max_bytes) {
  if (max_bytes == 0) return absl::OkStatus();
  for (const WriteSet::Appended& a : writes.appended()) {
    if (a.topic.empty()) continue;
    for (const common::v1::EventEnvelope& e : a.events) {
      const size_t bytes = e.ByteSizeLong() + a.aggregate_id.size() + kRecordOverheadBytes;
      if (bytes > max_bytes) {
        return absl::FailedPreconditionError(
            absl::StrCat("the event ", e.payload().type_url(), " of ", a.aggregate_type, "/",
                         a.aggregate_id, " would be ", bytes, " bytes on ", a.topic,
                         ", over its maximum of ", max_bytes, " bytes; nothing was written"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Validate(const WriteSet& writes) {
  absl::flat_hash_set<std::string> aggregates;
  for (const WriteSet::Appended& a : writes.appended()) {
    if (absl::Status s = ValidateNoNul("aggregate type", a.aggregate_type); !s.ok()) return s;
    if (absl::Status s = ValidateNoNul("aggregate id", a.aggregate_id); !s.ok()) return s;
    std::string label = absl::StrCat(a.aggregate_type, "/", a.aggregate_id);
    if (a.expected_version < 0) {
      return absl::InvalidArgumentError(absl::StrCat(label, ": negative expected version"));
    }
    if (!aggregates.insert(AggregateKey(a.aggregate_type, a.aggregate_id)).second) {
      return absl::InvalidArgumentError(absl::StrCat(label, ": appended twice in one commit"));
    }
    for (size_t i = 0; i < a.events.size(); ++i) {
      const common::v1::EventEnvelope& e = a.events[i];
      const int64_t want = a.expected_version + 1 + static_cast<int64_t>(i);
      if (e.sequence() != want) {
        return absl::InvalidArgumentError(absl::StrCat(label, ": event ", i, " has sequence ",
                                                       e.sequence(), ", expected ", want));
      }
      if (e.aggregate_type() != a.aggregate_type || e.aggregate_id() != a.aggregate_id) {
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": event ", i, " belongs to ", e.aggregate_type(), "/",
                         e.aggregate_id()));
      }
    }
  }
  for (const WriteSet::Record& r : writes.records()) {
    if (r.topic.empty()) return absl::InvalidArgumentError("record without a topic");
  }
  absl::flat_hash_set<absl::string_view> claim_keys;
  for (const WriteSet::ClaimOp& c : writes.claims()) {
    if (c.key.empty()) return absl::InvalidArgumentError("claim key is empty");
    if (c.owner.has_value() && c.owner->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("claim ", c.key, ": owner is empty"));
    }
    if (!claim_keys.insert(c.key).second) {
      return absl::InvalidArgumentError(absl::StrCat("claim ", c.key, ": used twice in one commit"));
    }
  }
  if (writes.request().has_value() && writes.request()->first.empty()) {
    return absl::InvalidArgumentError("request key is empty");
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Store

struct Store::Impl {
  StoreOptions options;
  std::unique_ptr<rocksdb::Env> env;  // with disk_faults: the FaultyFileSystem; before db
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; released in ~Impl
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  rocksdb::ColumnFamilyHandle* state = nullptr;
  rocksdb::ColumnFamilyHandle* views = nullptr;
  rocksdb::ColumnFamilyHandle* outbox = nullptr;
  rocksdb::ColumnFamilyHandle* claims = nullptr;
  rocksdb::ColumnFamilyHandle* requests = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::WriteOptions write_options;
  const Clock* clock = nullptr;

  // Per-key serialisation without one global lock: aggregate, claim and request keys hash
  // onto stripes, and a commit takes its stripes in ascending order, so two commits never wait
  // on each other in a cycle.
  std::array<absl::Mutex, kStripes> stripes;

  // Positions are handed out under `positions_mu` and the range stays in `in_flight` until its
  // batch is written. ReadOutbox uses that to know which positions below the first row it saw
  // can still appear, so it can seek past the tombstones delivered rows leave at the head of
  // the outbox instead of stepping over them on every poll.
  absl::Mutex positions_mu;
  uint64_t last_position ABSL_GUARDED_BY(positions_mu) = 0;
  std::set<uint64_t> in_flight ABSL_GUARDED_BY(positions_mu);
  std::atomic<uint64_t> outbox_floor{1};

  // Incremented before the batch is written (and undone on failure), so a relay that removes a
  // row the instant it appears can never drive the count below zero.
  std::atomic<uint64_t> outbox_depth{0};
  // Serialises removals so a position removed twice concurrently is counted once.
  absl::Mutex remove_mu;

  absl::Mutex listener_mu;
  std::function<void()> listener ABSL_GUARDED_BY(listener_mu);

  // Serialises purges (WriteSet::PurgeOldValues).
  absl::Mutex purge_mu;

  ~Impl() {
    if (db == nullptr) return;
    // A clean shutdown leaves nothing unsynced even when commits were not synced one by one.
    if (!options.durable) db->SyncWAL().PermitUncheckedError();
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close().PermitUncheckedError();
  }

  rocksdb::ColumnFamilyHandle* SpaceHandle(Space space) const {
    return space == Space::kViews ? views : meta;
  }

  absl::StatusOr<std::optional<std::string>> GetRaw(rocksdb::ColumnFamilyHandle* cf,
                                                    absl::string_view key) const {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "read");
    return std::optional<std::string>(std::move(value));
  }

  // A request record, or nullopt when there is none; `expired` tells whether it has expired.
  absl::StatusOr<std::optional<common::v1::StoredResponse>> GetRequest(
      absl::string_view request_key) const {
    absl::StatusOr<std::optional<std::string>> raw =
        GetRaw(requests, RequestRecordKey(request_key));
    if (!raw.ok()) return raw.status();
    if (!raw->has_value()) return std::optional<common::v1::StoredResponse>();
    common::v1::StoredResponse response;
    if (!response.ParseFromString(**raw)) {
      return absl::InternalError(
          absl::StrCat("stored response of ", request_key, " does not parse"));
    }
    return std::optional<common::v1::StoredResponse>(std::move(response));
  }

  bool Expired(const common::v1::StoredResponse& r) const {
    return absl::FromUnixMicros(r.recorded_at_micros()) + options.request_retention <=
           clock->Now();
  }

  // A purge to do is a meta row "store/purge/<column family>/<key>", written by the commit
  // that overwrites or deletes the key, so a crash or a failed flush before the purge is done
  // leaves it to the next Purge.
  static constexpr absl::string_view kPurgePrefix = "store/purge/";

  rocksdb::ColumnFamilyHandle* HandleNamed(absl::string_view name) const {
    for (rocksdb::ColumnFamilyHandle* h : handles) {
      if (h->GetName() == name) return h;
    }
    return nullptr;
  }

  // Makes the earlier values of every key with a purge row physically gone: flushes every
  // memtable, which retires the write-ahead logs holding them, then compacts each key's range
  // down to the last level, where a deleted key's tombstone goes too. Removes the rows it
  // purged; on failure they stay for the next call.
  absl::Status Purge() {
    absl::MutexLock lock(&purge_mu);
    std::vector<std::string> rows;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
    for (it->Seek(ToSlice(kPurgePrefix));
         it->Valid() && StartsWith(it->key(), kPurgePrefix); it->Next()) {
      rows.push_back(it->key().ToString());
    }
    if (!it->status().ok()) return FromRocks(it->status(), "purge: scan");
    if (rows.empty()) return absl::OkStatus();
    rocksdb::FlushOptions flush;
    flush.allow_write_stall = true;
    if (rocksdb::Status flushed = db->Flush(flush, handles); !flushed.ok()) {
      return FromRocks(flushed, "purge: flush");
    }
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::WriteBatch done;
    for (const std::string& row : rows) {
      const absl::string_view rest = absl::string_view(row).substr(kPurgePrefix.size());
      const size_t slash = rest.find('/');
      rocksdb::ColumnFamilyHandle* cf = HandleNamed(rest.substr(0, slash));
      if (slash == absl::string_view::npos || cf == nullptr) {
        return absl::InternalError(absl::StrCat("purge row ", row, " names no column family"));
      }
      const rocksdb::Slice key = ToSlice(rest.substr(slash + 1));
      if (rocksdb::Status compacted = db->CompactRange(compact, cf, &key, &key);
          !compacted.ok()) {
        return FromRocks(compacted, "purge: compaction");
      }
      done.Delete(meta, row);
    }
    return FromRocks(db->Write(write_options, &done), "purge: done");
  }

  size_t Stripe(char kind, absl::string_view key) const {
    size_t h = std::hash<std::string_view>()(std::string_view(key.data(), key.size()));
    return (h ^ (static_cast<size_t>(kind) * 0x9e3779b97f4a7c15ULL)) % kStripes;
  }
};

namespace {

// Holds a sorted, deduplicated set of stripes; unlocks in reverse order.
class StripeLocks {
 public:
  StripeLocks(std::array<absl::Mutex, kStripes>& stripes, std::vector<size_t> indices)
      : stripes_(stripes), indices_(std::move(indices)) {
    std::sort(indices_.begin(), indices_.end());
    indices_.erase(std::unique(indices_.begin(), indices_.end()), indices_.end());
    for (size_t i : indices_) stripes_[i].Lock();
  }
  ~StripeLocks() { Release(); }
  void Release() {
    for (auto it = indices_.rbegin(); it != indices_.rend(); ++it) stripes_[*it].Unlock();
    indices_.clear();
  }
  StripeLocks(const StripeLocks&) = delete;
  StripeLocks& operator=(const StripeLocks&) = delete;

 private:
  std::array<absl::Mutex, kStripes>& stripes_;
  std::vector<size_t> indices_;
};

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("store path is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create store directory ", options.path, ": ", ec.message()));
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->write_options.sync = options.durable;
  impl->clock = options.clock != nullptr ? options.clock : &RealClock::Get();

  // Sized for one small service per process: a bounded memory footprint matters more than
  // peak write throughput.
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.max_log_file_size = 8 << 20;
  // Nine column families share one WAL; a rarely written one (claims, requests) would keep old
  // WAL files alive forever without this cap, which forces their flush.
  db_options.max_total_wal_size = 64 << 20;
  db_options.db_write_buffer_size = 64 << 20;
  // Separates the WAL and memtable stages of a write group: with synced commits under
  // concurrency the next group's WAL write overlaps the previous group's memtable insert.
  db_options.enable_pipelined_write = true;
  // Writers waiting for their write group spin (up to 100 us) before they sleep. On a small
  // machine with many concurrent commands that spinning takes the cores the commands need.
  db_options.enable_write_thread_adaptive_yield = false;
  // The group's leader inserts every batch of its group into the memtables itself. Concurrent
  // inserts would wake each writer of the group to insert its own batch into skip lists shared
  // under compare-and-swap: on two cores that costs more in wake-ups and contended inserts than
  // it gains (eventstore_bench at 64 threads, three side-by-side runs: 14.0-17.1k -> 18.0-19.2k
  // durable commits/s, 16.8-24.1k -> 25.8-33.6k not durable).
  db_options.allow_concurrent_memtable_write = false;
  if (options.disk_faults != nullptr) {
    impl->env = rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(
        rocksdb::FileSystem::Default(), *options.disk_faults));
    db_options.env = impl->env.get();
  }

  // Four shards of 16 MB rather than RocksDB's default of 64 shards of 1 MB: a block larger
  // than its shard is never kept, and the index and filter blocks of a full 64 MB table file
  // are about 1 MB each, so every new iterator and every point read of a large store read
  // and decompressed them again (GetActiveUsers of a location with 15,000 customers took 9 s
  // instead of 0.2 s).
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(64 << 20, /*num_shard_bits=*/2);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = cache;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table_options.cache_index_and_filter_blocks = true;
  table_options.pin_l0_filter_and_index_blocks_in_cache = true;

  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  cf_options.write_buffer_size = 16 << 20;
  cf_options.level_compaction_dynamic_level_bytes = true;
  // Most point reads of a command miss (a new aggregate, an unused request id, a free email):
  // a Bloom filter over the memtable's keys answers those without searching its skip list.
  cf_options.memtable_whole_key_filtering = true;
  cf_options.memtable_prefix_bloom_size_ratio = 0.05;

  // The outbox is a queue: rows are deleted soon after they are written. Files that are mostly
  // tombstones get compacted early so reads do not wade through them.
  rocksdb::ColumnFamilyOptions outbox_options = cf_options;
  outbox_options.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/1024,
                                                    /*deletion_trigger=*/512));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const char* name : ColumnFamilies::kNames) {
    descriptors.emplace_back(name, std::string(name) == "outbox" ? outbox_options : cf_options);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(db_options, cf_options), options.path,
                                        descriptors, &impl->handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open store ", options.path));
  impl->db.reset(raw);
  impl->events = impl->handles[1];
  impl->log = impl->handles[2];
  impl->state = impl->handles[3];
  impl->views = impl->handles[4];
  impl->outbox = impl->handles[5];
  impl->claims = impl->handles[6];
  impl->requests = impl->handles[7];
  impl->meta = impl->handles[8];

  // Positions continue after the highest ever used: the log keeps every event, and the outbox
  // is checked too in case its newest rows outlived a log that was cut.
  uint64_t last = 0;
  for (rocksdb::ColumnFamilyHandle* cf : {impl->log, impl->outbox}) {
    std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions(), cf));
    it->SeekToLast();
    if (it->Valid()) last = std::max(last, DecodeBE64(ToView(it->key())));
    if (!it->status().ok()) return FromRocks(it->status(), "scan positions");
  }
  uint64_t depth = 0;
  uint64_t first_row = last + 1;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        impl->db->NewIterator(rocksdb::ReadOptions(), impl->outbox));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (depth == 0) first_row = DecodeBE64(ToView(it->key()));
      ++depth;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "count outbox");
  }
  {
    absl::MutexLock lock(&impl->positions_mu);
    impl->last_position = last;
  }
  impl->outbox_depth.store(depth);
  impl->outbox_floor.store(first_row);
  // Purges a crash interrupted; one that fails now is retried by CheckWritable.
  impl->Purge().IgnoreError();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

absl::Status Store::Commit(WriteSet writes) {
  Impl& s = *impl_;
  if (absl::Status v = Validate(writes); !v.ok()) return v;
  if (absl::Status v = CheckEventSizes(writes, s.options.max_event_bytes); !v.ok()) return v;

  std::vector<std::string> aggregate_keys;
  std::vector<size_t> stripe_indices;
  aggregate_keys.reserve(writes.appended().size());
  for (const WriteSet::Appended& a : writes.appended()) {
    aggregate_keys.push_back(AggregateKey(a.aggregate_type, a.aggregate_id));
    stripe_indices.push_back(s.Stripe('a', aggregate_keys.back()));
  }
  for (const WriteSet::ClaimOp& c : writes.claims()) stripe_indices.push_back(s.Stripe('c', c.key));
  if (writes.request().has_value()) {
    stripe_indices.push_back(s.Stripe('r', writes.request()->first));
  }
  StripeLocks locks(s.stripes, std::move(stripe_indices));

  // Under the stripes nobody else can change these keys, so what we read stays true until our
  // batch is written.
  for (size_t i = 0; i < writes.appended().size(); ++i) {
    const WriteSet::Appended& a = writes.appended()[i];
    absl::StatusOr<std::optional<std::string>> current = s.GetRaw(s.state, aggregate_keys[i]);
    if (!current.ok()) return current.status();
    const int64_t version = current->has_value() ? static_cast<int64_t>(DecodeBE64(**current)) : 0;
    if (version != a.expected_version) {
      return absl::AbortedError(absl::StrCat(a.aggregate_type, "/", a.aggregate_id,
                                             " is at version ", version, ", expected ",
                                             a.expected_version));
    }
  }
  for (const WriteSet::ClaimOp& c : writes.claims()) {
    if (!c.owner.has_value()) continue;
    absl::StatusOr<std::optional<std::string>> owner = s.GetRaw(s.claims, c.key);
    if (!owner.ok()) return owner.status();
    if (owner->has_value() && **owner != *c.owner) {
      return absl::AlreadyExistsError(absl::StrCat("claim ", c.key, " is held by another owner"));
    }
  }
  // An expired record of the same request is replaced, its expiry entry with it.
  std::optional<int64_t> replaced_at;
  if (writes.request().has_value()) {
    absl::StatusOr<std::optional<common::v1::StoredResponse>> recorded =
        s.GetRequest(writes.request()->first);
    if (!recorded.ok()) return recorded.status();
    if (recorded->has_value()) {
      if (!s.Expired(**recorded)) {
        return absl::AlreadyExistsError(
            absl::StrCat("request ", writes.request()->first, " is already recorded"));
      }
      replaced_at = (*recorded)->recorded_at_micros();
    }
  }

  uint64_t event_count = 0;
  uint64_t outbox_rows = writes.records().size();
  for (const WriteSet::Appended& a : writes.appended()) {
    event_count += a.events.size();
    if (!a.topic.empty()) outbox_rows += a.events.size();
  }
  // Events and plain records take positions; a record's has no event in the log.
  const uint64_t positions = event_count + writes.records().size();
  uint64_t first_position = 0;
  if (positions > 0) {
    absl::MutexLock lock(&s.positions_mu);
    first_position = s.last_position + 1;
    s.last_position += positions;
    s.in_flight.insert(first_position);
  }

  rocksdb::WriteBatch batch;
  uint64_t position = first_position;
  for (size_t i = 0; i < writes.appended().size(); ++i) {
    const WriteSet::Appended& a = writes.appended()[i];
    const std::string prefix = EventPrefix(a.aggregate_type, a.aggregate_id);
    for (const common::v1::EventEnvelope& e : a.events) {
      const std::string event_key = prefix + EncodeBE64(static_cast<uint64_t>(e.sequence()));
      const std::string envelope = e.SerializeAsString();
      const std::string position_key = EncodeBE64(position++);
      batch.Put(s.events, event_key, envelope);
      batch.Put(s.log, position_key, event_key);
      if (!a.topic.empty()) {
        common::v1::OutboxRecord record;
        record.set_topic(a.topic);
        record.set_key(a.aggregate_id);
        record.set_envelope(envelope);
        batch.Put(s.outbox, position_key, record.SerializeAsString());
      }
    }
    const int64_t version = a.expected_version + static_cast<int64_t>(a.events.size());
    batch.Put(s.state, aggregate_keys[i],
              EncodeBE64(static_cast<uint64_t>(version)) + a.state);
  }
  for (const WriteSet::Record& r : writes.records()) {
    common::v1::OutboxRecord record;
    record.set_topic(r.topic);
    record.set_key(r.key);
    record.set_plain(true);
    if (r.value.has_value()) {
      record.set_envelope(*r.value);
    } else {
      record.set_tombstone(true);
    }
    const std::string position_key = EncodeBE64(position++);
    batch.Put(s.outbox, position_key, record.SerializeAsString());
    // An empty log entry: the log keeps every position ever handed out, so none is given
    // twice, also after the record is delivered and the store reopened.
    batch.Put(s.log, position_key, "");
  }
  for (const WriteSet::Write& w : writes.writes()) {
    if (w.value.has_value()) {
      batch.Put(s.SpaceHandle(w.space), w.key, *w.value);
    } else {
      batch.Delete(s.SpaceHandle(w.space), w.key);
    }
  }
  for (const WriteSet::ClaimOp& c : writes.claims()) {
    if (c.owner.has_value()) {
      batch.Put(s.claims, c.key, *c.owner);
    } else {
      batch.Delete(s.claims, c.key);
    }
  }
  if (writes.purge()) {
    const auto purge_row = [&batch, &s](rocksdb::ColumnFamilyHandle* cf, absl::string_view key) {
      batch.Put(s.meta, absl::StrCat(Impl::kPurgePrefix, cf->GetName(), "/", key), "");
    };
    for (const std::string& k : aggregate_keys) purge_row(s.state, k);
    for (const WriteSet::Write& w : writes.writes()) purge_row(s.SpaceHandle(w.space), w.key);
    for (const WriteSet::ClaimOp& c : writes.claims()) purge_row(s.claims, c.key);
  }
  if (writes.request().has_value()) {
    const std::string& request_key = writes.request()->first;
    common::v1::StoredResponse record = writes.request()->second;
    record.set_recorded_at_micros(absl::ToUnixMicros(s.clock->Now()));
    if (replaced_at.has_value()) batch.Delete(s.requests, RequestExpiryKey(*replaced_at, request_key));
    batch.Put(s.requests, RequestRecordKey(request_key), record.SerializeAsString());
    batch.Put(s.requests, RequestExpiryKey(record.recorded_at_micros(), request_key), "");
  }

  s.outbox_depth.fetch_add(outbox_rows);
  // Not under any global lock: concurrent commits meet in RocksDB's write group, which writes
  // (and with sync, fsyncs) the WAL once for all of them.
  rocksdb::Status written = s.db->Write(s.write_options, &batch);
  if (positions > 0) {
    absl::MutexLock lock(&s.positions_mu);
    s.in_flight.erase(first_position);
  }
  if (!written.ok()) {
    s.outbox_depth.fetch_sub(outbox_rows);
    return FromRocks(written, "commit");
  }
  locks.Release();

  if (outbox_rows > 0) {
    absl::ReaderMutexLock lock(&s.listener_mu);
    if (s.listener) s.listener();
  }
  if (writes.purge()) {
    // The commit stands whatever the purge does: one that fails is retried by CheckWritable,
    // which reports the store unhealthy until it succeeds, and by the next Open.
    s.Purge().IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status Store::CheckWritable() {
  Impl& s = *impl_;
  const auto probe = [&s] {
    return s.db->Put(s.write_options, s.meta, "store/writable",
                     absl::StrCat(absl::ToUnixMicros(s.clock->Now())));
  };
  rocksdb::Status written = probe();
  // A failed write leaves RocksDB refusing writes until it is resumed; resuming fails as
  // long as the fault lasts.
  if (!written.ok() && s.db->Resume().ok()) written = probe();
  if (!written.ok()) return FromRocks(written, "probe write");
  return s.Purge();
}

absl::StatusOr<AggregateRecord> Store::Load(absl::string_view aggregate_type,
                                            absl::string_view aggregate_id) const {
  absl::StatusOr<std::optional<std::string>> raw =
      impl_->GetRaw(impl_->state, AggregateKey(aggregate_type, aggregate_id));
  if (!raw.ok()) return raw.status();
  AggregateRecord record;
  if (!raw->has_value()) return record;
  if ((*raw)->size() < 8) {
    return absl::InternalError(
        absl::StrCat("state of ", aggregate_type, "/", aggregate_id, " is truncated"));
  }
  record.version = static_cast<int64_t>(DecodeBE64(**raw));
  record.state = (*raw)->substr(8);
  return record;
}

absl::StatusOr<std::vector<common::v1::EventEnvelope>> Store::ReadEvents(
    absl::string_view aggregate_type, absl::string_view aggregate_id,
    int64_t after_sequence) const {
  const std::string prefix = EventPrefix(aggregate_type, aggregate_id);
  const std::string start =
      prefix + EncodeBE64(static_cast<uint64_t>(std::max<int64_t>(after_sequence, 0) + 1));
  std::vector<common::v1::EventEnvelope> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->events));
  for (it->Seek(start); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    common::v1::EventEnvelope& e = out.emplace_back();
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::InternalError(
          absl::StrCat("event of ", aggregate_type, "/", aggregate_id, " does not parse"));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read events");
  return out;
}

absl::Status Store::ForEachEvent(
    const std::function<bool(const common::v1::EventEnvelope&)>& fn) const {
  // One snapshot for the log and the events it points at, so a concurrent commit is either
  // wholly seen or not at all.
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Releaser {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Releaser() { db->ReleaseSnapshot(snapshot); }
  } releaser{impl_->db.get(), snapshot};
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read, impl_->log));
  std::string value;
  common::v1::EventEnvelope e;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().empty()) continue;  // a plain record's position (WriteSet::Publish)
    rocksdb::Status s = impl_->db->Get(read, impl_->events, it->value(), &value);
    if (!s.ok()) return FromRocks(s, "read logged event");
    if (!e.ParseFromString(value)) return absl::InternalError("logged event does not parse");
    if (!fn(e)) return absl::OkStatus();
  }
  return FromRocks(it->status(), "read log");
}

absl::StatusOr<std::optional<std::string>> Store::Get(Space space, absl::string_view key) const {
  return impl_->GetRaw(impl_->SpaceHandle(space), key);
}

absl::Status Store::Scan(
    Space space, absl::string_view prefix, absl::string_view start_after,
    const std::function<bool(absl::string_view key, absl::string_view value)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->SpaceHandle(space)));
  const bool after = !start_after.empty() && start_after >= prefix;
  it->Seek(ToSlice(after ? start_after : prefix));
  if (after && it->Valid() && ToView(it->key()) == start_after) it->Next();
  for (; it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (!fn(ToView(it->key()), ToView(it->value()))) return absl::OkStatus();
  }
  return FromRocks(it->status(), "scan");
}

absl::Status Store::DeletePrefix(Space space, absl::string_view prefix) {
  constexpr int kBatchRows = 1000;
  rocksdb::ColumnFamilyHandle* cf = impl_->SpaceHandle(space);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), cf));
  rocksdb::WriteBatch batch;
  int rows = 0;
  for (it->Seek(ToSlice(prefix)); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    batch.Delete(cf, it->key());
    if (++rows == kBatchRows) {
      rocksdb::Status s = impl_->db->Write(impl_->write_options, &batch);
      if (!s.ok()) return FromRocks(s, "delete prefix");
      batch.Clear();
      rows = 0;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "delete prefix");
  if (rows > 0) return FromRocks(impl_->db->Write(impl_->write_options, &batch), "delete prefix");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<common::v1::StoredResponse>> Store::FindRequest(
    absl::string_view request_key) const {
  absl::StatusOr<std::optional<common::v1::StoredResponse>> found =
      impl_->GetRequest(request_key);
  if (found.ok() && found->has_value() && impl_->Expired(**found)) {
    return std::optional<common::v1::StoredResponse>();
  }
  return found;
}

absl::StatusOr<int> Store::ExpireRequests(int limit) {
  Impl& s = *impl_;
  const int64_t cutoff = absl::ToUnixMicros(s.clock->Now() - s.options.request_retention);
  // The expiry entries of records recorded at or before the cutoff, oldest first.
  std::vector<std::pair<int64_t, std::string>> due;
  {
    std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.requests));
    for (it->Seek("t"); it->Valid() && StartsWith(it->key(), "t") &&
                        static_cast<int>(due.size()) < limit;
         it->Next()) {
      const absl::string_view key = ToView(it->key());
      if (key.size() < 9) continue;
      const int64_t at = static_cast<int64_t>(DecodeBE64(key.substr(1, 8)));
      if (at > cutoff) break;
      due.emplace_back(at, std::string(key.substr(9)));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan request expiry");
  }
  // In batches, each under the stripes of its requests like a commit that records one: a
  // record written again after it expired (with a later time) stays. Not synced: a deletion
  // lost in a crash is made again by the next pass.
  constexpr size_t kBatch = 500;
  int expired = 0;
  for (size_t begin = 0; begin < due.size(); begin += kBatch) {
    const size_t end = std::min(due.size(), begin + kBatch);
    std::vector<size_t> stripes;
    for (size_t i = begin; i < end; ++i) stripes.push_back(s.Stripe('r', due[i].second));
    StripeLocks locks(s.stripes, std::move(stripes));
    rocksdb::WriteBatch batch;
    for (size_t i = begin; i < end; ++i) {
      const auto& [at, request_key] = due[i];
      absl::StatusOr<std::optional<common::v1::StoredResponse>> record =
          s.GetRequest(request_key);
      if (!record.ok()) return record.status();
      batch.Delete(s.requests, RequestExpiryKey(at, request_key));
      if (record->has_value() && (*record)->recorded_at_micros() == at) {
        batch.Delete(s.requests, RequestRecordKey(request_key));
        ++expired;
      }
    }
    rocksdb::Status written = s.db->Write(rocksdb::WriteOptions(), &batch);
    if (!written.ok()) return FromRocks(written, "expire requests");
  }
  return expired;
}

absl::StatusOr<std::optional<std::string>> Store::ClaimOwner(absl::string_view key) const {
  return impl_->GetRaw(impl_->claims, key);
}

absl::StatusOr<std::vector<OutboxRow>> Store::ReadOutbox(size_t limit) const {
  Impl& s = *impl_;
  std::vector<OutboxRow> out;
  if (limit == 0) return out;
  // Below min(oldest position still being written, next position to be handed out), a row
  // that is not there now will never appear.
  uint64_t settled;
  {
    absl::MutexLock lock(&s.positions_mu);
    settled = s.in_flight.empty() ? s.last_position + 1 : *s.in_flight.begin();
  }
  const uint64_t floor = s.outbox_floor.load();
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.outbox));
  uint64_t first_seen = 0;
  for (it->Seek(EncodeBE64(floor)); it->Valid() && out.size() < limit; it->Next()) {
    OutboxRow& row = out.emplace_back();
    row.position = DecodeBE64(ToView(it->key()));
    if (first_seen == 0) first_seen = row.position;
    common::v1::OutboxRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::InternalError(absl::StrCat("outbox row ", row.position, " does not parse"));
    }
    row.topic = std::move(*record.mutable_topic());
    row.key = std::move(*record.mutable_key());
    row.value = std::move(*record.mutable_envelope());
    row.plain = record.plain();
    row.tombstone = record.tombstone();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read outbox");
  uint64_t next_floor = first_seen == 0 ? settled : std::min(first_seen, settled);
  // Only ever raised; a concurrent reader with an older view must not lower it.
  uint64_t current = floor;
  while (next_floor > current && !s.outbox_floor.compare_exchange_weak(current, next_floor)) {
  }
  return out;
}

absl::Status Store::RemoveFromOutbox(std::span<const uint64_t> positions) {
  Impl& s = *impl_;
  absl::MutexLock lock(&s.remove_mu);
  std::vector<uint64_t> sorted(positions.begin(), positions.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  rocksdb::WriteBatch batch;
  uint64_t removed = 0;
  std::string value;
  for (uint64_t p : sorted) {
    const std::string key = EncodeBE64(p);
    rocksdb::Status st = s.db->Get(rocksdb::ReadOptions(), s.outbox, key, &value);
    if (st.IsNotFound()) continue;
    if (!st.ok()) return FromRocks(st, "remove from outbox");
    batch.Delete(s.outbox, key);
    ++removed;
  }
  if (removed == 0) return absl::OkStatus();
  rocksdb::Status st = s.db->Write(s.write_options, &batch);
  if (!st.ok()) return FromRocks(st, "remove from outbox");
  s.outbox_depth.fetch_sub(removed);
  return absl::OkStatus();
}

const StoreOptions& Store::options() const { return impl_->options; }

uint64_t Store::OutboxDepth() const { return impl_->outbox_depth.load(); }

void Store::SetOutboxListener(std::function<void()> listener) {
  absl::MutexLock lock(&impl_->listener_mu);
  impl_->listener = std::move(listener);
}

}  // namespace cowork::eventstore
