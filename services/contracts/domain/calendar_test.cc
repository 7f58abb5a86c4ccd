#include "services/contracts/domain/calendar.h"

#include "gtest/gtest.h"

namespace cowork::contracts::domain {
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

}  // namespace
}  // namespace cowork::contracts::domain
