#include "services/contracts/domain/plan.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"

namespace cowork::contracts::domain {
namespace {

using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 5, 20, 9, 0, 0),
                                        absl::UTCTimeZone());

CreatePlan Desk() {
  return {.plan_id = "pl-1",
          .location_id = "loc-1",
          .currency = "EUR",
          .name = "Hot desk",
          .price_minor = 15000,
          .booking_credit_minutes = 240};
}

std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(s)) fields.push_back(v.field);
  return fields;
}

TEST(PlanDecide, CreatedMonthlyByDefaultWithTheLocationsCurrency) {
  absl::StatusOr<Events> events = Decide(PlanState{}, Desk(), kNow);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const v1::PlanCreated& e = (*events)[0].plan_created();
  EXPECT_EQ(e.cycle(), v1::MONTHLY);
  EXPECT_EQ(e.price().amount_minor(), 15000);
  EXPECT_EQ(e.price().currency(), "EUR");
  const PlanState s = Apply(PlanState(), (*events)[0]);
  EXPECT_EQ(s.name(), "Hot desk");
  EXPECT_EQ(s.booking_credit_minutes(), 240);
}

TEST(PlanDecide, FreePlansArePlansLikeAnyOther) {
  CreatePlan free = Desk();
  free.price_minor = 0;
  EXPECT_TRUE(Decide(PlanState{}, free, kNow).ok());
}

TEST(PlanDecide, EveryBadFieldIsNamedAtOnce) {
  CreatePlan bad = Desk();
  bad.name = " \x07 ";
  bad.price_minor = -1;
  bad.cycle = static_cast<v1::BillingCycle>(42);
  bad.booking_credit_minutes = -5;
  absl::StatusOr<Events> events = Decide(PlanState{}, bad, kNow);
  ASSERT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(BadFields(events.status()),
              UnorderedElementsAre("name", "price_minor", "cycle", "booking_credit_minutes"));
}

TEST(PlanDecide, PriceChangeRecordedOnlyWhenItChanges) {
  const PlanState s = Apply(PlanState(), (*Decide(PlanState{}, Desk(), kNow))[0]);
  EXPECT_TRUE(Decide(s, ChangePlanPrice{15000}, kNow)->empty());
  absl::StatusOr<Events> changed = Decide(s, ChangePlanPrice{17500}, kNow);
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ(Apply(s, (*changed)[0]).price_minor(), 17500);
  EXPECT_EQ(Decide(s, ChangePlanPrice{kMaxPriceMinor + 1}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cowork::contracts::domain
