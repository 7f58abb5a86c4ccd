#include "libs/crypto/password_gate.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/retry.h"

namespace cowork::crypto {
namespace {

TEST(PasswordGate, HashesAndVerifies) {
  PasswordGate gate;
  absl::StatusOr<std::string> hash = gate.Hash("Correct-Horse-42");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(*gate.Verify(*hash, "Correct-Horse-42"));
  EXPECT_FALSE(*gate.Verify(*hash, "Wrong-Horse-42"));
  EXPECT_GE(gate.concurrency(), 1);
}

// `callers` threads run work through `gate` at once, each holding its turn until released;
// the most turns held at the same time, and how many were refused.
struct Crowd {
  int most_at_once = 0;
  int refused = 0;
  std::vector<absl::Status> refusals;
};
Crowd RunCrowd(PasswordGate& gate, int callers, absl::Duration hold) {
  std::atomic<int> inside{0}, most{0};
  std::vector<absl::Status> results(callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = gate.Run([&] {
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        absl::SleepFor(hold);
        --inside;
      });
    });
  }
  for (std::thread& t : threads) t.join();
  Crowd crowd{.most_at_once = most.load()};
  for (const absl::Status& s : results) {
    if (s.ok()) continue;
    ++crowd.refused;
    crowd.refusals.push_back(s);
  }
  return crowd;
}

TEST(PasswordGate, NoMoreThanItsConcurrencyAtOnceAndTheRestRefusedWithADelay) {
  PasswordGate gate({.concurrency = 2, .queue = 3, .max_wait = absl::Milliseconds(50),
                     .retry_after = absl::Seconds(2)});
  const Crowd crowd = RunCrowd(gate, 64, absl::Milliseconds(200));
  EXPECT_EQ(crowd.most_at_once, 2);
  // Two run, three wait 50 ms (less than a turn takes) and the other 59 are turned away at
  // once: every waiter is refused too.
  EXPECT_EQ(crowd.refused, 62);
  EXPECT_EQ(gate.refused(), 62);
  for (const absl::Status& s : crowd.refusals) {
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryDelayOf(s), absl::Seconds(2));
  }
}

TEST(PasswordGate, WaitersGetATurnWithinTheirWait) {
  PasswordGate gate({.concurrency = 1, .queue = 4, .max_wait = absl::Seconds(30)});
  const Crowd crowd = RunCrowd(gate, 5, absl::Milliseconds(20));
  EXPECT_EQ(crowd.most_at_once, 1);
  EXPECT_EQ(crowd.refused, 0);
}

TEST(PasswordGate, BeyondTheQueueIsRefusedAtOnce) {
  // Waiting an hour would time the test out: a refusal beyond the queue is immediate.
  PasswordGate gate({.concurrency = 1, .queue = 0, .max_wait = absl::Hours(1)});
  absl::Notification inside, release;
  std::thread holder([&] {
    ASSERT_TRUE(gate.Run([&] {
                      inside.Notify();
                      release.WaitForNotification();
                    })
                    .ok());
  });
  inside.WaitForNotification();
  EXPECT_EQ(gate.Hash("Correct-Horse-42").status().code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
  holder.join();
  EXPECT_TRUE(gate.Hash("Correct-Horse-42").ok());
}

}  // namespace
}  // namespace cowork::crypto
