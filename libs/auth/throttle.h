#ifndef COWORK_LIBS_AUTH_THROTTLE_H_
#define COWORK_LIBS_AUTH_THROTTLE_H_

// Attempts to prove a secret (sign-ins, setup codes), per key: an account (the operator and
// the address, whether or not it has an account, so the answers never tell) or a client (its
// address). A key has at most `max_in_flight` attempts under way at once, so one client cannot
// fill the password gate with its own calls. The first `free_failures` failures of a key cost
// nothing; after them the key waits base_delay, then twice as long after each further failure
// (at most max_delay) before its next attempt is even looked at. Refusals are
// RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of the wait. A success forgets the key's
// failures. A key is forgotten `forget_after` after its last failure, and at most `max_keys`
// keys are kept (the ones whose last failure is oldest go first), so no flood of keys grows
// memory without bound.
//
// Thread-safe.
//
//   COWORK_ASSIGN_OR_RETURN(FailureThrottle::Attempt attempt, throttle.Begin(key));
//   ... verify ...; right ? attempt.Succeeded() : attempt.Failed();

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"

namespace cowork::auth {

struct ThrottleOptions {
  // Failures of a key before it has to wait. Default 5.
  int free_failures = 5;
  // The first wait, doubled after each further failure, and the longest. Defaults 1 s, 15 min.
  absl::Duration base_delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Minutes(15);
  // A key is forgotten this long after its last failure. Default 1 hour.
  absl::Duration forget_after = absl::Hours(1);
  // Keys kept at most. Default 100,000 (a few MB).
  size_t max_keys = 100'000;
  // Attempts of one key under way at once. Default 2.
  int max_in_flight = 2;
};

class FailureThrottle {
 public:
  FailureThrottle(ThrottleOptions options, const Clock& clock);

  // One attempt of a key, under way until destroyed (or moved from); its outcome counts once
  // Failed or Succeeded is called.
  class Attempt {
   public:
    Attempt(Attempt&& other) noexcept;
    Attempt& operator=(Attempt&&) = delete;
    ~Attempt();
    void Failed();
    void Succeeded();

   private:
    friend class FailureThrottle;
    Attempt(FailureThrottle* throttle, std::string key)
        : throttle_(throttle), key_(std::move(key)) {}
    FailureThrottle* throttle_;  // null once moved from
    std::string key_;
  };

  // An attempt of `key`, or RESOURCE_EXHAUSTED (with RetryInfo) while it must wait or has
  // max_in_flight attempts under way.
  absl::StatusOr<Attempt> Begin(absl::string_view key);

  size_t keys() const;

 private:
  struct Entry {
    int failures = 0;
    absl::Time last_failure;
    int in_flight = 0;
  };
  void End(const std::string& key, std::optional<bool> succeeded);
  absl::Time WaitUntil(const Entry& e) const;
  // Drops forgotten keys, then the oldest, until there is room for one more.
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ThrottleOptions options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cowork::auth

#endif  // COWORK_LIBS_AUTH_THROTTLE_H_
