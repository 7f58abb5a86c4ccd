#ifndef COWORK_LIBS_RUNTIME_SCHEDULER_H_
#define COWORK_LIBS_RUNTIME_SCHEDULER_H_

// Makes things happen by the clock: a due index, and a thread that runs a pass at start-up (catching up on
// what fell due while the service was down) and then every `interval`. A pass (e.g. the
// contracts App's RunDue) reads a due index ordered by time and returns how many records it
// changed; the scheduler logs that and any error.
//
// Thread-safe; what the pass uses must outlive the Scheduler. Destruction stops the thread
// after the current pass.
//
//   runtime::Scheduler scheduler("contracts", [&app] { return app.RunDue(); }, absl::Seconds(1));

#include <functional>
#include <string>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventstore/store.h"

namespace cowork::runtime {

// A due index among a service's read views: keys "due/<unix seconds, 12 digits>/<rest>",
// ordered by time. DueKey makes one; RunDueIndex calls `tick(rest)` for every entry due by
// `now`, oldest first, reading the index in batches and going on from the last key read (a
// done entry is deleted by its tick; starting again from the front would step over every
// deletion of the run). A tick's error is logged and the run goes on. Returns how many ticks
// changed something (returned true).
std::string DueKey(absl::Time at, absl::string_view rest);
absl::StatusOr<int> RunDueIndex(const eventstore::Store& store, absl::Time now,
                                absl::FunctionRef<absl::StatusOr<bool>(absl::string_view rest)>
                                    tick);

class Scheduler {
 public:
  // `what` names the records in the log ("contracts changed by the clock").
  Scheduler(std::string what, std::function<absl::StatusOr<int>()> pass, absl::Duration interval);
  ~Scheduler();

 private:
  void Loop();

  const std::string what_;
  const std::function<absl::StatusOr<int>()> pass_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_SCHEDULER_H_
