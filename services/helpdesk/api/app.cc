#include "services/helpdesk/api/app.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"

namespace cowork::helpdesk::api {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;
using eventstore::WriteViews;

constexpr absl::string_view kTopic = "cowork.helpdesk.events";
constexpr absl::string_view kTicketAggregate = "ticket";
constexpr absl::string_view kViewPrefixes[] = {"tkloc/", "tkcust/", "tkmsg/"};

eventstore::EnvelopeContext Context(absl::string_view op, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(kService, op, request_id, now);
}

// ---------------------------------------------------------------- views

std::string LocationPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("tkloc/", op, "/", location, "/");
}
std::string CustomerPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("tkcust/", op, "/", customer, "/");
}

std::string MessagePrefix(absl::string_view op, absl::string_view ticket) {
  return absl::StrCat("tkmsg/", op, "/", ticket, "/");
}
// The `index`th message of a ticket (0: the opening one).
std::string MessageKey(absl::string_view op, absl::string_view ticket, int index) {
  return absl::StrFormat("%s%06d", MessagePrefix(op, ticket), index);
}

// The views of a ticket: its state (counters, no messages), by location and by customer, in
// order of opening.
Views ViewsOf(const domain::TicketState& t) {
  if (t.ticket_id().empty()) return {};
  const std::string value = t.SerializeAsString();
  const std::string tail =
      absl::StrFormat("%012d/%s", t.open_time().seconds(), t.ticket_id());
  return {{LocationPrefix(t.operator_id(), t.location_id()) + tail, value},
          {CustomerPrefix(t.operator_id(), t.customer_id()) + tail, value}};
}

// ---------------------------------------------------------------- reading

// Opens one sealed text with the customer's key; nullopt when the key is gone (erased).
// A text that does not open under a key that exists was damaged: DATA_LOSS.
absl::StatusOr<std::optional<std::string>> Opened(const std::optional<std::string>& key,
                                                  const domain::TicketState& t,
                                                  absl::string_view sealed) {
  if (!key.has_value()) return std::optional<std::string>();
  absl::StatusOr<std::string> clear = crypto::Open(*key, t.customer_id(), sealed);
  if (!clear.ok()) {
    return absl::DataLossError(absl::StrCat("a text of ticket ", t.ticket_id(), " does not open"));
  }
  return std::optional<std::string>(*std::move(clear));
}

// The ticket as the API shows it, without its messages: texts opened with `key` (nullopt:
// erased, texts empty).
absl::StatusOr<v1::Ticket> TicketView(const domain::TicketState& t,
                                      const std::optional<std::string>& key) {
  v1::Ticket out;
  out.set_ticket_id(t.ticket_id());
  out.set_customer_id(t.customer_id());
  out.set_location_id(t.location_id());
  out.set_priority(t.priority());
  out.set_status(t.status());
  *out.mutable_open_time() = t.open_time();
  *out.mutable_update_time() = t.update_time();
  if (t.has_close_time()) *out.mutable_close_time() = t.close_time();
  out.set_closed_by(t.closed_by());
  out.set_erased(!key.has_value());
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> subject,
                          Opened(key, t, t.sealed_subject()));
  out.set_subject(subject.value_or(""));
  return out;
}

// Adds the ticket's messages (at most domain::kMaxMessagesPerTicket), oldest first, opened
// with `key`; notes only with `with_notes`.
absl::Status AddMessages(const eventstore::Store& store, const domain::TicketState& t,
                         const std::optional<std::string>& key, bool with_notes,
                         v1::Ticket& out) {
  absl::Status opened = absl::OkStatus();
  COWORK_RETURN_IF_ERROR(store.Scan(
      Space::kViews, MessagePrefix(t.operator_id(), t.ticket_id()), "",
      [&](absl::string_view, absl::string_view value) {
        domain::StoredMessage m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          opened = absl::DataLossError(
              absl::StrCat("a message of ticket ", t.ticket_id(), " does not parse"));
          return false;
        }
        if (m.kind() == v1::NOTE && !with_notes) return true;
        v1::TicketMessage* message = out.add_messages();
        message->set_message_id(m.message_id());
        message->set_kind(m.kind());
        message->set_author_kind(m.author_kind());
        message->set_author_id(m.author_id());
        *message->mutable_post_time() = m.post_time();
        absl::StatusOr<std::optional<std::string>> body = Opened(key, t, m.sealed_body());
        if (!body.ok()) {
          opened = body.status();
          return false;
        }
        message->set_body(body->value_or(""));
        message->set_erased(!body->has_value());
        return true;
      }));
  return opened;
}

