#include "libs/clock/clock.h"

#include "absl/time/clock.h"

namespace cowork {

absl::Time RealClock::Now() const { return absl::Now(); }

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::Time SimulatedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void SimulatedClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

bool SimulatedClock::AdvanceTo(absl::Time t) {
  absl::MutexLock lock(&mu_);
  if (t < now_) return false;
  now_ = t;
  return true;
}

}  // namespace cowork
