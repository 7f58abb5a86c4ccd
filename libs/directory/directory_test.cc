#include "libs/directory/directory.h"


#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/key_vault.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/kafka.h"
#include "libs/testing/process.h"

namespace cowork::directory {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTopic[] = "cowork.customers.events";
const absl::Time kNow = absl::FromUnixSeconds(1767225600);

using TempDir = cowork::testing::TempDir;

auth::Principal Customer(std::string op, std::string id, std::string session, int64_t gen) {
  auth::Principal p;
  p.role = auth::Role::kCustomer;
  p.operator_id = std::move(op);
  p.subject = std::move(id);
  p.session_id = std::move(session);
  p.session_generation = gen;
  return p;
}

// Builds envelopes as the customers service does: one sequence per aggregate.
class EventLog {
 public:
  common::v1::EventEnvelope Next(absl::string_view aggregate_type, absl::string_view op,
                                 absl::string_view aggregate_id,
                                 const google::protobuf::Message& payload) {
    const int64_t sequence = ++sequences_[absl::StrCat(aggregate_type, "/", aggregate_id)];
    return eventstore::MakeEnvelope(
        {.service = "customers", .operator_id = std::string(op), .correlation_id = "test",
         .causation_id = "test", .now = kNow},
        aggregate_type, aggregate_id, sequence, "", payload);
  }

 private:
  std::map<std::string, int64_t> sequences_;
};

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
        eventstore::Store::Open({.path = dir_.path() + "/db", .durable = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    directory_ = std::make_unique<Directory>(*store_);
  }

  // Commits one event the way the customers service does: appended to its aggregate, with
  // the directory's view writes in the same WriteSet.
  common::v1::EventEnvelope Commit(absl::string_view aggregate_type, absl::string_view op,
                                   absl::string_view aggregate_id,
                                   const google::protobuf::Message& payload) {
    common::v1::EventEnvelope envelope = log_.Next(aggregate_type, op, aggregate_id, payload);
    eventstore::WriteSet writes;
    writes.Append(std::string(aggregate_type), std::string(aggregate_id), envelope.sequence() - 1,
                  {envelope}, "state", kTopic);
    absl::Status applied = directory_->Apply(envelope, payload, writes);
    EXPECT_TRUE(applied.ok()) << applied;
    absl::Status committed = store_->Commit(std::move(writes));
    EXPECT_TRUE(committed.ok()) << committed;
    return envelope;
  }

  // Re-applies an event already committed (a redelivery) in a commit of its own.
  void Reapply(const common::v1::EventEnvelope& envelope,
               const google::protobuf::Message& payload) {
    eventstore::WriteSet writes;
    ASSERT_TRUE(directory_->Apply(envelope, payload, writes).ok());
    if (!writes.empty()) {
      ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
    }
  }

  void CreateOperatorAndLocation(const std::string& op, const std::string& loc) {
    events::OperatorCreated o;
    o.set_operator_id(op);
    o.set_name("Op " + op);
    Commit("operator", op, op, o);
    events::LocationCreated l;
    l.set_location_id(loc);
    l.set_name("Madrid Centro");
    l.set_time_zone("Europe/Madrid");
    l.set_currency("EUR");
    Commit("location", op, loc, l);
  }

  void AddCustomerWithAccount(const std::string& op, const std::string& id,
                              const std::string& home, int64_t gen) {
    events::CustomerAdded a;
    a.set_customer_id(id);
    a.set_home_location_id(home);
    Commit("customer", op, id, a);
    events::UserAccountCreated u;
    u.set_customer_id(id);
    u.set_session_generation(gen);
    Commit("customer", op, id, u);
  }

  void ExpectEnded(const auth::Principal& p, absl::string_view reason) {
    absl::Status s = directory_->CheckSession(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(std::string(reason)));
  }

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<Directory> directory_;
  EventLog log_;
};

TEST_F(DirectoryTest, LiveSession) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  EXPECT_TRUE(directory_->CheckSession(Customer("op-1", "c-1", "s-1", 1)).ok());

