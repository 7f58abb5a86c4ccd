#ifndef COWORK_LIBS_CLOCK_CLOCK_H_
#define COWORK_LIBS_CLOCK_CLOCK_H_

// The only source of "now" in the suite. Domain code takes `absl::Time now`; services take a
// `Clock&`. RealClock is the one place that reads the wall clock; SimulatedClock is moved by
// tests (and, in dev mode only, by a test-only flag of a service).
//
// Thread-safe: both implementations may be read and (SimulatedClock) moved from any thread.
//
//   cowork::SimulatedClock clock(absl::FromCivil(absl::CivilSecond(2026, 5, 1), absl::UTCTimeZone()));
//   clock.Advance(absl::Hours(24));

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cowork {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  // A process-wide instance.
  static RealClock& Get();
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);
  // Moves the clock to `t` unless that would move it back; false (and no change) then.
  bool AdvanceTo(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cowork

#endif  // COWORK_LIBS_CLOCK_CLOCK_H_
