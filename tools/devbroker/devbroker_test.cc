// cowork-devbroker as a process: start it, read its address, use it over TCP, take its
// brokers down and up with signals, stop it with SIGTERM.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/test_util.h"

extern char** environ;

namespace cowork::kafka {
namespace {

std::string BinDir() {
  if (const char* dir = std::getenv("COWORK_BIN_DIR"); dir != nullptr && *dir != '\0') return dir;
  // Run by hand: <build>/tests/devbroker_test -> <build>/bin.
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin")
      .string();
}

// The child process; killed and reaped if the test ends early.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_storage(extra_env);
    for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
    std::vector<char*> envp;
    for (std::string& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  pid_t pid() const { return pid_; }

  // The next line of stdout, or "" after `timeout`.
  std::string ReadLine(absl::Duration timeout = absl::Seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
    while (true) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return "";
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[256];
      ssize_t n = read(out_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The exit status after the child ends on its own within `timeout`; -1 otherwise.
  int Wait(absl::Duration timeout = absl::Seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

TEST(DevBrokerProcess, ServesOverTcpGoesDownAndUpOnSignalsAndStopsCleanly) {
  testing::TempDir dir;
  std::string address_file = dir.path() + "/address";
  Child broker(
      {BinDir() + "/cowork-devbroker", "--topics", "t.one,t.two", "--address-file", address_file},
      {"COWORK_DEVBROKER_PARTITIONS=2"});
  ASSERT_GT(broker.pid(), 0);

  std::string line = broker.ReadLine();
  ASSERT_TRUE(absl::StartsWith(line, "bootstrap: 127.0.0.1:")) << line;
  std::string bootstrap = line.substr(std::string("bootstrap: ").size());
  std::ifstream file(address_file);
  std::string from_file;
  std::getline(file, from_file);
  EXPECT_EQ(from_file, bootstrap);

  KafkaOptions kafka{.brokers = bootstrap};
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < 20; ++i) kv.emplace_back(absl::StrCat("key-", i), "v");
  ASSERT_TRUE(ProduceAll(kafka, "t.one", kv).ok());
  auto one = ReadAll(kafka, "t.one");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->size(), kv.size());
  for (const Message& m : *one) EXPECT_LT(m.partition, 2);  // the env's partition count
  auto two = ReadAll(kafka, "t.two");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_TRUE(two->empty());

  ASSERT_EQ(kill(broker.pid(), SIGUSR1), 0);
  EXPECT_EQ(broker.ReadLine(), "brokers: down");
  EXPECT_FALSE(ProduceAll(kafka, "t.one", {{"k", "lost?"}}, absl::Seconds(1)).ok());

  ASSERT_EQ(kill(broker.pid(), SIGUSR2), 0);
  EXPECT_EQ(broker.ReadLine(), "brokers: up");
  EXPECT_TRUE(ProduceAll(kafka, "t.one", {{"k", "after"}}).ok());
  auto after = ReadAll(kafka, "t.one");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->size(), kv.size() + 1);  // the outage kept the data

  ASSERT_EQ(kill(broker.pid(), SIGTERM), 0);
  EXPECT_EQ(broker.Wait(), 0);
}

// Past 5 MB a partition of the mock loses its oldest messages: the broker says so on stdout
// and in its metric, instead of a reader finding a shorter history.
TEST(DevBrokerProcess, SaysWhenAPartitionHasDroppedItsOldestMessages) {
  Child broker({BinDir() + "/cowork-devbroker", "--topics", "t.big", "--partitions", "1",
                "--metrics-listen", "127.0.0.1:0"},
               {});
  ASSERT_GT(broker.pid(), 0);
  std::string line = broker.ReadLine();
  ASSERT_TRUE(absl::StartsWith(line, "bootstrap: ")) << line;
  KafkaOptions kafka{.brokers = line.substr(std::string("bootstrap: ").size())};
  line = broker.ReadLine();
  ASSERT_TRUE(absl::StartsWith(line, "metrics: 127.0.0.1:")) << line;
  const int metrics_port = std::stoi(line.substr(line.rfind(':') + 1));

  // 8 MB that does not compress, in 80 messages.
  uint64_t noise = 88172645463325252ull;
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < 80; ++i) {
    std::string value(100'000, '\0');
    for (char& c : value) {
      noise ^= noise << 13;
      noise ^= noise >> 7;
      noise ^= noise << 17;
      c = static_cast<char>(noise);
    }
    kv.emplace_back(absl::StrCat("k", i), std::move(value));
  }
  ASSERT_TRUE(ProduceAll(kafka, "t.big", kv).ok());
  line = broker.ReadLine(absl::Seconds(20));
  ASSERT_TRUE(absl::StartsWith(line, "history dropped: t.big/0 starts at offset ")) << line;
  const int64_t first = std::stoll(line.substr(line.rfind(' ') + 1));
  EXPECT_GT(first, 0);
  auto read = ReadAll(kafka, "t.big");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(static_cast<int64_t>(read->size()), 80 - first);  // what it said is what is gone

  httplib::Client http("127.0.0.1", metrics_port);
  httplib::Result r = http.Get("/metrics");
  ASSERT_TRUE(r && r->status == 200);
  EXPECT_TRUE(absl::StrContains(
      r->body,
      absl::StrCat("cowork_devbroker_dropped_messages{partition=\"0\",topic=\"t.big\"} ", first)))
      << r->body;
  ASSERT_EQ(kill(broker.pid(), SIGTERM), 0);
  EXPECT_EQ(broker.Wait(), 0);
}

TEST(DevBrokerProcess, RejectsBadFlags) {
  Child broker({BinDir() + "/cowork-devbroker", "--brokers", "0"}, {});
  ASSERT_GT(broker.pid(), 0);
  int status = broker.Wait();
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1);
}

}  // namespace
}  // namespace cowork::kafka
