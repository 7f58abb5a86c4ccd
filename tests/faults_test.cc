// Faults: the customers service killed with SIGKILL in the middle of a stream of commands, and
// the Kafka brokers taken down while commands keep coming (the other services:
// faults_services_test). The dev
// broker and the services are real processes; the test sees them only through gRPC and a plain
// Kafka consumer.
//
// What "applied once" means here: ApplyOnce (tests/support/e2e.h) walks the topic in partition
// order and applies an aggregate's sequence n only right after n-1; a gap, a step back or a
// conflicting copy fails the test. And there must be no copy at all, so a plain Kafka reader
// sees every event once: after a SIGKILL the relay reads the tails of its topics and does not
// send again a row delivered before the kill, and across a broker outage the idempotent
// producer sends none twice.

#include "tests/support/faults.h"

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::AddCustomerRequest;
using customers::v1::Customer;
using customers::v1::CustomersService;
using ::testing::IsEmpty;

TEST_F(Faults, KillNineMidStreamLosesNoAcknowledgedCommand) {
  constexpr int kClients = 4;
  constexpr int kAcknowledgedBeforeKill = 60;
  // Bounds each client's loop: far more than are ever sent before the kill.
  constexpr int kMaxPerClient = 2000;

  absl::Mutex mu;
  std::vector<std::pair<AddCustomerRequest, Customer>> acknowledged;  // guarded by mu
  std::vector<std::pair<AddCustomerRequest, absl::Status>> unanswered;  // guarded by mu
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};

  // Each client has its own channel, as separate programs would, and sends one command after
  // another until a call fails (the kill) or the test stops it.
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      testing::CustomersStubs stubs = testing::CustomersStubs::Connect(suite_->address());
      for (int i = 0; i < kMaxPerClient && !stop.load(); ++i) {
        AddCustomerRequest request =
            Individual(tenant_.location_id, LetterName(c * kMaxPerClient + i), "Stream",
                       absl::StrCat("client", c, ".n", i, "@faults.example"));
        absl::StatusOr<Customer> added = testing::Call(
            *stubs.customers, &CustomersService::Stub::AddCustomer, request,
            tenant_.admin_token, absl::Seconds(10));
        absl::MutexLock lock(&mu);
        if (!added.ok()) {
          unanswered.emplace_back(request, added.status());
          return;
        }
        acknowledged.emplace_back(request, *added);
        acks.fetch_add(1);
      }
    });
  }
  absl::Status enough = testing::PollUntil([&] { return acks.load() >= kAcknowledgedBeforeKill; },
                                           absl::Seconds(30), "acknowledged commands");
  // Killed while the clients are still sending.
  absl::StatusOr<testing::ExitStatus> killed = suite_->customers().Kill9();
  stop.store(true);
  for (std::thread& t : clients) t.join();
  COWORK_ASSERT_OK(enough);
  COWORK_ASSERT_OK(killed);
  ASSERT_TRUE(killed->signaled && killed->signal == SIGKILL) << killed->ToString();
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kAcknowledgedBeforeKill));
  RecordProperty("acknowledged_before_kill", static_cast<int>(acknowledged.size()));
  RecordProperty("cut_off_by_kill", static_cast<int>(unanswered.size()));

  COWORK_ASSERT_OK(suite_->StartCustomersAgain());
  testing::CustomersStubs& stubs = suite_->stubs();
  const std::string& token = tenant_.admin_token;

  // Every acknowledged command is there.
  std::set<std::string> ids;
  for (const auto& [request, customer] : acknowledged) {
    SCOPED_TRACE(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs, token, customer.customer_id()));
    EXPECT_EQ(got.email(), request.email());
    EXPECT_EQ(got.first_name(), request.first_name());
    ids.insert(customer.customer_id());
  }
  // A command cut off by the kill may or may not have happened; retried with its request id it
  // succeeds, and either way exactly one customer has its email.
  for (const auto& [request, status] : unanswered) {
    SCOPED_TRACE(absl::StrCat(request.email(), " first failed with ", status.ToString()));
    COWORK_ASSERT_OK_AND_ASSIGN(Customer retried, AddCustomer(stubs, token, request));
    EXPECT_EQ(retried.email(), request.email());
    ids.insert(retried.customer_id());
  }
  for (const auto& [request, customer] : acknowledged) {
    customers::v1::ListCustomersRequest by_email;
    by_email.set_email(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs, token, by_email));
    EXPECT_EQ(found.size(), 1u) << request.email();
  }
  for (const auto& [request, status] : unanswered) {
    customers::v1::ListCustomersRequest by_email;
    by_email.set_email(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs, token, by_email));
    EXPECT_EQ(found.size(), 1u) << request.email() << " after a retry with the same request id";
  }
  customers::v1::ListCustomersRequest at_location;
  at_location.set_location_id(tenant_.location_id);
  COWORK_ASSERT_OK_AND_ASSIGN(auto all, ListAllCustomers(stubs, token, at_location));
  EXPECT_EQ(all.size(), ids.size());

  // ... and published: every customer's CustomerAdded reaches the topic.
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            std::set<std::string> added;
            for (const Event& e : events) {
              if (e.type == "cowork.customers.v1.CustomerAdded") {
                added.insert(e.envelope.aggregate_id());
              }
            }
            for (const std::string& id : ids) {
              if (!added.contains(id)) return false;
            }
            return true;
          },
          absl::Seconds(30), "a CustomerAdded for every customer"));
  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on the topic";
  int customers_published = 0;
  for (const auto& [aggregate, list] : applied.applied) {
    if (list.front().envelope.aggregate_type() != "customer") continue;
    ++customers_published;
    EXPECT_TRUE(ids.contains(aggregate)) << "published customer " << aggregate << " is not listed";
    ASSERT_EQ(list.size(), 1u) << aggregate;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
  }
  EXPECT_EQ(customers_published, static_cast<int>(ids.size()));
}

