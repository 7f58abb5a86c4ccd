#ifndef COWORK_TESTS_SUPPORT_E2E_H_
#define COWORK_TESTS_SUPPORT_E2E_H_

// Shared by the end-to-end, fault, security, erasure and bad-input suites:
//  - a plain librdkafka consumer that reads a topic from offset zero, independent of
//    libs/kafka, so the suites check the service's output with a reader of their own;
//  - the envelope checks ("a reader that applies each event once, in order, without gaps");
//  - a running suite (dev broker + customers service in a temp dir) and tenant set-up.
//
// Thread-safety: the free functions are thread-safe; Suite is used from the test's thread.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/suite.h"

// ASSERT that an absl::Status / StatusOr is OK, printing it when it is not.
#define COWORK_ASSERT_OK(expr)                \
  do {                                        \
    const auto& cowork_s_ = (expr);           \
    ASSERT_TRUE(::cowork::e2e::StatusOf(cowork_s_).ok()) \
        << #expr << ": " << ::cowork::e2e::StatusOf(cowork_s_); \
  } while (0)

#define COWORK_CONCAT_INNER_(a, b) a##b
#define COWORK_CONCAT_(a, b) COWORK_CONCAT_INNER_(a, b)
// ASSERT_OK_AND_ASSIGN(lhs, expr): `lhs` gets the value of a StatusOr that must be OK.
#define COWORK_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  COWORK_ASSERT_OK_AND_ASSIGN_IMPL_(COWORK_CONCAT_(cowork_or_, __LINE__), lhs, expr)
#define COWORK_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)        \
  auto tmp = (expr);                                            \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status();       \
  lhs = std::move(*tmp)

namespace cowork::e2e {

inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

// ---------------------------------------------------------------- plain Kafka reading

struct RawMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
};

// A plain librdkafka consumer: assigns every partition of `topic` from its low watermark and
// reads up to the high watermarks queried at the start. UNAVAILABLE when the brokers cannot be
// reached within `timeout`; DEADLINE_EXCEEDED when the messages do not all arrive in time.
absl::StatusOr<std::vector<RawMessage>> ReadTopicFromZero(const std::string& bootstrap,
                                                          absl::string_view topic,
                                                          absl::Duration timeout = absl::Seconds(20));

// A plain librdkafka producer (idempotent, acks=all) writing every message to one chosen
// partition, for tests that need two messages in one partition whatever their keys. Waits for
// every delivery report; UNAVAILABLE when one fails or `timeout` passes.
absl::Status ProduceToPartition(const std::string& bootstrap, absl::string_view topic,
                                int32_t partition,
                                const std::vector<std::pair<std::string, std::string>>& key_values,
                                absl::Duration timeout = absl::Seconds(20));

struct Event {
  RawMessage raw;
  common::v1::EventEnvelope envelope;
  // "cowork.customers.v1.CustomerAdded" (the payload's type URL without its prefix).
  std::string type;
};

// ReadTopicFromZero, each message parsed as an EventEnvelope (DATA_LOSS if one is not).
absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& bootstrap, absl::string_view topic,
                                              absl::Duration timeout = absl::Seconds(20));

// Re-reads the topic until `done(events)` holds; DEADLINE_EXCEEDED naming `what` (and how many
// events were seen) when it does not within `timeout`.
absl::StatusOr<std::vector<Event>> WaitForEvents(
    const std::string& bootstrap, absl::string_view topic,
    const std::function<bool(const std::vector<Event>&)>& done, absl::Duration timeout,
    absl::string_view what);

// The events of one aggregate, in topic order.
std::vector<Event> EventsOf(const std::vector<Event>& events, absl::string_view aggregate_id);
// How many events of `aggregate_id` have payload type `type` (the message name without its
// package, e.g. "CustomerAdded" or "ContractEnded").
int CountOf(const std::vector<Event>& events, absl::string_view aggregate_id,
            absl::string_view type);

// The first message (value or key) containing `needle` as bytes, or -1.
int FindBytes(const std::vector<RawMessage>& messages, absl::string_view needle);

// A reader that applies every event once: it walks each partition in offset order and, per
// aggregate, applies sequence n only right after n-1. A copy of an applied event (same
// aggregate and sequence) is skipped — and must be the same event (same event_id). Anything
// else is a problem: a gap or a step back in the sequence, a conflicting copy, a key that is
// not the aggregate id, one aggregate spread over several partitions.
struct ApplyOnceResult {
  // aggregate id -> the events applied, sequence 1..n in order.
  std::map<std::string, std::vector<Event>> applied;
  int duplicates = 0;  // copies skipped
  std::vector<std::string> problems;
};
ApplyOnceResult ApplyOnce(const std::vector<Event>& events);

// ---------------------------------------------------------------- the running suite

// The dev broker and the customers service, in a temp dir that goes away with the Suite.
class Suite {
 public:
  // `options.data_dir` and `options.bootstrap` are filled in.
  static absl::StatusOr<std::unique_ptr<Suite>> Start(testing::ServiceOptions options = {});

  const std::string& bootstrap() const { return broker_.bootstrap; }
  testing::Subprocess& broker() { return *broker_.process; }
  testing::Subprocess& customers() { return *customers_.process; }
  const testing::Service& customers_service() const { return customers_; }
  testing::CustomersStubs& stubs() { return stubs_; }
  // The customers service's gRPC address (changes with every start).
  const std::string& address() const { return customers_.address; }
  const testing::TempDir& dir() const { return dir_; }
  const testing::ServiceOptions& options() const { return options_; }

  // SIGTERM and wait for the service to exit (OK only for exit code 0), then start it again on
  // the same data dir and reconnect the stubs.
  absl::Status Restart();
  // kill -9, then start again on the same data dir.
  absl::Status KillAndRestart();
  // Starts the service again after it has been stopped by other means.
  absl::Status StartCustomersAgain();

