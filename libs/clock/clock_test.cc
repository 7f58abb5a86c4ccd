#include "libs/clock/clock.h"

#include "gtest/gtest.h"

namespace cowork {
namespace {

TEST(SimulatedClock, MovesOnlyWhenTold) {
  const absl::Time start = absl::FromUnixSeconds(1'700'000'000);
  SimulatedClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Minutes(90));
  EXPECT_EQ(clock.Now(), start + absl::Minutes(90));
  clock.Set(start);
  EXPECT_EQ(clock.Now(), start);
}

TEST(RealClock, FollowsTheWallClock) {
  const absl::Time a = RealClock::Get().Now();
  const absl::Time b = RealClock::Get().Now();
  EXPECT_LE(a, b);
  EXPECT_GT(a, absl::FromUnixSeconds(1'600'000'000));
}

}  // namespace
}  // namespace cowork
