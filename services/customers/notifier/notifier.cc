#include "services/customers/notifier/notifier.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/checkins/v1/events.pb.h"
#include "cowork/helpdesk/v1/events.pb.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/server/logging.h"
#include "libs/status/macros.h"
#include "services/customers/notifier/content.h"
#include "services/customers/notifier/message.h"

namespace cowork::customers::notifier {
namespace {

using eventstore::Space;
using eventstore::WriteSet;

constexpr absl::string_view kPendingPrefix = "notifier/pending/";
constexpr absl::string_view kDueRest = "notify/";  // due-index entries: due/<time>/notify/<id>
constexpr size_t kMaxIdLength = 64;

std::string PendingKey(absl::string_view id) { return absl::StrCat(kPendingPrefix, id); }
std::string DueEntry(const google::protobuf::Timestamp& at, absl::string_view id) {
  return runtime::DueKey(FromTimestamp(at), absl::StrCat(kDueRest, id));
}

// Event ids are UUIDs; anything else would not make a safe key.
bool IsUsableId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength &&
         absl::c_all_of(id, [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

// The location as an email names it; its id in UTC when this service does not know it.
absl::StatusOr<Place> PlaceOf(const projection::Projection& projection,
                              absl::string_view operator_id, absl::string_view location_id) {
  COWORK_ASSIGN_OR_RETURN(auto location, projection.LoadLocation(location_id));
  Place place{std::string(location_id), "UTC", absl::UTCTimeZone()};
  if (location.version == 0 || location.state.operator_id() != operator_id) return place;
  place.name = location.state.name();
  if (absl::LoadTimeZone(location.state.time_zone(), &place.zone)) {
    place.zone_name = location.state.time_zone();
  }
  return place;
}

template <typename T>
absl::StatusOr<T> Unpack(const common::v1::EventEnvelope& request) {
  T payload;
  if (!request.payload().UnpackTo(&payload)) {
    return absl::DataLossError(absl::StrCat("request ", request.event_id(), " does not parse"));
  }
  return payload;
}

// The email of a pending notification. NOT_FOUND: no such customer of the operator;
// FAILED_PRECONDITION: the customer was erased; DATA_LOSS: the request does not parse; other
// errors are the Store's.
absl::StatusOr<Email> Compose(const projection::Projection& projection,
                              const PendingNotification& row, absl::string_view from_address,
                              absl::Time now) {
  const common::v1::EventEnvelope& request = row.request();
  const std::string& op = request.operator_id();
  COWORK_ASSIGN_OR_RETURN(auto customer, projection.LoadCustomer(row.customer_id()));
  if (customer.version == 0 || customer.state.operator_id() != op) {
    return absl::NotFoundError("no such customer of the operator");
  }
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                          projection.SealKey(op, row.customer_id()));
  if (customer.state.erased() || !key.has_value()) {
    return absl::FailedPreconditionError("the customer's personal data was erased");
  }
  COWORK_ASSIGN_OR_RETURN(auto operator_record, projection.LoadOperator(op));
  const std::string& operator_name = operator_record.state.name();
  const v1::PersonalData& personal = customer.state.personal();

  Email email;
  email.from = {operator_name, std::string(from_address)};
  email.to = {absl::StrCat(personal.first_name(), " ", personal.last_name()), personal.email()};
  email.message_id = MessageIdFor(request.event_id(), from_address);
  email.date = now;
  Greeting greeting{operator_name, personal.first_name()};
  Text text;
  switch (row.kind()) {
    case v1::WELCOME_MESSAGE: {
      COWORK_ASSIGN_OR_RETURN(auto requested, Unpack<v1::WelcomeMessageRequested>(request));
      absl::StatusOr<std::string> opened =
          crypto::Open(*key, row.customer_id(), requested.sealed_message());
      v1::WelcomeMessage welcome;
      if (!opened.ok() || !welcome.ParseFromString(*opened)) {
        return absl::FailedPreconditionError("the welcome message cannot be opened");
      }
      // The address and name the welcome was asked for.
      email.to.address = welcome.email();
      greeting.first_name = welcome.first_name();
      text = WelcomeText(greeting, welcome.email(), welcome.setup_code());
      break;
    }
    case v1::BOOKING_CONFIRMATION: {
      COWORK_ASSIGN_OR_RETURN(auto requested,
                              Unpack<bookings::v1::BookingConfirmationRequested>(request));
      COWORK_ASSIGN_OR_RETURN(Place place, PlaceOf(projection, op, requested.location_id()));
      text = BookingConfirmationText(greeting, requested.resource_name(), place,
                                     FromTimestamp(requested.start_time()),
                                     FromTimestamp(requested.end_time()));
      break;
    }
    case v1::VISITOR_ARRIVAL: {
      COWORK_ASSIGN_OR_RETURN(
          auto requested, Unpack<checkins::v1::VisitorArrivalNotificationRequested>(request));
      COWORK_ASSIGN_OR_RETURN(Place place, PlaceOf(projection, op, requested.location_id()));
      text = VisitorArrivalText(greeting, place, FromTimestamp(requested.arrived_at()));
      break;
    }
    case v1::HELPDESK_REPLY: {
      COWORK_ASSIGN_OR_RETURN(auto requested,
                              Unpack<helpdesk::v1::ReplyNotificationRequested>(request));
      COWORK_ASSIGN_OR_RETURN(Place place, PlaceOf(projection, op, requested.location_id()));
      text = HelpdeskReplyText(greeting, place, requested.ticket_id());
      break;
    }
    default:
      return absl::DataLossError("unknown notification kind");
  }
  email.subject = std::move(text.subject);
  email.body = std::move(text.body);
  return email;
}

// Why a notification that cannot be composed or rendered ends; nullopt for the store's errors,
// after which the next pass tries again.
std::optional<v1::NotificationFailureReason> FailureReasonOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return v1::RECIPIENT_UNKNOWN;
    case absl::StatusCode::kFailedPrecondition:
      return v1::RECIPIENT_ERASED;
    case absl::StatusCode::kInvalidArgument:
      return v1::ADDRESS_UNUSABLE;
    case absl::StatusCode::kDataLoss:
      return v1::NOTIFICATION_FAILURE_REASON_UNSPECIFIED;
    default:
      return std::nullopt;
  }
}

}  // namespace

