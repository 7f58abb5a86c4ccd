// End to end: the dev broker and the customers service as real processes on random loopback
// ports; the test talks to them only through gRPC and a plain Kafka consumer.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"
#include "libs/kafka/kafka.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::Customer;
using customers::v1::CustomersService;
using customers::v1::ListCustomersRequest;
using customers::v1::Team;
using customers::v1::TeamsService;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::UnorderedElementsAre;

constexpr char kUuidV4[] = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

std::vector<std::string> IdsOf(const std::vector<Customer>& customers) {
  std::vector<std::string> ids;
  for (const Customer& c : customers) ids.push_back(c.customer_id());
  return ids;
}

absl::StatusOr<std::vector<Customer>> List(testing::CustomersStubs& stubs,
                                           const std::string& token,
                                           const ListCustomersRequest& request) {
  return ListAllCustomers(stubs, token, request);
}

ListCustomersRequest AtLocation(const std::string& location_id) {
  ListCustomersRequest r;
  r.set_location_id(location_id);
  return r;
}

std::vector<std::string> TypesOf(const std::vector<Event>& events) {
  std::vector<std::string> types;
  for (const Event& e : events) {
    types.push_back(e.type.substr(e.type.rfind('.') + 1));
  }
  return types;
}

// The envelope rules every customers event follows.
void CheckEnvelope(const Event& e, const Tenant& tenant, absl::Time earliest, absl::Time latest) {
  const common::v1::EventEnvelope& env = e.envelope;
  SCOPED_TRACE(absl::StrCat("event ", e.type, " of ", env.aggregate_type(), " ",
                            env.aggregate_id(), " seq ", env.sequence(), " at [",
                            e.raw.partition, "]@", e.raw.offset));
  EXPECT_EQ(e.raw.key, env.aggregate_id());
  EXPECT_THAT(env.event_id(), MatchesRegex(kUuidV4));
  EXPECT_GE(env.sequence(), 1);
  EXPECT_EQ(env.operator_id(), tenant.operator_id);
  EXPECT_EQ(env.service(), "customers");
  EXPECT_TRUE(env.has_occurred_at());
  absl::Time at = absl::FromUnixSeconds(env.occurred_at().seconds()) +
                  absl::Nanoseconds(env.occurred_at().nanos());
  EXPECT_GE(at, earliest);
  EXPECT_LE(at, latest);

  // The payload is a customers event that decodes, named by its full type URL.
  ASSERT_THAT(env.payload().type_url(),
              MatchesRegex("type\\.googleapis\\.com/cowork\\.customers\\.v1\\.[A-Za-z]+"));
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(e.type);
  ASSERT_NE(descriptor, nullptr) << "unknown payload type " << e.type;
  std::unique_ptr<google::protobuf::Message> payload(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
  ASSERT_TRUE(payload->ParseFromString(env.payload().value()));

  // The aggregate type matches the payload, and the ids inside the payload match the envelope.
  const std::string& type = env.aggregate_type();
  if (type == "operator") {
    EXPECT_EQ(e.type, "cowork.customers.v1.OperatorCreated");
    EXPECT_EQ(env.aggregate_id(), tenant.operator_id);
    EXPECT_EQ(env.location_id(), "");
  } else if (type == "location") {
    EXPECT_THAT(e.type, MatchesRegex("cowork\\.customers\\.v1\\.Location(Created|Updated)"));
    EXPECT_EQ(env.location_id(), env.aggregate_id());
  } else if (type == "customer") {
    EXPECT_EQ(env.location_id(), tenant.location_id);
    const google::protobuf::FieldDescriptor* id = descriptor->FindFieldByName("customer_id");
    ASSERT_NE(id, nullptr) << e.type << " has no customer_id";
    EXPECT_EQ(payload->GetReflection()->GetString(*payload, id), env.aggregate_id());
  } else if (type == "team") {
    EXPECT_EQ(env.location_id(), tenant.location_id);
    const google::protobuf::FieldDescriptor* id = descriptor->FindFieldByName("team_id");
    ASSERT_NE(id, nullptr) << e.type << " has no team_id";
    EXPECT_EQ(payload->GetReflection()->GetString(*payload, id), env.aggregate_id());
  } else {
    ADD_FAILURE() << "unexpected aggregate type \"" << type << "\"";
  }
}

class CustomersEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    started_ = RealClock::Get().Now();
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(suite_->stubs(), "Coworking Atlas");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
  }

  testing::CustomersStubs& stubs() { return suite_->stubs(); }
  const std::string& admin() { return tenant_.admin_token; }

  // Lucía, an individual, and Quokka Labs, a company, checked as AddCustomer answers them.
  void AddLuciaAndQuokka() {
    auto request =
        Individual(tenant_.location_id, "Lucía", "Fernández", "lucia.fernandez@e2e.example");
    request.set_phone("+34 600 111 222");
    COWORK_ASSERT_OK_AND_ASSIGN(lucia_, AddCustomer(stubs(), admin(), request));
    EXPECT_FALSE(lucia_.customer_id().empty());
    EXPECT_EQ(lucia_.operator_id(), tenant_.operator_id);
    EXPECT_EQ(lucia_.home_location_id(), tenant_.location_id);
    EXPECT_EQ(lucia_.type(), customers::v1::INDIVIDUAL);
    EXPECT_EQ(lucia_.kind(), customers::v1::CONTACT);
    EXPECT_EQ(lucia_.status(), customers::v1::ACTIVE);
    EXPECT_EQ(lucia_.first_name(), "Lucía");
    EXPECT_EQ(lucia_.last_name(), "Fernández");
    EXPECT_EQ(lucia_.email(), "lucia.fernandez@e2e.example");
    EXPECT_EQ(lucia_.phone(), "+34 600 111 222");
    EXPECT_EQ(lucia_.source(), customers::v1::ADMIN);
    EXPECT_FALSE(lucia_.has_user_account());
    EXPECT_FALSE(lucia_.erased());
    EXPECT_TRUE(lucia_.has_create_time());

    COWORK_ASSERT_OK_AND_ASSIGN(
        quokka_, AddCustomer(stubs(), admin(),
                             Company(tenant_.location_id, "Quokka Labs", "Mateo", "Ibáñez",
                                     "mateo@quokka.example")));
    EXPECT_EQ(quokka_.type(), customers::v1::COMPANY);
    EXPECT_EQ(quokka_.company_name(), "Quokka Labs");
    EXPECT_NE(quokka_.customer_id(), lucia_.customer_id());
  }

  // Update two fields under a mask; the others stay.
  void UpdateLuciasLastNameAndPhone() {
    customers::v1::UpdateCustomerRequest update;
    update.set_request_id(testing::NewRequestId());
    update.mutable_customer()->set_customer_id(lucia_.customer_id());
    update.mutable_customer()->set_last_name("Fernández Ruiz");
    update.mutable_customer()->set_phone("+34 600 999 888");
    update.mutable_customer()->set_first_name("ignored because not in the mask");
    update.mutable_update_mask()->add_paths("last_name");
    update.mutable_update_mask()->add_paths("phone");
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer updated, testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer,
                                        update, admin()));
    EXPECT_EQ(updated.last_name(), "Fernández Ruiz");
    EXPECT_EQ(updated.phone(), "+34 600 999 888");
    EXPECT_EQ(updated.first_name(), "Lucía");
    COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs(), admin(), lucia_.customer_id()));
    EXPECT_EQ(got.last_name(), "Fernández Ruiz");
    EXPECT_EQ(got.phone(), "+34 600 999 888");
    EXPECT_EQ(got.first_name(), "Lucía");
    EXPECT_EQ(got.email(), "lucia.fernandez@e2e.example");
  }

  // Suspend and reactivate.
  void SuspendAndReactivateLucia() {
    customers::v1::SuspendCustomerRequest suspend;
    suspend.set_request_id(testing::NewRequestId());
    suspend.set_customer_id(lucia_.customer_id());
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer suspended,
        testing::Call(*stubs().customers, &CustomersService::Stub::SuspendCustomer, suspend,
                      admin()));
    EXPECT_EQ(suspended.status(), customers::v1::SUSPENDED);
    ListCustomersRequest by_status;
    by_status.set_status(customers::v1::SUSPENDED);
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, List(stubs(), admin(), by_status));
    EXPECT_THAT(IdsOf(found), ElementsAre(lucia_.customer_id()));

    customers::v1::ReactivateCustomerRequest reactivate;
    reactivate.set_request_id(testing::NewRequestId());
    reactivate.set_customer_id(lucia_.customer_id());
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer active,
        testing::Call(*stubs().customers, &CustomersService::Stub::ReactivateCustomer, reactivate,
                      admin()));
    EXPECT_EQ(active.status(), customers::v1::ACTIVE);
    COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs(), admin(), lucia_.customer_id()));
    EXPECT_EQ(got.status(), customers::v1::ACTIVE);
  }

  // Change the company into an individual.
  void MakeQuokkaAnIndividual() {
    customers::v1::ChangeCustomerTypeRequest change;
    change.set_request_id(testing::NewRequestId());
    change.set_customer_id(quokka_.customer_id());
    change.set_type(customers::v1::INDIVIDUAL);
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer changed,
        testing::Call(*stubs().customers, &CustomersService::Stub::ChangeCustomerType, change,
                      admin()));
    EXPECT_EQ(changed.type(), customers::v1::INDIVIDUAL);
  }

  // Teams.
  void TeamUpAndChangeTheTeam() {
    {
      customers::v1::CreateTeamRequest create;
      create.set_request_id(testing::NewRequestId());
      create.set_location_id(tenant_.location_id);
      create.set_name("Quokka Crew");
      create.add_member_ids(lucia_.customer_id());
      create.add_member_ids(quokka_.customer_id());
      create.set_share_booking_credit(true);
      COWORK_ASSERT_OK_AND_ASSIGN(
          Team team,
          testing::Call(*stubs().teams, &TeamsService::Stub::CreateTeam, create, admin()));
      team_id_ = team.team_id();
      EXPECT_FALSE(team_id_.empty());
      EXPECT_EQ(team.name(), "Quokka Crew");
      EXPECT_THAT(team.member_ids(),
                  UnorderedElementsAre(lucia_.customer_id(), quokka_.customer_id()));
      EXPECT_TRUE(team.share_booking_credit());
      EXPECT_FALSE(team.share_printing_credit());
      customers::v1::SetPayingMemberRequest paying;
      paying.set_request_id(testing::NewRequestId());
      paying.set_team_id(team_id_);
      paying.set_customer_id(quokka_.customer_id());
      COWORK_ASSERT_OK_AND_ASSIGN(
          team,
          testing::Call(*stubs().teams, &TeamsService::Stub::SetPayingMember, paying, admin()));
      EXPECT_EQ(team.paying_member_id(), quokka_.customer_id());
      customers::v1::UpdateTeamSharingRequest sharing;
      sharing.set_request_id(testing::NewRequestId());
      sharing.set_team_id(team_id_);
      sharing.set_share_printing_credit(true);
      sharing.set_share_access(true);
      COWORK_ASSERT_OK_AND_ASSIGN(
          team,
          testing::Call(*stubs().teams, &TeamsService::Stub::UpdateTeamSharing, sharing, admin()));
      EXPECT_FALSE(team.share_booking_credit());
      EXPECT_TRUE(team.share_printing_credit());
      EXPECT_TRUE(team.share_access());
      customers::v1::RemoveTeamMemberRequest remove;
      remove.set_request_id(testing::NewRequestId());
      remove.set_team_id(team_id_);
      remove.set_customer_id(lucia_.customer_id());
      COWORK_ASSERT_OK_AND_ASSIGN(
          team,
          testing::Call(*stubs().teams, &TeamsService::Stub::RemoveTeamMember, remove, admin()));
      EXPECT_THAT(team.member_ids(), ElementsAre(quokka_.customer_id()));
      // The paying member must be in the team.
      paying.set_request_id(testing::NewRequestId());
      paying.set_customer_id(lucia_.customer_id());
      auto refused =
          testing::Call(*stubs().teams, &TeamsService::Stub::SetPayingMember, paying, admin());
      EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
      customers::v1::GetTeamRequest get;
      get.set_team_id(team_id_);
      COWORK_ASSERT_OK_AND_ASSIGN(
          team, testing::Call(*stubs().teams, &TeamsService::Stub::GetTeam, get, admin()));
      EXPECT_THAT(team.member_ids(), ElementsAre(quokka_.customer_id()));
      EXPECT_EQ(team.paying_member_id(), quokka_.customer_id());
      EXPECT_TRUE(team.share_access());
      customers::v1::ListTeamsRequest list;
      list.set_member_id(quokka_.customer_id());
      COWORK_ASSERT_OK_AND_ASSIGN(
          auto teams, testing::Call(*stubs().teams, &TeamsService::Stub::ListTeams, list, admin()));
      ASSERT_EQ(teams.teams_size(), 1);
      EXPECT_EQ(teams.teams(0).team_id(), team_id_);
      list.set_member_id(lucia_.customer_id());
      COWORK_ASSERT_OK_AND_ASSIGN(
          teams, testing::Call(*stubs().teams, &TeamsService::Stub::ListTeams, list, admin()));
      EXPECT_EQ(teams.teams_size(), 0);
    }
  }

  // Every command of the above, in order: what the events tests look at.
  void EveryCommand() {
    ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
    ASSERT_NO_FATAL_FAILURE(UpdateLuciasLastNameAndPhone());
    ASSERT_NO_FATAL_FAILURE(SuspendAndReactivateLucia());
    ASSERT_NO_FATAL_FAILURE(MakeQuokkaAnIndividual());
    ASSERT_NO_FATAL_FAILURE(TeamUpAndChangeTheTeam());
  }

  absl::Time started_;
  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
  Customer lucia_, quokka_;
  std::string team_id_;
};

