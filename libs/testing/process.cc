#include "libs/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace cowork::testing {
namespace {

// Deadlines of waits run on the monotonic clock: a test's waits must not stretch or shrink
// when the wall clock is set.
class Deadline {
 public:
  explicit Deadline(absl::Duration timeout)
      : end_(std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout)) {}
  bool Passed() const { return std::chrono::steady_clock::now() >= end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

absl::Status ErrnoStatus(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

ExitStatus FromWaitStatus(int wstatus) {
  ExitStatus s;
  if (WIFEXITED(wstatus)) {
    s.exited = true;
    s.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    s.signaled = true;
    s.signal = WTERMSIG(wstatus);
  }
  return s;
}

std::string Tail(const std::string& text, int lines) {
  size_t pos = text.size();
  for (int i = 0; i <= lines && pos > 0; ++i) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (i == lines) return text.substr(nl + 1);
    pos = nl;
  }
  return text.substr(pos);
}

}  // namespace

// ---------------------------------------------------------------- TempDir

TempDir::TempDir(absl::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string templ = absl::StrCat(base, "/", prefix, "-XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    // A test cannot run without its directory; fail loudly rather than write elsewhere.
    std::cerr << "TempDir: mkdtemp(" << templ << "): " << std::strerror(errno) << std::endl;
    std::abort();
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  const char* keep = std::getenv("COWORK_KEEP_TEST_DIRS");
  if (keep != nullptr && std::string(keep) == "1") {
    std::cerr << "TempDir: keeping " << path_ << std::endl;
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Sub(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

// ---------------------------------------------------------------- BinDir, polling

std::string BinDir() {
  const char* env = std::getenv("COWORK_BIN_DIR");
  if (env != nullptr && *env != '\0') return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build/bin";
  return (self.parent_path().parent_path() / "bin").string();
}

absl::Status PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
                       absl::string_view what, absl::Duration interval) {
  const Deadline deadline(timeout);
  while (true) {
    if (condition()) return absl::OkStatus();
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out after ", absl::FormatDuration(timeout), " waiting for ", what));
    }
    absl::SleepFor(interval);
  }
}

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exited with code ", code);
  if (signaled) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return "unknown end";
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> FilesContaining(const std::string& dir, absl::string_view bytes) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string content = ReadFileOrEmpty(entry.path().string());
    if (absl::StrContains(content, bytes)) found.push_back(entry.path().string());
  }
  return found;
}

// ---------------------------------------------------------------- Subprocess

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(SubprocessOptions options) {
  if (options.program.empty()) return absl::InvalidArgumentError("Subprocess: no program");
  if (options.log_path.empty()) return absl::InvalidArgumentError("Subprocess: no log_path");
  if (access(options.program.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("Subprocess: ", options.program, " is not an executable file: ",
                     std::strerror(errno)));
  }

  // Everything the child needs is prepared before fork: between fork and exec a child of a
  // multi-threaded process may only make async-signal-safe calls.
  std::vector<std::string> argv_store;
  argv_store.push_back(options.program);
  for (const std::string& a : options.args) argv_store.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    absl::string_view name = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const std::string& u : options.unset_env) drop = drop || name == u;
    for (const auto& [k, v] : options.env) drop = drop || name == k;
    if (!drop) env_store.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) env_store.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp;
  for (std::string& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ErrnoStatus(absl::StrCat("open ", options.log_path), errno);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    int err = errno;
    close(log_fd);
    return ErrnoStatus("open /dev/null", err);
  }
  // The child reports a failed exec through this pipe; a successful exec closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    close(log_fd);
    close(null_fd);
    return ErrnoStatus("pipe2", err);
  }

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(log_fd);
    close(null_fd);
    close(report[0]);
    close(report[1]);
    return ErrnoStatus("fork", err);
  }
  if (pid == 0) {
    // Child. Dies with the thread that started it, so a killed test run leaves nothing behind.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // A fresh signal state, as a shell would give it.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD}) {
      signal(sig, SIG_DFL);
    }
    execve(argv[0], argv.data(), envp.data());
    int err = errno;
    ssize_t ignored = write(report[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == sizeof(child_errno)) {
    int wstatus;
    waitpid(pid, &wstatus, 0);
    return ErrnoStatus(absl::StrCat("exec ", options.program), child_errno);
  }
  return std::unique_ptr<Subprocess>(new Subprocess(std::move(options), pid));
}

