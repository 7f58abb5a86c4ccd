#include "services/bookings/domain/booking.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"

namespace cowork::bookings::domain {
namespace {

constexpr int64_t kSlotSeconds = kSlotMinutes * 60;

// Dates in stored state were checked when they were recorded.
absl::CivilDay DayOf(const google::type::Date& date) {
  return FromDate(date).value_or(absl::CivilDay());
}

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

std::string PlanKey(absl::string_view contract_id, absl::CivilDay period_start) {
  return absl::StrCat(contract_id, "/", absl::FormatCivilTime(period_start));
}

std::optional<calendar::Period> CreditPeriodOn(const ContractCredit& contract,
                                               absl::CivilDay day) {
  if (contract.never_started() || contract.credit_minutes() <= 0) return std::nullopt;
  const absl::CivilDay start = DayOf(contract.start_date());
  if (day < start) return std::nullopt;
  if (contract.has_end_date() && day > DayOf(contract.end_date())) return std::nullopt;
  const calendar::Cycle cycle = contract.cycle() == contracts::v1::WEEKLY   ? calendar::Cycle::kWeekly
                                : contract.cycle() == contracts::v1::YEARLY ? calendar::Cycle::kYearly
                                                                            : calendar::Cycle::kMonthly;
  return calendar::PeriodAt(start, cycle, calendar::PeriodIndexOf(start, cycle, day));
}

std::vector<CreditSource> PlanSources(const std::vector<ContractCredit>& contracts,
                                      const CreditState& credit, absl::CivilDay day) {
  std::vector<CreditSource> out;
  for (const ContractCredit& c : contracts) {
    std::optional<calendar::Period> period = CreditPeriodOn(c, day);
    if (!period.has_value()) continue;
    auto used = credit.plan_used().find(PlanKey(c.contract_id(), period->first));
    const int64_t left =
        c.credit_minutes() - (used == credit.plan_used().end() ? 0 : used->second);
    if (left <= 0) continue;
    out.push_back({.owner = c.customer_id(),
                   .source = v1::PLAN,
                   .contract_id = c.contract_id(),
                   .period_start = period->first,
                   .available = left});
  }
  return out;
}

std::vector<v1::CreditDrawn> Draw(const std::vector<CreditSource>& sources, int64_t minutes,
                                  absl::string_view booking_id, absl::string_view for_customer,
                                  absl::string_view location_id) {
  std::vector<v1::CreditDrawn> out;
  for (const CreditSource& s : sources) {
    if (minutes <= 0) break;
    const int64_t take = std::min(minutes, s.available);
    if (take <= 0) continue;
    v1::CreditDrawn d;
    d.set_customer_id(s.owner);
    d.set_location_id(std::string(location_id));
    d.set_booking_id(std::string(booking_id));
    d.set_for_customer_id(std::string(for_customer));
    d.set_source(s.source);
    if (s.source == v1::PLAN) {
      d.set_contract_id(s.contract_id);
      *d.mutable_period_start() = ToDate(s.period_start);
    }
    d.set_minutes(take);
    out.push_back(std::move(d));
    minutes -= take;
  }
  return out;
}

v1::CreditReturned ReturnOf(const v1::CreditDrawn& drawn) {
  v1::CreditReturned r;
  r.set_customer_id(drawn.customer_id());
  r.set_location_id(drawn.location_id());
  r.set_booking_id(drawn.booking_id());
  r.set_source(drawn.source());
  r.set_contract_id(drawn.contract_id());
  if (drawn.has_period_start()) *r.mutable_period_start() = drawn.period_start();
  r.set_minutes(drawn.minutes());
  return r;
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

CreditState Apply(CreditState state, const Event& event) {
  auto count = [&state](v1::CreditSource source, const std::string& contract_id,
                        const google::type::Date& period_start, int64_t minutes) {
    if (source == v1::GRANT) {
      state.set_granted_left(state.granted_left() - minutes);
    } else {
      int64_t& used = (*state.mutable_plan_used())[PlanKey(contract_id, DayOf(period_start))];
      used += minutes;
      if (used == 0) state.mutable_plan_used()->erase(PlanKey(contract_id, DayOf(period_start)));
    }
  };
  if (event.has_credit_granted()) {
    const v1::CreditGranted& e = event.credit_granted();
    state.set_operator_id(event.operator_id());
    state.set_customer_id(e.customer_id());
    state.set_location_id(e.location_id());
    state.set_granted_left(state.granted_left() + e.minutes());
  } else if (event.has_credit_drawn()) {
    const v1::CreditDrawn& e = event.credit_drawn();
    state.set_operator_id(event.operator_id());
    state.set_customer_id(e.customer_id());
    state.set_location_id(e.location_id());
    count(e.source(), e.contract_id(), e.period_start(), e.minutes());
  } else if (event.has_credit_returned()) {
    const v1::CreditReturned& e = event.credit_returned();
    count(e.source(), e.contract_id(), e.period_start(), -e.minutes());
  }
  return state;
}

}  // namespace cowork::bookings::domain