// How a notification ended.
struct Notifier::Outcome {
  bool sent = false;
  v1::NotificationFailureReason reason = v1::NOTIFICATION_FAILURE_REASON_UNSPECIFIED;
  std::string detail;
  std::string message_id;  // sent ones
};

std::unique_ptr<kafka::EventConsumer> NewConsumer(eventstore::Store& store, const Clock& clock,
                                                  const kafka::KafkaOptions& kafka) {
  auto consumer = std::make_unique<kafka::EventConsumer>(
      store, kafka,
      kafka::ConsumerOptions{.name = std::string(kConsumerName),
                             .topics = {kafka::TopicFor("customers"), kafka::TopicFor("bookings"),
                                        kafka::TopicFor("checkins"),
                                        kafka::TopicFor("helpdesk")}});
  const eventstore::Store* s = &store;
  const Clock* c = &clock;
  consumer->On<v1::WelcomeMessageRequested>(
      [s, c](const common::v1::EventEnvelope& envelope, const v1::WelcomeMessageRequested& e,
             WriteSet& writes) {
        return Enqueue(*s, *c, envelope, v1::WELCOME_MESSAGE, e.customer_id(), writes);
      });
  consumer->On<bookings::v1::BookingConfirmationRequested>(
      [s, c](const common::v1::EventEnvelope& envelope,
             const bookings::v1::BookingConfirmationRequested& e, WriteSet& writes) {
        return Enqueue(*s, *c, envelope, v1::BOOKING_CONFIRMATION, e.customer_id(), writes);
      });
  consumer->On<checkins::v1::VisitorArrivalNotificationRequested>(
      [s, c](const common::v1::EventEnvelope& envelope,
             const checkins::v1::VisitorArrivalNotificationRequested& e, WriteSet& writes) {
        return Enqueue(*s, *c, envelope, v1::VISITOR_ARRIVAL, e.host_customer_id(), writes);
      });
  consumer->On<helpdesk::v1::ReplyNotificationRequested>(
      [s, c](const common::v1::EventEnvelope& envelope,
             const helpdesk::v1::ReplyNotificationRequested& e, WriteSet& writes) {
        return Enqueue(*s, *c, envelope, v1::HELPDESK_REPLY, e.customer_id(), writes);
      });
  return consumer;
}

