// The contracts application layer over a real Store (RocksDB in a temp dir), a simulated
// clock, and a directory fed with customers events as the customers consumer would feed it.

#include "services/contracts/api/app.h"

#include <map>
#include <string>

#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/status/field_errors.h"
#include "libs/testing/process.h"

namespace cowork::contracts::api {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kOp[] = "op-1";

auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  auth::Principal p;
  p.role = auth::Role::kAdmin;
  p.subject = "admin-1";
  p.operator_id = std::move(op);
  p.locations = std::move(locations);
  for (const std::string& perm : auth::AllPermissions()) p.permissions.insert(perm);
  return p;
}

auth::Principal Customer(std::string id) {
  auth::Principal p;
  p.role = auth::Role::kCustomer;
  p.subject = std::move(id);
  p.operator_id = kOp;
  return p;
}

class ContractsAppTest : public ::testing::Test {
 protected:
  ContractsAppTest()
      : store_(*eventstore::Store::Open({.path = dir_.Sub("store"), .durable = false})),
        directory_(*store_),
        // 2026-05-20 10:00 in Madrid.
        clock_(absl::FromCivil(absl::CivilSecond(2026, 5, 20, 8, 0, 0), absl::UTCTimeZone())),
        verifier_(auth::VerifierOptions{.admin_secret = std::string(auth::kDevAdminSecret),
                                        .session_secret = std::string(auth::kDevSessionSecret)}),
        app_(*store_, directory_, clock_, verifier_) {
    Feed("location", "loc-mad", 1, Location("loc-mad", "Europe/Madrid"));
    Feed("location", "loc-nyc", 1, Location("loc-nyc", "America/New_York"));
    for (const char* id : {"c-1", "c-2", "c-3"}) {
      events::CustomerAdded added;
      added.set_customer_id(id);
      added.set_home_location_id("loc-mad");
      Feed("customer", id, 1, added);
    }
  }

  static events::LocationCreated Location(const std::string& id, const std::string& tz) {
    events::LocationCreated e;
    e.set_location_id(id);
    e.set_name(id);
    e.set_time_zone(tz);
    e.set_currency(tz == "America/New_York" ? "USD" : "EUR");
    return e;
  }

  // A customers event as the customers consumer applies it.
  void Feed(const std::string& type, const std::string& id, int64_t sequence,
            const google::protobuf::Message& payload) {
    const common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        {.service = "customers", .operator_id = kOp, .now = clock_.Now()}, type, id, sequence,
        "", payload);
    eventstore::WriteSet writes;
    ASSERT_TRUE(directory_.Apply(envelope, payload, writes).ok());
    ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  }

  v1::Plan MakePlan(const std::string& location = "loc-mad", int64_t price = 15000) {
    v1::CreatePlanRequest r;
    r.set_location_id(location);
    r.set_name("Hot desk");
    r.set_price_minor(price);
    r.set_booking_credit_minutes(240);
    absl::StatusOr<v1::Plan> plan = app_.CreatePlan(Admin(), r);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.value_or(v1::Plan());
  }

  absl::StatusOr<v1::Contract> Sign(const std::string& customer, const std::string& plan,
                                    std::optional<absl::CivilDay> start = std::nullopt,
                                    std::optional<absl::CivilDay> end = std::nullopt,
                                    const std::string& request_id = "") {
    v1::CreateContractRequest r;
    r.set_request_id(request_id);
    r.set_customer_id(customer);
    r.set_plan_id(plan);
    if (start) *r.mutable_start_date() = ToDate(*start);
    if (end) *r.mutable_end_date() = ToDate(*end);
    return app_.CreateContract(Admin(), r);
  }

  v1::ContractState StateOf(const std::string& contract_id) {
    v1::GetContractRequest r;
    r.set_contract_id(contract_id);
    absl::StatusOr<v1::Contract> c = app_.GetContract(Admin(), r);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->state() : v1::CONTRACT_STATE_UNSPECIFIED;
  }

  // Moves the clock to a Madrid local time.
  void MoveTo(absl::CivilSecond local) {
    absl::TimeZone madrid;
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Madrid", &madrid));
    ASSERT_TRUE(clock_.AdvanceTo(absl::FromCivil(local, madrid)));
  }

  std::vector<std::string> EventTypes() {
    std::vector<std::string> out;
    EXPECT_TRUE(store_
                    ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                      out.push_back(std::string(
                          absl::string_view(e.payload().type_url()).substr(
                              e.payload().type_url().rfind('.') + 1)));
                      return true;
                    })
                    .ok());
    return out;
  }

  std::map<std::string, std::string> AllViews() {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(store_
                    ->Scan(eventstore::Space::kViews, "", "",
                           [&](absl::string_view k, absl::string_view v) {
                             out.emplace(k, v);
                             return true;
                           })
                    .ok());
    return out;
  }

  cowork::testing::TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
  directory::Directory directory_;
  SimulatedClock clock_;
  auth::TokenVerifier verifier_;
  App app_;
};

