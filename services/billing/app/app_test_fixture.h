#ifndef COWORK_SERVICES_BILLING_APP_APP_TEST_FIXTURE_H_
#define COWORK_SERVICES_BILLING_APP_APP_TEST_FIXTURE_H_

// The fixture of the billing application tests (app_test.cc, subscription_test.cc): the App
// over a real Store, fed with events as the consumer would feed it.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "services/billing/app/app.h"
#include "services/billing/app/subscription.h"

namespace cowork::billing::app {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace ev1 = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kOp[] = "op-1";  // AppTest's operator

inline absl::Time Madrid(int y, int mo, int d, int h = 12, int mi = 0) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz);
}

inline google::type::Date Date(int y, int m, int d) { return ToDate(absl::CivilDay(y, m, d)); }

inline auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}

class BillingAppTest : public cowork::testing::AppTest<App> {
 protected:
  BillingAppTest() : AppTest(Madrid(2026, 1, 1)) {}

  // A location created at `at`, as the customers consumers (the directory's and the
  // projection's) apply it.
  void LocationCreated(const std::string& id, const std::string& tz, const std::string& currency,
                       absl::Time at) {
    const customers::v1::LocationCreated e = cowork::testing::LocationEvent(id, tz, currency);
    Feed("location", id, 1, e);
    Project("location", id, 1, e, at);
  }

  // One event of another service's topic, as the activity consumer applies it; returns its
  // event id.
  std::string Project(const std::string& type, const std::string& id, int64_t sequence,
                      const google::protobuf::Message& payload, absl::Time at,
                      const std::string& op = kOp) {
    const common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        {.service = "test", .operator_id = op, .now = at}, type, id, sequence, "", payload);
    eventstore::WriteSet writes;
    EXPECT_TRUE(app_.activity().Apply(envelope, payload, writes).ok());
    EXPECT_TRUE(store_->Commit(std::move(writes)).ok());
    return envelope.event_id();
  }

  std::string ContractStarted(const std::string& contract, const std::string& customer,
                              const std::string& location, google::type::Date start) {
    cv1::ContractStarted e;
    e.set_contract_id(contract);
    e.set_customer_id(customer);
    e.set_location_id(location);
    *e.mutable_start_date() = start;
    return Project("contract", contract, 2, e, Madrid(2026, 1, 1));
  }

  std::string Booked(const std::string& booking, const std::string& customer,
                     const std::string& location, absl::Time made_at) {
    bv1::BookingCreated e;
    e.set_booking_id(booking);
    e.set_customer_id(customer);
    e.set_location_id(location);
    *e.mutable_start_time() = ToTimestamp(made_at + absl::Hours(24 * 40));  // takes place later
    return Project("booking", booking, 1, e, made_at);
  }

  absl::StatusOr<v1::ActiveUsers> Get(const std::string& location, const std::string& month,
                                      const auth::Principal& as = Admin()) {
    v1::GetActiveUsersRequest r;
    r.set_location_id(location);
    r.set_month(month);
    return app_.GetActiveUsers(as, r);
  }

  std::vector<std::string> Users(const std::string& location, const std::string& month) {
    absl::StatusOr<v1::ActiveUsers> got = Get(location, month);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> out;
    if (!got.ok()) return out;
    EXPECT_EQ(got->count(), got->users_size());
    for (const v1::ActiveUser& u : got->users()) out.push_back(u.customer_id());
    return out;
  }
};

}  // namespace cowork::billing::app

#endif  // COWORK_SERVICES_BILLING_APP_APP_TEST_FIXTURE_H_
