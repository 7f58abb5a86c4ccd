#include "services/helpdesk/app/app.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/helpdesk/projection/keys.h"
#include "services/helpdesk/projection/projection.h"

namespace cowork::helpdesk::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::WriteSet;

eventstore::EnvelopeContext Context(absl::string_view op, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(projection::kService, op, request_id, now);
}

domain::Actor ActorOf(const auth::Principal& p) {
  return {p.is_customer() ? v1::CUSTOMER : v1::STAFF, p.subject};
}

// The customer's standing for the decisions; an erased key counts as erased whatever the
// directory knows yet.
absl::StatusOr<domain::CustomerStanding> StandingOf(const directory::Directory& directory,
                                                    absl::string_view op,
                                                    absl::string_view customer_id,
                                                    const std::optional<std::string>& key) {
  COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                          directory.GetCustomer(op, customer_id));
  return domain::CustomerStanding{
      .suspended = standing.has_value() && standing->suspended,
      .erased = !key.has_value() || (standing.has_value() && standing->erased)};
}

absl::StatusOr<Loaded<domain::TicketState>> TicketOf(const eventstore::Store& store,
                                                     absl::string_view op,
                                                     absl::string_view ticket_id) {
  return eventstore::LoadOwned<domain::TicketState>(store, projection::kTicketAggregate, op,
                                                    ticket_id, "ticket");
}

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store),
      directory_(directory),
      clock_(clock),
      vault_(store),
      authn_(verifier, directory) {}

absl::StatusOr<v1::Ticket> App::TicketFor(const auth::Principal& p, const domain::TicketState& t,
                                          absl::string_view permission) const {
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, permission, t.location_id(), t.customer_id()));
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                          vault_.Get(t.operator_id(), t.customer_id()));
  COWORK_ASSIGN_OR_RETURN(v1::Ticket out, projection::TicketView(t, key));
  COWORK_RETURN_IF_ERROR(projection::AddMessages(store_, t, key, p.is_admin(), out));
  return out;
}

// ---------------------------------------------------------------- opening

absl::StatusOr<v1::Ticket> App::OpenTicket(const auth::Principal& p,
                                           const v1::OpenTicketRequest& r) {
  const std::string customer_id =
      r.customer_id().empty() && p.is_customer() ? p.subject : r.customer_id();
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  validation::CheckId(customer_id, "customer_id", errors);
  validation::CheckId(r.location_id(), "location_id", errors);
  domain::CheckOpening(r.subject(), r.message(), r.priority(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kHelpdeskWrite, r.location_id(), customer_id));
  COWORK_ASSIGN_OR_RETURN(
      const domain::TicketState ticket,
      eventstore::Execute<domain::TicketState>(
          store_, runtime::RequestOf(p, "OpenTicket", r),
          [&]() -> absl::StatusOr<Decided<domain::TicketState>> {
            COWORK_RETURN_IF_ERROR(
                directory_.FindLocation(p.operator_id, r.location_id()).status());
            COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                                    directory_.GetCustomer(p.operator_id, customer_id));
            if (!standing.has_value() || standing->erased) {
              return absl::NotFoundError(absl::StrCat("customer ", customer_id, " not found"));
            }
            COWORK_ASSIGN_OR_RETURN(const std::string key,
                                    vault_.Ensure(p.operator_id, customer_id));
            // Read again after the key: an erasure that landed meanwhile is seen here, and one
            // landing later deletes the key this text is sealed with.
            COWORK_ASSIGN_OR_RETURN(standing, directory_.GetCustomer(p.operator_id, customer_id));
            if (!standing.has_value() || standing->erased) {
              return absl::NotFoundError(absl::StrCat("customer ", customer_id, " not found"));
            }
            const absl::Time now = clock_.Now();
            const domain::OpenTicket open{.ticket_id = crypto::NewId("t-"),
                                          .message_id = crypto::NewId("m-"),
                                          .customer_id = customer_id,
                                          .location_id = r.location_id(),
                                          .subject = r.subject(),
                                          .message = r.message(),
                                          .priority = r.priority(),
                                          .by = ActorOf(p),
                                          .customer = {.suspended = standing->suspended}};
            COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                    domain::Decide(domain::TicketState(), open, now));
            WriteSet writes;
            COWORK_ASSIGN_OR_RETURN(
                const domain::TicketState after,
                projection::StageTicket(Context(p.operator_id, r.request_id(), now),
                                        open.ticket_id, r.location_id(),
                                        Loaded<domain::TicketState>(), std::move(events), key,
                                        writes));
            return Decided<domain::TicketState>{std::move(writes), after};
          },
          // TicketFor authorizes the answer below, a replayed one too.
          eventstore::NoReauthorization<domain::TicketState>));
  return TicketFor(p, ticket, auth::kHelpdeskWrite);
}

