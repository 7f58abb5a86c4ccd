#include "libs/testing/process.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SubprocessOptions Shell(const TempDir& dir, const std::string& script) {
  SubprocessOptions options;
  options.program = "/bin/sh";
  options.args = {"-c", script};
  options.log_path = dir.Sub("child.log");
  return options;
}

TEST(TempDir, IsCreatedUnderTmpAndRemovedWithItsContent) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(dir.Sub("a/b"));
    std::ofstream(dir.Sub("a/b/file")) << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDir, TwoAreDistinct) {
  TempDir a, b;
  EXPECT_NE(a.path(), b.path());
}

TEST(BinDir, ComesFromTheEnvironment) {
  const char* old = std::getenv("COWORK_BIN_DIR");
  std::string saved = old ? old : "";
  setenv("COWORK_BIN_DIR", "/some/where/bin", 1);
  EXPECT_EQ(BinDir(), "/some/where/bin");
  unsetenv("COWORK_BIN_DIR");
  EXPECT_THAT(BinDir(), ::testing::EndsWith("/bin"));
  EXPECT_NE(BinDir(), "/some/where/bin");
  if (old) setenv("COWORK_BIN_DIR", saved.c_str(), 1);
}

TEST(PollUntil, ReturnsOnceTrueAndTimesOutOtherwise) {
  int calls = 0;
  EXPECT_TRUE(PollUntil([&] { return ++calls == 3; }, absl::Seconds(10), "three calls").ok());
  EXPECT_EQ(calls, 3);
  absl::Status s = PollUntil([] { return false; }, absl::Milliseconds(50), "never");
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("never"));
}

TEST(Subprocess, WaitForLineReturnsGroupsAndExitCode) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "echo starting; echo 'bootstrap: 127.0.0.1:4567'; exit 3"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto m = (*p)->WaitForLine(R"(bootstrap: (\S+):([0-9]+))", absl::Seconds(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(*m, ElementsAre("bootstrap: 127.0.0.1:4567", "127.0.0.1", "4567"));
  auto exit = (*p)->WaitExit(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 3);
  EXPECT_FALSE((*p)->Running());
}

TEST(Subprocess, StderrGoesToTheLogToo) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "echo 'to stderr' >&2"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE((*p)->WaitForLine("to stderr", absl::Seconds(10)).ok());
}

TEST(Subprocess, WaitForLineFailsWhenTheChildExitsFirst) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "echo something else; exit 1"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto m = (*p)->WaitForLine("never printed", absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(m.status())) << m.status();
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("something else"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("exited with code 1"));
}

TEST(Subprocess, WaitForLineTimesOut) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "echo hello; exec sleep 60"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto m = (*p)->WaitForLine("never printed", absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(m.status())) << m.status();
  EXPECT_TRUE((*p)->Running());
}

TEST(Subprocess, WaitForLineFromAnOffsetSkipsEarlierLines) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "echo 'mark 1'; read x; echo 'mark 2'"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->WaitForLine("mark 1", absl::Seconds(10)).ok());
  // stdin is /dev/null, so `read` returns at once and "mark 2" follows.
  ASSERT_TRUE((*p)->WaitExit(absl::Seconds(10)).ok());
  size_t after_first = (*p)->Log().find('\n') + 1;
  auto m = (*p)->WaitForLine(R"(mark (\d))", absl::Seconds(10), after_first);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)[1], "2");
}

TEST(Subprocess, EnvironmentIsSetAndUnset) {
  TempDir dir;
  setenv("COWORK_PROCESS_TEST_DROP", "inherited", 1);
  setenv("COWORK_PROCESS_TEST_KEEP", "kept", 1);
  SubprocessOptions options = Shell(
      dir, "echo \"set=$EXTRA drop=${COWORK_PROCESS_TEST_DROP:-none} keep=$COWORK_PROCESS_TEST_KEEP\"");
  options.env = {{"EXTRA", "value 1"}};
  options.unset_env = {"COWORK_PROCESS_TEST_DROP"};
  auto p = Subprocess::Start(options);
  unsetenv("COWORK_PROCESS_TEST_DROP");
  unsetenv("COWORK_PROCESS_TEST_KEEP");
  ASSERT_TRUE(p.ok()) << p.status();
  auto m = (*p)->WaitForLine("set=.*", absl::Seconds(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)[0], "set=value 1 drop=none keep=kept");
}

TEST(Subprocess, SignalReachesTheChild) {
  TempDir dir;
  auto p = Subprocess::Start(
      Shell(dir, "trap 'echo got usr1; exit 7' USR1; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE((*p)->WaitForLine("ready", absl::Seconds(10)).ok());
  ASSERT_TRUE((*p)->Signal(SIGUSR1).ok());
  ASSERT_TRUE((*p)->WaitForLine("got usr1", absl::Seconds(10)).ok());
  auto exit = (*p)->WaitExit(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->code, 7);
  // Once reaped, the pid is never signalled again.
  EXPECT_TRUE(absl::IsFailedPrecondition((*p)->Signal(SIGTERM)));
}

TEST(Subprocess, Kill9EndsTheChildBySigkill) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "exec sleep 60"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto exit = (*p)->Kill9();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->signaled);
  EXPECT_EQ(exit->signal, SIGKILL);
}

TEST(Subprocess, WaitExitTimesOutWhileRunning) {
  TempDir dir;
  auto p = Subprocess::Start(Shell(dir, "exec sleep 60"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(absl::IsDeadlineExceeded((*p)->WaitExit(absl::Milliseconds(100)).status()));
  auto exit = (*p)->Terminate();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->signal, SIGTERM);
}

// True while `pid` names a process that is not yet reaped (zombies included).
bool Exists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

TEST(Subprocess, DestructorStopsARunningChild) {
  TempDir dir;
  pid_t pid;
  {
    auto p = Subprocess::Start(Shell(dir, "exec sleep 60"));
    ASSERT_TRUE(p.ok()) << p.status();
    pid = (*p)->pid();
    ASSERT_TRUE(Exists(pid));
  }
  EXPECT_FALSE(Exists(pid));
}

TEST(Subprocess, DestructorKillsAChildIgnoringSigterm) {
  TempDir dir;
  pid_t pid;
  {
    SubprocessOptions options = Shell(dir, "trap '' TERM; echo ready; exec sleep 60");
    options.stop_timeout = absl::Milliseconds(300);
    auto p = Subprocess::Start(options);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE((*p)->WaitForLine("ready", absl::Seconds(10)).ok());
    pid = (*p)->pid();
  }
  EXPECT_FALSE(Exists(pid));
}

TEST(Subprocess, MissingProgramIsNotFound) {
  TempDir dir;
  SubprocessOptions options;
  options.program = dir.Sub("no-such-program");
  options.log_path = dir.Sub("log");
  EXPECT_TRUE(absl::IsNotFound(Subprocess::Start(options).status()));
}

}  // namespace
}  // namespace cowork::testing