Subprocess::Subprocess(SubprocessOptions options, pid_t pid)
    : options_(std::move(options)), pid_(pid) {}

Subprocess::~Subprocess() {
  absl::MutexLock lock(&mu_);
  if (TryReap()) return;
  kill(pid_, SIGTERM);
  const Deadline deadline(options_.stop_timeout);
  while (!deadline.Passed()) {
    if (TryReap()) return;
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::cerr << "Subprocess: " << options_.program << " (pid " << pid_
            << ") ignored SIGTERM; sending SIGKILL" << std::endl;
  kill(pid_, SIGKILL);
  int wstatus;
  while (waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

bool Subprocess::TryReap() {
  if (reaped_) return true;
  int wstatus = 0;
  pid_t r = waitpid(pid_, &wstatus, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_ = FromWaitStatus(wstatus);
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    // Someone else reaped it (should not happen); never signal this pid again.
    reaped_ = true;
    return true;
  }
  return false;
}

bool Subprocess::Running() {
  absl::MutexLock lock(&mu_);
  return !TryReap();
}

absl::Status Subprocess::Signal(int sig) {
  absl::MutexLock lock(&mu_);
  if (TryReap()) {
    return absl::FailedPreconditionError(
        absl::StrCat(options_.program, " (pid ", pid_, ") has already ", exit_.ToString()));
  }
  if (kill(pid_, sig) != 0) return ErrnoStatus(absl::StrCat("kill ", pid_), errno);
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Subprocess::WaitExit(absl::Duration timeout) {
  const Deadline deadline(timeout);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (TryReap()) return exit_;
    }
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(absl::StrCat(options_.program, " (pid ", pid_,
                                                      ") still running after ",
                                                      absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<ExitStatus> Subprocess::Kill9(absl::Duration timeout) {
  absl::Status s = Signal(SIGKILL);
  if (!s.ok() && !absl::IsFailedPrecondition(s)) return s;
  return WaitExit(timeout);
}

absl::StatusOr<ExitStatus> Subprocess::Terminate(absl::Duration timeout) {
  absl::Status s = Signal(SIGTERM);
  if (!s.ok() && !absl::IsFailedPrecondition(s)) return s;
  return WaitExit(timeout);
}

std::string Subprocess::Log() const { return ReadFileOrEmpty(options_.log_path); }

size_t Subprocess::LogSize() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(options_.log_path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

std::string Subprocess::LogTail(int lines) const { return Tail(Log(), lines); }

absl::StatusOr<std::vector<std::string>> Subprocess::WaitForLine(const std::string& regex,
                                                                 absl::Duration timeout,
                                                                 size_t from_offset) {
  std::regex re;
  try {
    re = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad regex ", regex, ": ", e.what()));
  }
  const Deadline deadline(timeout);
  size_t scanned = from_offset;  // start of the first line not yet matched against
  while (true) {
    // Read the exit state before the log: whatever the child wrote before exiting is then in
    // the file we read next, so a line printed just before exit is never missed.
    bool ended;
    {
      absl::MutexLock lock(&mu_);
      ended = TryReap();
    }
    std::string log = Log();
    while (scanned < log.size()) {
      size_t nl = log.find('\n', scanned);
      // A line without its newline may still be being written; match it only at the end.
      if (nl == std::string::npos && !ended) break;
      size_t end = nl == std::string::npos ? log.size() : nl;
      std::string line = log.substr(scanned, end - scanned);
      std::smatch m;
      if (std::regex_search(line, m, re)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
      scanned = end + (nl == std::string::npos ? 0 : 1);
    }
    if (ended) {
      ExitStatus exit;
      {
        absl::MutexLock lock(&mu_);
        exit = exit_;
      }
      return absl::FailedPreconditionError(
          absl::StrCat(options_.program, " ", exit.ToString(), " before printing a line matching /",
                       regex, "/; log tail:\n", Tail(log, 40)));
    }
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no line matching /", regex, "/ from ", options_.program, " within ",
          absl::FormatDuration(timeout), "; log tail:\n", Tail(log, 40)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace cowork::testing