TEST_F(CustomersEndToEnd, AddedCustomersReadBackAsAdded) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  // Get returns what Add returned.
  COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs(), admin(), lucia_.customer_id()));
  EXPECT_EQ(got.customer_id(), lucia_.customer_id());
  EXPECT_EQ(got.first_name(), "Lucía");
  EXPECT_EQ(got.email(), "lucia.fernandez@e2e.example");
  EXPECT_EQ(got.type(), customers::v1::INDIVIDUAL);
  COWORK_ASSERT_OK_AND_ASSIGN(got, GetCustomer(stubs(), admin(), quokka_.customer_id()));
  EXPECT_EQ(got.company_name(), "Quokka Labs");
}

TEST_F(CustomersEndToEnd, ListsFilterSearchAndPage) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  COWORK_ASSERT_OK_AND_ASSIGN(auto all, List(stubs(), admin(), AtLocation(tenant_.location_id)));
  EXPECT_THAT(IdsOf(all), UnorderedElementsAre(lucia_.customer_id(), quokka_.customer_id()));

  ListCustomersRequest by_name = AtLocation(tenant_.location_id);
  by_name.set_name("QUOKKA");  // case-insensitive substring of the company name
  COWORK_ASSERT_OK_AND_ASSIGN(auto found, List(stubs(), admin(), by_name));
  EXPECT_THAT(IdsOf(found), ElementsAre(quokka_.customer_id()));

  by_name.set_name("fernán");
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_name));
  EXPECT_THAT(IdsOf(found), ElementsAre(lucia_.customer_id()));

  ListCustomersRequest by_email;
  by_email.set_email("LUCIA.Fernandez@e2e.example");  // case-insensitive exact match
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_email));
  EXPECT_THAT(IdsOf(found), ElementsAre(lucia_.customer_id()));
  by_email.set_email("lucia.fernandez@e2e.exampl");
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_email));
  EXPECT_THAT(IdsOf(found), IsEmpty());

  ListCustomersRequest by_type;
  by_type.set_type(customers::v1::COMPANY);
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_type));
  EXPECT_THAT(IdsOf(found), ElementsAre(quokka_.customer_id()));

  ListCustomersRequest by_kind;
  by_kind.set_kind(customers::v1::MEMBER);
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_kind));
  EXPECT_THAT(IdsOf(found), IsEmpty());
  by_kind.set_kind(customers::v1::CONTACT);
  COWORK_ASSERT_OK_AND_ASSIGN(found, List(stubs(), admin(), by_kind));
  EXPECT_EQ(found.size(), 2u);

  // Paging: one customer per page, two pages, the same two customers.
  ListCustomersRequest paged = AtLocation(tenant_.location_id);
  paged.set_page_size(1);
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto page1,
      testing::Call(*stubs().customers, &CustomersService::Stub::ListCustomers, paged, admin()));
  ASSERT_EQ(page1.customers_size(), 1);
  ASSERT_FALSE(page1.next_page_token().empty());
  paged.set_page_token(page1.next_page_token());
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto page2,
      testing::Call(*stubs().customers, &CustomersService::Stub::ListCustomers, paged, admin()));
  ASSERT_EQ(page2.customers_size(), 1);
  EXPECT_THAT((std::vector<std::string>{page1.customers(0).customer_id(),
                                        page2.customers(0).customer_id()}),
              UnorderedElementsAre(lucia_.customer_id(), quokka_.customer_id()));
}

