#ifndef COWORK_SERVICES_CONTRACTS_APP_APP_TEST_FIXTURE_H_
#define COWORK_SERVICES_CONTRACTS_APP_APP_TEST_FIXTURE_H_

// The fixture of the contracts application tests (app_test.cc, invoicing_test.cc): the App
// over a real Store, a simulated clock and a directory fed as the customers consumer would
// feed it.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "libs/testing/process.h"
#include "services/contracts/app/app.h"
#include "services/contracts/projection/projection.h"

namespace cowork::contracts::app {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kOp[] = "op-1";  // AppTest's operator

inline auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}
inline auth::Principal Customer(std::string id) { return cowork::testing::CustomerOf(kOp, std::move(id)); }

class ContractsAppTest : public cowork::testing::AppTest<App> {
 protected:
  // 2026-05-20 10:00 in Madrid.
  ContractsAppTest()
      : AppTest(absl::FromCivil(absl::CivilSecond(2026, 5, 20, 8, 0, 0), absl::UTCTimeZone())) {}

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

};

}  // namespace cowork::contracts::app

#endif  // COWORK_SERVICES_CONTRACTS_APP_APP_TEST_FIXTURE_H_
