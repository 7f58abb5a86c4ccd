#ifndef COWORK_SERVICES_CUSTOMERS_NOTIFIER_RETRY_H_
#define COWORK_SERVICES_CUSTOMERS_NOTIFIER_RETRY_H_

// When the notifier tries a notification again after an attempt that certainly did not
// deliver it (the SMTP server down, a temporary refusal): exponential backoff, capped, within
// a number of attempts and an age after which it gives up and records NotificationFailed.
// Pure; thread-safe.
//
//   std::optional<absl::Time> next = NextAttempt(policy, /*attempts=*/1, requested_at, now);
//   if (!next.has_value()) ... give up ...

#include <optional>

#include "absl/time/time.h"

namespace cowork::customers::notifier {

struct RetryPolicy {
  // Wait after the first failed attempt; each further one doubles it. Default 1 minute.
  absl::Duration first_delay = absl::Minutes(1);
  // The longest wait between two attempts. Default 1 hour.
  absl::Duration max_delay = absl::Hours(1);
  // Attempts at most, the first included. Default 30 (about a day with the defaults).
  int max_attempts = 30;
  // No attempt starts later than this after the request (an email about a visitor who
  // arrived yesterday helps no one). Default 24 hours.
  absl::Duration max_age = absl::Hours(24);
};

// The wait after `attempts` failed attempts (>= 1): first_delay * 2^(attempts - 1), at most
// max_delay.
absl::Duration Backoff(const RetryPolicy& policy, int attempts);

// When to try again after `attempts` failed attempts (>= 1) of a notification requested at
// `requested_at`, the last one ending at `now`; nullopt when the policy gives up: max_attempts
// are spent, or the next attempt would start more than max_age after the request.
std::optional<absl::Time> NextAttempt(const RetryPolicy& policy, int attempts,
                                      absl::Time requested_at, absl::Time now);

// Whether an attempt at `now` would start more than max_age after the request.
bool TooOld(const RetryPolicy& policy, absl::Time requested_at, absl::Time now);

}  // namespace cowork::customers::notifier

#endif  // COWORK_SERVICES_CUSTOMERS_NOTIFIER_RETRY_H_