TEST_F(ContractsAppTest, PlansAreCreatedListedAndRepriced) {
  const v1::Plan desk = MakePlan();
  EXPECT_EQ(desk.price().currency(), "EUR");
  EXPECT_EQ(desk.cycle(), v1::MONTHLY);
  MakePlan("loc-mad", 0);  // a free plan
  MakePlan("loc-nyc");

  v1::ListPlansRequest list;
  list.set_location_id("loc-mad");
  list.set_page_size(1);
  absl::StatusOr<v1::ListPlansResponse> page1 = app_.ListPlans(Admin(), list);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->plans_size(), 1);
  list.set_page_token(page1->next_page_token());
  absl::StatusOr<v1::ListPlansResponse> page2 = app_.ListPlans(Admin(), list);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->plans_size(), 1);
  EXPECT_TRUE(page2->next_page_token().empty());
  // Customers of the operator see the plans (the portal shows them).
  EXPECT_TRUE(app_.ListPlans(Customer("c-1"), list).ok());

  // A price change applies to contracts signed afterwards only.
  absl::StatusOr<v1::Contract> before = Sign("c-1", desk.plan_id());
  ASSERT_TRUE(before.ok()) << before.status();
  v1::UpdatePlanPriceRequest reprice;
  reprice.set_plan_id(desk.plan_id());
  reprice.set_price_minor(17500);
  ASSERT_EQ(app_.UpdatePlanPrice(Admin(), reprice)->price().amount_minor(), 17500);
  absl::StatusOr<v1::Contract> after = Sign("c-2", desk.plan_id());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->price().amount_minor(), 17500);
  v1::GetContractRequest get;
  get.set_contract_id(before->contract_id());
  EXPECT_EQ(app_.GetContract(Admin(), get)->price().amount_minor(), 15000);
}