// ---------------------------------------------------------------- changes

absl::StatusOr<v1::Ticket> App::Change(const auth::Principal& p, absl::string_view method,
                                       const google::protobuf::Message& message,
                                       absl::string_view ticket_id, bool staff_only,
                                       Decide decide) {
  const eventstore::Request request = runtime::RequestOf(p, method, message);
  const std::string& request_id = request.request_id;
  // Before any read: a token that can never act here is refused whatever the ticket.
  if (staff_only || !p.is_customer()) {
    COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kHelpdeskWrite));
  }
  COWORK_ASSIGN_OR_RETURN(
      const domain::TicketState ticket,
      eventstore::Execute<domain::TicketState>(
          store_, request,
          [&]() -> absl::StatusOr<Decided<domain::TicketState>> {
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::TicketState> before,
                                    TicketOf(store_, p.operator_id, ticket_id));
            const domain::TicketState& t = before.state;
            COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kHelpdeskWrite,
                                                            t.location_id(), t.customer_id()));
            COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                                    vault_.Get(p.operator_id, t.customer_id()));
            COWORK_ASSIGN_OR_RETURN(
                const domain::CustomerStanding standing,
                StandingOf(directory_, p.operator_id, t.customer_id(), key));
            const absl::Time now = clock_.Now();
            COWORK_ASSIGN_OR_RETURN(domain::Events events, decide(t, ActorOf(p), standing, now));
            WriteSet writes;
            COWORK_ASSIGN_OR_RETURN(
                const domain::TicketState after,
                projection::StageTicket(Context(p.operator_id, request_id, now), ticket_id,
                                        t.location_id(), before, std::move(events), key, writes));
            return Decided<domain::TicketState>{std::move(writes), after};
          },
          // TicketFor authorizes the answer below, a replayed one too.
          eventstore::NoReauthorization<domain::TicketState>));
  return TicketFor(p, ticket, auth::kHelpdeskWrite);
}

absl::StatusOr<v1::Ticket> App::ReplyToTicket(const auth::Principal& p,
                                              const v1::ReplyToTicketRequest& r) {
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  validation::CheckId(r.ticket_id(), "ticket_id", errors);
  domain::CheckMessage(r.message(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  return Change(p, "ReplyToTicket", r, r.ticket_id(), /*staff_only=*/false,
                [&](const domain::TicketState& t, const domain::Actor& by,
                    const domain::CustomerStanding& customer, absl::Time now) {
                  return domain::Decide(t,
                                        domain::PostMessage{.message_id = crypto::NewId("m-"),
                                                            .kind = v1::REPLY,
                                                            .message = r.message(),
                                                            .by = by,
                                                            .customer = customer},
                                        now);
                });
}

absl::StatusOr<v1::Ticket> App::AddTicketNote(const auth::Principal& p,
                                              const v1::AddTicketNoteRequest& r) {
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  validation::CheckId(r.ticket_id(), "ticket_id", errors);
  domain::CheckMessage(r.message(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  return Change(p, "AddTicketNote", r, r.ticket_id(), /*staff_only=*/true,
                [&](const domain::TicketState& t, const domain::Actor& by,
                    const domain::CustomerStanding& customer, absl::Time now) {
                  return domain::Decide(t,
                                        domain::PostMessage{.message_id = crypto::NewId("m-"),
                                                            .kind = v1::NOTE,
                                                            .message = r.message(),
                                                            .by = by,
                                                            .customer = customer},
                                        now);
                });
}

absl::StatusOr<v1::Ticket> App::CloseTicket(const auth::Principal& p,
                                            const v1::CloseTicketRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"ticket_id", r.ticket_id()}}));
  return Change(p, "CloseTicket", r, r.ticket_id(), /*staff_only=*/false,
                [](const domain::TicketState& t, const domain::Actor& by,
                   const domain::CustomerStanding& customer, absl::Time now) {
                  return domain::Decide(t, domain::CloseTicket{by, customer}, now);
                });
}

