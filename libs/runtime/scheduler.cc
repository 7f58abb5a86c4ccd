#include "libs/runtime/scheduler.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/server/logging.h"

namespace cowork::runtime {

namespace {
constexpr int kDueBatch = 1'000;  // due entries read at once
}  // namespace

std::string DueKey(absl::Time at, absl::string_view rest) {
  return absl::StrFormat("due/%012d/%s", absl::ToUnixSeconds(at), rest);
}

absl::StatusOr<int> RunDueIndex(const eventstore::Store& store, absl::Time now,
                                absl::FunctionRef<absl::StatusOr<bool>(absl::string_view rest)>
                                    tick) {
  // Every key due by `now` sorts before "due/<now>0" ('0' comes after '/').
  const std::string until = absl::StrFormat("due/%012d0", absl::ToUnixSeconds(now));
  constexpr size_t kRest = sizeof("due/000000000000/") - 1;
  int changed = 0;
  std::string last_key;
  for (;;) {
    std::vector<std::string> due;
    absl::Status scanned = store.Scan(
        eventstore::Space::kViews, "due/", last_key, [&](absl::string_view key, absl::string_view) {
          if (key > until) return false;
          last_key = std::string(key);
          if (key.size() > kRest) due.push_back(std::string(key.substr(kRest)));
          return static_cast<int>(due.size()) < kDueBatch;
        });
    if (!scanned.ok()) return scanned;
    for (const std::string& rest : due) {
      absl::StatusOr<bool> result = tick(rest);
      if (!result.ok()) {
        server::LogJson("error", "scheduled change failed",
                        {{"due", rest}, {"error", result.status().ToString()}});
      } else if (*result) {
        ++changed;
      }
    }
    if (static_cast<int>(due.size()) < kDueBatch) return changed;
  }
}

Scheduler::Scheduler(std::string what, std::function<absl::StatusOr<int>()> pass,
                     absl::Duration interval, server::Metrics* metrics)
    : what_(std::move(what)),
      pass_(std::move(pass)),
      interval_(interval),
      metrics_(metrics),
      thread_([this] {
        if (metrics_ != nullptr) {
          metrics_->Describe("cowork_scheduler_passes_total", "Scheduler passes run, by scheduler");
          metrics_->Describe("cowork_scheduler_failed_passes_total",
                             "Scheduler passes that failed, by scheduler");
        }
        Loop();
      }) {}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Scheduler::Loop() {
  for (;;) {
    absl::StatusOr<int> changed = pass_();
    if (!changed.ok()) {
      server::LogJson("error", "scheduler pass failed", {{"error", changed.status().ToString()}});
      if (metrics_ != nullptr) {
        metrics_->Increment("cowork_scheduler_failed_passes_total", {{"scheduler", what_}});
      }
    } else if (*changed > 0) {
      server::LogJson("info", absl::StrCat(what_, " changed by the clock"),
                      {{what_, std::to_string(*changed)}});
    }
    if (metrics_ != nullptr) {
      metrics_->Increment("cowork_scheduler_passes_total", {{"scheduler", what_}});
    }
    absl::MutexLock lock(&mu_);
    // Waits on the real clock: a simulated clock is moved by tests, and the next pass sees it.
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
  }
}

}  // namespace cowork::runtime
