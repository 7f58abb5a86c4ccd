#ifndef COWORK_SERVICES_BOOKINGS_DOMAIN_BOOKING_H_
#define COWORK_SERVICES_BOOKINGS_DOMAIN_BOOKING_H_

// Bookings (SPEC "Bookings"; the rules are written down in docs/DECISIONS.md "Bookings"):
//
//  - Times: a booking starts and ends on a 15-minute boundary (of UTC, and so of every
//    location: time zone offsets are whole quarter hours), lasts the resource's min..max, and
//    does not start before the current quarter hour nor more than two years ahead.
//  - Place: a resource of capacity N is held by at most N bookings at any instant; bookings
//    hold [start, end), so back to back is fine and one minute of overlap is not. Each
//    resource's bookings are kept per UTC day in a schedule (one aggregate per resource and
//    day): a booking takes its place in every day it touches in the same commit, so two
//    racing bookings conflict on a schedule's version and the loser decides again.
//  - Paying: a free resource costs nothing and uses no credit. Otherwise booking credit pays
//    minute for minute, in this order: the customer's own plan credit for the billing period
//    the booking starts in (contracts in id order), their free credit grants, then the unused
//    plan credit of team mates in teams that share booking credit (teams, then mates, in id
//    order). What credit does not cover is charged at the hourly price, prorated by minutes,
//    rounded half up.
//  - Cancelling returns every minute drawn to where it came from and voids the charge (the
//    contracts service does, from BookingCancelled). Moving keeps the length and what paid.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/calendar/calendar.h"
#include "services/bookings/domain/resource.h"
#include "services/bookings/domain/state.pb.h"

namespace cowork::bookings::domain {

// How far ahead a booking may start: two years (730 days) from now.
inline constexpr absl::Duration kBookingHorizon = absl::Hours(24 * 730);

// INVALID_ARGUMENT naming start_time and end_time for each broken time rule above, and a start
// beyond kBookingHorizon.
absl::Status CheckTimes(std::optional<absl::Time> start, std::optional<absl::Time> end,
                        const v1::ResourceSettings& resource, absl::Time now);

// The UTC days [start, end) touches, as "YYYYMMDD" (the schedule aggregates it lives in).
std::vector<std::string> ScheduleDays(absl::Time start, absl::Time end);

// The most bookings of `slots` holding any instant of [start, end), not counting `except`.
int PeakHeld(const std::vector<SlotTaken>& slots, int64_t start_unix, int64_t end_unix,
             absl::string_view except = "");

// FAILED_PRECONDITION unless one more booking fits in [start, end) at `capacity`.
absl::Status CheckRoom(const std::vector<SlotTaken>& slots, int64_t start_unix, int64_t end_unix,
                       int capacity, absl::string_view except = "");

// Stretches of [from, to) during which the same number (> 0) of `slots` hold the resource.
struct Stretch {
  int64_t start_unix = 0;
  int64_t end_unix = 0;
  int taken = 0;
  bool operator==(const Stretch&) const = default;
};
std::vector<Stretch> BusyStretches(const std::vector<SlotTaken>& slots, int64_t from_unix,
                                   int64_t to_unix);

// hourly * minutes / 60, half up.
int64_t PriceOf(int64_t hourly_minor, int64_t minutes);

// ---------------------------------------------------------------- credit

// "<contract>/<YYYY-MM-DD>": the plan-credit period a CreditState counts minutes under.
std::string PlanKey(absl::string_view contract_id, absl::CivilDay period_start);

// The billing period of `contract` that `day` falls in, when the contract holds that day and
// includes credit.
std::optional<calendar::Period> CreditPeriodOn(const ContractCredit& contract, absl::CivilDay day);

// Credit that may pay for a booking, in the order it is used.
struct CreditSource {
  std::string owner;  // whose credit (the customer or a team mate)
  v1::CreditSource source = v1::CREDIT_SOURCE_UNSPECIFIED;
  std::string contract_id;      // PLAN
  absl::CivilDay period_start;  // PLAN
  int64_t available = 0;        // minutes
};

// The plan-credit sources of `contracts` on `day` with what `credit` (the owner's) has left.
std::vector<CreditSource> PlanSources(const std::vector<ContractCredit>& contracts,
                                      const CreditState& credit, absl::CivilDay day);

// Takes up to `minutes` from `sources` in order: one CreditDrawn per source used.
std::vector<v1::CreditDrawn> Draw(const std::vector<CreditSource>& sources, int64_t minutes,
                                  absl::string_view booking_id, absl::string_view for_customer,
                                  absl::string_view location_id);

// The CreditReturned that gives back what `drawn` took.
v1::CreditReturned ReturnOf(const v1::CreditDrawn& drawn);

BookingState Apply(BookingState state, const Event& event);
ScheduleState Apply(ScheduleState state, const Event& event);
CreditState Apply(CreditState state, const Event& event);

}  // namespace cowork::bookings::domain

#endif  // COWORK_SERVICES_BOOKINGS_DOMAIN_BOOKING_H_
