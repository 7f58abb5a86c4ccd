#ifndef COWORK_TESTS_SUPPORT_FAULTS_H_
#define COWORK_TESTS_SUPPORT_FAULTS_H_

// Shared by the fault suites (faults_test, faults_services_test): a suite with a tenant, a
// stream of commands from four clients cut by SIGKILL, waiting until a service knows what the
// customers topic told it, and "each event once on the topic".
//
// Thread-safety: KillMidStream runs its clients on threads of its own; the rest is used from
// the test's thread.

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {

// Letters only: names may hold no digits, so the n-th name spells n in letters.
inline std::string LetterName(int n) {
  std::string name = "Ka";
  do {
    name.push_back(static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n > 0);
  return name;
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(suite_->stubs(), "Faulty Towers");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

// What a stream of commands left when its service was killed.
template <typename Request, typename Response>
struct CutOff {
  std::vector<std::pair<Request, Response>> acknowledged;
  std::vector<Request> unanswered;  // failed when the kill cut them off
};

// Four clients, each on its own channel as separate programs would be, send one command after
// another to `service` (`send`, the request of client c's i-th command from `request_for`, at
// most `max_per_client` each: by default far more than are sent before the kill); once
// `min_acks` are acknowledged the service is killed with SIGKILL while they still send.
template <typename Request, typename Response>
absl::StatusOr<CutOff<Request, Response>> KillMidStream(
    testing::Service& service, int min_acks, const std::function<Request(int, int)>& request_for,
    const std::function<absl::StatusOr<Response>(const std::shared_ptr<grpc::Channel>&,
                                                 const Request&)>& send,
    int max_per_client = 200) {
  constexpr int kClients = 4;
  absl::Mutex mu;
  CutOff<Request, Response> out;  // guarded by mu
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::shared_ptr<grpc::Channel> channel = testing::Connect(service.address);
      for (int i = 0; i < max_per_client && !stop.load(); ++i) {
        Request request = request_for(c, i);
        absl::StatusOr<Response> answer = send(channel, request);
        absl::MutexLock lock(&mu);
        if (!answer.ok()) {
          out.unanswered.push_back(std::move(request));
          return;
        }
        out.acknowledged.emplace_back(std::move(request), *std::move(answer));
        acks.fetch_add(1);
      }
    });
  }
  absl::Status enough = testing::PollUntil([&] { return acks.load() >= min_acks; },
                                           absl::Seconds(60), "acknowledged commands");
  absl::StatusOr<testing::ExitStatus> killed = service.process->Kill9();
  stop.store(true);
  for (std::thread& t : clients) t.join();
  if (!enough.ok()) return enough;
  if (!killed.ok()) return killed.status();
  if (!killed->signaled || killed->signal != SIGKILL) {
    return absl::InternalError(absl::StrCat("not killed: ", killed->ToString()));
  }
  return out;
}

// Calls `call` until it answers anything but NOT_FOUND (a service learns locations and
// customers from the customers topic a moment after they are committed).
template <typename Response>
absl::StatusOr<Response> OnceKnown(const std::function<absl::StatusOr<Response>()>& call) {
  absl::StatusOr<Response> answer = absl::NotFoundError("not called");
  absl::Status known = testing::PollUntil(
      [&] {
        answer = call();
        return answer.status().code() != absl::StatusCode::kNotFound;
      },
      absl::Seconds(30), "the service to know the location and customer");
  if (!known.ok()) return known;
  return answer;
}

// Every one of `ids` has exactly one `type` event on `topic`, in order, and nothing is there
// twice.
inline void ExpectEachOnce(const std::string& bootstrap, const std::string& topic,
                           const std::set<std::string>& ids, absl::string_view type) {
  absl::StatusOr<std::vector<Event>> events = WaitForEvents(
      bootstrap, topic,
      [&](const std::vector<Event>& events) {
        for (const std::string& id : ids) {
          if (CountOf(events, id, type) < 1) return false;
        }
        return true;
      },
      absl::Seconds(30), absl::StrCat("a ", type, " for every one"));
  ASSERT_TRUE(events.ok()) << events.status();
  ApplyOnceResult applied = ApplyOnce(*events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on " << topic;
}

// `count` events of `type` for the aggregate `id` on `topic` (e.g. the invoices of one
// location's invoice book), and nothing there twice.
inline void ExpectCountOnce(const std::string& bootstrap, const std::string& topic,
                            const std::string& id, absl::string_view type, int count) {
  absl::StatusOr<std::vector<Event>> events = WaitForEvents(
      bootstrap, topic,
      [&](const std::vector<Event>& events) { return CountOf(events, id, type) >= count; },
      absl::Seconds(30), absl::StrCat(count, " ", type, " of ", id));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(CountOf(*events, id, type), count);
  ApplyOnceResult applied = ApplyOnce(*events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on " << topic;
}

}  // namespace cowork::e2e

#endif  // COWORK_TESTS_SUPPORT_FAULTS_H_