absl::StatusOr<v1::Ticket> App::ReopenTicket(const auth::Principal& p,
                                             const v1::ReopenTicketRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"ticket_id", r.ticket_id()}}));
  return Change(p, "ReopenTicket", r, r.ticket_id(), /*staff_only=*/false,
                [](const domain::TicketState& t, const domain::Actor& by,
                   const domain::CustomerStanding& customer, absl::Time now) {
                  return domain::Decide(t, domain::ReopenTicket{by, customer}, now);
                });
}

absl::StatusOr<v1::Ticket> App::SetTicketPriority(const auth::Principal& p,
                                                  const v1::SetTicketPriorityRequest& r) {
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  validation::CheckId(r.ticket_id(), "ticket_id", errors);
  domain::CheckPriority(r.priority(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  return Change(p, "SetTicketPriority", r, r.ticket_id(), /*staff_only=*/true,
                [&](const domain::TicketState& t, const domain::Actor& by,
                    const domain::CustomerStanding&, absl::Time now) {
                  return domain::Decide(t, domain::SetTicketPriority{r.priority(), by}, now);
                });
}

// ---------------------------------------------------------------- reads

absl::StatusOr<v1::Ticket> App::GetTicket(const auth::Principal& p,
                                          const v1::GetTicketRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"ticket_id", r.ticket_id()}}));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::TicketState> ticket,
                          TicketOf(store_, p.operator_id, r.ticket_id()));
  return TicketFor(p, ticket.state, auth::kHelpdeskRead);
}

absl::StatusOr<v1::ListTicketsResponse> App::ListTickets(const auth::Principal& p,
                                                         const v1::ListTicketsRequest& r) const {
  // A customer's portal lists their own tickets without naming themself.
  const std::string customer_id =
      r.customer_id().empty() && r.location_id().empty() && p.is_customer() ? p.subject
                                                                             : r.customer_id();
  FieldErrors errors;
  if (!customer_id.empty() && !r.location_id().empty()) {
    errors.Add("customer_id", "give customer_id or location_id, not both");
  } else if (!customer_id.empty()) {
    validation::CheckId(customer_id, "customer_id", errors);
  } else {
    validation::CheckId(r.location_id(), "location_id", errors);
  }
  if (!v1::TicketStatus_IsValid(r.status())) {
    errors.Add("status", "must be OPEN, AWAITING_CUSTOMER, CLOSED or unspecified (every status)");
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  std::string prefix;
  if (!customer_id.empty()) {
    COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kHelpdeskRead, customer_id));
    prefix = projection::TicketsOfPrefix(p.operator_id, customer_id);
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kHelpdeskRead, r.location_id()));
    COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
    prefix = projection::TicketsAtPrefix(p.operator_id, r.location_id());
  }
  const v1::TicketStatus status = r.status();
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<domain::TicketState> page,
      runtime::PageFor<domain::TicketState>(
          store_, p, prefix, r.page_token(), r.page_size(), eventstore::kMaxScan,
          [status](const domain::TicketState& t) {
            return status == v1::TICKET_STATUS_UNSPECIFIED || t.status() == status;
          }));
  v1::ListTicketsResponse out;
  std::map<std::string, std::optional<std::string>> keys;  // by customer: one read each
  COWORK_RETURN_IF_ERROR(
      eventstore::MovePage(std::move(page), *out.mutable_tickets(), out,
                           [&](const domain::TicketState& t) -> absl::StatusOr<v1::Ticket> {
                             auto it = keys.find(t.customer_id());
                             if (it == keys.end()) {
                               COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                                                       vault_.Get(p.operator_id, t.customer_id()));
                               it = keys.emplace(t.customer_id(), std::move(key)).first;
                             }
                             return projection::TicketView(t, it->second);
                           }));
  return out;
}

}  // namespace cowork::helpdesk::app
