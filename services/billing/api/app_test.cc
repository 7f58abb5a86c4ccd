// The billing application layer over a real Store: the projection fed with the events of the
// customers, contracts and bookings topics as the consumer applies them, the answers with
// their proofs, who may ask, bad input, the network's counts.

#include "services/billing/api/app.h"

#include <string>
#include <vector>

#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"

namespace cowork::billing::api {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace ev1 = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kOp[] = "op-1";  // AppTest's operator

absl::Time Madrid(int y, int mo, int d, int h = 12, int mi = 0) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz);
}

google::type::Date Date(int y, int m, int d) { return ToDate(absl::CivilDay(y, m, d)); }

auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}

class BillingAppTest : public cowork::testing::AppTest<App> {
 protected:
  BillingAppTest() : AppTest(Madrid(2026, 1, 1)) {}

  // One event of another service's topic, as the activity consumer applies it; returns its
  // event id.
  std::string Project(const std::string& type, const std::string& id, int64_t sequence,
                      const google::protobuf::Message& payload, absl::Time at,
                      const std::string& op = kOp) {
    const common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        {.service = "test", .operator_id = op, .now = at}, type, id, sequence, "", payload);
    eventstore::WriteSet writes;
    EXPECT_TRUE(app_.Apply(envelope, payload, writes).ok());
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

TEST_F(BillingAppTest, EachCriterionIsExplainedByItsEvents) {
  const std::string plan = ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 15));
  const std::string booking = Booked("b-1", "c-2", "loc-mad", Madrid(2026, 3, 31, 23, 59));
  Booked("b-2", "c-3", "loc-mad", Madrid(2026, 4, 1, 0, 0));  // April in Madrid
  cv1::InvoiceIssued invoice;
  invoice.set_invoice_id("inv-1");
  invoice.set_customer_id("c-4");
  invoice.set_location_id("loc-mad");
  *invoice.mutable_issue_date() = Date(2026, 3, 1);
  const std::string invoiced = Project("invoicebook", "loc-mad", 1, invoice, Madrid(2026, 3, 1));
  cv1::PurchaseMade locker;
  locker.set_purchase_id("pu-1");
  locker.set_customer_id("c-5");
  locker.set_location_id("loc-mad");
  locker.set_kind(cv1::RECURRING);
  *locker.mutable_start_date() = Date(2026, 2, 1);
  const std::string bought = Project("purchase", "pu-1", 1, locker, Madrid(2026, 2, 1));
  cv1::PurchaseCancelled cancelled;
  cancelled.set_purchase_id("pu-1");
  cancelled.set_customer_id("c-5");
  cancelled.set_location_id("loc-mad");
  *cancelled.mutable_end_date() = Date(2026, 3, 3);
  const std::string ended = Project("purchase", "pu-1", 2, cancelled, Madrid(2026, 3, 2));
  // A one-off purchase is no recurring product (its invoice is what counts).
  cv1::PurchaseMade pass = locker;
  pass.set_purchase_id("pu-2");
  pass.set_customer_id("c-6");
  pass.set_kind(cv1::ONE_OFF);
  Project("purchase", "pu-2", 1, pass, Madrid(2026, 3, 5));
  // c-7 is in a team paid for by c-1, whose plan is at loc-mad.
  ev1::TeamPayingMemberSet paying;
  paying.set_team_id("t-1");
  paying.set_customer_id("c-1");
  const std::string payer = Project("team", "t-1", 2, paying, Madrid(2026, 1, 10));
  ev1::TeamMemberAdded joined;
  joined.set_team_id("t-1");
  joined.set_customer_id("c-7");
  const std::string member = Project("team", "t-1", 3, joined, Madrid(2026, 1, 10));

  absl::StatusOr<v1::ActiveUsers> march = Get("loc-mad", "2026-03");
  ASSERT_TRUE(march.ok()) << march.status();
  EXPECT_EQ(march->location_id(), "loc-mad");
  EXPECT_EQ(march->month(), "2026-03");
  ASSERT_EQ(march->count(), 5);
  auto reason = [&](int i) { return march->users(i).reasons(0); };
  EXPECT_EQ(march->users(0).customer_id(), "c-1");
  EXPECT_EQ(reason(0).criterion(), v1::ACTIVE_PLAN);
  EXPECT_THAT(reason(0).event_ids(), ElementsAre(plan));
  EXPECT_EQ(march->users(1).customer_id(), "c-2");
  EXPECT_EQ(reason(1).criterion(), v1::BOOKING_MADE);
  EXPECT_THAT(reason(1).event_ids(), ElementsAre(booking));
  EXPECT_EQ(march->users(2).customer_id(), "c-4");
  EXPECT_EQ(reason(2).criterion(), v1::INVOICED);
  EXPECT_THAT(reason(2).event_ids(), ElementsAre(invoiced));
  EXPECT_EQ(march->users(3).customer_id(), "c-5");
  EXPECT_EQ(reason(3).criterion(), v1::RECURRING_PRODUCT);
  EXPECT_THAT(reason(3).event_ids(), ElementsAre(bought, ended));
  EXPECT_EQ(march->users(4).customer_id(), "c-7");
  EXPECT_EQ(reason(4).criterion(), v1::TEAM_WITH_PLAN_HOLDER);
  EXPECT_THAT(reason(4).event_ids(), ElementsAre(member, payer, plan));

  EXPECT_THAT(Users("loc-mad", "2026-02"), ElementsAre("c-5"));
  EXPECT_THAT(Users("loc-mad", "2026-04"), ElementsAre("c-1", "c-3", "c-7"));
  EXPECT_THAT(Users("loc-nyc", "2026-03"), IsEmpty());
}

