#include "services/checkins/domain/presence.h"

#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"

namespace cowork::checkins::domain {
namespace {

// "HH:MM" -> minutes after midnight.
std::optional<int> MinutesOf(const std::string& hhmm) {
  int h = 0, m = 0;
  if (hhmm.size() != 5 || hhmm[2] != ':' || !absl::SimpleAtoi(hhmm.substr(0, 2), &h) ||
      !absl::SimpleAtoi(hhmm.substr(3, 2), &m) || !std::isdigit(hhmm[0]) ||
      !std::isdigit(hhmm[3]) || h < 0 || h > 23 || m < 0 || m > 59) {
    return std::nullopt;
  }
  return h * 60 + m;
}

Event Out(const v1::CheckedIn& current, v1::CheckOutReason reason, absl::Time out) {
  Event e;
  v1::CheckedOut* o = e.mutable_checked_out();
  o->set_checkin_id(current.checkin_id());
  o->set_customer_id(current.customer_id());
  o->set_location_id(current.location_id());
  o->set_reason(reason);
  *o->mutable_in_time() = current.in_time();
  *o->mutable_out_time() = ToTimestamp(out);
  return e;
}

}  // namespace

std::optional<AutoCheckOut> AutoCheckOutOf(const PolicyState* policy, absl::Time in,
                                           absl::TimeZone tz) {
  const int max_hours = policy == nullptr ? kDefaultMaxHours : policy->max_hours();
  std::optional<AutoCheckOut> out;
  if (max_hours > 0) out = AutoCheckOut{in + absl::Hours(max_hours), v1::TIME_LIMIT};
  const std::optional<int> closing =
      policy == nullptr ? std::nullopt : MinutesOf(policy->closing_time());
  if (closing.has_value()) {
    // The first closing time after arrival, local time (today's, or tomorrow's when past).
    const absl::CivilDay day = absl::ToCivilDay(in, tz);
    absl::Time at = absl::FromCivil(absl::CivilMinute(day) + *closing, tz);
    if (at <= in) at = absl::FromCivil(absl::CivilMinute(day + 1) + *closing, tz);
    if (!out.has_value() || at < out->at) out = AutoCheckOut{at, v1::CLOSING_TIME};
  }
  return out;
}

absl::StatusOr<Events> Decide(const PresenceState& presence, const CheckIn& a,
                              absl::Time now) {
  if (a.method == v1::CHECK_IN_METHOD_UNSPECIFIED || !v1::CheckInMethod_IsValid(a.method)) {
    return InvalidField("method", "must be QR_CODE, ACCESS_CARD, APP or MANUAL");
  }
  if (a.suspended) {
    Event e;
    v1::CheckInRefused* r = e.mutable_check_in_refused();
    r->set_checkin_id(a.checkin_id);
    r->set_customer_id(a.customer_id);
    r->set_location_id(a.location_id);
    r->set_method(a.method);
    *r->mutable_at() = ToTimestamp(now);
    r->set_reason("the customer is suspended");
    return Events{std::move(e)};
  }
  Events out;
  if (presence.has_current()) {
    if (presence.current().location_id() == a.location_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("customer ", a.customer_id, " is already checked in at ", a.location_id));
    }
    out.push_back(Out(presence.current(), v1::MOVED, now));
  }
  Event e;
  v1::CheckedIn* in = e.mutable_checked_in();
  in->set_checkin_id(a.checkin_id);
  in->set_customer_id(a.customer_id);
  in->set_location_id(a.location_id);
  in->set_method(a.method);
  *in->mutable_in_time() = ToTimestamp(now);
  if (std::optional<AutoCheckOut> auto_out = AutoCheckOutOf(a.policy, now, a.tz)) {
    *in->mutable_auto_checkout_time() = ToTimestamp(auto_out->at);
    in->set_auto_checkout_reason(auto_out->reason);
  }
  in->set_recorded_by(a.recorded_by);
  out.push_back(std::move(e));
  return out;
}

absl::StatusOr<Events> Decide(const PresenceState& presence, const CheckOut& /*command*/,
                              absl::Time now) {
  if (!presence.has_current()) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", presence.customer_id(), " is not checked in"));
  }
  return Events{Out(presence.current(), v1::LEFT, now)};
}

absl::StatusOr<Events> Decide(const PresenceState& presence,
                              const CheckOutWhenDue& /*command*/, absl::Time now) {
  if (!presence.has_current() || !presence.current().has_auto_checkout_time()) return Events{};
  const absl::Time at = FromTimestamp(presence.current().auto_checkout_time());
  if (at > now) return Events{};
  return Events{Out(presence.current(), presence.current().auto_checkout_reason(), at)};
}

absl::StatusOr<Events> Decide(const PolicyState& /*policy*/, const SetCheckoutPolicy& command,
                              absl::Time /*now*/) {
  const std::string& location_id = command.location_id;
  const std::string& closing_time = command.closing_time;
  const int max_hours = command.max_hours;
  FieldErrors errors;
  if (!closing_time.empty() && !MinutesOf(closing_time).has_value()) {
    errors.Add("closing_time", "must be HH:MM (00:00..23:59) or empty");
  }
  if (max_hours < 0 || max_hours > kMaxHoursLimit) {
    errors.Add("max_hours", absl::StrCat("must be 0 (no limit)..", kMaxHoursLimit));
  }
  if (!errors.empty()) return errors.ToStatus();
  Event e;
  v1::CheckoutPolicySet* p = e.mutable_checkout_policy_set();
  p->set_location_id(location_id);
  p->set_closing_time(closing_time);
  p->set_max_hours(max_hours);
  return Events{std::move(e)};
}

PresenceState Apply(PresenceState state, const Event& event) {
  if (event.has_checked_in()) {
    state.set_operator_id(event.operator_id());
    state.set_customer_id(event.checked_in().customer_id());
    *state.mutable_current() = event.checked_in();
  } else if (event.has_checked_out()) {
    state.clear_current();
  } else if (event.has_check_in_refused()) {
    state.set_operator_id(event.operator_id());
    state.set_customer_id(event.check_in_refused().customer_id());
  }
  return state;
}

PolicyState Apply(PolicyState state, const Event& event) {
  if (event.has_checkout_policy_set()) {
    const v1::CheckoutPolicySet& p = event.checkout_policy_set();
    state.set_operator_id(event.operator_id());
    state.set_location_id(p.location_id());
    state.set_closing_time(p.closing_time());
    state.set_max_hours(p.max_hours());
  }
  return state;
}

}  // namespace cowork::checkins::domain
