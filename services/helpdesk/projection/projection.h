#ifndef COWORK_SERVICES_HELPDESK_PROJECTION_PROJECTION_H_
#define COWORK_SERVICES_HELPDESK_PROJECTION_PROJECTION_H_

// The helpdesk service's store (keys.h): staging a ticket's events with their texts sealed,
// reading tickets back with their texts opened, and the rebuild of the views.
//
// Personal data: subjects and message texts are sealed with the customer's key from the
// service's KeyVault (context = customer id) when they are staged, before they reach an event,
// the state, a view or a stored answer, and opened on read. Once the key is erased (the
// directory erases it when the customer is) they come back empty with `erased` set.
//
// Thread-safe: functions over the store, which serialises commits.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cowork/helpdesk/v1/helpdesk.pb.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/store.h"
#include "services/helpdesk/domain/ticket.h"

namespace cowork::helpdesk::projection {

// A ticket's events, their texts sealed with `key` (the customer's; nullopt: erased, and an
// event with texts is FAILED_PRECONDITION), with the ticket's views and one view per message
// they add (a reply writes its own message and the ticket's counters, never the conversation
// again). Returns the ticket after them.
absl::StatusOr<domain::TicketState> StageTicket(
    const eventstore::EnvelopeContext& context, absl::string_view ticket_id,
    absl::string_view location_id, const eventstore::Loaded<domain::TicketState>& before,
    domain::Events events, const std::optional<std::string>& key, eventstore::WriteSet& writes);

// The ticket as the API shows it, without its messages: texts opened with `key` (nullopt:
// erased, texts empty). DATA_LOSS for a text that does not open under a key that exists.
absl::StatusOr<v1::Ticket> TicketView(const domain::TicketState& t,
                                      const std::optional<std::string>& key);
// Adds the ticket's messages (at most domain::kMaxMessagesPerTicket), oldest first, opened
// with `key`; notes only with `with_notes`.
absl::Status AddMessages(const eventstore::Store& store, const domain::TicketState& t,
                         const std::optional<std::string>& key, bool with_notes,
                         v1::Ticket& out);

// Deletes this service's read views and writes them again from the event log.
absl::Status Rebuild(eventstore::Store& store);

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

}  // namespace cowork::helpdesk::projection

#endif  // COWORK_SERVICES_HELPDESK_PROJECTION_PROJECTION_H_
