#include "libs/calendar/calendar.h"

#include <algorithm>

namespace cowork::calendar {
namespace {

// `anchor` moved by `months`, keeping its day of month clamped to the month's length.
absl::CivilDay AddMonths(absl::CivilDay anchor, int64_t months) {
  const absl::CivilMonth month = absl::CivilMonth(anchor) + months;
  const absl::CivilDay first_of_next(absl::CivilMonth(month + 1));
  const int days_in_month = static_cast<int>(first_of_next - absl::CivilDay(month));
  return absl::CivilDay(month.year(), month.month(), std::min(anchor.day(), days_in_month));
}

absl::CivilDay Boundary(absl::CivilDay anchor, Cycle cycle, int64_t k) {
  switch (cycle) {
    case Cycle::kWeekly: return anchor + 7 * k;
    case Cycle::kYearly: return AddMonths(anchor, 12 * k);
    case Cycle::kMonthly: break;
  }
  return AddMonths(anchor, k);
}

}  // namespace

absl::CivilDay Today(absl::Time now, absl::TimeZone tz) { return absl::ToCivilDay(now, tz); }

absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz) {
  const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(day));
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre;
}

Period PeriodAt(absl::CivilDay anchor, Cycle cycle, int64_t k) {
  return {Boundary(anchor, cycle, k), Boundary(anchor, cycle, k + 1) - 1};
}

int64_t PeriodIndexOf(absl::CivilDay anchor, Cycle cycle, absl::CivilDay day) {
  if (day < anchor) return -1;
  // An estimate from the average cycle length, then corrected by at most a step or two.
  const int64_t days = day - anchor;
  int64_t k = cycle == Cycle::kWeekly ? days / 7
              : cycle == Cycle::kYearly ? days / 366
                                        : days / 31;
  while (Boundary(anchor, cycle, k + 1) <= day) ++k;
  while (k > 0 && Boundary(anchor, cycle, k) > day) --k;
  return k;
}

}  // namespace cowork::calendar
