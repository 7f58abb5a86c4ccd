#include "services/customers/projection/projection.h"

#include <map>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/crypto/crypto.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/testing/process.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/team.h"
#include "services/customers/domain/testing.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"

namespace cowork::customers::projection {
namespace {

using eventstore::Space;
using eventstore::WriteSet;

// A real Store in a temp dir, written through the same path the api uses.
class History {
 public:
  History() {
    absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
        eventstore::Store::Open({.path = dir_.Sub("store"), .durable = false});
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    directory_ = std::make_unique<directory::Directory>(*store_);
    projection_ = std::make_unique<Projection>(*store_, *directory_);
  }

  eventstore::Store& store() { return *store_; }
  Projection& projection() { return *projection_; }

  eventstore::EnvelopeContext Context() {
    now_ += absl::Seconds(1);
    return {.service = "customers",
            .operator_id = "op-1",
            .correlation_id = crypto::NewUuid(),
            .causation_id = "",
            .now = now_};
  }

  void Operator() {
    auto before = projection_->LoadOperator("op-1");
    ASSERT_TRUE(before.ok());
    eventstore::EnvelopeContext ctx = Context();
    auto events = domain::Decide(before->state, domain::CreateOperator{"op-1", "Acme"}, ctx.now);
    ASSERT_TRUE(events.ok()) << events.status();
    WriteSet w;
    ASSERT_TRUE(projection_->StageOperator(ctx, *before, *events, w).ok());
    ASSERT_TRUE(store_->Commit(std::move(w)).ok());
  }

  void Location(const std::string& id) {
    auto before = projection_->LoadLocation(id);
    ASSERT_TRUE(before.ok());
    eventstore::EnvelopeContext ctx = Context();
    auto events = domain::Decide(before->state,
                                 domain::CreateLocation{.operator_id = "op-1",
                                                        .operator_exists = true,
                                                        .location_id = id,
                                                        .name = "Centro " + id,
                                                        .time_zone = "Europe/Madrid",
                                                        .currency = "EUR"},
                                 ctx.now);
    ASSERT_TRUE(events.ok()) << events.status();
    WriteSet w;
    ASSERT_TRUE(projection_->StageLocation(ctx, *before, *events, w).ok());
    ASSERT_TRUE(store_->Commit(std::move(w)).ok());
  }

  template <typename Command>
  void Customer(const std::string& id, const Command& command) {
    auto before = projection_->LoadCustomer(id);
    ASSERT_TRUE(before.ok());
    eventstore::EnvelopeContext ctx = Context();
    auto events = domain::Decide(before->state, command, ctx.now);
    ASSERT_TRUE(events.ok()) << events.status();
    WriteSet w;
    auto after = projection_->StageCustomer(ctx, *before, *events, w);
    ASSERT_TRUE(after.ok()) << after.status();
    absl::Status committed = store_->Commit(std::move(w));
    ASSERT_TRUE(committed.ok()) << committed;
  }

  template <typename Command>
  void Team(const std::string& id, const Command& command) {
    auto before = projection_->LoadTeam(id);
    ASSERT_TRUE(before.ok());
    eventstore::EnvelopeContext ctx = Context();
    auto events = domain::Decide(before->state, command, ctx.now);
    ASSERT_TRUE(events.ok()) << events.status();
    WriteSet w;
    auto after = projection_->StageTeam(ctx, *before, *events, w);
    ASSERT_TRUE(after.ok()) << after.status();
    absl::Status committed = store_->Commit(std::move(w));
    ASSERT_TRUE(committed.ok()) << committed;
  }

  // Every view key and value of this service and of the directory.
  std::map<std::string, std::string> Views() {
    std::map<std::string, std::string> out;
    for (absl::string_view prefix : kViewPrefixes) Scan(prefix, out);
    Scan("dir/", out);
    return out;
  }

 private:
  void Scan(absl::string_view prefix, std::map<std::string, std::string>& out) {
    absl::Status s = store_->Scan(Space::kViews, prefix, "",
                                  [&](absl::string_view k, absl::string_view v) {
                                    out.emplace(std::string(k), std::string(v));
                                    return true;
                                  });
    EXPECT_TRUE(s.ok()) << s;
  }