// Stages a ticket's events with its views and one view per message they add (a reply writes
// its own message and the ticket's counters, never the conversation again).
domain::TicketState StageTicket(const eventstore::EnvelopeContext& context,
                                absl::string_view ticket_id, absl::string_view location_id,
                                const Loaded<domain::TicketState>& before,
                                domain::Events events, WriteSet& writes) {
  int index = before.state.message_count();
  Views messages;
  for (domain::Event e : events) {
    *e.mutable_occurred_at() = ToTimestamp(context.now);
    if (std::optional<domain::StoredMessage> m = domain::MessageOf(e); m.has_value()) {
      messages.emplace(MessageKey(context.operator_id, ticket_id, index++),
                       m->SerializeAsString());
    }
  }
  const domain::TicketState after =
      eventstore::Stage(context, kTicketAggregate, ticket_id, location_id, before,
                        std::move(events), kTopic, writes);
  WriteViews(ViewsOf(before.state), ViewsOf(after), writes);
  WriteViews({}, messages, writes);
  return after;
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
  return eventstore::LoadOwned<domain::TicketState>(store, kTicketAggregate, op, ticket_id,
                                                    "ticket");
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
  COWORK_ASSIGN_OR_RETURN(v1::Ticket out, TicketView(t, key));
  COWORK_RETURN_IF_ERROR(AddMessages(store_, t, key, p.is_admin(), out));
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
            const std::string ticket_id = crypto::NewId("t-");
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                domain::DecideOpen({.ticket_id = ticket_id,
                                    .message_id = crypto::NewId("m-"),
                                    .customer_id = customer_id,
                                    .location_id = r.location_id(),
                                    .subject = r.subject(),
                                    .message = r.message(),
                                    .priority = r.priority(),
                                    .by = ActorOf(p),
                                    .customer = {.suspended = standing->suspended}},
                                   [&](absl::string_view clear) {
                                     return crypto::Seal(key, customer_id, clear);
                                   }));
            WriteSet writes;
            const domain::TicketState after =
                StageTicket(Context(p.operator_id, r.request_id(), clock_.Now()), ticket_id,
                            r.location_id(), Loaded<domain::TicketState>(), std::move(events),
                            writes);
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
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                decide(t, ActorOf(p), standing, [&](absl::string_view clear) {
                  // Only reached with a key: the decisions refuse erased customers first.
                  return crypto::Seal(key.value_or(""), t.customer_id(), clear);
                }));
            WriteSet writes;
            const domain::TicketState after =
                StageTicket(Context(p.operator_id, request_id, clock_.Now()), ticket_id,
                            t.location_id(), before, std::move(events), writes);
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
                    const domain::CustomerStanding& customer, domain::Sealer seal) {
                  return domain::DecidePost(t,
                                            {.message_id = crypto::NewId("m-"),
                                             .kind = v1::REPLY,
                                             .message = r.message(),
                                             .by = by,
                                             .customer = customer},
                                            seal);
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
                    const domain::CustomerStanding& customer, domain::Sealer seal) {
                  return domain::DecidePost(t,
                                            {.message_id = crypto::NewId("m-"),
                                             .kind = v1::NOTE,
                                             .message = r.message(),
                                             .by = by,
                                             .customer = customer},
                                            seal);
                });
}

absl::StatusOr<v1::Ticket> App::CloseTicket(const auth::Principal& p,
                                            const v1::CloseTicketRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"ticket_id", r.ticket_id()}}));
  return Change(p, "CloseTicket", r, r.ticket_id(), /*staff_only=*/false,
                [](const domain::TicketState& t, const domain::Actor& by,
                   const domain::CustomerStanding& customer, domain::Sealer) {
                  return domain::DecideClose(t, by, customer);
                });
}

absl::StatusOr<v1::Ticket> App::ReopenTicket(const auth::Principal& p,
                                             const v1::ReopenTicketRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"ticket_id", r.ticket_id()}}));
  return Change(p, "ReopenTicket", r, r.ticket_id(), /*staff_only=*/false,
                [](const domain::TicketState& t, const domain::Actor& by,
                   const domain::CustomerStanding& customer, domain::Sealer) {
                  return domain::DecideReopen(t, by, customer);
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
                    const domain::CustomerStanding&, domain::Sealer) {
                  return domain::DecideSetPriority(t, r.priority(), by);
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
    prefix = CustomerPrefix(p.operator_id, customer_id);
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kHelpdeskRead, r.location_id()));
    COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
    prefix = LocationPrefix(p.operator_id, r.location_id());
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
  for (const domain::TicketState& t : page.items) {
    auto it = keys.find(t.customer_id());
    if (it == keys.end()) {
      COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                              vault_.Get(p.operator_id, t.customer_id()));
      it = keys.emplace(t.customer_id(), std::move(key)).first;
    }
    COWORK_ASSIGN_OR_RETURN(*out.add_tickets(), TicketView(t, it->second));
  }
  out.set_next_page_token(page.next_page_token);
  return out;
}

// ---------------------------------------------------------------- rebuild

absl::Status App::Rebuild() {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store_, kViewPrefixes));
  std::map<std::string, domain::TicketState> tickets;  // by ticket id
  eventstore::ViewBatches out(store_);
  absl::Status written;  // the first failed write of a message view
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store_, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        if (envelope.aggregate_type() != kTicketAggregate) return;
        domain::TicketState& t = tickets[envelope.aggregate_id()];
        if (std::optional<domain::StoredMessage> m = domain::MessageOf(e);
            m.has_value() && written.ok()) {
          written = out.Write({{MessageKey(envelope.operator_id(), envelope.aggregate_id(),
                                           t.message_count()),
                                m->SerializeAsString()}});
        }
        t = domain::Apply(std::move(t), e);
      }));
  COWORK_RETURN_IF_ERROR(written);
  for (const auto& [id, ticket] : tickets) COWORK_RETURN_IF_ERROR(out.Write(ViewsOf(ticket)));
  return out.Finish();
}

}  // namespace cowork::helpdesk::api
