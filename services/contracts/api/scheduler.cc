#include "services/contracts/api/scheduler.h"

#include <string>

#include "libs/server/server.h"

namespace cowork::contracts::api {

Scheduler::Scheduler(App& app, absl::Duration interval)
    : app_(app), interval_(interval), thread_([this] { Loop(); }) {}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Scheduler::Loop() {
  for (;;) {
    absl::StatusOr<int> changed = app_.RunDue();
    if (!changed.ok()) {
      server::LogJson("error", "scheduler pass failed", {{"error", changed.status().ToString()}});
    } else if (*changed > 0) {
      server::LogJson("info", "contracts changed by the clock",
                      {{"contracts", std::to_string(*changed)}});
    }
    absl::MutexLock lock(&mu_);
    // Waits on the real clock: a simulated clock is moved by tests, and the next pass sees it.
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
  }
}

}  // namespace cowork::contracts::api
