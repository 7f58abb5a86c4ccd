// The BookingsService half of the App: booking, cancelling and moving, and what is booked.

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/bookings/app/app.h"
#include "services/bookings/domain/booking.h"
#include "services/bookings/projection/keys.h"
#include "services/bookings/projection/projection.h"
#include "services/bookings/projection/views.h"

namespace cowork::bookings::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;

// Schedules and credit accounts race every booking of the resource or customer: retry more.
constexpr int kBookingAttempts = 32;
constexpr int kMaxAvailabilityDays = 31;

std::optional<absl::Time> TimeOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return FromTimestamp(t);
}

// The booking of the caller's operator that the caller may change: an admin with
// bookings.write at its location, or its customer.
absl::StatusOr<Loaded<domain::BookingState>> ChangeableBooking(const eventstore::Store& store,
                                                               const auth::Principal& p,
                                                               absl::string_view booking_id) {
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> booking,
                          eventstore::LoadOwned<domain::BookingState>(
                              store, projection::kBookingAggregate, p.operator_id, booking_id,
                              "booking"));
  const v1::BookingCreated& b = booking.state.created();
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsWrite, b.location_id(), b.customer_id()));
  return booking;
}

// Every UTC day of `a` and `b`, once, in order.
std::vector<std::string> Union(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

}  // namespace

absl::StatusOr<v1::Booking> App::CreateBooking(const auth::Principal& p,
                                               const v1::CreateBookingRequest& r) {
  const std::string customer_id =
      r.customer_id().empty() && p.is_customer() ? p.subject : r.customer_id();
  FieldErrors errors;
  errors.Merge(validation::CheckIds(
      r.request_id(), {{"resource_id", r.resource_id()}, {"customer_id", customer_id}}));
  if (r.has_start_time()) validation::CheckTimestamp(r.start_time(), "start_time", errors);
  if (r.has_end_time()) validation::CheckTimestamp(r.end_time(), "end_time", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kBookingsWrite, customer_id));
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "CreateBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                                eventstore::LoadOwned<domain::ResourceState>(
                                    store_, projection::kResourceAggregate, p.operator_id,
                                    r.resource_id(), "resource"));
        const std::string& location_id = resource.state.location_id();
        if (p.is_admin()) {
          COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, location_id));
        }
        const absl::Time now = clock_.Now();
        domain::CreateBooking create{.booking_id = crypto::NewId("bk-"),
                                     .customer_id = customer_id,
                                     .booked_by = p.subject,
                                     .from_portal = !p.is_admin(),
                                     .start = TimeOf(r.has_start_time(), r.start_time()),
                                     .end = TimeOf(r.has_end_time(), r.end_time())};
        // The days to load follow from the times: they are checked first (Decide does again).
        COWORK_RETURN_IF_ERROR(
            domain::CheckTimes(create.start, create.end, resource.state.settings(), now));
        COWORK_ASSIGN_OR_RETURN(const directory::CustomerStanding standing,
                                KnownCustomer(p.operator_id, customer_id));
        create.customer_suspended = standing.suspended;
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, ZoneOf(p.operator_id, location_id));
        COWORK_ASSIGN_OR_RETURN(
            projection::Schedules schedules,
            projection::LoadSchedules(store_, r.resource_id(),
                                      domain::ScheduleDays(*create.start, *create.end)));
        projection::Wallet wallet;
        if (resource.state.settings().hourly_price().amount_minor() > 0) {
          COWORK_ASSIGN_OR_RETURN(wallet, projection::OpenWallet(
                                              store_, directory_, p.operator_id, customer_id,
                                              location_id, calendar::Today(*create.start, tz)));
          create.credit = wallet.InOrder();
        }
        COWORK_ASSIGN_OR_RETURN(
            domain::BookingEvents events,
            domain::Decide(domain::Place{resource.state, schedules.slots}, create, now));
        eventstore::WriteSet writes;
        COWORK_ASSIGN_OR_RETURN(
            const domain::BookingState after,
            projection::StageBooking(
                store_,
                eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(),
                                           now),
                Loaded<domain::BookingState>(), std::move(events), schedules, wallet.accounts,
                tz, writes));
        return Decided<v1::Booking>{std::move(writes), projection::BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

absl::StatusOr<v1::Booking> App::CancelBooking(const auth::Principal& p,
                                               const v1::CancelBookingRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"booking_id", r.booking_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot cancel");
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "CancelBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> before,
                                ChangeableBooking(store_, p, r.booking_id()));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(domain::BookingEvents events,
                                domain::Decide(before.state, domain::CancelBooking{}, now));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                                ZoneOf(p.operator_id, before.state.created().location_id()));
        eventstore::WriteSet writes;
        COWORK_ASSIGN_OR_RETURN(
            const domain::BookingState after,
            projection::StageBooking(
                store_,
                eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(),
                                           now),
                before, std::move(events), {}, {}, tz, writes));
        return Decided<v1::Booking>{std::move(writes), projection::BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

absl::StatusOr<v1::Booking> App::MoveBooking(const auth::Principal& p,
                                             const v1::MoveBookingRequest& r) {
  FieldErrors errors;
  errors.Merge(validation::CheckIds(r.request_id(), {{"booking_id", r.booking_id()}}));
  if (r.has_start_time()) validation::CheckTimestamp(r.start_time(), "start_time", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot move bookings");
  return eventstore::Execute<v1::Booking>(
      store_, runtime::RequestOf(p, "MoveBooking", r),
      [&]() -> absl::StatusOr<Decided<v1::Booking>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::BookingState> before,
                                ChangeableBooking(store_, p, r.booking_id()));
        const v1::BookingCreated& b = before.state.created();
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                                eventstore::LoadOwned<domain::ResourceState>(
                                    store_, projection::kResourceAggregate, p.operator_id,
                                    b.resource_id(), "resource"));
        const absl::Time now = clock_.Now();
        const domain::MoveBooking move{TimeOf(r.has_start_time(), r.start_time())};
        const absl::Time old_start = FromTimestamp(b.start_time());
        const absl::Time old_end = FromTimestamp(b.end_time());
        std::vector<std::string> days = domain::ScheduleDays(old_start, old_end);
        // The old days and the new (a booking lasts at most 7 days: a bounded load).
        if (move.start.has_value()) {
          days =
              Union(days, domain::ScheduleDays(*move.start, *move.start + (old_end - old_start)));
        }
        COWORK_ASSIGN_OR_RETURN(projection::Schedules schedules,
                                projection::LoadSchedules(store_, b.resource_id(), days));
        COWORK_ASSIGN_OR_RETURN(
            domain::BookingEvents events,
            domain::Decide(before.state, domain::Place{resource.state, schedules.slots}, move,
                           now));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, ZoneOf(p.operator_id, b.location_id()));
        eventstore::WriteSet writes;
        COWORK_ASSIGN_OR_RETURN(
            const domain::BookingState after,
            projection::StageBooking(
                store_,
                eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(),
                                           now),
                before, std::move(events), schedules, {}, tz, writes));
        return Decided<v1::Booking>{std::move(writes), projection::BookingView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Booking>(p, auth::kBookingsWrite), kBookingAttempts);
}

