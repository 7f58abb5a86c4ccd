#ifndef COWORK_SERVICES_CUSTOMERS_PROJECTION_PROJECTION_H_
#define COWORK_SERVICES_CUSTOMERS_PROJECTION_PROJECTION_H_

// The customers service's side of its event store: loading aggregates, and the one write
// path that turns a command's domain events into a commit — sealed payloads, envelopes, the
// new aggregate state, the read views (keys.h), the email claims, the customer's seal key and
// the directory projection (libs/directory), all in the caller's WriteSet. Also the rebuild
// of every view from the event log.
//
// Personal data: a customer's events carry it sealed with the customer's own key
// (crypto::Seal, context = customer id), created in the commit that adds the customer and
// kept only here (Space::kMeta, pii/key/<operator>/<customer>). Erasure deletes the key,
// scrubs the views and releases the email claim in the erasing commit: from then on every
// sealed field of that customer, in Kafka, in replays or in this store's log, is unreadable.
//
// Thread-safe: holds no mutable state; concurrency is the Store's (expected versions, claims).
// Errors: what the Store returns; FAILED_PRECONDITION when a customer's key is needed but
// gone; INTERNAL for a stored state that does not parse.
//
//   Projection projection(*store, directory);
//   ASSIGN_OR_RETURN(auto customer, projection.LoadCustomer("c-1"));
//   ASSIGN_OR_RETURN(domain::Events events, domain::Decide(customer.state, command, now));
//   WriteSet writes;
//   ASSIGN_OR_RETURN(domain::CustomerState after,
//                    projection.StageCustomer(context, customer, std::move(events), writes));
//   RETURN_IF_ERROR(store->Commit(std::move(writes)));

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cowork/common/v1/envelope.pb.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/key_vault.h"
#include "libs/eventstore/store.h"
#include "services/customers/domain/events.h"
#include "services/customers/domain/state.pb.h"

namespace cowork::customers::projection {

inline constexpr absl::string_view kTopic = "cowork.customers.events";
inline constexpr absl::string_view kService = "customers";

using eventstore::Loaded;

class Projection {
 public:
  Projection(eventstore::Store& store, const directory::Directory& directory)
      : store_(store), directory_(directory), vault_(store) {}

  absl::StatusOr<Loaded<domain::OperatorState>> LoadOperator(absl::string_view operator_id) const;
  absl::StatusOr<Loaded<domain::LocationState>> LoadLocation(absl::string_view location_id) const;
  absl::StatusOr<Loaded<domain::CustomerState>> LoadCustomer(absl::string_view customer_id) const;
  absl::StatusOr<Loaded<domain::TeamState>> LoadTeam(absl::string_view team_id) const;

  // The customer's seal key, or nullopt once erased (or never added).
  absl::StatusOr<std::optional<std::string>> SealKey(absl::string_view operator_id,
                                                     absl::string_view customer_id) const;

  // Adds everything `events` (decided on `before`) commit to `writes` and returns the state
  // after them. No events: nothing is added. A new customer's seal key is created in the
  // same commit.
  absl::StatusOr<domain::OperatorState> StageOperator(
      const eventstore::EnvelopeContext& context, const Loaded<domain::OperatorState>& before,
      domain::Events events, eventstore::WriteSet& writes) const;
  absl::StatusOr<domain::LocationState> StageLocation(
      const eventstore::EnvelopeContext& context, const Loaded<domain::LocationState>& before,
      domain::Events events, eventstore::WriteSet& writes) const;
  absl::StatusOr<domain::CustomerState> StageCustomer(
      const eventstore::EnvelopeContext& context, const Loaded<domain::CustomerState>& before,
      domain::Events events, eventstore::WriteSet& writes) const;
  absl::StatusOr<domain::TeamState> StageTeam(const eventstore::EnvelopeContext& context,
                                              const Loaded<domain::TeamState>& before,
                                              domain::Events events,
                                              eventstore::WriteSet& writes) const;

  // Deletes every view of this service (and the directory's) and recomputes them from the
  // event log. Call before serving (nothing else may write meanwhile).
  absl::Status Rebuild() const;

  // The domain form of a stored event: payload decoded, sealed fields opened when the
  // customer's key still exists. nullopt for payload types this service does not know.
  absl::StatusOr<std::optional<domain::Event>> FromEnvelope(
      const common::v1::EventEnvelope& envelope) const;

 private:
  // The customer's views and email claim (CustomerViews), and the erasure of their key once
  // they are erased.
  void WriteCustomer(const domain::CustomerState& before, const domain::CustomerState& after,
                     eventstore::WriteSet& writes) const;
  template <typename State, typename LocationOf, typename Views>
  absl::StatusOr<State> Stage(const eventstore::EnvelopeContext& context,
                              absl::string_view aggregate_type, absl::string_view aggregate_id,
                              const Loaded<State>& before, domain::Events events,
                              absl::string_view seal_key, eventstore::WriteSet& writes,
                              LocationOf location_of, Views views) const;

  eventstore::Store& store_;
  const directory::Directory& directory_;
  mutable eventstore::KeyVault vault_;
};

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

}  // namespace cowork::customers::projection

#endif  // COWORK_SERVICES_CUSTOMERS_PROJECTION_PROJECTION_H_