 private:
  Suite() = default;
  testing::TempDir dir_{"cowork-e2e"};
  testing::ServiceOptions options_;
  testing::DevBroker broker_;
  testing::Service customers_;
  testing::CustomersStubs stubs_;
};

// An operator with one location and an admin token over every location of it ("*", every
// permission), created through the API with a platform token.
struct Tenant {
  std::string operator_id;
  std::string location_id;
  std::string admin_token;
};
absl::StatusOr<Tenant> CreateTenant(testing::CustomersStubs& stubs, absl::string_view name);
absl::StatusOr<customers::v1::Location> CreateLocation(testing::CustomersStubs& stubs,
                                                       absl::string_view admin_token,
                                                       absl::string_view name);

// A customer who registers in the tenant's portal (an individual at its location, last name
// "Portal"), with their session.
absl::StatusOr<customers::v1::Session> RegisterPortalCustomer(testing::CustomersStubs& stubs,
                                                              const Tenant& tenant,
                                                              absl::string_view first_name,
                                                              absl::string_view email,
                                                              absl::string_view password);

// Changes a portal customer's password with their session; returns the new session (every
// older one ends).
absl::StatusOr<customers::v1::Session> ChangePortalPassword(testing::CustomersStubs& stubs,
                                                            const customers::v1::Session& session,
                                                            absl::string_view current,
                                                            absl::string_view next);

// Polls `fn` until `done(result)` holds, for at most 30 seconds; returns the last result.
template <typename Fn, typename Done>
auto Until(Fn fn, Done done) -> decltype(fn()) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    auto result = fn();
    if (done(result) || absl::Now() > deadline) return result;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// Whether a service knew the caller and what they named: services learn customers (and their
// sessions) from the customers events a moment after they are committed, answering NOT_FOUND
// or UNAUTHENTICATED until then.
template <typename T>
bool Known(const absl::StatusOr<T>& r) {
  return r.status().code() != absl::StatusCode::kNotFound &&
         r.status().code() != absl::StatusCode::kUnauthenticated;
}
// Until the service knows what `fn` names (Known), for at most 30 seconds.
template <typename Fn>
auto UntilKnown(Fn fn) -> decltype(fn()) {
  return Until(fn, [](const auto& r) { return Known(r); });
}

customers::v1::AddCustomerRequest Individual(absl::string_view location_id,
                                             absl::string_view first_name,
                                             absl::string_view last_name,
                                             absl::string_view email);
customers::v1::AddCustomerRequest Company(absl::string_view location_id,
                                          absl::string_view company_name,
                                          absl::string_view first_name,
                                          absl::string_view last_name, absl::string_view email);

absl::StatusOr<customers::v1::Customer> AddCustomer(testing::CustomersStubs& stubs,
                                                    absl::string_view token,
                                                    customers::v1::AddCustomerRequest request);
absl::StatusOr<customers::v1::Customer> GetCustomer(testing::CustomersStubs& stubs,
                                                    absl::string_view token,
                                                    absl::string_view customer_id);
// Every page of ListCustomers for `request` (page_size 500).
absl::StatusOr<std::vector<customers::v1::Customer>> ListAllCustomers(
    testing::CustomersStubs& stubs, absl::string_view token,
    customers::v1::ListCustomersRequest request);

// "Nothing was written": marker commands (new customers) before and after the calls under
// test. The outbox publishes in commit order and each partition keeps that order, so once a
// marker committed after an event is visible in the event's partition, the event is visible
// too. Each round therefore adds markers until every partition of the topic holds one of the
// round's markers, and waits until they are all visible: then everything committed before
// the round is on the topic. An event that appears between the two rounds and is not a marker
// was written by the calls under test.
//
//   COWORK_ASSERT_OK_AND_ASSIGN(auto watch, EventWatch::Begin(*suite, tenant));
//   ... refused calls ...
//   COWORK_ASSERT_OK_AND_ASSIGN(auto written, watch.WrittenSince());
//   EXPECT_THAT(written, IsEmpty());
class EventWatch {
 public:
  static absl::StatusOr<EventWatch> Begin(Suite& suite, const Tenant& tenant);
  // The events on the topic now that were not there at Begin, except markers.
  // Each description is "<type> of <aggregate id>".
  absl::StatusOr<std::vector<std::string>> WrittenSince();
  // Customers added as markers so far (they show up in listings of the tenant's location).
  int markers() const { return static_cast<int>(marker_ids_.size()); }

 private:
  EventWatch(Suite& suite, const Tenant& tenant) : suite_(&suite), tenant_(tenant) {}
  // One round of markers; returns the topic once they are all visible.
  absl::StatusOr<std::vector<Event>> Settle();

  Suite* suite_;
  Tenant tenant_;
  std::set<std::string> before_;      // event ids seen at Begin
  std::set<std::string> marker_ids_;  // customer ids of every marker
};

// The number of partitions of `topic`.
absl::StatusOr<int> PartitionCount(const std::string& bootstrap, absl::string_view topic,
                                   absl::Duration timeout = absl::Seconds(20));

// ---------------------------------------------------------------- a service's files

// The seal key of `subject` (a customer or visitor id) in the store at `data_dir`
// (eventstore::KeyVault), read while the service is stopped: a store has one process at a
// time. NOT_FOUND when there is none (never created, or erased).
absl::StatusOr<std::string> SealKeyIn(const std::string& data_dir, absl::string_view operator_id,
                                      absl::string_view subject);

}  // namespace cowork::e2e

#endif  // COWORK_TESTS_SUPPORT_E2E_H_