absl::StatusOr<v1::Booking> App::GetBooking(const auth::Principal& p,
                                            const v1::GetBookingRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"booking_id", r.booking_id()}}));
  COWORK_ASSIGN_OR_RETURN(
      Loaded<domain::BookingState> booking,
      eventstore::LoadOwned<domain::BookingState>(store_, projection::kBookingAggregate,
                                                  p.operator_id, r.booking_id(), "booking"));
  const v1::BookingCreated& b = booking.state.created();
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsRead, b.location_id(), b.customer_id()));
  return projection::BookingView(booking.state);
}

absl::StatusOr<v1::ListBookingsResponse> App::ListBookings(const auth::Principal& p,
                                                           const v1::ListBookingsRequest& r) const {
  const int chosen = !r.resource_id().empty() + !r.customer_id().empty() + !r.location_id().empty();
  if (chosen != 1) {
    return InvalidField("resource_id",
                        "give exactly one of resource_id, customer_id and location_id");
  }
  const bool by_resource = !r.resource_id().empty(), by_location = !r.location_id().empty();
  const std::string& id =
      by_resource ? r.resource_id() : by_location ? r.location_id() : r.customer_id();
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      "", {{by_resource ? "resource_id" : by_location ? "location_id" : "customer_id", id}}));
  std::optional<absl::CivilDay> day;
  if (r.has_day()) {
    day = FromDate(r.day());
    if (!day.has_value()) return InvalidField("day", "must be a calendar date");
  }
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read this");

  // Time zones of the locations the listed bookings are at.
  std::map<std::string, absl::TimeZone> zones;
  absl::Status zone_error;
  auto zone_of = [&](const std::string& location_id) -> std::optional<absl::TimeZone> {
    auto it = zones.find(location_id);
    if (it != zones.end()) return it->second;
    absl::StatusOr<absl::TimeZone> tz = ZoneOf(p.operator_id, location_id);
    if (!tz.ok()) {
      zone_error = tz.status();
      return std::nullopt;
    }
    return zones.emplace(location_id, *tz).first->second;
  };

  std::string prefix;
  if (by_resource || by_location) {
    std::string location_id = r.location_id();
    if (by_resource) {
      COWORK_ASSIGN_OR_RETURN(
          Loaded<domain::ResourceState> resource,
          eventstore::LoadOwned<domain::ResourceState>(store_, projection::kResourceAggregate,
                                                       p.operator_id, r.resource_id(), "resource"));
      location_id = resource.state.location_id();
    } else {
      COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, location_id).status());
    }
    if (p.is_customer()) {
      return absl::PermissionDeniedError("customers list their own bookings (customer_id)");
    }
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsRead, location_id));
    const std::string kind = by_resource ? "bkres" : "bkloc";
    prefix = day.has_value() ? projection::BookingsOnDayPrefix(kind, p.operator_id, id, *day)
                             : projection::BookingsOfPrefix(kind, p.operator_id, id);
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kBookingsRead, r.customer_id()));
    prefix = projection::CustomerBookingsPrefix(p.operator_id, r.customer_id());
  }

  COWORK_ASSIGN_OR_RETURN(const int page_size, eventstore::PageSize(r.page_size()));
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<v1::Booking> page,
      eventstore::Paginate<v1::Booking>(
          store_, prefix, r.page_token(), page_size, eventstore::kMaxScan,
          [&](absl::string_view key,
              absl::string_view value) -> absl::StatusOr<std::optional<v1::Booking>> {
            COWORK_ASSIGN_OR_RETURN(std::optional<v1::Booking> b,
                                    eventstore::ParseView<v1::Booking>(key, value));
            if (p.is_admin() && !p.CoversLocation(b->location_id())) return std::nullopt;
            const std::optional<absl::TimeZone> tz = zone_of(b->location_id());
            if (!tz.has_value()) return zone_error;
            const absl::Time start = FromTimestamp(b->start_time());
            if (!day.has_value()) {
              // Resource and location lists hold a booking once per day it touches: keep
              // its first.
              if (by_resource || by_location) {
                const std::vector<std::string> parts = absl::StrSplit(key, '/');
                if (parts.size() < 4 || parts[3] != FormatDay(calendar::Today(start, *tz))) {
                  return std::nullopt;
                }
              }
              return b;
            }
            if (by_resource || by_location) return b;  // the day's own prefix
            const bool overlaps = start < calendar::StartOfDay(*day + 1, *tz) &&
                                  FromTimestamp(b->end_time()) > calendar::StartOfDay(*day, *tz);
            return overlaps ? b : std::nullopt;
          }));
  v1::ListBookingsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_bookings(), out);
  return out;
}