absl::Status Enqueue(const eventstore::Store& store, const Clock& clock,
                     const common::v1::EventEnvelope& envelope, v1::NotificationKind kind,
                     absl::string_view customer_id, WriteSet& writes) {
  const std::string& id = envelope.event_id();
  if (!IsUsableId(id) || envelope.operator_id().empty() || customer_id.empty()) {
    return absl::InvalidArgumentError(
        "a notification request needs an event id (a UUID), an operator and a customer");
  }
  COWORK_ASSIGN_OR_RETURN(eventstore::AggregateRecord ended,
                          store.Load(kNotificationAggregate, id));
  if (ended.version > 0) return absl::OkStatus();
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> queued,
                          store.Get(Space::kMeta, PendingKey(id)));
  if (queued.has_value()) return absl::OkStatus();
  PendingNotification row;
  *row.mutable_request() = envelope;
  row.set_kind(kind);
  row.set_customer_id(std::string(customer_id));
  *row.mutable_next_attempt_time() = ToTimestamp(clock.Now());
  writes.Put(Space::kViews, DueEntry(row.next_attempt_time(), id), "");
  writes.Put(Space::kMeta, PendingKey(id), row.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PendingCount(const eventstore::Store& store) {
  int64_t count = 0;
  COWORK_RETURN_IF_ERROR(store.Scan(Space::kMeta, kPendingPrefix, "",
                                    [&count](absl::string_view, absl::string_view) {
                                      ++count;
                                      return true;
                                    }));
  return count;
}

Notifier::Notifier(eventstore::Store& store, const projection::Projection& projection,
                   const Clock& clock, std::unique_ptr<Mailer> mailer, NotifierOptions options,
                   server::Metrics* metrics)
    : store_(store),
      projection_(projection),
      clock_(clock),
      mailer_(std::move(mailer)),
      options_(std::move(options)),
      metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->Describe("cowork_notifications_total",
                       "Notification emails by kind and outcome (sent, failed, retry)");
  }
}

Notifier::~Notifier() {
  stopping_ = true;
  scheduler_.reset();  // waits for the pass in progress
}

void Notifier::Start() {
  scheduler_ = std::make_unique<runtime::Scheduler>(
      "notifications", [this] { return RunDue(); }, options_.interval, metrics_);
}

absl::StatusOr<int> Notifier::RunDue() {
  const absl::Time now = clock_.Now();
  int started = 0;
  return runtime::RunDueIndex(store_, now, [&](absl::string_view rest) -> absl::StatusOr<bool> {
    if (!absl::ConsumePrefix(&rest, kDueRest)) return false;  // another index's entry
    return Tick(rest, now, started);
  });
}

