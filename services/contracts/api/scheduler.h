#ifndef COWORK_SERVICES_CONTRACTS_API_SCHEDULER_H_
#define COWORK_SERVICES_CONTRACTS_API_SCHEDULER_H_

// Makes contracts start and end by the clock: a thread that calls App::RunDue at start-up
// (catching up on days that passed while the service was down) and then every `interval`.
// The due index is ordered by time, so a pass reads only what is due.
//
// Thread-safe; the App must outlive it. Destruction stops the thread after the current pass.

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/contracts/api/app.h"

namespace cowork::contracts::api {

class Scheduler {
 public:
  Scheduler(App& app, absl::Duration interval);
  ~Scheduler();

 private:
  void Loop();

  App& app_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cowork::contracts::api

#endif  // COWORK_SERVICES_CONTRACTS_API_SCHEDULER_H_
