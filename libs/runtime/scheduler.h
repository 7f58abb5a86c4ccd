#ifndef COWORK_LIBS_RUNTIME_SCHEDULER_H_
#define COWORK_LIBS_RUNTIME_SCHEDULER_H_

// Makes things happen by the clock: a due index, and a thread that runs a pass at start-up
// (catching up on what fell due while the service was down) and then every `interval`. A pass (e.g.
// the contracts App's RunDue) reads a due index ordered by time and returns how many records it
// changed; the scheduler logs that and any error.
//
// With `metrics`, every pass counts in cowork_scheduler_passes_total{scheduler=<what>} (and a
// failed one in cowork_scheduler_failed_passes_total): operators see a scheduler that stopped,
// and a test that moved a simulated clock waits for two more passes (the second one began after
// the move) instead of sleeping.
//
// Thread-safe; what the pass uses (and `metrics`) must outlive the Scheduler. Destruction
// stops the thread after the current pass.
//
//   runtime::Scheduler scheduler("contracts", [&app] { return app.RunDue(); }, absl::Seconds(1),
//                                &rt.metrics());

#include <functional>
#include <string>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventstore/store.h"
#include "libs/server/metrics.h"

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
  Scheduler(std::string what, std::function<absl::StatusOr<int>()> pass, absl::Duration interval,
            server::Metrics* metrics = nullptr);
  ~Scheduler();

 private:
  void Loop();

  const std::string what_;
  const std::function<absl::StatusOr<int>()> pass_;
  const absl::Duration interval_;
  server::Metrics* const metrics_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_SCHEDULER_H_