TEST_F(ContractsAppTest, BadPlanRequestsNameEveryFieldAndChangeNothing) {
  v1::CreatePlanRequest r;
  r.set_location_id("loc-mad");
  r.set_name("");
  r.set_price_minor(-5);
  r.set_booking_credit_minutes(-1);
  absl::StatusOr<v1::Plan> bad = app_.CreatePlan(Admin(), r);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(bad.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAre("name", "price_minor", "booking_credit_minutes"));
  r.set_location_id("loc-unknown");
  r.set_name("x");
  r.set_price_minor(1);
  r.set_booking_credit_minutes(0);
  EXPECT_EQ(app_.CreatePlan(Admin(), r).status().code(), absl::StatusCode::kNotFound);
  r.set_location_id("bad/id");
  EXPECT_EQ(app_.CreatePlan(Admin(), r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EventTypes().empty());
}

TEST_F(ContractsAppTest, WhoMayDoWhat) {
  const v1::Plan desk = MakePlan();
  v1::CreatePlanRequest r;
  r.set_location_id("loc-mad");
  r.set_name("Office");
  EXPECT_EQ(app_.CreatePlan(Customer("c-1"), r).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(app_.CreatePlan(Admin({"loc-nyc"}), r).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::GetPlanRequest get;
  get.set_plan_id(desk.plan_id());
  EXPECT_EQ(app_.GetPlan(Admin({"*"}, "op-2"), get).status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<v1::Contract> c = Sign("c-1", desk.plan_id());
  ASSERT_TRUE(c.ok());
  v1::GetContractRequest gc;
  gc.set_contract_id(c->contract_id());
  EXPECT_TRUE(app_.GetContract(Customer("c-1"), gc).ok());
  EXPECT_EQ(app_.GetContract(Customer("c-2"), gc).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(app_.GetContract(Admin({"loc-nyc"}), gc).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ListContractsRequest mine;
  mine.set_customer_id("c-1");
  ASSERT_EQ(app_.ListContracts(Customer("c-1"), mine)->contracts_size(), 1);
  EXPECT_EQ(app_.ListContracts(Customer("c-2"), mine).status().code(),
            absl::StatusCode::kPermissionDenied);
  // An admin of another location sees none of c-1's contracts at Madrid.
  EXPECT_EQ(app_.ListContracts(Admin({"loc-nyc"}), mine)->contracts_size(), 0);
}

TEST_F(ContractsAppTest, ContractsStartAndEndAtMidnightInTheLocationsTimeZone) {
  const v1::Plan desk = MakePlan();
  absl::StatusOr<v1::Contract> c =
      Sign("c-1", desk.plan_id(), absl::CivilDay(2026, 6, 1), absl::CivilDay(2026, 6, 30));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state(), v1::PENDING);

  MoveTo(absl::CivilSecond(2026, 5, 31, 23, 59, 59));  // 21:59:59 UTC
  ASSERT_EQ(*app_.RunDue(), 0);
  EXPECT_EQ(StateOf(c->contract_id()), v1::PENDING);
  MoveTo(absl::CivilSecond(2026, 6, 1, 0, 0, 0));
  ASSERT_EQ(*app_.RunDue(), 1);
  EXPECT_EQ(StateOf(c->contract_id()), v1::ENDING);  // started, with an end date

  MoveTo(absl::CivilSecond(2026, 6, 30, 23, 0, 0));
  ASSERT_EQ(*app_.RunDue(), 0);
  EXPECT_EQ(StateOf(c->contract_id()), v1::ENDING);
  MoveTo(absl::CivilSecond(2026, 7, 1, 0, 0, 1));
  ASSERT_EQ(*app_.RunDue(), 1);
  EXPECT_EQ(StateOf(c->contract_id()), v1::ENDED);
  EXPECT_THAT(EventTypes(), ::testing::IsSupersetOf({"PlanCreated", "ContractSigned",
                                                   "ContractStarted", "ContractEnded"}));
  ASSERT_EQ(*app_.RunDue(), 0);  // nothing left due
}

TEST_F(ContractsAppTest, CancelEndsAfterTheLastDayAndSuspendedCustomersCannotSign) {
  const v1::Plan desk = MakePlan();
  absl::StatusOr<v1::Contract> c = Sign("c-1", desk.plan_id());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state(), v1::ACTIVE);
  v1::CancelContractRequest cancel;
  cancel.set_contract_id(c->contract_id());
  ASSERT_EQ(app_.CancelContract(Admin(), cancel)->state(), v1::ENDING);
  MoveTo(absl::CivilSecond(2026, 5, 21, 0, 0, 0));
  ASSERT_EQ(*app_.RunDue(), 1);
  EXPECT_EQ(StateOf(c->contract_id()), v1::ENDED);
  EXPECT_EQ(app_.CancelContract(Admin(), cancel).status().code(),
            absl::StatusCode::kFailedPrecondition);

  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  EXPECT_EQ(Sign("c-2", desk.plan_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Sign("c-unknown", desk.plan_id()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ContractsAppTest, ARetriedRequestSignsOnce) {
  const v1::Plan desk = MakePlan();
  absl::StatusOr<v1::Contract> first = Sign("c-3", desk.plan_id(), std::nullopt, std::nullopt, "r-1");
  absl::StatusOr<v1::Contract> again = Sign("c-3", desk.plan_id(), std::nullopt, std::nullopt, "r-1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->contract_id(), again->contract_id());
  v1::ListContractsRequest list;
  list.set_customer_id("c-3");
  EXPECT_EQ(app_.ListContracts(Admin(), list)->contracts_size(), 1);
}

TEST_F(ContractsAppTest, RebuildingTheViewsFromTheLogGivesIdenticalViews) {
  const v1::Plan desk = MakePlan();
  MakePlan("loc-nyc", 0);
  ASSERT_TRUE(Sign("c-1", desk.plan_id()).ok());
  ASSERT_TRUE(Sign("c-2", desk.plan_id(), absl::CivilDay(2026, 7, 1)).ok());
  absl::StatusOr<v1::Contract> c3 = Sign("c-3", desk.plan_id());
  ASSERT_TRUE(c3.ok());
  v1::CancelContractRequest cancel;
  cancel.set_contract_id(c3->contract_id());
  ASSERT_TRUE(app_.CancelContract(Admin(), cancel).ok());
  MoveTo(absl::CivilSecond(2026, 5, 22, 0, 0, 0));
  ASSERT_EQ(*app_.RunDue(), 1);
  v1::UpdatePlanPriceRequest reprice;
  reprice.set_plan_id(desk.plan_id());
  reprice.set_price_minor(1);
  ASSERT_TRUE(app_.UpdatePlanPrice(Admin(), reprice).ok());

  const std::map<std::string, std::string> before = AllViews();
  ASSERT_GT(before.size(), 10u);
  ASSERT_TRUE(app_.Rebuild().ok());
  EXPECT_EQ(AllViews(), before);
}

}  // namespace
}  // namespace cowork::contracts::api
