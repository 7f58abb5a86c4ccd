#ifndef COWORK_LIBS_CALENDAR_CALENDAR_H_
#define COWORK_LIBS_CALENDAR_CALENDAR_H_

// Calendar days in a location's time zone and billing periods (SPEC: dates people see are in
// the location's time zone; everything stored is UTC). Shared by the services that reason
// about a location's days: contracts (start, end, invoices), bookings (plan credit per cycle,
// day queries).
//
//  - Periods are anchored at a first day (a contract's start date, a recurring purchase's
//    start date): period k runs from anchor + k cycles to the day before anchor + k + 1
//    cycles. Monthly and yearly periods keep the anchor's day of month, clamped to the month's
//    last day (31 Jan, 28 Feb, 31 Mar, ...); weekly periods are 7 days.
//
// Thread-safe (pure functions).

#include <cstdint>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cowork::calendar {

// The calendar day `now` falls on in `tz`.
absl::CivilDay Today(absl::Time now, absl::TimeZone tz);

// The first instant of `day` in `tz`. Where a DST change skips local midnight, the day
// begins at the transition (the first instant whose local date is `day`); where midnight
// happens twice, at the first one.
absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz);

enum class Cycle { kMonthly, kWeekly, kYearly };

struct Period {
  absl::CivilDay first;
  absl::CivilDay last;  // inclusive
  int days() const { return static_cast<int>(last - first) + 1; }
  bool Contains(absl::CivilDay day) const { return first <= day && day <= last; }
};

// The period with index `k` (0 = the one starting on `anchor`) of `cycle`.
Period PeriodAt(absl::CivilDay anchor, Cycle cycle, int64_t k);

// The index of the period `day` falls in; negative when `day` is before `anchor`.
int64_t PeriodIndexOf(absl::CivilDay anchor, Cycle cycle, absl::CivilDay day);

}  // namespace cowork::calendar

#endif  // COWORK_LIBS_CALENDAR_CALENDAR_H_