absl::StatusOr<v1::GetAvailabilityResponse> App::GetAvailability(
    const auth::Principal& p, const v1::GetAvailabilityRequest& r) const {
  FieldErrors errors;
  const bool by_resource = !r.resource_id().empty();
  if (by_resource == !r.location_id().empty()) {
    errors.Add("resource_id", "give exactly one of resource_id and location_id");
  } else {
    validation::CheckId(by_resource ? r.resource_id() : r.location_id(),
                        by_resource ? "resource_id" : "location_id", errors);
  }
  if (!r.has_from()) errors.Add("from", "is required");
  if (!r.has_to()) errors.Add("to", "is required");
  validation::CheckTimestamp(r.from(), "from", errors);
  validation::CheckTimestamp(r.to(), "to", errors);
  const absl::Time from = FromTimestamp(r.from()), to = FromTimestamp(r.to());
  if (r.has_from() && r.has_to() && errors.empty()) {
    if (to <= from) {
      errors.Add("to", "must be after from");
    } else if (to - from > absl::Hours(24 * kMaxAvailabilityDays)) {
      errors.Add("to", absl::StrCat("must be at most ", kMaxAvailabilityDays, " days after from"));
    }
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());

  std::vector<domain::ResourceState> resources;
  std::string location_id = r.location_id();
  if (by_resource) {
    COWORK_ASSIGN_OR_RETURN(
        Loaded<domain::ResourceState> resource,
        eventstore::LoadOwned<domain::ResourceState>(store_, projection::kResourceAggregate,
                                                     p.operator_id, r.resource_id(), "resource"));
    location_id = resource.state.location_id();
    resources.push_back(std::move(resource.state));
  } else {
    COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, location_id).status());
  }
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kBookingsRead, location_id));
  if (!by_resource) {
    COWORK_ASSIGN_OR_RETURN(resources,
                            projection::ResourcesAt(store_, p.operator_id, location_id));
  }
  const std::vector<std::string> days = domain::ScheduleDays(from, to);
  v1::GetAvailabilityResponse out;
  for (const domain::ResourceState& resource : resources) {
    COWORK_ASSIGN_OR_RETURN(projection::Schedules schedules,
                            projection::LoadSchedules(store_, resource.resource_id(), days));
    v1::ResourceAvailability* a = out.add_resources();
    a->set_resource_id(resource.resource_id());
    a->set_capacity(resource.settings().capacity());
    for (const domain::Stretch& s : domain::BusyStretches(
             schedules.slots, absl::ToUnixSeconds(from), absl::ToUnixSeconds(to))) {
      v1::Busy* busy = a->add_busy();
      *busy->mutable_start_time() = ToTimestamp(absl::FromUnixSeconds(s.start_unix));
      *busy->mutable_end_time() = ToTimestamp(absl::FromUnixSeconds(s.end_unix));
      busy->set_taken(s.taken);
    }
  }
  return out;
}

}  // namespace cowork::bookings::app
