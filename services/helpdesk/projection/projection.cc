#include "services/helpdesk/projection/projection.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/status/macros.h"
#include "services/helpdesk/projection/keys.h"

namespace cowork::helpdesk::projection {
namespace {

using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;

static_assert(domain::kSealOverhead == crypto::kSealOverhead);

// The views of a ticket: its state (counters, no messages), by location and by customer, in
// order of opening.
Views ViewsOf(const domain::TicketState& t) {
  if (t.ticket_id().empty()) return {};
  const std::string value = t.SerializeAsString();
  const std::string tail =
      absl::StrFormat("%012d/%s", t.open_time().seconds(), t.ticket_id());
  return {{TicketsAtPrefix(t.operator_id(), t.location_id()) + tail, value},
          {TicketsOfPrefix(t.operator_id(), t.customer_id()) + tail, value}};
}

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

// Seals an event's clear texts into its payload with the customer's key.
absl::Status SealTexts(domain::Event& e, const std::optional<std::string>& key,
                       absl::string_view customer_id) {
  if (!e.has_clear_texts()) return absl::OkStatus();
  if (!key.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the key of customer ", customer_id, " is gone: their data was erased"));
  }
  auto seal = [&](const std::string& clear) { return crypto::Seal(*key, customer_id, clear); };
  if (e.has_ticket_opened()) {
    e.mutable_ticket_opened()->set_sealed_subject(seal(e.clear_texts().subject()));
    e.mutable_ticket_opened()->set_sealed_body(seal(e.clear_texts().body()));
  } else if (e.has_message_posted()) {
    e.mutable_message_posted()->set_sealed_body(seal(e.clear_texts().body()));
  }
  e.clear_clear_texts();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<domain::TicketState> StageTicket(
    const eventstore::EnvelopeContext& context, absl::string_view ticket_id,
    absl::string_view location_id, const eventstore::Loaded<domain::TicketState>& before,
    domain::Events events, const std::optional<std::string>& key, WriteSet& writes) {
  std::string customer_id = before.state.customer_id();
  if (!events.empty() && events.front().has_ticket_opened()) {
    customer_id = events.front().ticket_opened().customer_id();
  }
  int index = before.state.message_count();
  Views messages;
  const eventstore::StageHooks<domain::TicketState, domain::Event> hooks{
      .seal = [&](domain::Event& e) { return SealTexts(e, key, customer_id); },
      .on_event = [&](const common::v1::EventEnvelope& envelope,
                      const google::protobuf::Message&, WriteSet&) -> absl::Status {
        absl::StatusOr<std::optional<domain::Event>> e =
            eventstore::DomainEventOf<domain::Event>(envelope);
        if (!e.ok()) return e.status();
        if (std::optional<domain::StoredMessage> m = domain::MessageOf(**e); m.has_value()) {
          messages.emplace(MessageKey(context.operator_id, ticket_id, index++),
                           m->SerializeAsString());
        }
        return absl::OkStatus();
      }};
  COWORK_ASSIGN_OR_RETURN(domain::TicketState after,
                          eventstore::Stage(context, kTicketAggregate, ticket_id, location_id,
                                            before, std::move(events), kTopic, writes, hooks));
  eventstore::WriteViews(ViewsOf(before.state), ViewsOf(after), writes);
  eventstore::WriteViews({}, messages, writes);
  return after;
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
      Space::kViews, MessagesPrefix(t.operator_id(), t.ticket_id()), "",
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

absl::Status Rebuild(eventstore::Store& store) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kViewPrefixes));
  std::map<std::string, domain::TicketState> tickets;  // by ticket id
  eventstore::ViewBatches out(store);
  absl::Status written;  // the first failed write of a message view
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
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

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::TicketState, domain::Event>(std::string(kTicketAggregate));
  return folds;
}

}  // namespace cowork::helpdesk::projection
