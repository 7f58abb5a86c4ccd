#ifndef COWORK_LIBS_EVENTSTORE_KEY_VAULT_H_
#define COWORK_LIBS_EVENTSTORE_KEY_VAULT_H_

// Seal keys per data subject (a customer, a visitor), kept in the service's own Store
// (Space::kMeta, "pii/key/<operator>/<subject>"). Personal data in events is sealed with the
// subject's key (crypto::Seal, context = subject id); erasing the subject deletes the key, so
// every copy of those events — in Kafka, in backups, in replays — becomes unreadable while ids,
// amounts and times stay. The shared directory erases a customer's key in every service when
// the customers service's CustomerErased arrives.
//
// With a keys topic (StoreOptions::keys_topic), each key is also published through the outbox,
// in the commit that creates it, as a record "<operator>/<subject>" whose value is the key
// sealed with the store's key_wrapping_key; an erasure publishes a tombstone for it. The
// topic is compacted, so it holds the keys of the subjects not erased, and a restore from
// Kafka (kafka/restore.h) gets them back through Restore.
//
// Thread-safe: reads go to the Store; Ensure serialises key creation.
//
//   KeyVault vault(store);
//   std::string key = vault.Create(op, "v-1", writes);            // a new subject, same commit
//   ASSIGN_OR_RETURN(std::string key, vault.Ensure(op, "c-1"));   // an existing subject
//   ASSIGN_OR_RETURN(std::optional<std::string> key, vault.Get(op, "c-1"));  // nullopt: erased
//   KeyVault::Erase(op, "c-1", writes);

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventstore/store.h"

namespace cowork::eventstore {

class KeyVault {
 public:
  // Where the keys are in the store (Space::kMeta): kPrefix + "<operator>/<subject>".
  static constexpr absl::string_view kPrefix = "pii/key/";

  explicit KeyVault(Store& store) : store_(store) {}

  // The subject's key; nullopt when it was never created or has been erased.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view op,
                                                 absl::string_view subject) const;
  // A fresh key for a subject that the same commit creates (its id is new, so nothing races).
  std::string Create(absl::string_view op, absl::string_view subject, WriteSet& writes) const;
  // The subject's key, created and committed first when there is none (concurrent callers get
  // the same key). Call it only for subjects that exist and are not erased, and check that
  // again after it returns, before sealing: an erasure committed in between is then seen, and
  // one committed later deletes the key whatever it sealed.
  absl::StatusOr<std::string> Ensure(absl::string_view op, absl::string_view subject);
  // Deletes the key in `writes`: whatever was sealed with it stays unreadable for good. The
  // commit purges it (and every value the same commit overwrites) from the store's files
  // (WriteSet::PurgeOldValues), and the keys topic gets a tombstone.
  void Erase(absl::string_view op, absl::string_view subject, WriteSet& writes) const;

  // Publishes every key of the store to the keys topic once: the keys created before the store
  // had a keys topic (an upgrade). Remembers that it did (Space::kMeta "pii/published"), so
  // later calls publish nothing; a crash half-way publishes some keys again, which the
  // compacted topic absorbs. Nothing without a keys topic. Returns how many it published.
  absl::StatusOr<int> PublishExisting() const;

  // A record of the keys topic back into the store (a restore): the key it wraps, or none
  // when `wrapped` is nullopt (a tombstone). DATA_LOSS when the value does not open under the
  // store's key_wrapping_key; INVALID_ARGUMENT for a record key that is not
  // "<operator>/<subject>".
  absl::Status Restore(absl::string_view record_key, const std::optional<std::string>& wrapped,
                       WriteSet& writes) const;

 private:
  Store& store_;
  absl::Mutex create_mu_;
};

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_KEY_VAULT_H_
