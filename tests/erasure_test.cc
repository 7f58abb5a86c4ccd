// Erasure (the right to be forgotten): after a customer is erased, no consumer of
// cowork.customers.events — here a plain librdkafka consumer reading from offset zero — finds
// their name, email or phone in any message, the key that sealed them is in no file of the
// service's store, and the service shows the customer erased while everyone else's data stays
// intact.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::Customer;
using customers::v1::CustomersService;
using ::testing::IsEmpty;

// Distinctive enough that no random byte string contains them by chance.
constexpr char kFirst[] = "Wilhelmina";
constexpr char kLast[] = "Quarrington";
constexpr char kNewLast[] = "Quarrington-Smythe";
constexpr char kEmail[] = "wilhelmina.quarrington@erasure.example";
constexpr char kNewEmail[] = "w.quarrington-smythe@erasure.example";
constexpr char kPhone[] = "+44 7700 900123";

class Erasure : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(suite_->stubs(), "Forget Me Not");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
  }

  testing::CustomersStubs& stubs() { return suite_->stubs(); }
  const std::string& admin() { return tenant_.admin_token; }

  // Bytes of the erased customer that must be nowhere on the topic.
  std::vector<std::string> Personal() const {
    return {kFirst, kLast, kNewLast, kEmail, kNewEmail, "wilhelmina", "quarrington",
            "erasure.example", kPhone, "7700 900123"};
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

TEST_F(Erasure, ErasedCustomerIsUnreadableEverywhere) {
  // The one to be forgotten: added with a user account and a welcome message (so her email is
  // in sealed credentials and a sealed welcome message too), updated, suspended, in a team.
  auto request = Individual(tenant_.location_id, kFirst, kLast, kEmail);
  request.set_phone(kPhone);
  request.set_send_welcome_message(true);
  COWORK_ASSERT_OK_AND_ASSIGN(Customer wil, AddCustomer(stubs(), admin(), request));
  const std::string id = wil.customer_id();

  // Someone else, who must not be touched.
  auto other_request = Individual(tenant_.location_id, "Theodore", "Unaffected",
                                  "theodore@keep.example");
  other_request.set_phone("+44 7700 900456");
  COWORK_ASSERT_OK_AND_ASSIGN(Customer theo, AddCustomer(stubs(), admin(), other_request));

  customers::v1::UpdateCustomerRequest update;
  update.set_request_id(testing::NewRequestId());
  update.mutable_customer()->set_customer_id(id);
  update.mutable_customer()->set_last_name(kNewLast);
  update.mutable_customer()->set_email(kNewEmail);
  update.mutable_update_mask()->add_paths("last_name");
  update.mutable_update_mask()->add_paths("email");
  COWORK_ASSERT_OK(
      testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, update, admin()));

  customers::v1::CreateTeamRequest team;
  team.set_request_id(testing::NewRequestId());
  team.set_location_id(tenant_.location_id);
  team.set_name("Erasure Crew");
  team.add_member_ids(id);
  team.add_member_ids(theo.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto created_team,
      testing::Call(*stubs().teams, &customers::v1::TeamsService::Stub::CreateTeam, team, admin()));

  // Her seal key, as the service keeps it.
  COWORK_ASSERT_OK(suite_->customers().Terminate(absl::Seconds(20)).status());
  COWORK_ASSERT_OK_AND_ASSIGN(
      const std::string key, SealKeyIn(suite_->options().data_dir, tenant_.operator_id, id));
  ASSERT_THAT(testing::FilesContaining(suite_->options().data_dir, key), ::testing::Not(IsEmpty()));
  COWORK_ASSERT_OK(suite_->StartCustomersAgain());

  customers::v1::EraseCustomerRequest erase;
  erase.set_request_id(testing::NewRequestId());
  erase.set_customer_id(id);
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer erased,
      testing::Call(*stubs().customers, &CustomersService::Stub::EraseCustomer, erase, admin()));
  EXPECT_TRUE(erased.erased());

  // The topic, read from offset zero by a plain consumer once the erasure is published.
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events, WaitForEvents(
                       suite_->bootstrap(), testing::kCustomersTopic,
                       [&](const std::vector<Event>& events) {
                         return CountOf(events, id, "CustomerErased") == 1;
                       },
                       absl::Seconds(20), "CustomerErased"));
  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  // Her history stays: the events are there, under the pseudonymous id.
  EXPECT_EQ(CountOf(events, id, "CustomerAdded"), 1);
  EXPECT_EQ(CountOf(events, id, "CustomerUpdated"), 1);
  COWORK_ASSERT_OK_AND_ASSIGN(auto raw,
                              ReadTopicFromZero(suite_->bootstrap(), testing::kCustomersTopic));
  ASSERT_EQ(raw.size(), events.size());
  for (const std::string& personal : Personal()) {
    int at = FindBytes(raw, personal);
    EXPECT_EQ(at, -1) << "\"" << personal << "\" readable in the message at partition "
                      << (at >= 0 ? raw[at].partition : -1) << " offset "
                      << (at >= 0 ? raw[at].offset : -1);
  }

  // The search does find what travels in clear on purpose: ids and the team's name.
  EXPECT_GE(FindBytes(raw, id), 0);
  EXPECT_GE(FindBytes(raw, "Erasure Crew"), 0);

  // The service shows her erased, with no personal data left.
  COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs(), admin(), id));
  EXPECT_TRUE(got.erased());
  EXPECT_EQ(got.customer_id(), id);
  EXPECT_EQ(got.first_name(), "");
  EXPECT_EQ(got.last_name(), "");
  EXPECT_EQ(got.email(), "");
  EXPECT_EQ(got.phone(), "");
  EXPECT_EQ(got.company_name(), "");
  EXPECT_EQ(got.primary_contact_name(), "");
  EXPECT_EQ(got.primary_contact_email(), "");
  for (const std::string& personal : Personal()) {
    EXPECT_EQ(got.SerializeAsString().find(personal), std::string::npos) << personal;
  }
  // No search finds her by what she was.
  for (const char* name : {kFirst, kLast, "Quarrington"}) {
    customers::v1::ListCustomersRequest by_name;
    by_name.set_name(name);
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs(), admin(), by_name));
    EXPECT_THAT(found, IsEmpty()) << name;
  }
  for (const char* email : {kEmail, kNewEmail}) {
    customers::v1::ListCustomersRequest by_email;
    by_email.set_email(email);
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs(), admin(), by_email));
    EXPECT_THAT(found, IsEmpty()) << email;
  }
  // She cannot sign in any more.
  customers::v1::SignInRequest sign_in;
  sign_in.set_operator_id(tenant_.operator_id);
  sign_in.set_email(kNewEmail);
  sign_in.set_password("Any-Password-12-at-all");
  EXPECT_FALSE(testing::Call(*stubs().accounts, &customers::v1::AccountsService::Stub::SignIn,
                             sign_in, "")
                   .ok());
  // Erased means erased: nothing can write personal data back.
  update.set_request_id(testing::NewRequestId());
  update.mutable_customer()->set_last_name("Restored");
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("last_name");
  auto rewrite =
      testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, update, admin());
  EXPECT_FALSE(rewrite.ok()) << "an erased customer was updated";

  // Everyone else is intact and readable.
  COWORK_ASSERT_OK_AND_ASSIGN(Customer theo_now, GetCustomer(stubs(), admin(), theo.customer_id()));
  EXPECT_FALSE(theo_now.erased());
  EXPECT_EQ(theo_now.first_name(), "Theodore");
  EXPECT_EQ(theo_now.last_name(), "Unaffected");
  EXPECT_EQ(theo_now.email(), "theodore@keep.example");
  EXPECT_EQ(theo_now.phone(), "+44 7700 900456");
  customers::v1::ListCustomersRequest by_email;
  by_email.set_email("theodore@keep.example");
  COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs(), admin(), by_email));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer_id(), theo.customer_id());
  // The team keeps its members by id.
  customers::v1::GetTeamRequest get_team;
  get_team.set_team_id(created_team.team_id());
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto team_now,
      testing::Call(*stubs().teams, &customers::v1::TeamsService::Stub::GetTeam, get_team, admin()));
  EXPECT_THAT(team_now.member_ids(), ::testing::Contains(theo.customer_id()));

  // An erased email no longer blocks anyone: it is gone from the uniqueness index too.
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer newcomer,
      AddCustomer(stubs(), admin(), Individual(tenant_.location_id, "Newcomer", "Person", kEmail)));
  EXPECT_NE(newcomer.customer_id(), id);

  // The erasure survives a restart (the key is gone from disk, not just from memory).
  COWORK_ASSERT_OK(suite_->Restart());
  COWORK_ASSERT_OK_AND_ASSIGN(got, GetCustomer(stubs(), admin(), id));
  EXPECT_TRUE(got.erased());
  EXPECT_EQ(got.first_name(), "");
  EXPECT_EQ(got.email(), "");
  COWORK_ASSERT_OK_AND_ASSIGN(theo_now, GetCustomer(stubs(), admin(), theo.customer_id()));
  EXPECT_EQ(theo_now.email(), "theodore@keep.example");

  // Her key is in no file of the store: not in a table file, not in the write-ahead log, so a
  // copy of the data directory taken now cannot unseal her events either.
  COWORK_ASSERT_OK(suite_->customers().Terminate(absl::Seconds(20)).status());
  EXPECT_THAT(testing::FilesContaining(suite_->options().data_dir, key), IsEmpty());
}

}  // namespace
}  // namespace cowork::e2e