TEST_F(BillingAppTest, AppliedTwiceCountsOnce) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 1));
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 1));
  Booked("b-1", "c-1", "loc-mad", Madrid(2026, 3, 5));
  Booked("b-1", "c-1", "loc-mad", Madrid(2026, 3, 5));
  absl::StatusOr<v1::ActiveUsers> march = Get("loc-mad", "2026-03");
  ASSERT_TRUE(march.ok());
  ASSERT_EQ(march->count(), 1);
  ASSERT_EQ(march->users(0).reasons_size(), 2);
  EXPECT_EQ(march->users(0).reasons(1).event_ids_size(), 1);
}

TEST_F(BillingAppTest, AContractEndingBeforeItStartedNeverCounts) {
  cv1::ContractEnded never;
  never.set_contract_id("ct-1");
  never.set_customer_id("c-1");
  never.set_location_id("loc-mad");
  *never.mutable_end_date() = Date(2026, 3, 31);
  never.set_started(false);
  Project("contract", "ct-1", 2, never, Madrid(2026, 3, 1));
  EXPECT_THAT(Users("loc-mad", "2026-03"), IsEmpty());
}

TEST_F(BillingAppTest, OnlyAdminsWithInvoicesFromThePlatformAtTheLocationMayAsk) {
  auth::Principal no_permission = Admin();
  no_permission.permissions.erase(std::string(auth::kPlatformInvoices));
  EXPECT_EQ(Get("loc-mad", "2026-03", no_permission).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Get("loc-mad", "2026-03", Admin({"loc-nyc"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Get("loc-mad", "2026-03", cowork::testing::CustomerOf(kOp, "c-1")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Get("loc-mad", "2026-03", Admin({"*"}, "op-2")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Get("loc-mad", "2026-03", Admin({"loc-mad"})).ok());
  v1::ListActiveUserCountsRequest network;
  network.set_from_month("2026-01");
  network.set_to_month("2026-02");
  EXPECT_EQ(app_.ListActiveUserCounts(Admin({"loc-mad"}), network).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(BillingAppTest, BadInputNamesEveryField) {
  v1::GetActiveUsersRequest r;
  r.set_location_id("loc/mad");
  r.set_month("2026-13");
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(app_.GetActiveUsers(Admin(), r).status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("location_id", "month"));
  for (const char* month : {"2026-5", "", "2026-05-01", "1999-12", "May 2026"}) {
    EXPECT_EQ(Get("loc-mad", month).status().code(), absl::StatusCode::kInvalidArgument) << month;
  }
  v1::ListActiveUserCountsRequest range;
  range.set_from_month("2026-05");
  range.set_to_month("2026-04");
  EXPECT_EQ(FieldViolationsOf(app_.ListActiveUserCounts(Admin(), range).status()).at(0).field,
            "to_month");
  range.set_from_month("2024-01");
  range.set_to_month("2027-01");
  EXPECT_EQ(app_.ListActiveUserCounts(Admin(), range).status().code(),
            absl::StatusCode::kInvalidArgument);
  range.set_to_month("2026-12");
  EXPECT_TRUE(app_.ListActiveUserCounts(Admin(), range).ok());
}

TEST_F(BillingAppTest, TheNetworkCountsEachLocationWhereACriterionHolds) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 2, 10));
  Booked("b-1", "c-1", "loc-nyc", Madrid(2026, 3, 3));
  v1::ListActiveUserCountsRequest network;
  network.set_from_month("2026-01");
  network.set_to_month("2026-03");
  absl::StatusOr<v1::ListActiveUserCountsResponse> counts =
      app_.ListActiveUserCounts(Admin(), network);
  ASSERT_TRUE(counts.ok()) << counts.status();
  std::vector<std::string> rows;
  for (const v1::MonthCount& c : counts->counts()) {
    rows.push_back(absl::StrCat(c.location_id(), " ", c.month(), " ", c.count()));
  }
  EXPECT_THAT(rows, ElementsAre("loc-mad 2026-01 0", "loc-mad 2026-02 1", "loc-mad 2026-03 1",
                                "loc-nyc 2026-01 0", "loc-nyc 2026-02 0", "loc-nyc 2026-03 1"));
  network.set_location_id("loc-nyc");
  ASSERT_EQ(app_.ListActiveUserCounts(Admin(), network)->counts_size(), 3);
}

TEST_F(BillingAppTest, ResetForgetsTheProjection) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 2, 10));
  ASSERT_TRUE(app_.Reset().ok());
  EXPECT_THAT(Users("loc-mad", "2026-03"), IsEmpty());
}

}  // namespace
}  // namespace cowork::billing::api