TEST_F(CustomersEndToEnd, AnUpdateUnderAMaskKeepsTheOtherFields) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  UpdateLuciasLastNameAndPhone();
}

TEST_F(CustomersEndToEnd, SuspendedThenActiveAgain) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  SuspendAndReactivateLucia();
}

TEST_F(CustomersEndToEnd, ACompanyBecomesAnIndividual) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  MakeQuokkaAnIndividual();
}

TEST_F(CustomersEndToEnd, TeamsMembersPayingMemberAndSharing) {
  ASSERT_NO_FATAL_FAILURE(AddLuciaAndQuokka());
  TeamUpAndChangeTheTeam();
}

TEST_F(CustomersEndToEnd, EveryCommandsEventsReachTheTopicOnceAndInOrder) {
  ASSERT_NO_FATAL_FAILURE(EveryCommand());
  // Every event reaches cowork.customers.events.
  const std::string lucia_id = lucia_.customer_id();
  const std::string quokka_id = quokka_.customer_id();
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            return CountOf(events, tenant_.operator_id, "OperatorCreated") == 1 &&
                   CountOf(events, tenant_.location_id, "LocationCreated") == 1 &&
                   CountOf(events, lucia_id, "CustomerReactivated") == 1 &&
                   CountOf(events, quokka_id, "CustomerTypeChanged") == 1 &&
                   CountOf(events, team_id_, "TeamMemberRemoved") == 1;
          },
          absl::Seconds(20), "the events of every command"));
  const absl::Time now = RealClock::Get().Now();

  // Each event: key, envelope, payload.
  std::set<std::string> event_ids;
  for (const Event& e : events) {
    CheckEnvelope(e, tenant_, started_ - absl::Minutes(1), now + absl::Minutes(1));
    EXPECT_TRUE(event_ids.insert(e.envelope.event_id()).second)
        << "event id used twice: " << e.envelope.event_id();
  }

  // Per aggregate: sequence 1..n without gaps or copies, in partition order.
  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0);
  EXPECT_THAT(
      TypesOf(applied.applied[lucia_id]),
      ElementsAre("CustomerAdded", "CustomerUpdated", "CustomerSuspended", "CustomerReactivated"));
  // Becoming an individual may also drop the company name (a CustomerUpdated).
  EXPECT_THAT(
      TypesOf(applied.applied[quokka_id]),
      ::testing::AnyOf(ElementsAre("CustomerAdded", "CustomerTypeChanged"),
                       ElementsAre("CustomerAdded", "CustomerTypeChanged", "CustomerUpdated")));
  const std::vector<Event>& team_events = applied.applied[team_id_];
  std::vector<std::string> team_types = TypesOf(team_events);
  ASSERT_FALSE(team_types.empty());
  EXPECT_EQ(team_types.front(), "TeamCreated");
  EXPECT_EQ(team_types.back(), "TeamMemberRemoved");
  EXPECT_EQ(std::count(team_types.begin(), team_types.end(), "TeamPayingMemberSet"), 1);
  // The last sharing change is the update's (the creation may publish its own switches too).
  {
    customers::v1::TeamSharingChanged last_sharing;
    bool found = false;
    for (const Event& e : team_events) {
      if (e.type == "cowork.customers.v1.TeamSharingChanged") {
        ASSERT_TRUE(e.envelope.payload().UnpackTo(&last_sharing));
        found = true;
      }
    }
    ASSERT_TRUE(found) << "no TeamSharingChanged";
    EXPECT_FALSE(last_sharing.share_booking_credit());
    EXPECT_TRUE(last_sharing.share_printing_credit());
    EXPECT_TRUE(last_sharing.share_access());
    customers::v1::TeamCreated created;
    ASSERT_TRUE(team_events.front().envelope.payload().UnpackTo(&created));
    EXPECT_EQ(created.name(), "Quokka Crew");
    EXPECT_EQ(created.location_id(), tenant_.location_id);
  }
}

