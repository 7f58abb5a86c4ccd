#include "services/helpdesk/domain/ticket.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/validation/validation.h"

namespace cowork::helpdesk::domain {
namespace {

// What every refusal to act for a customer says.
absl::Status CheckCustomerMayAct(const TicketState& ticket, const Actor& by,
                                 const CustomerStanding& customer) {
  if (by.kind == v1::CUSTOMER && customer.suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", ticket.customer_id(), " is suspended"));
  }
  return absl::OkStatus();
}

absl::Status CheckNotErased(const TicketState& ticket, const CustomerStanding& customer) {
  if (customer.erased) {
    return absl::FailedPreconditionError(absl::StrCat(
        "customer ", ticket.customer_id(), " was erased: nothing more can be added to ticket ",
        ticket.ticket_id()));
  }
  return absl::OkStatus();
}

}  // namespace

void CheckOpening(absl::string_view subject, absl::string_view message, v1::Priority priority,
                  FieldErrors& errors) {
  validation::CheckLabel(subject, "subject", kMaxSubjectLength, errors);
  CheckMessage(message, errors);
  CheckPriority(priority, errors);
}

void CheckMessage(absl::string_view message, FieldErrors& errors) {
  validation::CheckText(message, "message", kMaxMessageLength, errors);
}

void CheckPriority(v1::Priority priority, FieldErrors& errors) {
  if (priority == v1::PRIORITY_UNSPECIFIED || !v1::Priority_IsValid(priority)) {
    errors.Add("priority", "must be LOW, NORMAL, HIGH or CRITICAL");
  }
}

absl::StatusOr<Events> Decide(const TicketState& /*ticket*/, const OpenTicket& o,
                              absl::Time /*now*/) {
  FieldErrors errors;
  CheckOpening(o.subject, o.message, o.priority, errors);
  if (!errors.empty()) return errors.ToStatus();
  if (o.customer.suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", o.customer_id, " is suspended and cannot open tickets"));
  }
  Event e;
  v1::TicketOpened* t = e.mutable_ticket_opened();
  t->set_ticket_id(o.ticket_id);
  t->set_customer_id(o.customer_id);
  t->set_location_id(o.location_id);
  t->set_priority(o.priority);
  e.mutable_clear_texts()->set_subject(std::string(validation::TrimSpaces(o.subject)));
  t->set_message_id(o.message_id);
  e.mutable_clear_texts()->set_body(std::string(validation::TrimText(o.message)));
  t->set_author_kind(o.by.kind);
  t->set_author_id(o.by.id);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const TicketState& ticket, const PostMessage& p,
                              absl::Time /*now*/) {
  FieldErrors errors;
  CheckMessage(p.message, errors);
  if (!errors.empty()) return errors.ToStatus();
  if (absl::Status s = CheckCustomerMayAct(ticket, p.by, p.customer); !s.ok()) return s;
  if (absl::Status s = CheckNotErased(ticket, p.customer); !s.ok()) return s;
  const bool reply = p.kind == v1::REPLY;
  if (reply && ticket.status() == v1::CLOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket ", ticket.ticket_id(), " is closed: reopen it to reply"));
  }
  v1::TicketStatus after = ticket.status();
  if (reply) after = p.by.kind == v1::STAFF ? v1::AWAITING_CUSTOMER : v1::OPEN;

  const absl::string_view body = validation::TrimText(p.message);
  if (ticket.message_count() >= kMaxMessagesPerTicket ||
      ticket.message_bytes() + static_cast<int64_t>(body.size()) + kSealOverhead >
          kMaxTicketBytes) {
    return InvalidField(
        "message", absl::StrCat("ticket ", ticket.ticket_id(), " holds as much as a ticket may (",
                                kMaxMessagesPerTicket, " messages, ", kMaxTicketBytes >> 20,
                                " MiB): open a new ticket"));
  }

  Events out;
  Event e;
  v1::MessagePosted* m = e.mutable_message_posted();
  m->set_ticket_id(ticket.ticket_id());
  m->set_customer_id(ticket.customer_id());
  m->set_location_id(ticket.location_id());
  m->set_message_id(p.message_id);
  m->set_kind(p.kind);
  m->set_author_kind(p.by.kind);
  m->set_author_id(p.by.id);
  e.mutable_clear_texts()->set_body(std::string(body));
  m->set_status(after);
  out.push_back(std::move(e));
  if (reply && p.by.kind == v1::STAFF) {
    Event n;
    v1::ReplyNotificationRequested* r = n.mutable_reply_notification_requested();
    r->set_ticket_id(ticket.ticket_id());
    r->set_customer_id(ticket.customer_id());
    r->set_location_id(ticket.location_id());
    r->set_message_id(p.message_id);
    out.push_back(std::move(n));
  }
  return out;
}

absl::StatusOr<Events> Decide(const TicketState& ticket, const CloseTicket& command,
                              absl::Time /*now*/) {
  const Actor& by = command.by;
  const CustomerStanding& customer = command.customer;
  if (absl::Status s = CheckCustomerMayAct(ticket, by, customer); !s.ok()) return s;
  if (ticket.status() == v1::CLOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket ", ticket.ticket_id(), " is closed already"));
  }
  Event e;
  v1::TicketClosed* c = e.mutable_ticket_closed();
  c->set_ticket_id(ticket.ticket_id());
  c->set_customer_id(ticket.customer_id());
  c->set_location_id(ticket.location_id());
  c->set_by_kind(by.kind);
  c->set_by_id(by.id);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const TicketState& ticket, const ReopenTicket& command,
                              absl::Time /*now*/) {
  const Actor& by = command.by;
  const CustomerStanding& customer = command.customer;
  if (absl::Status s = CheckCustomerMayAct(ticket, by, customer); !s.ok()) return s;
  if (absl::Status s = CheckNotErased(ticket, customer); !s.ok()) return s;
  if (ticket.status() != v1::CLOSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("ticket ", ticket.ticket_id(), " is not closed"));
  }
  Event e;
  v1::TicketReopened* r = e.mutable_ticket_reopened();
  r->set_ticket_id(ticket.ticket_id());
  r->set_customer_id(ticket.customer_id());
  r->set_location_id(ticket.location_id());
  r->set_by_kind(by.kind);
  r->set_by_id(by.id);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const TicketState& ticket, const SetTicketPriority& command,
                              absl::Time /*now*/) {
  const v1::Priority priority = command.priority;
  const Actor& by = command.by;
  FieldErrors errors;
  CheckPriority(priority, errors);
  if (!errors.empty()) return errors.ToStatus();
  if (priority == ticket.priority()) return Events{};
  Event e;
  v1::PriorityChanged* c = e.mutable_priority_changed();
  c->set_ticket_id(ticket.ticket_id());
  c->set_customer_id(ticket.customer_id());
  c->set_location_id(ticket.location_id());
  c->set_priority(priority);
  c->set_previous(ticket.priority());
  c->set_by_id(by.id);
  return Events{std::move(e)};
}