TEST_F(Faults, BrokerOutageDelaysEventsAndLosesNone) {
  testing::CustomersStubs& stubs = suite_->stubs();
  const std::string& token = tenant_.admin_token;
  std::vector<std::string> early;
  for (int i = 0; i < 4; ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer c, AddCustomer(stubs, token,
                                Individual(tenant_.location_id, LetterName(i), "Before",
                                           absl::StrCat("before", i, "@outage.example"))));
    early.push_back(c.customer_id());
  }
  COWORK_ASSERT_OK(WaitForEvents(
      suite_->bootstrap(), testing::kCustomersTopic,
      [&](const std::vector<Event>& events) {
        for (const std::string& id : early) {
          if (CountOf(events, id, "CustomerAdded") != 1) return false;
        }
        return true;
      },
      absl::Seconds(20), "the events before the outage"));

  // Brokers down: the dev broker says so, and a plain consumer cannot read any more.
  size_t log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR1));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: down$", absl::Seconds(10), log_offset));
  EXPECT_FALSE(
      ReadTopicFromZero(suite_->bootstrap(), testing::kCustomersTopic, absl::Seconds(2)).ok())
      << "the topic is still readable with the brokers down";

  // Commands keep succeeding.
  constexpr int kUpdates = 3;
  for (int round = 1; round <= kUpdates; ++round) {
    for (const std::string& id : early) {
      customers::v1::UpdateCustomerRequest update;
      update.set_request_id(testing::NewRequestId());
      update.mutable_customer()->set_customer_id(id);
      update.mutable_customer()->set_phone(absl::StrCat("+34 600 000 00", round));
      update.mutable_update_mask()->add_paths("phone");
      COWORK_ASSERT_OK(testing::Call(*stubs.customers, &CustomersService::Stub::UpdateCustomer,
                                     update, token, absl::Seconds(10)));
    }
  }
  std::vector<std::string> during;
  for (int i = 0; i < 6; ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer c, AddCustomer(stubs, token,
                                Individual(tenant_.location_id, LetterName(100 + i), "During",
                                           absl::StrCat("during", i, "@outage.example"))));
    during.push_back(c.customer_id());
  }
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(during[0]);
  COWORK_ASSERT_OK(testing::Call(*stubs.customers, &CustomersService::Stub::SuspendCustomer,
                                 suspend, token, absl::Seconds(10)));
  // Reads answer from the service's own store meanwhile.
  COWORK_ASSERT_OK_AND_ASSIGN(Customer read, GetCustomer(stubs, token, early[0]));
  EXPECT_EQ(read.phone(), "+34 600 000 003");

  // Brokers up: every event arrives, in order per aggregate, none missing.
  log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR2));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: up$", absl::Seconds(10), log_offset));
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            for (const std::string& id : early) {
              if (CountOf(events, id, "CustomerUpdated") < kUpdates) return false;
            }
            for (const std::string& id : during) {
              if (CountOf(events, id, "CustomerAdded") < 1) return false;
            }
            return CountOf(events, during[0], "CustomerSuspended") >= 1;
          },
          absl::Seconds(45), "every event written during the outage"));

  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on the topic";
  for (const std::string& id : early) {
    const std::vector<Event>& list = applied.applied[id];
    ASSERT_EQ(list.size(), 1u + kUpdates) << id;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
    for (int round = 1; round <= kUpdates; ++round) {
      EXPECT_EQ(list[round].type, "cowork.customers.v1.CustomerUpdated");
      EXPECT_EQ(list[round].envelope.sequence(), 1 + round);
    }
  }
  for (const std::string& id : during) {
    const std::vector<Event>& list = applied.applied[id];
    ASSERT_FALSE(list.empty()) << id;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
    EXPECT_EQ(list.size(), id == during[0] ? 2u : 1u) << id;
  }

  // And the service keeps publishing after the outage.
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer after, AddCustomer(stubs, token,
                                  Individual(tenant_.location_id, "Lastly", "After",
                                             "after@outage.example")));
  COWORK_ASSERT_OK(WaitForEvents(
      suite_->bootstrap(), testing::kCustomersTopic,
      [&](const std::vector<Event>& events) {
        return CountOf(events, after.customer_id(), "CustomerAdded") == 1;
      },
      absl::Seconds(20), "an event after the outage"));
}

}  // namespace
}  // namespace cowork::e2e