TEST_F(CustomersEndToEnd, NoPersonalDataTravelsInClear) {
  ASSERT_NO_FATAL_FAILURE(EveryCommand());
  // Every event reaches cowork.customers.events.
  const std::string lucia_id = lucia_.customer_id();
  const std::string quokka_id = quokka_.customer_id();
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            return CountOf(events, tenant_.operator_id, "OperatorCreated") == 1 &&
                   CountOf(events, tenant_.location_id, "LocationCreated") == 1 &&
                   CountOf(events, lucia_id, "CustomerReactivated") == 1 &&
                   CountOf(events, quokka_id, "CustomerTypeChanged") == 1 &&
                   CountOf(events, team_id_, "TeamMemberRemoved") == 1;
          },
          absl::Seconds(20), "the events of every command"));
  ApplyOnceResult applied = ApplyOnce(events);

  // CustomerAdded carries ids and types in clear, personal data sealed.
  {
    customers::v1::CustomerAdded added;
    ASSERT_TRUE(applied.applied[quokka_id].front().envelope.payload().UnpackTo(&added));
    EXPECT_EQ(added.customer_id(), quokka_id);
    EXPECT_EQ(added.type(), customers::v1::COMPANY);
    EXPECT_EQ(added.home_location_id(), tenant_.location_id);
    EXPECT_EQ(added.source(), customers::v1::ADMIN);
    EXPECT_FALSE(added.sealed_personal().empty());
  }

  // No name, email or phone travels in clear, in any message.
  COWORK_ASSERT_OK_AND_ASSIGN(auto raw,
                              ReadTopicFromZero(suite_->bootstrap(), testing::kCustomersTopic));
  for (const char* personal :
       {"Lucía", "Fernández", "lucia.fernandez", "e2e.example", "600 111 222", "600 999 888",
        "Quokka Labs", "Mateo", "Ibáñez", "mateo@quokka", "quokka.example"}) {
    EXPECT_EQ(FindBytes(raw, personal), -1) << "\"" << personal << "\" found in clear";
  }
  // The search does find what travels in clear on purpose (a team's name is not personal).
  EXPECT_GE(FindBytes(raw, "Quokka Crew"), 0);
  EXPECT_GE(FindBytes(raw, lucia_id), 0);
}

