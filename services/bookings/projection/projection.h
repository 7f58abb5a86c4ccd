#ifndef COWORK_SERVICES_BOOKINGS_PROJECTION_PROJECTION_H_
#define COWORK_SERVICES_BOOKINGS_PROJECTION_PROJECTION_H_

// The bookings service's store (keys.h): loading what a command decides on, staging what it
// decided with its read views, the contracts consumer's views, and the rebuild of the views.
//
// Thread-safe: functions over the store, which serialises commits.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "services/bookings/domain/booking.h"
#include "services/bookings/domain/credit.h"
#include "services/bookings/domain/resource.h"

namespace cowork::bookings::projection {

template <typename State>
using Loaded = eventstore::Loaded<State>;

// ---------------------------------------------------------------- loading

// A resource's schedule days as loaded for one command: their versions (what the command
// decides on) and every booking holding the resource on them.
struct Schedules {
  std::map<std::string, Loaded<domain::ScheduleState>> days;  // by UTC day "YYYYMMDD"
  std::vector<domain::SlotTaken> slots;                       // each booking once
};
absl::StatusOr<Schedules> LoadSchedules(const eventstore::Store& store,
                                        absl::string_view resource_id,
                                        const std::vector<std::string>& utc_days);

// The contracts of a customer at a location, as the contracts events told.
absl::StatusOr<std::vector<domain::ContractCredit>> ContractsOf(const eventstore::Store& store,
                                                                absl::string_view op,
                                                                absl::string_view customer,
                                                                absl::string_view location);

// Booking credit a customer may use at a location on a day, by kind, with the credit
// accounts it comes from.
struct Wallet {
  std::vector<domain::CreditSource> own_plans, grants, team;
  std::map<std::string, Loaded<domain::CreditState>> accounts;  // by owner (customer id)
  // Every source in the order a booking uses them: own plans, grants, team mates' plans.
  std::vector<domain::CreditSource> InOrder() const;
};
absl::StatusOr<Wallet> OpenWallet(const eventstore::Store& store,
                                  const directory::Directory& directory, absl::string_view op,
                                  absl::string_view customer, absl::string_view location,
                                  absl::CivilDay day);

// The resources of a location (id and capacity), from their views.
absl::StatusOr<std::vector<domain::ResourceState>> ResourcesAt(const eventstore::Store& store,
                                                              absl::string_view op,
                                                              absl::string_view location);

// ---------------------------------------------------------------- staging

// A resource's events with its views. Returns the state after them.
domain::ResourceState StageResource(const eventstore::EnvelopeContext& context,
                                    absl::string_view resource_id, absl::string_view location_id,
                                    const Loaded<domain::ResourceState>& before,
                                    domain::Events events, eventstore::WriteSet& writes);

// A credit account's events (the account of `customer_id` at `location_id`).
domain::CreditState StageCredit(const eventstore::EnvelopeContext& context,
                                absl::string_view location_id, absl::string_view customer_id,
                                const Loaded<domain::CreditState>& before, domain::Events events,
                                eventstore::WriteSet& writes);

// A booking command's events: the schedule days' (unpublished) against `schedules`, the
// credit accounts' against `accounts` (by owner), the booking's against `before`, and the
// booking's views in the location's time zone `tz`. Schedule days and accounts the command
// did not read are loaded here. Returns the booking after them.
absl::StatusOr<domain::BookingState> StageBooking(
    const eventstore::Store& store, const eventstore::EnvelopeContext& context,
    const Loaded<domain::BookingState>& before, domain::BookingEvents events,
    const Schedules& schedules, const std::map<std::string, Loaded<domain::CreditState>>& accounts,
    absl::TimeZone tz, eventstore::WriteSet& writes);

// ---------------------------------------------------------------- contracts consumer

// The contracts events that carry plan credit (ContractSigned, ContractCancelled,
// ContractEnded) kept as ContractCredit views.
void SubscribeToContracts(const eventstore::Store& store, kafka::EventConsumer& consumer);
// Forgets them before a re-read from offset zero.
absl::Status ResetContracts(eventstore::Store& store);
// One contracts event as the consumer hands it over (tests feed it directly).
absl::Status OnContractEvent(const eventstore::Store& store,
                             const common::v1::EventEnvelope& envelope,
                             const google::protobuf::Message& payload,
                             eventstore::WriteSet& writes);

// ---------------------------------------------------------------- rebuild

// Deletes this service's own read views (resources and bookings) and writes them again from
// the event log.
absl::Status Rebuild(eventstore::Store& store, const directory::Directory& directory);

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

// Stages the schedule days of the bookings that have none (domain::SlotsHeldBy): after a
// restore from the topic, which does not carry the schedules' own (unpublished) events. A
// store whose schedules are all there is left as it is.
absl::Status RestoreSchedules(eventstore::Store& store, absl::Time now);

}  // namespace cowork::bookings::projection

#endif  // COWORK_SERVICES_BOOKINGS_PROJECTION_PROJECTION_H_