std::optional<StoredMessage> MessageOf(const Event& event) {
  StoredMessage m;
  if (event.has_ticket_opened()) {
    const v1::TicketOpened& o = event.ticket_opened();
    m.set_message_id(o.message_id());
    m.set_kind(v1::REPLY);
    m.set_author_kind(o.author_kind());
    m.set_author_id(o.author_id());
    m.set_sealed_body(o.sealed_body());
  } else if (event.has_message_posted()) {
    const v1::MessagePosted& p = event.message_posted();
    m.set_message_id(p.message_id());
    m.set_kind(p.kind());
    m.set_author_kind(p.author_kind());
    m.set_author_id(p.author_id());
    m.set_sealed_body(p.sealed_body());
  } else {
    return std::nullopt;
  }
  *m.mutable_post_time() = event.occurred_at();
  return m;
}

TicketState Apply(TicketState state, const Event& event) {
  if (std::optional<StoredMessage> m = MessageOf(event); m.has_value()) {
    state.set_message_count(state.message_count() + 1);
    state.set_message_bytes(state.message_bytes() +
                            static_cast<int64_t>(m->sealed_body().size()));
  }
  if (event.has_ticket_opened()) {
    const v1::TicketOpened& o = event.ticket_opened();
    state.set_operator_id(event.operator_id());
    state.set_ticket_id(o.ticket_id());
    state.set_customer_id(o.customer_id());
    state.set_location_id(o.location_id());
    state.set_priority(o.priority());
    state.set_status(v1::OPEN);
    state.set_sealed_subject(o.sealed_subject());
    *state.mutable_open_time() = event.occurred_at();
  } else if (event.has_message_posted()) {
    state.set_status(event.message_posted().status());
  } else if (event.has_ticket_closed()) {
    state.set_status(v1::CLOSED);
    *state.mutable_close_time() = event.occurred_at();
    state.set_closed_by(event.ticket_closed().by_id());
  } else if (event.has_ticket_reopened()) {
    state.set_status(v1::OPEN);
    state.clear_close_time();
    state.clear_closed_by();
  } else if (event.has_priority_changed()) {
    state.set_priority(event.priority_changed().priority());
  } else {
    return state;  // a notification request changes nothing
  }
  *state.mutable_update_time() = event.occurred_at();
  return state;
}

}  // namespace cowork::helpdesk::domain
