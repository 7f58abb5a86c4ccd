#ifndef COWORK_LIBS_KAFKA_RESTORE_H_
#define COWORK_LIBS_KAFKA_RESTORE_H_

// Rebuilding a service's store from Kafka after its volume is lost (--restore-from-topic):
// every event of the service's own topic back into the event log, each aggregate's state
// folded again from them (eventstore::Folds), and every seal key of its keys topic back into
// the KeyVault. What the service derives from those (read views, claims, its due index) and
// the projections of other services' topics are rebuilt afterwards by the usual rebuild and
// consumers (runtime::Runtime::Restore).
//
// The events topic: every partition must still start at offset 0 (the topics keep their
// history for good; a partition that lost its start is refused: FAILED_PRECONDITION). The
// partitions are merged in the order the events occurred (each partition in its own order, so
// an aggregate's events stay in sequence), and each aggregate's events must follow one
// another without a gap (DATA_LOSS otherwise); a copy of an event already imported — left by
// a relay before it checked the topics' tails — is skipped and counted. A message that is not
// an event envelope is DATA_LOSS, naming its partition and offset.
//
// The messages are first staged in the store (Space::kMeta "restore/staged/...", deleted at
// the end), so memory holds only an index of 16 bytes per event, and the store is written in
// commits of `batch` events.
//
// The keys topic (compacted): the last record of each key wins; a tombstone means erased.
//
// Not thread-safe: run once, on a store nothing else writes yet.
//
//   ASSIGN_OR_RETURN(RestoreStats stats,
//                    RestoreFromTopics(store, kafka, {.events_topic = TopicFor("customers"),
//                                                     .keys_topic = "cowork.customers.keys",
//                                                     .folds = &folds}));

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"

namespace cowork::kafka {

struct RestoreOptions {
  std::string events_topic;                    // required
  std::string keys_topic;                      // empty: the service keeps no keys
  const eventstore::Folds* folds = nullptr;    // required; must know every aggregate type
  int batch = 1000;                            // events (and staged messages, keys) per commit
  absl::Duration timeout = absl::Seconds(30);  // bound of the topics' metadata queries
};

struct RestoreStats {
  int64_t events = 0;      // imported into the log
  int64_t copies = 0;      // messages skipped: an event already imported
  int64_t aggregates = 0;  // aggregates whose state was folded
  int64_t keys = 0;        // seal keys restored (tombstones excluded)
};

absl::StatusOr<RestoreStats> RestoreFromTopics(eventstore::Store& store, const KafkaOptions& kafka,
                                               const RestoreOptions& options);

}  // namespace cowork::kafka

#endif  // COWORK_LIBS_KAFKA_RESTORE_H_