  testing::TempDir dir_{"customers-projection"};
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<Projection> projection_;
  absl::Time now_ = absl::FromUnixSeconds(1'780'000'000);
};

using domain::testing::Person;

v1::Customer ViewOf(History& h, const std::string& id) {
  auto value = h.store().Get(Space::kViews, CustomerKey("op-1", id));
  EXPECT_TRUE(value.ok() && value->has_value());
  v1::Customer c;
  if (value.ok() && value->has_value()) {
    EXPECT_TRUE(c.ParseFromString(**value));
  }
  return c;
}

// The scripted history of the replay test: every kind of event the service records.
void Script(History& h) {
  h.Operator();
  h.Location("loc-1");
  h.Location("loc-2");
  domain::AddCustomer ana = Person("c-ana", "Ana", "ana@example.com");
  ana.welcome_setup_code = "SETUP234";
  h.Customer("c-ana", ana);
  domain::AddCustomer bob = Person("c-bob", "Bob", "bob@example.com");
  bob.type = v1::COMPANY;
  bob.company_name = "Bob & Co";
  h.Customer("c-bob", bob);
  h.Customer("c-eve", Person("c-eve", "Eve", "eve.secret@example.com"));

  domain::UpdateCustomer move;
  move.paths = {"email", "home_location_id"};
  move.email = "ana.new@example.com";
  move.home_location_id = "loc-2";
  move.home_location_exists = true;
  h.Customer("c-ana", move);
  h.Customer("c-ana", domain::ChangePassword{"hash-1", "s-1"});
  h.Customer("c-ana", domain::SignOut{"s-1"});
  h.Customer("c-bob", domain::SuspendCustomer{});
  h.Customer("c-bob", domain::ReactivateCustomer{});
  h.Customer("c-eve", domain::SuspendCustomer{});
  h.Customer("c-bob", domain::ChangeCustomerType{v1::INDIVIDUAL, ""});

  h.Customer("c-ana", domain::StartContract{"k-1"});
  h.Customer("c-ana", domain::StartContract{"k-2"});
  h.Customer("c-ana", domain::StartContract{"k-1"});  // a repeat: no events
  h.Customer("c-ana", domain::EndContract{"k-1"});
  h.Customer("c-bob", domain::StartContract{"k-3"});
  h.Customer("c-bob", domain::EndContract{"k-3"});
  h.Customer("c-eve", domain::StartContract{"k-4"});

  domain::CreateTeam team;
  team.team_id = "t-1";
  team.operator_id = "op-1";
  team.location_id = "loc-1";
  team.location_exists = true;
  team.name = "Acme";
  team.member_ids = {"c-ana", "c-bob"};
  team.members = {{"c-ana", domain::CustomerCheck::kOk}, {"c-bob", domain::CustomerCheck::kOk}};
  h.Team("t-1", team);
  h.Team("t-1", domain::SetPayingMember{"c-bob"});
  h.Team("t-1", domain::RemoveTeamMember{"c-bob"});
  h.Team("t-1", domain::AddTeamMember{"c-eve", domain::CustomerCheck::kOk});
  h.Team("t-1", domain::UpdateTeamSharing{true, false, true});
  team.team_id = "t-2";
  team.name = "Acme Labs";
  team.member_ids = {"c-ana"};
  h.Team("t-2", team);

  h.Customer("c-eve", domain::EraseCustomer{});
}

TEST(CustomersProjection, RebuiltViewsEqualTheLiveOnes) {
  History h;
  ASSERT_NO_FATAL_FAILURE(Script(h));
  const std::map<std::string, std::string> live = h.Views();
  ASSERT_FALSE(live.empty());

  ASSERT_TRUE(h.projection().Rebuild().ok());
  const std::map<std::string, std::string> rebuilt = h.Views();
  EXPECT_EQ(rebuilt.size(), live.size());
  for (const auto& [key, value] : live) {
    auto it = rebuilt.find(key);
    if (it == rebuilt.end()) {
      ADD_FAILURE() << "missing after rebuild: " << key;
    } else {
      EXPECT_EQ(it->second, value) << "differs after rebuild: " << key;
    }
  }
  for (const auto& [key, value] : rebuilt) {
    EXPECT_TRUE(live.contains(key)) << "only after rebuild: " << key;
  }
}

TEST(CustomersProjection, LiveViewsFollowTheRules) {
  History h;
  ASSERT_NO_FATAL_FAILURE(Script(h));

  v1::Customer ana = ViewOf(h, "c-ana");
  EXPECT_EQ(ana.email(), "ana.new@example.com");
  EXPECT_EQ(ana.home_location_id(), "loc-2");
  EXPECT_EQ(ana.kind(), v1::MEMBER);
  EXPECT_THAT(ana.active_contract_ids(), ::testing::ElementsAre("k-2"));
  EXPECT_TRUE(ana.has_user_account());

  v1::Customer bob = ViewOf(h, "c-bob");
  EXPECT_EQ(bob.kind(), v1::CONTACT);
  EXPECT_EQ(bob.status(), v1::ACTIVE);
  EXPECT_EQ(bob.type(), v1::INDIVIDUAL);
  EXPECT_EQ(bob.company_name(), "");

  v1::Customer eve = ViewOf(h, "c-eve");
  EXPECT_TRUE(eve.erased());
  EXPECT_EQ(eve.first_name(), "");
  EXPECT_EQ(eve.email(), "");
  EXPECT_EQ(eve.status(), v1::SUSPENDED);
  EXPECT_THAT(eve.active_contract_ids(), ::testing::ElementsAre("k-4"));

  // The email index is the claim: moved with Ana's change, released by Eve's erasure.
  auto owner = [&](absl::string_view email) {
    auto o = h.store().ClaimOwner(EmailClaim("op-1", email));
    EXPECT_TRUE(o.ok());
    return o.ok() ? o->value_or("") : std::string("?");
  };
  EXPECT_EQ(owner("ana.new@example.com"), "c-ana");
  EXPECT_EQ(owner("ana@example.com"), "");
  EXPECT_EQ(owner("bob@example.com"), "c-bob");
  EXPECT_EQ(owner("eve.secret@example.com"), "");

  // Indexes: home location, teams of a customer (several teams), team by location.
  auto exists = [&](const std::string& key) {
    auto v = h.store().Get(Space::kViews, key);
    return v.ok() && v->has_value();
  };
  EXPECT_TRUE(exists(CustomerAtKey("op-1", "loc-2", "c-ana")));
  EXPECT_FALSE(exists(CustomerAtKey("op-1", "loc-1", "c-ana")));
  EXPECT_TRUE(exists(TeamOfKey("op-1", "c-ana", "t-1")));
  EXPECT_TRUE(exists(TeamOfKey("op-1", "c-ana", "t-2")));
  EXPECT_FALSE(exists(TeamOfKey("op-1", "c-bob", "t-1")));
  EXPECT_TRUE(exists(TeamOfKey("op-1", "c-eve", "t-1"))) << "erasure keeps teams";
  EXPECT_TRUE(exists(TeamAtKey("op-1", "loc-1", "t-2")));

  auto team = h.store().Get(Space::kViews, TeamKey("op-1", "t-1"));
  ASSERT_TRUE(team.ok() && team->has_value());
  v1::Team t1;
  ASSERT_TRUE(t1.ParseFromString(**team));
  EXPECT_THAT(t1.member_ids(), ::testing::ElementsAre("c-ana", "c-eve"));
  EXPECT_EQ(t1.paying_member_id(), "") << "removing the paying member cleared it";
  EXPECT_TRUE(t1.share_booking_credit());
  EXPECT_FALSE(t1.share_printing_credit());
  EXPECT_TRUE(t1.share_access());
}

TEST(CustomersProjection, ErasureMakesTheLoggedPersonalDataUnreadable) {
  History h;
  ASSERT_NO_FATAL_FAILURE(Script(h));
  auto key = h.projection().SealKey("op-1", "c-eve");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  auto ana_key = h.projection().SealKey("op-1", "c-ana");
  ASSERT_TRUE(ana_key.ok());
  EXPECT_TRUE(ana_key->has_value());

  int eve_events = 0;
  bool ana_readable = false;
  absl::Status s = h.store().ForEachEvent([&](const common::v1::EventEnvelope& e) {
    // Nothing personal ever travels in clear, for anyone.
    const std::string bytes = e.SerializeAsString();
    EXPECT_EQ(bytes.find("eve.secret@example.com"), std::string::npos);
    EXPECT_EQ(bytes.find("ana.new@example.com"), std::string::npos);
    EXPECT_EQ(bytes.find("SETUP234"), std::string::npos);
    auto event = h.projection().FromEnvelope(e);
    EXPECT_TRUE(event.ok());
    if (!event.ok() || !event->has_value()) return true;
    if (e.aggregate_id() == "c-eve") {
      ++eve_events;
      EXPECT_FALSE((*event)->has_personal()) << "Eve's sealed data opened after erasure";
    }
    if (e.aggregate_id() == "c-ana" && (*event)->has_customer_updated()) {
      ana_readable = (*event)->personal().email() == "ana.new@example.com";
    }
    return true;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GT(eve_events, 0);
  EXPECT_TRUE(ana_readable) << "a customer who was not erased stays readable";
}

}  // namespace
}  // namespace cowork::customers::projection
