#include "services/bookings/domain/booking.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"

namespace cowork::bookings::domain {
namespace {

constexpr int64_t kSlotSeconds = kSlotMinutes * 60;

bool OnSlot(absl::Time t) { return absl::ToUnixSeconds(t) % kSlotSeconds == 0 &&
                                   t == absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

}  // namespace

absl::Status CheckTimes(std::optional<absl::Time> start, std::optional<absl::Time> end,
                        const v1::ResourceSettings& resource, absl::Time now) {
  FieldErrors errors;
  const std::string boundary = absl::StrCat("must be on a ", kSlotMinutes, "-minute boundary");
  if (!start.has_value()) {
    errors.Add("start_time", "is required");
  } else if (!OnSlot(*start)) {
    errors.Add("start_time", boundary);
  } else {
    const int64_t current_slot = absl::ToUnixSeconds(now) / kSlotSeconds * kSlotSeconds;
    if (absl::ToUnixSeconds(*start) < current_slot) {
      errors.Add("start_time", "is in the past");
    } else if (*start > now + kBookingHorizon) {
      errors.Add("start_time", absl::StrCat("must be at most ", kBookingHorizon / absl::Hours(24),
                                            " days ahead"));
    }
  }
  if (!end.has_value()) {
    errors.Add("end_time", "is required");
  } else if (!OnSlot(*end)) {
    errors.Add("end_time", boundary);
  } else if (start.has_value() && *end <= *start) {
    errors.Add("end_time", "must be after start_time");
  } else if (start.has_value() && OnSlot(*start)) {
    const int64_t minutes = absl::ToInt64Minutes(*end - *start);
    if (minutes < resource.min_minutes() || minutes > resource.max_minutes()) {
      errors.Add("end_time", absl::StrCat("the booking must last ", resource.min_minutes(), " to ",
                                          resource.max_minutes(), " minutes at ",
                                          resource.name()));
    }
  }
  return errors.ToStatus();
}

std::vector<std::string> ScheduleDays(absl::Time start, absl::Time end) {
  std::vector<std::string> out;
  const absl::CivilDay first = absl::ToCivilDay(start, absl::UTCTimeZone());
  const absl::CivilDay last = absl::ToCivilDay(end - absl::Seconds(1), absl::UTCTimeZone());
  for (absl::CivilDay d = first; d <= last; ++d) {
    out.push_back(absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day()));
  }
  return out;
}

namespace {

// +1 at each start, -1 at each end of the slots overlapping [from, to), clipped to it; ends
// sort before starts at the same instant (back to back does not overlap).
std::map<int64_t, int> Edges(const std::vector<SlotTaken>& slots, int64_t from, int64_t to,
                             absl::string_view except) {
  std::map<int64_t, int> edges;
  for (const SlotTaken& s : slots) {
    if (s.booking_id() == except || s.end_unix() <= from || s.start_unix() >= to) continue;
    edges[std::max(s.start_unix(), from)] += 1;
    edges[std::min(s.end_unix(), to)] -= 1;
  }
  return edges;
}

}  // namespace

int PeakHeld(const std::vector<SlotTaken>& slots, int64_t start_unix, int64_t end_unix,
             absl::string_view except) {
  int held = 0, peak = 0;
  for (const auto& [at, delta] : Edges(slots, start_unix, end_unix, except)) {
    held += delta;
    peak = std::max(peak, held);
  }
  return peak;
}

absl::Status CheckRoom(const std::vector<SlotTaken>& slots, int64_t start_unix, int64_t end_unix,
                       int capacity, absl::string_view except) {
  if (PeakHeld(slots, start_unix, end_unix, except) < capacity) return absl::OkStatus();
  return absl::FailedPreconditionError(
      capacity == 1 ? "the resource is already booked at that time"
                    : absl::StrCat("all ", capacity, " places are booked at that time"));
}

std::vector<Stretch> BusyStretches(const std::vector<SlotTaken>& slots, int64_t from_unix,
                                   int64_t to_unix) {
  std::vector<Stretch> out;
  int held = 0;
  int64_t since = from_unix;
  for (const auto& [at, delta] : Edges(slots, from_unix, to_unix, "")) {
    if (delta == 0) continue;
    if (held > 0 && at > since) {
      if (!out.empty() && out.back().end_unix == since && out.back().taken == held) {
        out.back().end_unix = at;
      } else {
        out.push_back({since, at, held});
      }
    }
    held += delta;
    since = at;
  }
  return out;
}

int64_t PriceOf(int64_t hourly_minor, int64_t minutes) {
  return static_cast<int64_t>((static_cast<__int128>(hourly_minor) * minutes * 2 + 60) / 120);
}

// ---------------------------------------------------------------- commands

namespace {

Event SlotTakenBy(const v1::BookingCreated& b) {
  Event e;
  SlotTaken* taken = e.mutable_slot_taken();
  taken->set_booking_id(b.booking_id());
  taken->set_start_unix(absl::ToUnixSeconds(FromTimestamp(b.start_time())));
  taken->set_end_unix(absl::ToUnixSeconds(FromTimestamp(b.end_time())));
  return e;
}

Event SlotFreedBy(absl::string_view booking_id) {
  Event e;
  e.mutable_slot_freed()->set_booking_id(std::string(booking_id));
  return e;
}

Event ConfirmationOf(const v1::BookingCreated& b) {
  Event e;
  v1::BookingConfirmationRequested* n = e.mutable_booking_confirmation_requested();
  n->set_booking_id(b.booking_id());
  n->set_customer_id(b.customer_id());
  n->set_location_id(b.location_id());
  n->set_resource_name(b.resource_name());
  *n->mutable_start_time() = b.start_time();
  *n->mutable_end_time() = b.end_time();
  return e;
}

BookingEvents EventsOf(const v1::BookingCreated& b) {
  return {.booking_id = b.booking_id(), .resource_id = b.resource_id(),
          .location_id = b.location_id()};
}

absl::Status CheckChangeable(const BookingState& booking) {
  if (booking.cancelled()) {
    return absl::FailedPreconditionError(
        absl::StrCat("booking ", booking.created().booking_id(), " is cancelled"));
  }
  return absl::OkStatus();
}

}  // namespace

std::map<std::string, Events> SlotsHeldBy(const BookingState& booking) {
  std::map<std::string, Events> out;
  if (booking.cancelled()) return out;
  const v1::BookingCreated& b = booking.created();
  for (const std::string& day :
       ScheduleDays(FromTimestamp(b.start_time()), FromTimestamp(b.end_time()))) {
    out[day].push_back(SlotTakenBy(b));
  }
  return out;
}

absl::StatusOr<BookingEvents> Decide(const Place& place, const CreateBooking& command,
                                     absl::Time now) {
  const v1::ResourceSettings& settings = place.resource.settings();
  if (command.from_portal && !settings.portal_bookable()) {
    return absl::PermissionDeniedError(
        absl::StrCat(settings.name(), " cannot be booked from the portal"));
  }
  COWORK_RETURN_IF_ERROR(CheckTimes(command.start, command.end, settings, now));
  if (command.customer_suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", command.customer_id, " is suspended and cannot book"));
  }
  const absl::Time start = *command.start, end = *command.end;
  COWORK_RETURN_IF_ERROR(CheckRoom(place.slots, absl::ToUnixSeconds(start),
                                   absl::ToUnixSeconds(end), settings.capacity()));

  // Paying: credit first, the rest at the hourly price; a free resource uses no credit.
  const int64_t minutes = absl::ToInt64Minutes(end - start);
  const std::string& location_id = place.resource.location_id();
  std::vector<v1::CreditDrawn> draws;
  if (settings.hourly_price().amount_minor() > 0) {
    draws = Draw(command.credit, minutes, command.booking_id, command.customer_id, location_id);
  }
  Event created;
  v1::BookingCreated* b = created.mutable_booking_created();
  b->set_booking_id(command.booking_id);
  b->set_resource_id(place.resource.resource_id());
  b->set_location_id(location_id);
  b->set_customer_id(command.customer_id);
  *b->mutable_start_time() = ToTimestamp(start);
  *b->mutable_end_time() = ToTimestamp(end);
  b->set_resource_name(settings.name());
  b->set_booked_by(command.booked_by);
  BookingEvents out = EventsOf(*b);
  int64_t credit_minutes = 0;
  for (const v1::CreditDrawn& d : draws) {
    credit_minutes += d.minutes();
    *b->add_draws() = d;
    Event e;
    *e.mutable_credit_drawn() = d;
    out.credit[d.customer_id()].push_back(std::move(e));
  }
  b->set_credit_minutes(credit_minutes);
  b->mutable_charge()->set_amount_minor(
      PriceOf(settings.hourly_price().amount_minor(), minutes - credit_minutes));
  b->mutable_charge()->set_currency(settings.hourly_price().currency());
  for (const std::string& day : ScheduleDays(start, end)) {
    out.schedules[day].push_back(SlotTakenBy(*b));
  }
  Event confirmation = ConfirmationOf(*b);
  out.booking.push_back(std::move(created));
  out.booking.push_back(std::move(confirmation));
  return out;
}

absl::StatusOr<BookingEvents> Decide(const BookingState& booking,
                                     const CancelBooking& /*command*/, absl::Time now) {
  COWORK_RETURN_IF_ERROR(CheckChangeable(booking));
  const v1::BookingCreated& b = booking.created();
  if (FromTimestamp(b.end_time()) <= now) {
    return absl::FailedPreconditionError("the booking is over; it cannot be cancelled");
  }
  BookingEvents out = EventsOf(b);
  for (const std::string& day :
       ScheduleDays(FromTimestamp(b.start_time()), FromTimestamp(b.end_time()))) {
    out.schedules[day].push_back(SlotFreedBy(b.booking_id()));
  }
  for (const v1::CreditDrawn& d : b.draws()) {
    Event e;
    *e.mutable_credit_returned() = ReturnOf(d);
    out.credit[d.customer_id()].push_back(std::move(e));
  }
  Event cancelled;
  v1::BookingCancelled* c = cancelled.mutable_booking_cancelled();
  c->set_booking_id(b.booking_id());
  c->set_resource_id(b.resource_id());
  c->set_location_id(b.location_id());
  c->set_customer_id(b.customer_id());
  out.booking.push_back(std::move(cancelled));
  return out;
}

absl::StatusOr<BookingEvents> Decide(const BookingState& booking, const Place& place,
                                     const MoveBooking& command, absl::Time now) {
  COWORK_RETURN_IF_ERROR(CheckChangeable(booking));
  const v1::BookingCreated& b = booking.created();
  const absl::Time old_start = FromTimestamp(b.start_time());
  const absl::Time old_end = FromTimestamp(b.end_time());
  if (old_start <= now) {
    return absl::FailedPreconditionError("the booking has started; it cannot be moved");
  }
  if (!command.start.has_value()) return InvalidField("start_time", "is required");
  const absl::Time end = *command.start + (old_end - old_start);
  // The length was right when it was booked: only the new start is checked.
  v1::ResourceSettings as_booked = place.resource.settings();
  as_booked.set_min_minutes(0);
  as_booked.set_max_minutes(kMaxBookingMinutes);
  COWORK_RETURN_IF_ERROR(CheckTimes(command.start, end, as_booked, now));
  COWORK_RETURN_IF_ERROR(CheckRoom(place.slots, absl::ToUnixSeconds(*command.start),
                                   absl::ToUnixSeconds(end), as_booked.capacity(),
                                   b.booking_id()));
  Event moved;
  v1::BookingMoved* m = moved.mutable_booking_moved();
  m->set_booking_id(b.booking_id());
  m->set_resource_id(b.resource_id());
  m->set_location_id(b.location_id());
  m->set_customer_id(b.customer_id());
  *m->mutable_start_time() = ToTimestamp(*command.start);
  *m->mutable_end_time() = ToTimestamp(end);
  *m->mutable_previous_start_time() = b.start_time();
  v1::BookingCreated now_booked = b;
  *now_booked.mutable_start_time() = m->start_time();
  *now_booked.mutable_end_time() = m->end_time();

  BookingEvents out = EventsOf(b);
  for (const std::string& day : ScheduleDays(old_start, old_end)) {
    out.schedules[day].push_back(SlotFreedBy(b.booking_id()));
  }
  for (const std::string& day : ScheduleDays(*command.start, end)) {
    out.schedules[day].push_back(SlotTakenBy(now_booked));
  }
  out.booking.push_back(std::move(moved));
  out.booking.push_back(ConfirmationOf(now_booked));
  return out;
}

BookingState Apply(BookingState state, const Event& event) {
  if (event.has_booking_created()) {
    state.set_operator_id(event.operator_id());
    *state.mutable_created() = event.booking_created();
    *state.mutable_create_time() = event.occurred_at();
  } else if (event.has_booking_cancelled()) {
    state.set_cancelled(true);
  } else if (event.has_booking_moved()) {
    *state.mutable_created()->mutable_start_time() = event.booking_moved().start_time();
    *state.mutable_created()->mutable_end_time() = event.booking_moved().end_time();
  }
  return state;
}

ScheduleState Apply(ScheduleState state, const Event& event) {
  if (event.has_slot_taken()) {
    *state.add_slots() = event.slot_taken();
  } else if (event.has_slot_freed()) {
    auto* slots = state.mutable_slots();
    for (int i = 0; i < slots->size(); ++i) {
      if (slots->Get(i).booking_id() == event.slot_freed().booking_id()) {
        slots->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  return state;
}

}  // namespace cowork::bookings::domain