  absl::StatusOr<std::optional<CustomerStanding>> c = directory_->GetCustomer("op-1", "c-1");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->operator_id, "op-1");
  EXPECT_EQ((*c)->customer_id, "c-1");
  EXPECT_EQ((*c)->home_location_id, "loc-1");
  EXPECT_FALSE((*c)->suspended);
  EXPECT_FALSE((*c)->erased);
  EXPECT_EQ((*c)->session_generation, 1);
  EXPECT_TRUE(directory_->OperatorExists("op-1").value_or(false));
  EXPECT_FALSE(directory_->OperatorExists("op-9").value_or(true));
}

TEST_F(DirectoryTest, PasswordChangeEndsOlderSessions) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::PasswordChanged pc;
  pc.set_customer_id("c-1");
  pc.set_session_generation(2);
  Commit("customer", "op-1", "c-1", pc);
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "password changed");
  EXPECT_TRUE(directory_->CheckSession(Customer("op-1", "c-1", "s-2", 2)).ok());
}

TEST_F(DirectoryTest, SuspensionEndsSessionsAndReactivationNeedsANewOne) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::CustomerSuspended s;
  s.set_customer_id("c-1");
  s.set_session_generation(2);
  Commit("customer", "op-1", "c-1", s);
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "suspended");
  ExpectEnded(Customer("op-1", "c-1", "s-2", 2), "suspended");
  EXPECT_TRUE(directory_->GetCustomer("op-1", "c-1").value()->suspended);

  events::CustomerReactivated r;
  r.set_customer_id("c-1");
  Commit("customer", "op-1", "c-1", r);
  EXPECT_FALSE(directory_->GetCustomer("op-1", "c-1").value()->suspended);
  // The session from before the suspension stays dead; one signed in afterwards lives.
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "password changed");
  EXPECT_TRUE(directory_->CheckSession(Customer("op-1", "c-1", "s-2", 2)).ok());
}

TEST_F(DirectoryTest, SignedOutSessionEndsAlone) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::CustomerSignedOut out;
  out.set_customer_id("c-1");
  out.set_session_id("s-1");
  Commit("customer", "op-1", "c-1", out);
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "signed out");
  EXPECT_TRUE(directory_->CheckSession(Customer("op-1", "c-1", "s-2", 1)).ok());
}