absl::StatusOr<bool> Notifier::Tick(absl::string_view id, absl::Time now, int& started) {
  if (stopping_ || started >= options_.max_per_pass) return false;
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          store_.Get(Space::kMeta, PendingKey(id)));
  PendingNotification row;
  if (!stored.has_value() || !row.ParseFromString(*stored)) {
    // Rows and their entries are written and deleted together: this cannot happen.
    return absl::InternalError(absl::StrCat("notification ", id, ": due without a pending row"));
  }
  auto fail = [&](v1::NotificationFailureReason reason, absl::string_view detail) {
    return Finish(row, {.reason = reason, .detail = std::string(detail)}, clock_.Now());
  };

  if (row.attempt_in_flight()) {
    COWORK_RETURN_IF_ERROR(fail(v1::DELIVERY_UNKNOWN,
                                "the service stopped during an attempt; not sent again"));
    return true;
  }
  const absl::Time requested_at = FromTimestamp(row.request().occurred_at());
  if (TooOld(options_.retry, requested_at, now)) {
    COWORK_RETURN_IF_ERROR(fail(
        v1::GAVE_UP, absl::StrCat("not sent within ", absl::FormatDuration(options_.retry.max_age),
                                  " of the request (", row.attempts(), " attempts)")));
    return true;
  }
  absl::StatusOr<Email> email = Compose(projection_, row, options_.from_address, now);
  absl::StatusOr<std::string> data =
      email.ok() ? Render(*email) : absl::StatusOr<std::string>(email.status());
  if (!data.ok()) {
    std::optional<v1::NotificationFailureReason> reason = FailureReasonOf(data.status());
    if (!reason.has_value()) return data.status();  // the store: the next pass tries again
    COWORK_RETURN_IF_ERROR(fail(*reason, data.status().message()));
    return true;
  }

  // The attempt is on record before the first byte goes out: a process that dies during it
  // leaves the row marked, and its successor does not send again (see the class comment).
  ++started;
  row.set_attempts(row.attempts() + 1);
  row.set_attempt_in_flight(true);
  WriteSet mark;
  mark.Put(Space::kMeta, PendingKey(id), row.SerializeAsString());
  COWORK_RETURN_IF_ERROR(store_.Commit(std::move(mark)));

  const absl::Status sent = mailer_->Send(options_.from_address, email->to.address, *data);
  const absl::Time end = clock_.Now();
  if (sent.ok()) {
    COWORK_RETURN_IF_ERROR(Finish(row, {.sent = true, .message_id = email->message_id}, end));
  } else if (absl::IsUnknown(sent)) {
    COWORK_RETURN_IF_ERROR(fail(v1::DELIVERY_UNKNOWN, sent.message()));
  } else if (absl::IsFailedPrecondition(sent)) {
    COWORK_RETURN_IF_ERROR(fail(v1::REJECTED, sent.message()));
  } else if (std::optional<absl::Time> next =
                 NextAttempt(options_.retry, row.attempts(), requested_at, end);
             !next.has_value()) {
    COWORK_RETURN_IF_ERROR(
        fail(v1::GAVE_UP, absl::StrCat("after ", row.attempts(), " attempts: ", sent.message())));
  } else {
    row.set_last_error(std::string(sent.message()));
    COWORK_RETURN_IF_ERROR(Reschedule(std::move(row), *next, end));
  }
  return true;
}

absl::Status Notifier::Reschedule(PendingNotification row, absl::Time next, absl::Time now) {
  const std::string& id = row.request().event_id();
  WriteSet writes;
  writes.Delete(Space::kViews, DueEntry(row.next_attempt_time(), id));
  *row.mutable_next_attempt_time() = ToTimestamp(next);
  row.set_attempt_in_flight(false);
  writes.Put(Space::kViews, DueEntry(row.next_attempt_time(), id), "");
  writes.Put(Space::kMeta, PendingKey(id), row.SerializeAsString());
  COWORK_RETURN_IF_ERROR(store_.Commit(std::move(writes)));
  if (metrics_ != nullptr) {
    metrics_->Increment("cowork_notifications_total",
                        {{"kind", v1::NotificationKind_Name(row.kind())}, {"outcome", "retry"}});
  }
  server::LogJson("warning", "notification not sent; trying again later",
                  {{"notification", id},
                   {"kind", v1::NotificationKind_Name(row.kind())},
                   {"attempt", absl::StrCat(row.attempts())},
                   {"next_attempt", absl::FormatTime(absl::RFC3339_sec, next, absl::UTCTimeZone())},
                   {"in", absl::FormatDuration(next - now)},
                   {"error", row.last_error()}});
  return absl::OkStatus();
}

