#ifndef COWORK_SERVICES_CUSTOMERS_NOTIFIER_NOTIFIER_H_
#define COWORK_SERVICES_CUSTOMERS_NOTIFIER_NOTIFIER_H_

// The notifier of the customers service: emails for the notification events of the suite —
// welcome messages (this service's WelcomeMessageRequested), booking confirmations
// (BookingConfirmationRequested), visitor arrivals (VisitorArrivalNotificationRequested, to
// the host) and help desk replies (ReplyNotificationRequested). It runs here because the
// recipients' emails are sealed with keys only this service holds.
//
// Two halves over the customers Store:
//  - the consumer ("customers.notifier": the customers, bookings, checkins and helpdesk
//    topics) writes a pending row (state.proto) and its due-index entry in the commit of the
//    request's offset: a request is queued exactly once, also across restarts;
//  - the sender (Notifier, a pass every second on the runtime::Scheduler) takes the due rows
//    oldest first, reads the recipient (the customer's record; the sealed welcome message
//    opened with the customer's key), renders the email and sends it. Each attempt is
//    committed as started (durably) before the SMTP transaction; the end commits
//    NotificationSent or NotificationFailed (aggregate "notification", id = the request's
//    event id, published on cowork.customers.events) and deletes the row, in one commit.
//
// Never twice: a row found with an attempt started by an earlier process — which may have
// delivered the email before it died — ends as NotificationFailed DELIVERY_UNKNOWN, not with
// another attempt; so does an attempt whose answer never came (Mailer UNKNOWN). Attempts that
// certainly did not deliver are retried with backoff (retry.h), then GAVE_UP. An erased
// customer (key gone) ends as RECIPIENT_ERASED, without an email.
//
// Keys: Space::kMeta "notifier/pending/<id>"; Space::kViews "due/<time>/notify/<id>" (the
// runtime::RunDueIndex index).
//
// Thread-safe: the consumer and the sender may run at once (the sender only touches rows that
// exist; the consumer only writes rows that do not). RunDue is meant for one thread at a time.
// Errors: what the Store returns.
//
//   // main(): consumer, gauge and sender, or nothing without --smtp-url
//   ASSIGN_OR_RETURN(std::unique_ptr<Notifier> notifier,
//                    StartNotifier(rt, app.projection(), smtp));

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/runtime.h"
#include "libs/runtime/scheduler.h"
#include "libs/server/metrics.h"
#include "services/customers/notifier/mailer.h"
#include "services/customers/notifier/retry.h"
#include "services/customers/notifier/state.pb.h"
#include "services/customers/projection/projection.h"

namespace cowork::customers::notifier {

inline constexpr absl::string_view kConsumerName = "customers.notifier";
inline constexpr absl::string_view kNotificationAggregate = "notification";

// Adds the notification aggregate's fold (a restore from the topic): its state is its one
// event's payload, the outcome.
void AddFold(eventstore::Folds& folds);

// The consumer of the four request types. It never re-reads its topics from zero (not even
// with --rebuild-projections): what it queued was sent. Needs only `store` and `clock`, which
// must outlive it.
std::unique_ptr<kafka::EventConsumer> NewConsumer(eventstore::Store& store, const Clock& clock,
                                                  const kafka::KafkaOptions& kafka);

// What the consumer does with one request: adds to `writes` a pending row for the
// notification `envelope.event_id()`, due now, unless it is queued or ended already.
// INVALID_ARGUMENT for an envelope without an event id or operator.
absl::Status Enqueue(const eventstore::Store& store, const Clock& clock,
                     const common::v1::EventEnvelope& envelope, v1::NotificationKind kind,
                     absl::string_view customer_id, eventstore::WriteSet& writes);

// Notifications queued and not ended (for the cowork_notifications_pending gauge).
absl::StatusOr<int64_t> PendingCount(const eventstore::Store& store);

struct NotifierOptions {
  // Envelope sender and From address of every email. Required.
  std::string from_address;
  RetryPolicy retry;
  // How often the sender looks for due notifications. Default 1 second.
  absl::Duration interval = absl::Seconds(1);
  // Attempts started per pass at most; the rest wait for the next pass, so stopping never
  // waits for a long queue. Default 50.
  int max_per_pass = 50;
};

class Notifier {
 public:
  // Everything referenced must outlive the Notifier. `metrics` may be null.
  Notifier(eventstore::Store& store, const projection::Projection& projection, const Clock& clock,
           std::unique_ptr<Mailer> mailer, NotifierOptions options,
           server::Metrics* metrics = nullptr);
  // Stops the sender: an attempt in progress ends (and is committed), no other one starts.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Runs RunDue every `interval` on a thread of its own, from now until destruction.
  void Start();

  // One pass: every notification due by now, oldest first. Returns how many changed (ended
  // or rescheduled).
  absl::StatusOr<int> RunDue();

 private:
  struct Outcome;
  // One due notification; true when it changed.
  absl::StatusOr<bool> Tick(absl::string_view id, absl::Time now, int& started);
  absl::Status Finish(const PendingNotification& row, const Outcome& outcome, absl::Time now);
  absl::Status Reschedule(PendingNotification row, absl::Time next, absl::Time now);

  eventstore::Store& store_;
  const projection::Projection& projection_;
  const Clock& clock_;
  const std::unique_ptr<Mailer> mailer_;
  const NotifierOptions options_;
  server::Metrics* const metrics_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<runtime::Scheduler> scheduler_;
};

// What main() starts when `smtp.url` is set: the SMTP sender, the consumer (owned by `rt`), the
// cowork_notifications_pending gauge and a started Notifier, sending from `smtp.from`. Null
// (with a log line) when `smtp.url` is empty: no email is sent. INVALID_ARGUMENT for unusable
// SMTP settings. `projection` must outlive the returned Notifier, which must not outlive `rt`.
absl::StatusOr<std::unique_ptr<Notifier>> StartNotifier(runtime::Runtime& rt,
                                                        const projection::Projection& projection,
                                                        const SmtpOptions& smtp);

}  // namespace cowork::customers::notifier

#endif  // COWORK_SERVICES_CUSTOMERS_NOTIFIER_NOTIFIER_H_
