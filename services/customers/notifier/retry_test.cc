#include "services/customers/notifier/retry.h"

#include "gtest/gtest.h"

namespace cowork::customers::notifier {
namespace {

const absl::Time kRequested = absl::FromUnixSeconds(1'780'000'000);

TEST(Backoff, DoublesFromOneMinuteUpToAnHour) {
  const RetryPolicy policy;
  const int minutes[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(Backoff(policy, i + 1), absl::Minutes(minutes[i])) << "after attempt " << i + 1;
  }
  EXPECT_EQ(Backoff(policy, 1'000'000), absl::Hours(1));  // no overflow
}

TEST(NextAttempt, WaitsTheBackoffAfterTheLastAttempt) {
  const RetryPolicy policy;
  const absl::Time now = kRequested + absl::Minutes(5);
  EXPECT_EQ(NextAttempt(policy, 1, kRequested, now), now + absl::Minutes(1));
  EXPECT_EQ(NextAttempt(policy, 3, kRequested, now), now + absl::Minutes(4));
}

TEST(NextAttempt, GivesUpAfterMaxAttempts) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  EXPECT_TRUE(NextAttempt(policy, 2, kRequested, kRequested).has_value());
  EXPECT_FALSE(NextAttempt(policy, 3, kRequested, kRequested).has_value());
}

TEST(NextAttempt, GivesUpWhenTheNextAttemptWouldBeTooLate) {
  const RetryPolicy policy;
  // 23:30 after the request, a wait of an hour ends past the 24 hours.
  EXPECT_FALSE(NextAttempt(policy, 10, kRequested, kRequested + absl::Minutes(23 * 60 + 30))
                   .has_value());
  EXPECT_TRUE(NextAttempt(policy, 10, kRequested, kRequested + absl::Hours(23)).has_value());
}

TEST(TooOld, AfterMaxAge) {
  const RetryPolicy policy;
  EXPECT_FALSE(TooOld(policy, kRequested, kRequested + absl::Hours(24)));
  EXPECT_TRUE(TooOld(policy, kRequested, kRequested + absl::Hours(24) + absl::Seconds(1)));
}

// With the defaults, a notification is tried for about a day: the schedule the README states.
TEST(RetryPolicy, DefaultsSpanADay) {
  const RetryPolicy policy;
  absl::Time at = kRequested;
  int attempts = 1;
  while (std::optional<absl::Time> next = NextAttempt(policy, attempts, kRequested, at)) {
    at = *next;
    ++attempts;
  }
  EXPECT_EQ(attempts, 29);
  EXPECT_GT(at - kRequested, absl::Hours(23));
  EXPECT_LE(at - kRequested, absl::Hours(24));
}

}  // namespace
}  // namespace cowork::customers::notifier