TEST_F(DirectoryTest, ErasedCustomerHasNoSessions) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::CustomerSignedOut out;
  out.set_customer_id("c-1");
  out.set_session_id("s-0");
  Commit("customer", "op-1", "c-1", out);
  events::CustomerErased erased;
  erased.set_customer_id("c-1");
  erased.set_session_generation(2);
  Commit("customer", "op-1", "c-1", erased);
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "erased");
  ExpectEnded(Customer("op-1", "c-1", "s-1", 2), "erased");
  EXPECT_TRUE(directory_->GetCustomer("op-1", "c-1").value()->erased);
  // Nothing of the customer's sessions is kept.
  int signed_out_keys = 0;
  ASSERT_TRUE(store_
                  ->Scan(eventstore::Space::kViews, "dir/signedout/", "",
                         [&](absl::string_view, absl::string_view) {
                           ++signed_out_keys;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(signed_out_keys, 0);
}

TEST_F(DirectoryTest, ErasureDeletesTheCustomersKeyInThisService) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  AddCustomerWithAccount("op-1", "c-2", "loc-1", 1);
  eventstore::KeyVault vault(*store_);
  ASSERT_TRUE(vault.Ensure("op-1", "c-1").ok());
  ASSERT_TRUE(vault.Ensure("op-1", "c-2").ok());
  events::CustomerErased erased;
  erased.set_customer_id("c-1");
  erased.set_session_generation(2);
  Commit("customer", "op-1", "c-1", erased);
  EXPECT_FALSE(vault.Get("op-1", "c-1")->has_value());
  EXPECT_TRUE(vault.Get("op-1", "c-2")->has_value());
}

TEST_F(DirectoryTest, UnknownCustomerHasNoSession) {
  CreateOperatorAndLocation("op-1", "loc-1");
  ExpectEnded(Customer("op-1", "c-404", "s-1", 0), "unknown customer");
}

TEST_F(DirectoryTest, AdminAndPlatformPrincipalsHaveNoSessionToCheck) {
  auth::Principal admin;
  admin.role = auth::Role::kAdmin;
  admin.operator_id = "op-1";
  EXPECT_TRUE(directory_->CheckSession(admin).ok());
  auth::Principal platform;
  platform.role = auth::Role::kPlatform;
  EXPECT_TRUE(directory_->CheckSession(platform).ok());
}

TEST_F(DirectoryTest, LocationsOfAnOperatorAreItsOwn) {
  CreateOperatorAndLocation("op-1", "loc-b");
  CreateOperatorAndLocation("op-2", "loc-x");
  events::LocationCreated l;
  l.set_location_id("loc-a");
  l.set_name("Other");
  l.set_time_zone("America/New_York");
  l.set_currency("USD");
  Commit("location", "op-1", "loc-a", l);
  absl::StatusOr<std::vector<LocationInfo>> locations = directory_->LocationsOf("op-1");
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_EQ(locations->size(), 2u);
  EXPECT_EQ((*locations)[0].location_id, "loc-a");
  EXPECT_EQ((*locations)[0].time_zone, "America/New_York");
  EXPECT_EQ((*locations)[1].location_id, "loc-b");
  EXPECT_TRUE(directory_->LocationsOf("op-3")->empty());
}

TEST_F(DirectoryTest, GetLocationAndUpdates) {
  CreateOperatorAndLocation("op-1", "loc-1");
  absl::StatusOr<std::optional<LocationInfo>> loc = directory_->GetLocation("op-1", "loc-1");
  ASSERT_TRUE(loc.ok()) << loc.status();
  ASSERT_TRUE(loc->has_value());
  EXPECT_EQ((*loc)->operator_id, "op-1");
  EXPECT_EQ((*loc)->location_id, "loc-1");
  EXPECT_EQ((*loc)->name, "Madrid Centro");
  EXPECT_EQ((*loc)->time_zone, "Europe/Madrid");
  EXPECT_EQ((*loc)->currency, "EUR");

  events::LocationUpdated u;
  u.set_location_id("loc-1");
  u.set_name("Madrid Sol");
  Commit("location", "op-1", "loc-1", u);
  loc = directory_->GetLocation("op-1", "loc-1");
  ASSERT_TRUE(loc.ok() && loc->has_value());
  EXPECT_EQ((*loc)->name, "Madrid Sol");
  EXPECT_EQ((*loc)->time_zone, "Europe/Madrid");  // not named by the update: kept
  EXPECT_EQ((*loc)->currency, "EUR");

  EXPECT_FALSE(directory_->GetLocation("op-1", "loc-2").value().has_value());
}

TEST_F(DirectoryTest, OperatorsAreIsolated) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::OperatorCreated o;
  o.set_operator_id("op-2");
  Commit("operator", "op-2", "op-2", o);

  ExpectEnded(Customer("op-2", "c-1", "s-1", 1), "unknown customer");
  EXPECT_FALSE(directory_->GetCustomer("op-2", "c-1").value().has_value());
  EXPECT_FALSE(directory_->GetLocation("op-2", "loc-1").value().has_value());
  // Ids cannot be combined to reach another operator's keys.
  EXPECT_FALSE(directory_->GetCustomer("op-1/c-1", "").value().has_value());
  EXPECT_FALSE(directory_->GetCustomer("op", "1/c-1").value().has_value());
  EXPECT_FALSE(directory_->GetLocation("op", "1/loc-1").value().has_value());
}

TEST_F(DirectoryTest, RedeliveredEventsChangeNothing) {
  CreateOperatorAndLocation("op-1", "loc-1");
  events::CustomerAdded a;
  a.set_customer_id("c-1");
  a.set_home_location_id("loc-1");
  Commit("customer", "op-1", "c-1", a);
  events::UserAccountCreated account;
  account.set_customer_id("c-1");
  account.set_session_generation(1);
  const common::v1::EventEnvelope account_envelope = Commit("customer", "op-1", "c-1", account);
  events::PasswordChanged pc;
  pc.set_customer_id("c-1");
  pc.set_session_generation(2);
  Commit("customer", "op-1", "c-1", pc);

  Reapply(account_envelope, account);  // would set generation 1 again if applied
  EXPECT_EQ(directory_->GetCustomer("op-1", "c-1").value()->session_generation, 2);
  ExpectEnded(Customer("op-1", "c-1", "s-1", 1), "password changed");
}

