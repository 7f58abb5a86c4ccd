#include "services/bookings/projection/views.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "services/bookings/projection/keys.h"

namespace cowork::bookings::projection {
namespace {

std::string Start12(absl::Time t) { return absl::StrFormat("%012d", absl::ToUnixSeconds(t)); }

// The local days [start, end) touches.
std::vector<absl::CivilDay> LocalDays(absl::Time start, absl::Time end, absl::TimeZone tz) {
  std::vector<absl::CivilDay> out;
  const absl::CivilDay last = calendar::Today(end - absl::Seconds(1), tz);
  for (absl::CivilDay d = calendar::Today(start, tz); d <= last; ++d) out.push_back(d);
  return out;
}

}  // namespace

v1::Resource ResourceView(const domain::ResourceState& s) {
  v1::Resource out;
  out.set_resource_id(s.resource_id());
  out.set_location_id(s.location_id());
  const v1::ResourceSettings& r = s.settings();
  out.set_name(r.name());
  out.set_kind(r.kind());
  out.set_capacity(r.capacity());
  *out.mutable_hourly_price() = r.hourly_price();
  out.set_portal_bookable(r.portal_bookable());
  out.set_min_minutes(r.min_minutes());
  out.set_max_minutes(r.max_minutes());
  return out;
}

eventstore::Views ResourceViews(const domain::ResourceState& s) {
  const std::string view = ResourceView(s).SerializeAsString();
  return {{ResourcesAtPrefix(s.operator_id(), s.location_id()) + s.resource_id(), view}};
}

v1::Booking BookingView(const domain::BookingState& s) {
  const v1::BookingCreated& c = s.created();
  v1::Booking out;
  out.set_booking_id(c.booking_id());
  out.set_resource_id(c.resource_id());
  out.set_location_id(c.location_id());
  out.set_customer_id(c.customer_id());
  *out.mutable_start_time() = c.start_time();
  *out.mutable_end_time() = c.end_time();
  out.set_state(s.cancelled() ? v1::CANCELLED : v1::CONFIRMED);
  *out.mutable_create_time() = s.create_time();
  out.set_credit_minutes(c.credit_minutes());
  *out.mutable_charge() = c.charge();
  out.set_resource_name(c.resource_name());
  out.set_booked_by(c.booked_by());
  return out;
}

eventstore::Views BookingViews(const domain::BookingState& s, absl::TimeZone tz) {
  const v1::BookingCreated& c = s.created();
  const std::string view = BookingView(s).SerializeAsString();
  const absl::Time start = FromTimestamp(c.start_time());
  const std::string tail = absl::StrCat(Start12(start), "/", c.booking_id());
  eventstore::Views out = {{CustomerBookingsPrefix(s.operator_id(), c.customer_id()) + tail, view}};
  for (absl::CivilDay d : LocalDays(start, FromTimestamp(c.end_time()), tz)) {
    out.emplace(BookingsOnDayPrefix("bkres", s.operator_id(), c.resource_id(), d) + tail, view);
    out.emplace(BookingsOnDayPrefix("bkloc", s.operator_id(), c.location_id(), d) + tail, view);
  }
  return out;
}

}  // namespace cowork::bookings::projection
