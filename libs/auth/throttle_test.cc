#include "libs/auth/throttle.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/status/retry.h"

namespace cowork::auth {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);

// One failed attempt of `key`; false when the attempt was refused.
bool Fail(FailureThrottle& throttle, absl::string_view key) {
  absl::StatusOr<FailureThrottle::Attempt> attempt = throttle.Begin(key);
  if (!attempt.ok()) return false;
  attempt->Failed();
  return true;
}

TEST(FailureThrottle, FreeFailuresThenAWaitThatDoublesUpToTheMaximum) {
  SimulatedClock clock(kStart);
  FailureThrottle throttle({.free_failures = 3,
                            .base_delay = absl::Seconds(1),
                            .max_delay = absl::Seconds(10)},
                           clock);
  const std::string ana = "op-1/ana@example.com";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Fail(throttle, ana));
  // Three failures: the next attempt waits 1 s, then 2, 4, 8, 10, 10.
  for (const absl::Duration wait : {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                    absl::Seconds(8), absl::Seconds(10), absl::Seconds(10)}) {
    const absl::Status waiting = throttle.Begin(ana).status();
    EXPECT_EQ(waiting.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryDelayOf(waiting), wait);
    clock.Advance(wait - absl::Milliseconds(1));
    EXPECT_FALSE(throttle.Begin(ana).ok());
    clock.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(Fail(throttle, ana));
  }
  // Other keys are not held back.
  EXPECT_TRUE(throttle.Begin("op-1/bob@example.com").ok());
  // A success forgets the failures.
  clock.Advance(absl::Seconds(10));
  throttle.Begin(ana)->Succeeded();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Fail(throttle, ana));
}

TEST(FailureThrottle, AtMostMaxInFlightAttemptsOfAKeyAtOnce) {
  SimulatedClock clock(kStart);
  FailureThrottle throttle({.base_delay = absl::Seconds(1), .max_in_flight = 2}, clock);
  std::vector<FailureThrottle::Attempt> under_way;
  for (int i = 0; i < 2; ++i) under_way.push_back(*throttle.Begin("peer:203.0.113.7"));
  const absl::Status third = throttle.Begin("peer:203.0.113.7").status();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(third), absl::Seconds(1));
  EXPECT_TRUE(throttle.Begin("peer:198.51.100.7").ok());
  under_way.back().Failed();  // done: a turn is free again
  EXPECT_TRUE(throttle.Begin("peer:203.0.113.7").ok());
  under_way.clear();  // ended without an outcome: they count as nothing
  EXPECT_TRUE(throttle.Begin("peer:203.0.113.7").ok());
}

TEST(FailureThrottle, AKeyIsForgottenAfterAQuietSpell) {
  SimulatedClock clock(kStart);
  FailureThrottle throttle({.free_failures = 2, .forget_after = absl::Hours(1)}, clock);
  ASSERT_TRUE(Fail(throttle, "peer:203.0.113.7"));
  ASSERT_TRUE(Fail(throttle, "peer:203.0.113.7"));
  EXPECT_FALSE(throttle.Begin("peer:203.0.113.7").ok());
  clock.Advance(absl::Hours(1));
  ASSERT_TRUE(Fail(throttle, "peer:203.0.113.7"));  // counted afresh: the first, free
  EXPECT_TRUE(throttle.Begin("peer:203.0.113.7").ok());
}

TEST(FailureThrottle, AFloodOfKeysKeepsAtMostMaxKeys) {
  SimulatedClock clock(kStart);
  FailureThrottle throttle({.free_failures = 0, .max_keys = 1000}, clock);
  for (int i = 0; i < 20'000; ++i) {
    ASSERT_TRUE(Fail(throttle, absl::StrCat("op-1/random-", i, "@example.com")));
    clock.Advance(absl::Milliseconds(1));
  }
  EXPECT_LE(throttle.keys(), 1000u);
  // The newest keys are the ones kept.
  EXPECT_FALSE(throttle.Begin("op-1/random-19999@example.com").ok());
}

}  // namespace
}  // namespace cowork::auth
