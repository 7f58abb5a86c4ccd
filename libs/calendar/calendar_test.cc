#include "libs/calendar/calendar.h"

#include "gtest/gtest.h"

namespace cowork::calendar {
namespace {

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

TEST(Calendar, TodayIsTheLocationsDate) {
  // 2026-05-31 23:30 UTC is already June 1st in Madrid (UTC+2) and still May 31st in New York.
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 5, 31, 23, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(Today(t, Zone("Europe/Madrid")), absl::CivilDay(2026, 6, 1));
  EXPECT_EQ(Today(t, Zone("America/New_York")), absl::CivilDay(2026, 5, 31));
}

TEST(Calendar, StartOfDayIsLocalMidnight) {
  const absl::TimeZone madrid = Zone("Europe/Madrid");
  EXPECT_EQ(StartOfDay(absl::CivilDay(2026, 6, 1), madrid),
            absl::FromCivil(absl::CivilSecond(2026, 5, 31, 22, 0, 0), absl::UTCTimeZone()));
  // The DST change in Madrid happens at 02:00 local on 2026-03-29: midnight is unaffected,
  // and the day after it is 23 hours long.
  EXPECT_EQ(StartOfDay(absl::CivilDay(2026, 3, 30), madrid) -
                StartOfDay(absl::CivilDay(2026, 3, 29), madrid),
            absl::Hours(23));
  EXPECT_EQ(StartOfDay(absl::CivilDay(2026, 10, 26), madrid) -
                StartOfDay(absl::CivilDay(2026, 10, 25), madrid),
            absl::Hours(25));
}

TEST(Calendar, SkippedMidnightStartsTheDayAtTheTransition) {
  // Santiago de Chile moves its clocks forward at local midnight (00:00 -> 01:00) on
  // 2026-09-06: that day's first instant is 01:00 local, and it is already that day.
  const absl::TimeZone santiago = Zone("America/Santiago");
  const absl::Time start = StartOfDay(absl::CivilDay(2026, 9, 6), santiago);
  EXPECT_EQ(Today(start, santiago), absl::CivilDay(2026, 9, 6));
  EXPECT_EQ(Today(start - absl::Seconds(1), santiago), absl::CivilDay(2026, 9, 5));
}

TEST(Periods, MonthlyKeepTheAnchorDayClampedToShortMonths) {
  const absl::CivilDay jan31(2026, 1, 31);
  EXPECT_EQ(PeriodAt(jan31, Cycle::kMonthly, 0).first, jan31);
  EXPECT_EQ(PeriodAt(jan31, Cycle::kMonthly, 0).last, absl::CivilDay(2026, 2, 27));
  EXPECT_EQ(PeriodAt(jan31, Cycle::kMonthly, 1).first, absl::CivilDay(2026, 2, 28));
  EXPECT_EQ(PeriodAt(jan31, Cycle::kMonthly, 1).last, absl::CivilDay(2026, 3, 30));
  EXPECT_EQ(PeriodAt(jan31, Cycle::kMonthly, 2).first, absl::CivilDay(2026, 3, 31));
  EXPECT_EQ(PeriodAt(absl::CivilDay(2028, 1, 30), Cycle::kMonthly, 1).first,
            absl::CivilDay(2028, 2, 29));  // a leap year's February
}

TEST(Periods, WeeklyAndYearly) {
  const absl::CivilDay may20(2026, 5, 20);
  EXPECT_EQ(PeriodAt(may20, Cycle::kWeekly, 2).first, may20 + 14);
  EXPECT_EQ(PeriodAt(may20, Cycle::kWeekly, 2).days(), 7);
  const absl::CivilDay leap(2028, 2, 29);
  EXPECT_EQ(PeriodAt(leap, Cycle::kYearly, 1).first, absl::CivilDay(2029, 2, 28));
  EXPECT_EQ(PeriodAt(leap, Cycle::kYearly, 0).days(), 365);
}

TEST(Periods, TheIndexOfADayIsThePeriodContainingIt) {
  for (Cycle cycle : {Cycle::kMonthly, Cycle::kWeekly, Cycle::kYearly}) {
    const absl::CivilDay anchor(2026, 1, 31);
    EXPECT_EQ(PeriodIndexOf(anchor, cycle, anchor - 1), -1);
    for (absl::CivilDay day = anchor; day < anchor + 1200; day += 1) {
      const int64_t k = PeriodIndexOf(anchor, cycle, day);
      ASSERT_GE(k, 0);
      ASSERT_TRUE(PeriodAt(anchor, cycle, k).Contains(day)) << day << " in period " << k;
    }
  }
}

}  // namespace
}  // namespace cowork::calendar