// The "nothing was written" check the security and bad-input suites rely on does see a write.
TEST_F(CustomersEndToEnd, EventWatchSeesWhatIsWritten) {
  COWORK_ASSERT_OK_AND_ASSIGN(Customer c, AddCustomer(stubs(), admin(),
                                                      Individual(tenant_.location_id, "Watched",
                                                                 "Person", "watched@e2e.example")));
  COWORK_ASSERT_OK_AND_ASSIGN(EventWatch watch, EventWatch::Begin(*suite_, tenant_));
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(c.customer_id());
  COWORK_ASSERT_OK(testing::Call(*stubs().customers, &CustomersService::Stub::SuspendCustomer,
                                 suspend, admin()));
  COWORK_ASSERT_OK_AND_ASSIGN(auto written, watch.WrittenSince());
  EXPECT_THAT(written, ElementsAre(absl::StrCat("cowork.customers.v1.CustomerSuspended of ",
                                                c.customer_id())));
  // One round per side, each with a marker in every partition.
  COWORK_ASSERT_OK_AND_ASSIGN(int partitions,
                              PartitionCount(suite_->bootstrap(), testing::kCustomersTopic));
  EXPECT_GE(watch.markers(), 2 * partitions);
}

// Member or contact follows the contracts topic: the first contract that starts makes a
// member, the end of the last one a contact again.
TEST_F(CustomersEndToEnd, MemberAndContactFollowContractEvents) {
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer nadia,
      AddCustomer(stubs(), admin(),
                  Individual(tenant_.location_id, "Nadia", "Okafor", "nadia@contracts.example")));
  ASSERT_EQ(nadia.kind(), customers::v1::CONTACT);

  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer bruno,
      AddCustomer(stubs(), admin(),
                  Individual(tenant_.location_id, "Bruno", "Moreau", "bruno@contracts.example")));

  kafka::KafkaOptions kafka;
  kafka.brokers = suite_->bootstrap();
  kafka.client_id = "e2e-contracts";
  std::map<std::string, int64_t> sequences;
  // A contracts event as the contracts service will publish it: keyed by the contract id.
  auto envelope = [&](const std::string& contract_id, const google::protobuf::Message& payload) {
    common::v1::EventEnvelope env;
    env.set_event_id(crypto::NewUuid());
    env.set_aggregate_type("contract");
    env.set_aggregate_id(contract_id);
    env.set_sequence(++sequences[contract_id]);
    env.set_operator_id(tenant_.operator_id);
    env.set_location_id(tenant_.location_id);
    *env.mutable_occurred_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(RealClock::Get().Now()));
    env.set_service("contracts");
    env.mutable_payload()->PackFrom(payload);
    return env.SerializeAsString();
  };
  auto started_event = [&](const std::string& contract_id, const std::string& customer_id) {
    contracts::v1::ContractStarted e;
    e.set_contract_id(contract_id);
    e.set_customer_id(customer_id);
    e.set_plan_id("plan-hot-desk");
    e.set_location_id(tenant_.location_id);
    e.mutable_start_date()->set_year(2026);
    e.mutable_start_date()->set_month(5);
    e.mutable_start_date()->set_day(1);
    return envelope(contract_id, e);
  };
  auto ended_event = [&](const std::string& contract_id, const std::string& customer_id) {
    contracts::v1::ContractEnded e;
    e.set_contract_id(contract_id);
    e.set_customer_id(customer_id);
    e.set_plan_id("plan-hot-desk");
    e.set_location_id(tenant_.location_id);
    e.mutable_end_date()->set_year(2026);
    e.mutable_end_date()->set_month(8);
    e.mutable_end_date()->set_day(31);
    return envelope(contract_id, e);
  };
  auto send = [&](const std::string& contract_id, const std::string& value) {
    return kafka::ProduceAll(kafka, std::string(testing::kContractsTopic),
                             {{contract_id, value}});
  };
  const std::string first_started = started_event("k-first", nadia.customer_id());
  auto started = [&](const std::string& contract_id) {
    return send(contract_id, contract_id == "k-first"
                                 ? first_started
                                 : started_event(contract_id, nadia.customer_id()));
  };
  auto ended = [&](const std::string& contract_id) {
    return send(contract_id, ended_event(contract_id, nadia.customer_id()));
  };
  // Polls GetCustomer until `want` holds.
  auto wait_for = [&](const std::string& customer_id,
                      const std::function<bool(const Customer&)>& want, const char* what) {
    Customer last;
    absl::Status s = testing::PollUntil(
        [&] {
          auto c = GetCustomer(stubs(), admin(), customer_id);
          if (!c.ok()) return false;
          last = *c;
          return want(last);
        },
        absl::Seconds(20), what, absl::Milliseconds(50));
    EXPECT_TRUE(s.ok()) << s << "; last seen: " << last.ShortDebugString();
    return last;
  };
  auto contracts_of = [](const Customer& c) {
    return std::set<std::string>(c.active_contract_ids().begin(), c.active_contract_ids().end());
  };

  COWORK_ASSERT_OK(started("k-first"));
  Customer c = wait_for(nadia.customer_id(), [](const Customer& c) { return c.kind() == customers::v1::MEMBER; },
                        "member after the first contract started");
  EXPECT_EQ(contracts_of(c), (std::set<std::string>{"k-first"}));

  COWORK_ASSERT_OK(started("k-second"));
  c = wait_for(nadia.customer_id(), [&](const Customer& c) { return contracts_of(c).size() == 2; },
               "two active contracts");
  EXPECT_EQ(c.kind(), customers::v1::MEMBER);

  // One of two ends: still a member.
  COWORK_ASSERT_OK(ended("k-first"));
  c = wait_for(nadia.customer_id(), [&](const Customer& c) { return contracts_of(c).size() == 1; },
               "one active contract after the first ended");
  EXPECT_EQ(contracts_of(c), (std::set<std::string>{"k-second"}));
  EXPECT_EQ(c.kind(), customers::v1::MEMBER);

  // The last one ends: a contact again.
  COWORK_ASSERT_OK(ended("k-second"));
  c = wait_for(nadia.customer_id(), [](const Customer& c) { return c.kind() == customers::v1::CONTACT; },
               "contact after the last contract ended");
  EXPECT_TRUE(c.active_contract_ids().empty());

  // A redelivery of k-first's start (the same event: same id and sequence) changes nothing.
  // It goes to the partition holding k-first's events, followed in that partition by a new
  // contract for Bruno: once Bruno is a member, the consumer has read past the redelivery.
  COWORK_ASSERT_OK_AND_ASSIGN(auto contract_messages,
                              ReadTopicFromZero(suite_->bootstrap(), testing::kContractsTopic));
  int32_t first_partition = -1;
  for (const RawMessage& m : contract_messages) {
    if (m.key == "k-first") first_partition = m.partition;
  }
  ASSERT_GE(first_partition, 0) << "k-first's events are not on the contracts topic";
  COWORK_ASSERT_OK(ProduceToPartition(
      suite_->bootstrap(), testing::kContractsTopic, first_partition,
      {{"k-first", first_started}, {"k-bruno", started_event("k-bruno", bruno.customer_id())}}));
  wait_for(bruno.customer_id(), [](const Customer& c) { return c.kind() == customers::v1::MEMBER; },
           "Bruno a member (read after the redelivery)");
  COWORK_ASSERT_OK_AND_ASSIGN(c, GetCustomer(stubs(), admin(), nadia.customer_id()));
  EXPECT_EQ(c.kind(), customers::v1::CONTACT) << "a redelivered ContractStarted was applied again";
  EXPECT_TRUE(c.active_contract_ids().empty());

  ListCustomersRequest members;
  members.set_kind(customers::v1::MEMBER);
  COWORK_ASSERT_OK_AND_ASSIGN(auto found, List(stubs(), admin(), members));
  EXPECT_THAT(IdsOf(found), ElementsAre(bruno.customer_id()));

  // The change is published as customers events too.
  const std::string id = nadia.customer_id();
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events, WaitForEvents(
                       suite_->bootstrap(), testing::kCustomersTopic,
                       [&](const std::vector<Event>& events) {
                         return CountOf(events, id, "CustomerBecameContact") >= 1;
                       },
                       absl::Seconds(20), "CustomerBecameContact"));
  EXPECT_EQ(CountOf(events, id, "CustomerBecameMember"), 1);
  EXPECT_EQ(CountOf(events, id, "CustomerBecameContact"), 1);
  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  std::vector<std::string> types = TypesOf(applied.applied[id]);
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "CustomerAdded");
  EXPECT_EQ(types.back(), "CustomerBecameContact");
  auto member_at = std::find(types.begin(), types.end(), "CustomerBecameMember");
  auto contact_at = std::find(types.begin(), types.end(), "CustomerBecameContact");
  EXPECT_LT(member_at, contact_at);
}