absl::Status Notifier::Finish(const PendingNotification& row, const Outcome& outcome,
                              absl::Time now) {
  const common::v1::EventEnvelope& request = row.request();
  const std::string& id = request.event_id();
  v1::NotificationSent sent;
  v1::NotificationFailed failed;
  const google::protobuf::Message* payload = nullptr;
  if (outcome.sent) {
    sent.set_notification_id(id);
    sent.set_kind(row.kind());
    sent.set_customer_id(row.customer_id());
    sent.set_message_id(outcome.message_id);
    sent.set_attempts(row.attempts());
    payload = &sent;
  } else {
    failed.set_notification_id(id);
    failed.set_kind(row.kind());
    failed.set_customer_id(row.customer_id());
    failed.set_reason(outcome.reason);
    failed.set_detail(outcome.detail);
    failed.set_attempts(row.attempts());
    payload = &failed;
  }
  const eventstore::EnvelopeContext context{.service = std::string(projection::kService),
                                            .operator_id = request.operator_id(),
                                            .correlation_id = request.correlation_id(),
                                            .causation_id = id,
                                            .now = now};
  WriteSet writes;
  std::vector<common::v1::EventEnvelope> events = {eventstore::MakeEnvelope(
      context, kNotificationAggregate, id, 1, request.location_id(), *payload)};
  // The outcome is the notification's whole state.
  writes.Append(std::string(kNotificationAggregate), id, /*expected_version=*/0, std::move(events),
                payload->SerializeAsString(), std::string(projection::kTopic));
  writes.Delete(Space::kMeta, PendingKey(id));
  writes.Delete(Space::kViews, DueEntry(row.next_attempt_time(), id));
  absl::Status committed = store_.Commit(std::move(writes));
  if (absl::IsAborted(committed)) {
    // Its outcome is on record already (one sender per store makes this unreachable): the row
    // is all that is left to remove, so it is not tried forever.
    WriteSet cleanup;
    cleanup.Delete(Space::kMeta, PendingKey(id));
    cleanup.Delete(Space::kViews, DueEntry(row.next_attempt_time(), id));
    return store_.Commit(std::move(cleanup));
  }
  COWORK_RETURN_IF_ERROR(committed);

  const std::string kind = v1::NotificationKind_Name(row.kind());
  if (metrics_ != nullptr) {
    metrics_->Increment("cowork_notifications_total",
                        {{"kind", kind}, {"outcome", outcome.sent ? "sent" : "failed"}});
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"notification", id},
      {"kind", kind},
      {"customer", row.customer_id()},
      {"attempts", absl::StrCat(row.attempts())}};
  if (outcome.sent) {
    server::LogJson("info", "notification sent", fields);
  } else {
    fields.emplace_back("reason", v1::NotificationFailureReason_Name(outcome.reason));
    fields.emplace_back("detail", outcome.detail);
    server::LogJson("warning", "notification failed", fields);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Notifier>> StartNotifier(runtime::Runtime& rt,
                                                        const projection::Projection& projection,
                                                        const SmtpOptions& smtp) {
  if (smtp.url.empty()) {
    server::LogJson("info", "notification emails are off: no --smtp-url");
    return nullptr;
  }
  COWORK_ASSIGN_OR_RETURN(std::unique_ptr<Mailer> mailer, NewSmtpMailer(smtp));
  COWORK_RETURN_IF_ERROR(
      rt.AddConsumer(kConsumerName, NewConsumer(rt.store(), rt.clock(), rt.kafka())));
  const eventstore::Store* store = &rt.store();
  rt.metrics().Gauge("cowork_notifications_pending", "Notification emails queued and not ended",
                     [store] { return static_cast<double>(PendingCount(*store).value_or(0)); });
  auto notifier = std::make_unique<Notifier>(rt.store(), projection, rt.clock(), std::move(mailer),
                                             NotifierOptions{.from_address = smtp.from},
                                             &rt.metrics());
  notifier->Start();
  server::LogJson("info", "notification emails on", {{"from", smtp.from}});
  return notifier;
}

void AddFold(eventstore::Folds& folds) {
  folds.Add(
      std::string(kNotificationAggregate),
      [](const std::string&, const common::v1::EventEnvelope& e) -> absl::StatusOr<std::string> {
        return e.payload().value();
      });
}

}  // namespace cowork::customers::notifier
