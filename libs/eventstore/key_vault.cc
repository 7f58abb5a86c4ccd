#include "libs/eventstore/key_vault.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/crypto/crypto.h"
#include "libs/status/macros.h"

namespace cowork::eventstore {
namespace {

std::string KeyOf(absl::string_view op, absl::string_view subject) {
  return absl::StrCat("pii/key/", op, "/", subject);
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

void KeyVault::Erase(absl::string_view op, absl::string_view subject, WriteSet& writes) {
  writes.Delete(Space::kMeta, KeyOf(op, subject));
  // Deleted is not gone: the key's bytes stay in the log and table files until compacted.
  writes.PurgeOldValues();
}

}  // namespace cowork::eventstore