// A restart on the same data dir keeps every customer, team and event sequence.
TEST_F(CustomersEndToEnd, DataSurvivesARestart) {
  std::vector<std::string> ids;
  for (const char* name : {"Ingrid", "Oskar", "Zoë"}) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer c, AddCustomer(stubs(), admin(),
                                Individual(tenant_.location_id, name, "Lindqvist",
                                           absl::StrCat(name == std::string("Zoë") ? "zoe" : name,
                                                        "@restart.example"))));
    ids.push_back(c.customer_id());
  }
  customers::v1::CreateTeamRequest create;
  create.set_request_id(testing::NewRequestId());
  create.set_location_id(tenant_.location_id);
  create.set_name("Nordic Desk");
  create.add_member_ids(ids[0]);
  create.add_member_ids(ids[1]);
  COWORK_ASSERT_OK_AND_ASSIGN(
      Team team, testing::Call(*stubs().teams, &TeamsService::Stub::CreateTeam, create, admin()));

  COWORK_ASSERT_OK_AND_ASSIGN(
      auto before,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            for (const std::string& id : ids) {
              if (CountOf(events, id, "CustomerAdded") != 1) return false;
            }
            return CountOf(events, team.team_id(), "TeamCreated") == 1;
          },
          absl::Seconds(20), "the events before the restart"));

  COWORK_ASSERT_OK(suite_->Restart());

  // Everything is still there.
  for (size_t i = 0; i < ids.size(); ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(Customer c, GetCustomer(stubs(), admin(), ids[i]));
    EXPECT_EQ(c.last_name(), "Lindqvist");
  }
  COWORK_ASSERT_OK_AND_ASSIGN(Customer zoe, GetCustomer(stubs(), admin(), ids[2]));
  EXPECT_EQ(zoe.first_name(), "Zoë");
  COWORK_ASSERT_OK_AND_ASSIGN(auto all, List(stubs(), admin(), AtLocation(tenant_.location_id)));
  EXPECT_THAT(IdsOf(all), UnorderedElementsAre(ids[0], ids[1], ids[2]));
  customers::v1::GetTeamRequest get_team;
  get_team.set_team_id(team.team_id());
  COWORK_ASSERT_OK_AND_ASSIGN(
      Team team_after,
      testing::Call(*stubs().teams, &TeamsService::Stub::GetTeam, get_team, admin()));
  EXPECT_THAT(team_after.member_ids(), UnorderedElementsAre(ids[0], ids[1]));
  // The directory survived too: the location still takes customers, the token still works.
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer later, AddCustomer(stubs(), admin(),
                                  Individual(tenant_.location_id, "Astrid", "Berg",
                                             "astrid@restart.example")));
  // An email stays unique across the restart.
  auto again = AddCustomer(stubs(), admin(),
                           Individual(tenant_.location_id, "Oskar", "Other", "oskar@restart.example"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();

  // A command after the restart continues the aggregate's sequence.
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(ids[0]);
  COWORK_ASSERT_OK(
      testing::Call(*stubs().customers, &CustomersService::Stub::SuspendCustomer, suspend, admin()));

  COWORK_ASSERT_OK_AND_ASSIGN(
      auto after,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            return CountOf(events, ids[0], "CustomerSuspended") == 1 &&
                   CountOf(events, later.customer_id(), "CustomerAdded") == 1;
          },
          absl::Seconds(20), "the events after the restart"));
  ApplyOnceResult applied = ApplyOnce(after);
  EXPECT_THAT(applied.problems, IsEmpty());
  // A clean stop publishes nothing twice.
  EXPECT_EQ(applied.duplicates, 0);
  EXPECT_THAT(TypesOf(applied.applied[ids[0]]), ElementsAre("CustomerAdded", "CustomerSuspended"));
  EXPECT_GE(after.size(), before.size() + 2);
}

}  // namespace
}  // namespace cowork::e2e
