#include "services/checkins/domain/visitors.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "libs/validation/person.h"
#include "libs/validation/validation.h"

namespace cowork::checkins::domain {
namespace {

absl::Status NotNow(const VisitorState& visitor, absl::string_view what) {
  absl::string_view where = "expected";
  if (visitor.erased() && StatusOf(visitor) == v1::VISITOR_EXPECTED) where = "erased";
  switch (StatusOf(visitor)) {
    case v1::VISITOR_ARRIVED: where = "already here"; break;
    case v1::VISITOR_LEFT: where = "gone"; break;
    case v1::VISITOR_CANCELLED: where = "cancelled"; break;
    default: break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("visitor ", visitor.visitor_id(), " is ", where, ": cannot ", what));
}

}  // namespace

void CheckVisitorDetails(absl::string_view name, absl::string_view email,
                         std::optional<absl::Time> expected_arrival, absl::Time now,
                         FieldErrors& errors) {
  validation::CheckFullName(name, "name", errors);
  validation::CheckEmail(email, "email", errors);
  if (!expected_arrival.has_value()) {
    errors.Add("expected_arrival", "is required");
  } else if (*expected_arrival < now - kEarliestExpectedArrival ||
             *expected_arrival > now + kLatestExpectedArrival) {
    errors.Add("expected_arrival", "must be from 24 hours ago to a year ahead");
  }
}

absl::StatusOr<Events> Decide(const VisitorState& /*visitor*/, const RegisterVisitor& r,
                              absl::Time now) {
  FieldErrors errors;
  CheckVisitorDetails(r.name, r.email, r.expected_arrival, now, errors);
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;
  if (r.host_suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("host ", r.host_customer_id, " is suspended and cannot receive visitors"));
  }
  Event e;
  v1::VisitorRegistered* v = e.mutable_visitor_registered();
  v->set_visitor_id(r.visitor_id);
  v->set_location_id(r.location_id);
  v->set_host_customer_id(r.host_customer_id);
  *v->mutable_expected_arrival() = ToTimestamp(*r.expected_arrival);
  v->set_registered_by(r.registered_by);
  e.mutable_personal()->set_name(std::string(validation::TrimSpaces(r.name)));
  e.mutable_personal()->set_email(std::string(validation::TrimSpaces(r.email)));
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const VisitorState& visitor, const RecordVisitorArrival& command,
                              absl::Time now) {
  const std::string& recorded_by = command.recorded_by;
  if (StatusOf(visitor) != v1::VISITOR_EXPECTED || visitor.erased()) {
    return NotNow(visitor, "arrive");
  }
  Events out(2);
  v1::VisitorArrived* a = out[0].mutable_visitor_arrived();
  a->set_visitor_id(visitor.visitor_id());
  a->set_location_id(visitor.location_id());
  a->set_host_customer_id(visitor.host_customer_id());
  *a->mutable_at() = ToTimestamp(now);
  a->set_recorded_by(recorded_by);
  v1::VisitorArrivalNotificationRequested* n =
      out[1].mutable_visitor_arrival_notification_requested();
  n->set_visitor_id(visitor.visitor_id());
  n->set_host_customer_id(visitor.host_customer_id());
  n->set_location_id(visitor.location_id());
  *n->mutable_arrived_at() = ToTimestamp(now);
  return out;
}

absl::StatusOr<Events> Decide(const VisitorState& visitor,
                              const RecordVisitorDeparture& command, absl::Time now) {
  const std::string& recorded_by = command.recorded_by;
  if (StatusOf(visitor) != v1::VISITOR_ARRIVED) return NotNow(visitor, "leave");
  Event e;
  v1::VisitorLeft* l = e.mutable_visitor_left();
  l->set_visitor_id(visitor.visitor_id());
  l->set_location_id(visitor.location_id());
  *l->mutable_at() = ToTimestamp(now);
  l->set_recorded_by(recorded_by);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const VisitorState& visitor, const CancelVisitor& command,
                              absl::Time /*now*/) {
  const std::string& cancelled_by = command.cancelled_by;
  if (StatusOf(visitor) != v1::VISITOR_EXPECTED) return NotNow(visitor, "be cancelled");
  Event e;
  v1::VisitorCancelled* c = e.mutable_visitor_cancelled();
  c->set_visitor_id(visitor.visitor_id());
  c->set_location_id(visitor.location_id());
  c->set_cancelled_by(cancelled_by);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const VisitorState& visitor, const EraseVisitor& command,
                              absl::Time /*now*/) {
  const std::string& erased_by = command.erased_by;
  if (visitor.erased()) {
    return absl::FailedPreconditionError(
        absl::StrCat("visitor ", visitor.visitor_id(), " is already erased"));
  }
  Event e;
  v1::VisitorErased* x = e.mutable_visitor_erased();
  x->set_visitor_id(visitor.visitor_id());
  x->set_location_id(visitor.location_id());
  x->set_erased_by(erased_by);
  return Events{std::move(e)};
}

v1::VisitorStatus StatusOf(const VisitorState& visitor) {
  if (visitor.cancelled()) return v1::VISITOR_CANCELLED;
  if (visitor.has_left_at()) return v1::VISITOR_LEFT;
  if (visitor.has_arrived_at()) return v1::VISITOR_ARRIVED;
  return v1::VISITOR_EXPECTED;
}

VisitorState Apply(VisitorState state, const Event& event) {
  if (event.has_visitor_registered()) {
    const v1::VisitorRegistered& r = event.visitor_registered();
    state.set_operator_id(event.operator_id());
    state.set_visitor_id(r.visitor_id());
    state.set_location_id(r.location_id());
    state.set_host_customer_id(r.host_customer_id());
    *state.mutable_expected_arrival() = r.expected_arrival();
    state.set_sealed_personal(r.sealed_personal());
    state.set_registered_by(r.registered_by());
    *state.mutable_registered_at() = event.occurred_at();
  } else if (event.has_visitor_arrived()) {
    *state.mutable_arrived_at() = event.visitor_arrived().at();
  } else if (event.has_visitor_left()) {
    *state.mutable_left_at() = event.visitor_left().at();
  } else if (event.has_visitor_cancelled()) {
    state.set_cancelled(true);
  } else if (event.has_visitor_erased()) {
    state.set_erased(true);
    state.clear_sealed_personal();
  }
  return state;
}

}  // namespace cowork::checkins::domain