TEST_F(DirectoryTest, SeveralEventsInOneCommit) {
  CreateOperatorAndLocation("op-1", "loc-1");
  events::CustomerAdded a;
  a.set_customer_id("c-1");
  a.set_home_location_id("loc-1");
  events::UserAccountCreated u;
  u.set_customer_id("c-1");
  u.set_session_generation(1);
  const common::v1::EventEnvelope e1 = log_.Next("customer", "op-1", "c-1", a);
  const common::v1::EventEnvelope e2 = log_.Next("customer", "op-1", "c-1", u);
  eventstore::WriteSet writes;
  writes.Append("customer", "c-1", 0, {e1, e2}, "state", kTopic);
  ASSERT_TRUE(directory_->Apply(e1, a, writes).ok());
  ASSERT_TRUE(directory_->Apply(e2, u, writes).ok());
  ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  absl::StatusOr<std::optional<CustomerStanding>> c = directory_->GetCustomer("op-1", "c-1");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->home_location_id, "loc-1");  // the first event's write was not lost
  EXPECT_EQ((*c)->session_generation, 1);
}

TEST_F(DirectoryTest, OtherEventsAreIgnored) {
  events::CustomerBecameMember m;
  m.set_customer_id("c-1");
  const common::v1::EventEnvelope e = log_.Next("customer", "op-1", "c-1", m);
  eventstore::WriteSet writes;
  ASSERT_TRUE(directory_->Apply(e, m, writes).ok());
  EXPECT_TRUE(writes.empty());
}

TEST_F(DirectoryTest, TeamsKnowTheirPayingMemberAndWhoIsIn) {
  events::TeamCreated t;
  t.set_team_id("t-1");
  t.set_name("Acme");
  t.set_location_id("loc-1");
  Commit("team", "op-1", "t-1", t);
  for (const char* c : {"c-1", "c-2"}) {
    events::TeamMemberAdded added;
    added.set_team_id("t-1");
    added.set_customer_id(c);
    Commit("team", "op-1", "t-1", added);
  }
  events::TeamPayingMemberSet payer;
  payer.set_team_id("t-1");
  payer.set_customer_id("c-1");
  Commit("team", "op-1", "t-1", payer);
  events::TeamSharingChanged sharing;
  sharing.set_team_id("t-1");
  sharing.set_share_booking_credit(true);
  Commit("team", "op-1", "t-1", sharing);

  std::vector<TeamInfo> teams = directory_->TeamsOf("op-1", "c-2").value();
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_EQ(teams[0].team_id, "t-1");
  EXPECT_EQ(teams[0].name, "Acme");
  EXPECT_EQ(teams[0].location_id, "loc-1");
  EXPECT_EQ(teams[0].paying_member_id, "c-1");
  EXPECT_TRUE(teams[0].share_booking_credit);
  EXPECT_TRUE(directory_->TeamsOf("op-2", "c-2").value().empty());  // another operator's
  EXPECT_THAT(directory_->MembersOf("op-1", "t-1").value(), ElementsAre("c-1", "c-2"));

  events::TeamMemberRemoved removed;
  removed.set_team_id("t-1");
  removed.set_customer_id("c-2");
  Commit("team", "op-1", "t-1", removed);
  EXPECT_TRUE(directory_->TeamsOf("op-1", "c-2").value().empty());
  EXPECT_EQ(directory_->TeamsOf("op-1", "c-1").value().size(), 1u);
  EXPECT_THAT(directory_->MembersOf("op-1", "t-1").value(), ElementsAre("c-1"));
}

TEST_F(DirectoryTest, CustomerUpdatedMovesHomeLocation) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  events::CustomerUpdated u;
  u.set_customer_id("c-1");
  u.set_home_location_id("loc-2");
  Commit("customer", "op-1", "c-1", u);
  EXPECT_EQ(directory_->GetCustomer("op-1", "c-1").value()->home_location_id, "loc-2");
  events::CustomerUpdated personal_only;
  personal_only.set_customer_id("c-1");
  Commit("customer", "op-1", "c-1", personal_only);
  EXPECT_EQ(directory_->GetCustomer("op-1", "c-1").value()->home_location_id, "loc-2");
}

