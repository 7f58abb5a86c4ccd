#ifndef COWORK_SERVICES_BILLING_PROJECTION_ACTIVITY_H_
#define COWORK_SERVICES_BILLING_PROJECTION_ACTIVITY_H_

// The billing service's projection of the customers, contracts and bookings events: what it
// needs to tell who is an active user of a location in a month (domain/active_users.h).
//
// Projection (Space::kViews), fed by the consumer "billing.activity" (Subscribe), keys after
// the kind start with the operator id:
//   bloc/<op>/<location>                              "YYYY-MM" the location was created in
//   bplan/<op>/<location>/<contract>/start|end        views.Holding (a started contract)
//   bprod/<op>/<location>/<purchase>/start|end        views.Holding (a recurring product)
//   bbook/<op>/<location>/<made at, unix s, 12 digits>/<booking>   views.Moment
//   binv/<op>/<location>/<issue date YYYY-MM-DD>/<invoice>        views.Moment
//   bteam/<op>/<team>/<sequence, 12 digits>           views.TeamChange
//   bpayer/<op>/<customer>/<team>                     ""  (the customer paid for the team once)
// Applying only writes (no handler reads the store), is idempotent (the consumer skips an
// aggregate's sequence it has applied) and order-independent across topics: each key belongs
// to one fact, and a query puts the pieces together. Every fact keeps when it was recorded,
// so a closed month is counted from what was recorded before its close (keys.h
// ClosedMonthKey, written by the Subscription); an open month is computed live.
//
// Thread-safe: reads go to the Store; the consumer's thread writes.

#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/events.pb.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "services/billing/domain/active_users.h"

namespace cowork::billing::projection {

class Activity {
 public:
  // The store must outlive the Activity.
  explicit Activity(eventstore::Store& store) : store_(store) {}

  // Registers the projection's handlers on a consumer of the customers, contracts and
  // bookings topics.
  void Subscribe(kafka::EventConsumer& consumer) const;
  // Adds the projection's writes for one event (`payload` decoded from the envelope) to
  // `writes`, as the consumer does; events of other types add nothing.
  absl::Status Apply(const common::v1::EventEnvelope& envelope,
                     const google::protobuf::Message& payload, eventstore::WriteSet& writes) const;
  // Deletes the projection (before a rebuild from offset zero).
  absl::Status Reset() const;

  // The active users of the location in `month`, counted from the events recorded before
  // `recorded_before` (InfiniteFuture: all of them).
  absl::StatusOr<std::vector<domain::ActiveUser>> ActiveUsersAt(
      const directory::LocationInfo& location, absl::TimeZone tz, absl::CivilMonth month,
      absl::Time recorded_before) const;
  // Calls fn for every location the projection knows, with the month it was created in.
  absl::Status ForEachLocation(
      absl::FunctionRef<absl::Status(absl::string_view operator_id,
                                     absl::string_view location_id, absl::CivilMonth first_month)>
          fn) const;
  // What the projection knows of the location that matters for the months first..last, as
  // recorded before `recorded_before`: every plan and recurring product held there, the
  // bookings made and invoices issued in those months, and the teams its plan holders paid
  // for.
  absl::StatusOr<domain::Activity> ActivityAt(const directory::LocationInfo& location,
                                              absl::TimeZone tz, absl::CivilMonth first,
                                              absl::CivilMonth last,
                                              absl::Time recorded_before) const;
  // The close of the location's month, if it has closed.
  absl::StatusOr<std::optional<v1::MonthClosed>> ClosedMonth(
      const directory::LocationInfo& location, absl::CivilMonth month) const;

 private:
  eventstore::Store& store_;
};

}  // namespace cowork::billing::projection

#endif  // COWORK_SERVICES_BILLING_PROJECTION_ACTIVITY_H_
