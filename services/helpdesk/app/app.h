#ifndef COWORK_SERVICES_HELPDESK_APP_APP_H_
#define COWORK_SERVICES_HELPDESK_APP_APP_H_

// The application layer of the helpdesk service: one method per RPC (principal + request ->
// response or absl::Status). Each command loads its ticket, decides (domain/), and stages the
// events, the new state, the read views and the outbox rows (projection/, which seals the
// texts) in one WriteSet through eventstore::Execute (idempotent by request id).
//
// Aggregate: ticket (id "t-..."), owned by the operator: another operator's ticket is
// NOT_FOUND.
//
// Authorization: admins of the operator with helpdesk.write at the ticket's location (open for
// a customer, reply, note, close, reopen, priority) or helpdesk.read (get, lists); customers
// open tickets for themselves and read, reply to, close and reopen their own. Another
// customer's ticket is PERMISSION_DENIED. Customers never see internal notes.
//
// Personal data: texts are sealed with the customer's key when staged and opened on read
// (projection/projection.h).
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cowork/helpdesk/v1/helpdesk.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/key_vault.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"
#include "services/helpdesk/domain/ticket.h"

namespace cowork::helpdesk::app {

class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::Ticket> OpenTicket(const auth::Principal& p, const v1::OpenTicketRequest& r);
  absl::StatusOr<v1::Ticket> GetTicket(const auth::Principal& p,
                                       const v1::GetTicketRequest& r) const;
  absl::StatusOr<v1::ListTicketsResponse> ListTickets(const auth::Principal& p,
                                                      const v1::ListTicketsRequest& r) const;
  absl::StatusOr<v1::Ticket> ReplyToTicket(const auth::Principal& p,
                                           const v1::ReplyToTicketRequest& r);
  absl::StatusOr<v1::Ticket> AddTicketNote(const auth::Principal& p,
                                           const v1::AddTicketNoteRequest& r);
  absl::StatusOr<v1::Ticket> CloseTicket(const auth::Principal& p, const v1::CloseTicketRequest& r);
  absl::StatusOr<v1::Ticket> ReopenTicket(const auth::Principal& p,
                                          const v1::ReopenTicketRequest& r);
  absl::StatusOr<v1::Ticket> SetTicketPriority(const auth::Principal& p,
                                               const v1::SetTicketPriorityRequest& r);

 private:
  // What a change of an existing ticket decides, given who acts and the customer's standing.
  using Decide = absl::FunctionRef<absl::StatusOr<domain::Events>(
      const domain::TicketState&, const domain::Actor&, const domain::CustomerStanding&,
      absl::Time)>;
  // Runs a change of ticket `ticket_id` (request fields already checked): loads it, lets the
  // ticket's customer or an admin with helpdesk.write at its location act (`staff_only`: only
  // the admin), decides and commits.
  absl::StatusOr<v1::Ticket> Change(const auth::Principal& p, absl::string_view method,
                                    const google::protobuf::Message& request,
                                    absl::string_view ticket_id, bool staff_only, Decide decide);
  // The ticket as `p` may see it (texts opened, notes for admins only); PERMISSION_DENIED
  // unless `p` is its customer or an admin holding `permission` at its location.
  absl::StatusOr<v1::Ticket> TicketFor(const auth::Principal& p, const domain::TicketState& t,
                                       absl::string_view permission) const;

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  eventstore::KeyVault vault_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::helpdesk::app

#endif  // COWORK_SERVICES_HELPDESK_APP_APP_H_
