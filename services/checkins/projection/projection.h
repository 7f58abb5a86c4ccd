#ifndef COWORK_SERVICES_CHECKINS_PROJECTION_PROJECTION_H_
#define COWORK_SERVICES_CHECKINS_PROJECTION_PROJECTION_H_

// The checkins service's store (keys.h): loading presences, policies and visitors, staging
// their events with the views they change, reading visitors with their personal data opened,
// and the rebuild of the views.
//
// Personal data: a visitor's name and email are sealed with the visitor's own key (KeyVault,
// context = visitor id) when VisitorRegistered is staged; erasing the visitor deletes the key
// in the same commit.
//
// Thread-safe: functions over the store, which serialises commits.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cowork/checkins/v1/checkins.pb.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/key_vault.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/store.h"
#include "services/checkins/domain/presence.h"
#include "services/checkins/domain/visitors.h"

namespace cowork::checkins::projection {

template <typename State>
using Loaded = eventstore::Loaded<State>;

// ---------------------------------------------------------------- check-ins

v1::CheckInRecord RecordOf(const v1::CheckedIn& e);

// The presence of a customer of the operator (empty when they never checked in).
absl::StatusOr<Loaded<domain::PresenceState>> PresenceOf(const eventstore::Store& store,
                                                         absl::string_view op,
                                                         absl::string_view customer_id);
// Stages presence events with the views they change; returns the record of the last one.
absl::StatusOr<v1::CheckInRecord> StagePresence(const eventstore::EnvelopeContext& context,
                                                directory::ZoneCache& zones,
                                                absl::string_view customer_id,
                                                const Loaded<domain::PresenceState>& before,
                                                domain::Events events,
                                                eventstore::WriteSet& writes);

absl::StatusOr<Loaded<domain::PolicyState>> PolicyOf(const eventstore::Store& store,
                                                     absl::string_view op,
                                                     absl::string_view location_id);
// The policy as the API shows it (the default while none was set).
v1::CheckoutPolicy PolicyView(absl::string_view location_id,
                              const Loaded<domain::PolicyState>& policy);
// Stages a policy's events; returns it after them.
Loaded<domain::PolicyState> StagePolicy(const eventstore::EnvelopeContext& context,
                                        absl::string_view location_id,
                                        const Loaded<domain::PolicyState>& before,
                                        domain::Events events, eventstore::WriteSet& writes);

// Deletes the check-in views and writes them again from the event log.
absl::Status RebuildCheckins(eventstore::Store& store, const directory::Directory& directory);

// ---------------------------------------------------------------- visitors

// Stages a visitor's events with the views they change: the personal data of
// VisitorRegistered sealed with `key` (the visitor's), and on erasure the key's deletion
// from `vault`. Returns the state after them.
absl::StatusOr<domain::VisitorState> StageVisitor(
    const eventstore::EnvelopeContext& context, const directory::Directory& directory,
    const eventstore::KeyVault& vault, absl::string_view visitor_id, absl::string_view location_id,
    const Loaded<domain::VisitorState>& before, domain::Events events,
    const std::optional<std::string>& key, eventstore::WriteSet& writes);

// The visitor as the API shows it, name and email opened (erased: left empty).
absl::StatusOr<v1::Visitor> VisitorOf(const eventstore::KeyVault& vault,
                                      const domain::VisitorState& state);

// Deletes the visitor views and writes them again from the event log.
absl::Status RebuildVisitors(eventstore::Store& store, const directory::Directory& directory);

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

}  // namespace cowork::checkins::projection

#endif  // COWORK_SERVICES_CHECKINS_PROJECTION_PROJECTION_H_
