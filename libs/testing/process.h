#ifndef COWORK_LIBS_TESTING_PROCESS_H_
#define COWORK_LIBS_TESTING_PROCESS_H_

// Helpers for tests that cross a process boundary: a temporary directory that cleans up
// after itself, the folder holding the suite's executables, a child process whose output goes
// to a log file and that is only ever signalled by its own pid, and bounded polling.
//
// Nothing here kills by name and nothing sleeps as a means of synchronisation: every wait
// polls a condition until a deadline and fails with a message saying what it waited for.
//
// Thread-safety: TempDir is immutable after construction. A Subprocess may be used from
// several threads (its pid and exit status are guarded), but start it from the thread that
// will outlive it: the child receives SIGTERM when the thread that started it exits (so a
// test runner killed by a timeout leaves no service behind).
//
// Errors: INTERNAL when a system call fails, DEADLINE_EXCEEDED when a wait runs out,
// FAILED_PRECONDITION when waiting for output from a process that has already exited.
//
//   cowork::testing::TempDir dir;
//   auto proc = cowork::testing::Subprocess::Start(
//       {.program = cowork::testing::BinDir() + "/cowork-devbroker",
//        .log_path = dir.path() + "/devbroker.log"});
//   auto match = (*proc)->WaitForLine(R"(bootstrap: (\S+))", absl::Seconds(20));
//   std::string bootstrap = (*match)[1];

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cowork::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Set COWORK_KEEP_TEST_DIRS=1 to keep it (its path is printed) when debugging a test.
class TempDir {
 public:
  explicit TempDir(absl::string_view prefix = "cowork-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(absl::string_view name) const;

 private:
  std::string path_;
};

// The folder holding the suite's executables: $COWORK_BIN_DIR (cowork_test() sets it for
// ctest), else "<dir of this test binary>/../bin" (tests live in <build>/tests, executables in
// <build>/bin).
std::string BinDir();

// Polls `condition` every `interval` until it returns true or `timeout` passes.
// DEADLINE_EXCEEDED naming `what` when it never became true.
absl::Status PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
                       absl::string_view what,
                       absl::Duration interval = absl::Milliseconds(20));

// How a child ended.
struct ExitStatus {
  bool exited = false;    // exited by itself; `code` holds its exit code
  int code = 0;
  bool signaled = false;  // ended by a signal; `signal` holds it
  int signal = 0;
  std::string ToString() const;
};

struct SubprocessOptions {
  // Path of the executable. Required.
  std::string program;
  // Arguments after argv[0] (argv[0] is `program`).
  std::vector<std::string> args;
  // Environment variables set (or overridden) on top of this process's environment.
  std::vector<std::pair<std::string, std::string>> env;
  // Environment variables removed from the inherited environment.
  std::vector<std::string> unset_env;
  // File receiving stdout and stderr (created, or appended to). Required.
  std::string log_path;
  // How long the destructor waits after SIGTERM before SIGKILL. Default 15 s (services drain
  // calls in flight for up to 10 s).
  absl::Duration stop_timeout = absl::Seconds(15);
};

// A child process started with fork/exec; stdin is /dev/null, stdout and stderr go to
// `log_path`. The destructor stops a child still running: SIGTERM, then SIGKILL after
// `stop_timeout`, and reaps it. Signals go only to this child's pid, and never after it was
// reaped (so a recycled pid is never hit).
class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(SubprocessOptions options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return options_.log_path; }

  // Waits until a line of the log (from byte `from_offset` on) matches `regex` (ECMAScript,
  // searched anywhere in the line) and returns the match and its groups ([0] = whole match).
  // FAILED_PRECONDITION (with the log's tail) when the child exits first; DEADLINE_EXCEEDED
  // (with the log's tail) when `timeout` passes.
  absl::StatusOr<std::vector<std::string>> WaitForLine(const std::string& regex,
                                                       absl::Duration timeout,
                                                       size_t from_offset = 0);
  // The log so far, and its size (an offset for WaitForLine).
  std::string Log() const;
  size_t LogSize() const;
  // The last `lines` lines of the log, for failure messages.
  std::string LogTail(int lines = 40) const;

  // Sends `sig` to the child. FAILED_PRECONDITION when it has already been reaped.
  absl::Status Signal(int sig);
  // SIGKILL, then reaps the child; returns how it ended.
  absl::StatusOr<ExitStatus> Kill9(absl::Duration timeout = absl::Seconds(10));
  // Waits for the child to end (without signalling it). DEADLINE_EXCEEDED when it is still
  // running after `timeout`.
  absl::StatusOr<ExitStatus> WaitExit(absl::Duration timeout);
  // SIGTERM, then WaitExit(timeout).
  absl::StatusOr<ExitStatus> Terminate(absl::Duration timeout = absl::Seconds(15));
  // True while the child has not been reaped (and has not exited: polls waitpid).
  bool Running();

 private:
  Subprocess(SubprocessOptions options, pid_t pid);
  // Reaps the child if it has ended; true once reaped.
  bool TryReap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SubprocessOptions options_;
  const pid_t pid_;
  mutable absl::Mutex mu_;
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  ExitStatus exit_ ABSL_GUARDED_BY(mu_);
};

// The whole content of a file ("" when it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);

// The files under `dir` (recursively) whose raw bytes contain `bytes`: what is physically
// left of a value, e.g. in a RocksDB directory's logs and tables.
std::vector<std::string> FilesContaining(const std::string& dir, absl::string_view bytes);

}  // namespace cowork::testing

#endif  // COWORK_LIBS_TESTING_PROCESS_H_
