#include "libs/auth/throttle.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "libs/status/retry.h"

namespace cowork::auth {

FailureThrottle::FailureThrottle(ThrottleOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

absl::Time FailureThrottle::WaitUntil(const Entry& e) const {
  const int over = e.failures - options_.free_failures;
  if (e.failures == 0 || over < 0) return absl::InfinitePast();
  // base × 2^over, capped (the shift is bounded so it never overflows).
  const absl::Duration wait =
      std::min(options_.base_delay * static_cast<double>(int64_t{1} << std::min(over, 40)),
               options_.max_delay);
  return e.last_failure + wait;
}

absl::StatusOr<FailureThrottle::Attempt> FailureThrottle::Begin(absl::string_view key) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    MakeRoom(now);
    it = entries_.emplace(std::string(key), Entry{.last_failure = now}).first;
  } else if (it->second.in_flight == 0 && now - it->second.last_failure >= options_.forget_after) {
    it->second = Entry{.last_failure = now};
  }
  Entry& e = it->second;
  const absl::Time until = WaitUntil(e);
  if (until > now) return RetryLater("too many failed attempts; try again later", until - now);
  if (e.in_flight >= options_.max_in_flight) {
    return RetryLater("too many attempts at once; try again shortly", options_.base_delay);
  }
  ++e.in_flight;
  return Attempt(this, std::string(key));
}

void FailureThrottle::End(const std::string& key, std::optional<bool> succeeded) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  --e.in_flight;
  if (!succeeded.has_value()) return;
  if (*succeeded) {
    e.failures = 0;
  } else {
    ++e.failures;
    e.last_failure = now;
  }
}

FailureThrottle::Attempt::Attempt(Attempt&& other) noexcept
    : throttle_(std::exchange(other.throttle_, nullptr)), key_(std::move(other.key_)) {}

FailureThrottle::Attempt::~Attempt() {
  if (throttle_ != nullptr) throttle_->End(key_, std::nullopt);
}

void FailureThrottle::Attempt::Failed() {
  if (throttle_ != nullptr) std::exchange(throttle_, nullptr)->End(key_, false);
}

void FailureThrottle::Attempt::Succeeded() {
  if (throttle_ != nullptr) std::exchange(throttle_, nullptr)->End(key_, true);
}

size_t FailureThrottle::keys() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void FailureThrottle::MakeRoom(absl::Time now) {
  if (entries_.size() < options_.max_keys) return;
  absl::erase_if(entries_, [&](const auto& kv) {
    return kv.second.in_flight == 0 && now - kv.second.last_failure >= options_.forget_after;
  });
  if (entries_.size() < options_.max_keys) return;
  // Still full: the tenth whose last failure is oldest goes, so this runs once per many
  // new keys.
  std::vector<absl::Time> times;
  times.reserve(entries_.size());
  for (const auto& [key, e] : entries_) times.push_back(e.last_failure);
  const size_t drop = std::max<size_t>(1, entries_.size() / 10);
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   times.end());
  const absl::Time cutoff = times[drop - 1];
  absl::erase_if(entries_, [&](const auto& kv) {
    return kv.second.in_flight == 0 && kv.second.last_failure <= cutoff;
  });
}

}  // namespace cowork::auth