TEST_F(DirectoryTest, ResetDeletesTheProjection) {
  CreateOperatorAndLocation("op-1", "loc-1");
  AddCustomerWithAccount("op-1", "c-1", "loc-1", 1);
  ASSERT_TRUE(store_->Commit([] {
                      eventstore::WriteSet w;
                      w.Put(eventstore::Space::kViews, "other/keep", "x");
                      return w;
                    }())
                  .ok());
  ASSERT_TRUE(directory_->Reset().ok());
  EXPECT_FALSE(directory_->OperatorExists("op-1").value_or(true));
  EXPECT_FALSE(directory_->GetLocation("op-1", "loc-1").value().has_value());
  EXPECT_FALSE(directory_->GetCustomer("op-1", "c-1").value().has_value());
  // Only the directory's keys.
  EXPECT_TRUE(store_->Get(eventstore::Space::kViews, "other/keep").value().has_value());
}

// ---------------------------------------------------------------- from Kafka

bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

TEST(DirectorySubscribe, FollowsTheCustomersTopic) {
  absl::StatusOr<std::unique_ptr<kafka::DevBroker>> broker =
      kafka::DevBroker::Start({.topics = {kTopic}, .partitions = 3});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const kafka::KafkaOptions kafka_options{.brokers = (*broker)->bootstrap(),
                                          .client_id = "directory-test"};
  TempDir dir;
  absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
      eventstore::Store::Open({.path = dir.path() + "/db", .durable = false});
  ASSERT_TRUE(store.ok()) << store.status();
  Directory directory(**store);

  EventLog log;
  std::vector<std::pair<std::string, std::string>> messages;
  const auto add = [&](absl::string_view type, absl::string_view op, absl::string_view id,
                       const google::protobuf::Message& payload) {
    messages.emplace_back(std::string(id), log.Next(type, op, id, payload).SerializeAsString());
  };
  events::OperatorCreated o;
  o.set_operator_id("op-1");
  add("operator", "op-1", "op-1", o);
  events::LocationCreated l;
  l.set_location_id("loc-1");
  l.set_name("Centro");
  l.set_time_zone("Europe/Madrid");
  l.set_currency("EUR");
  add("location", "op-1", "loc-1", l);
  for (const char* id : {"c-1", "c-2"}) {
    events::CustomerAdded a;
    a.set_customer_id(id);
    a.set_home_location_id("loc-1");
    add("customer", "op-1", id, a);
    events::UserAccountCreated u;
    u.set_customer_id(id);
    u.set_session_generation(1);
    add("customer", "op-1", id, u);
  }
  events::CustomerSuspended s;
  s.set_customer_id("c-2");
  s.set_session_generation(2);
  add("customer", "op-1", "c-2", s);
  ASSERT_TRUE(kafka::ProduceAll(kafka_options, kTopic, messages).ok());

  kafka::EventConsumer consumer(**store, kafka_options,
                                {.name = "test.directory", .topics = {kTopic}});
  directory.Subscribe(consumer);
  ASSERT_TRUE(consumer.Start().ok());

  ASSERT_TRUE(PollUntil(
      [&] {
        absl::StatusOr<std::optional<CustomerStanding>> c2 = directory.GetCustomer("op-1", "c-2");
        return c2.ok() && c2->has_value() && (*c2)->suspended;
      },
      absl::Seconds(60)));
  ASSERT_TRUE(PollUntil([&] { return directory.CheckSession(Customer("op-1", "c-1", "s", 1)).ok(); },
                        absl::Seconds(60)));
  EXPECT_EQ(directory.CheckSession(Customer("op-1", "c-2", "s", 1)).code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<std::optional<LocationInfo>> loc = directory.GetLocation("op-1", "loc-1");
  ASSERT_TRUE(loc.ok() && loc->has_value());
  EXPECT_EQ((*loc)->time_zone, "Europe/Madrid");
  EXPECT_TRUE(directory.OperatorExists("op-1").value_or(false));
}

}  // namespace
}  // namespace cowork::directory
