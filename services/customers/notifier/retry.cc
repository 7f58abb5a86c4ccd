#include "services/customers/notifier/retry.h"

#include <algorithm>

namespace cowork::customers::notifier {

absl::Duration Backoff(const RetryPolicy& policy, int attempts) {
  absl::Duration delay = policy.first_delay;
  // Doubling stops at the cap, so a large attempt count never overflows.
  for (int i = 1; i < attempts && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

std::optional<absl::Time> NextAttempt(const RetryPolicy& policy, int attempts,
                                      absl::Time requested_at, absl::Time now) {
  if (attempts >= policy.max_attempts) return std::nullopt;
  const absl::Time next = now + Backoff(policy, attempts);
  if (TooOld(policy, requested_at, next)) return std::nullopt;
  return next;
}

bool TooOld(const RetryPolicy& policy, absl::Time requested_at, absl::Time now) {
  return now - requested_at > policy.max_age;
}

}  // namespace cowork::customers::notifier
