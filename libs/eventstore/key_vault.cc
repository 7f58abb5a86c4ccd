#include "libs/eventstore/key_vault.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/crypto/crypto.h"
#include "libs/status/macros.h"

namespace cowork::eventstore {
namespace {

// The subject's record on the keys topic; its key in the store is kPrefix + the record key.
std::string RecordKey(absl::string_view op, absl::string_view subject) {
  return absl::StrCat(op, "/", subject);
}

std::string KeyOf(absl::string_view op, absl::string_view subject) {
  return absl::StrCat(KeyVault::kPrefix, RecordKey(op, subject));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> KeyVault::Get(absl::string_view op,
                                                         absl::string_view subject) const {
  return store_.Get(Space::kMeta, KeyOf(op, subject));
}

std::string KeyVault::Create(absl::string_view op, absl::string_view subject,
                             WriteSet& writes) const {
  std::string key = crypto::NewSealKey();
  writes.Put(Space::kMeta, KeyOf(op, subject), key);
  const StoreOptions& options = store_.options();
  if (!options.keys_topic.empty()) {
    const std::string record = RecordKey(op, subject);
    writes.Publish(options.keys_topic, record, crypto::Seal(options.key_wrapping_key, record, key));
  }
  return key;
}

absl::StatusOr<std::string> KeyVault::Ensure(absl::string_view op, absl::string_view subject) {
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key, Get(op, subject));
  if (key.has_value()) return *std::move(key);
  absl::MutexLock lock(&create_mu_);
  COWORK_ASSIGN_OR_RETURN(key, Get(op, subject));
  if (key.has_value()) return *std::move(key);
  WriteSet writes;
  std::string created = Create(op, subject, writes);
  COWORK_RETURN_IF_ERROR(store_.Commit(std::move(writes)));
  return created;
}

void KeyVault::Erase(absl::string_view op, absl::string_view subject, WriteSet& writes) const {
  writes.Delete(Space::kMeta, KeyOf(op, subject));
  // Deleted is not gone: the key's bytes stay in the log and table files until compacted.
  writes.PurgeOldValues();
  const StoreOptions& options = store_.options();
  if (!options.keys_topic.empty()) {
    writes.Publish(options.keys_topic, RecordKey(op, subject), std::nullopt);
  }
}

absl::StatusOr<int> KeyVault::PublishExisting() const {
  constexpr absl::string_view kPublished = "pii/published";
  constexpr int kBatch = 500;
  const StoreOptions& options = store_.options();
  if (options.keys_topic.empty()) return 0;
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> done, store_.Get(Space::kMeta, kPublished));
  if (done.has_value()) return 0;
  int published = 0;
  WriteSet writes;
  absl::Status failed;
  COWORK_RETURN_IF_ERROR(
      store_.Scan(Space::kMeta, kPrefix, "", [&](absl::string_view key, absl::string_view value) {
        const absl::string_view record = key.substr(kPrefix.size());
        writes.Publish(options.keys_topic, std::string(record),
                       crypto::Seal(options.key_wrapping_key, record, value));
        if (++published % kBatch != 0) return true;
        failed = store_.Commit(std::move(writes));
        writes = WriteSet();
        return failed.ok();
      }));
  COWORK_RETURN_IF_ERROR(failed);
  writes.Put(Space::kMeta, std::string(kPublished), "");
  COWORK_RETURN_IF_ERROR(store_.Commit(std::move(writes)));
  return published;
}

absl::Status KeyVault::Restore(absl::string_view record_key,
                               const std::optional<std::string>& wrapped, WriteSet& writes) const {
  const size_t slash = record_key.find('/');
  if (slash == 0 || slash == absl::string_view::npos || slash + 1 == record_key.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key record \"", record_key, "\" is not <operator>/<subject>"));
  }
  const std::string key = absl::StrCat(kPrefix, record_key);
  if (!wrapped.has_value()) {
    writes.Delete(Space::kMeta, key);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> opened =
      crypto::Open(store_.options().key_wrapping_key, record_key, *wrapped);
  if (!opened.ok()) {
    return absl::DataLossError(
        absl::StrCat("the key of ", record_key, " does not open under the key-wrapping key"));
  }
  writes.Put(Space::kMeta, key, *std::move(opened));
  return absl::OkStatus();
}

}  // namespace cowork::eventstore
