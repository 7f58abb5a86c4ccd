// The contracts application layer over a real Store (RocksDB in a temp dir), a simulated
// clock, and a directory fed with customers events as the customers consumer would feed it.

#include "services/contracts/app/app_test_fixture.h"

namespace cowork::contracts::app {
namespace {

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
  ASSERT_TRUE(projection::Rebuild(*store_, directory_).ok());
  EXPECT_EQ(AllViews(), before);
}

// ---------------------------------------------------------------- products, charges, invoices

}  // namespace
}  // namespace cowork::contracts::app
