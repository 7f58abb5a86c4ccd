// The billing application layer over a real Store: the projection fed with the events of the
// customers, contracts and bookings topics as the consumer applies them, the answers with
// their proofs, who may ask, bad input, the network's counts.

#include "services/billing/app/app_test_fixture.h"

namespace cowork::billing::app {
namespace {

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

// The count on every page, the users a page at a time by customer id, and each reason's
// first ten proving events out of all of them.

TEST_F(BillingAppTest, AnswersAPageAtATimeWithTheFirstTenProofs) {
  std::vector<std::string> busy;
  for (int i = 0; i < 12; ++i) {
    busy.push_back(Booked(absl::StrCat("b-busy-", i), "c-busy", "loc-mad",
                          Madrid(2026, 3, 2 + i)));
  }
  for (const char* c : {"c-a", "c-b", "c-c", "c-d", "c-e", "c-f"}) {
    Booked(absl::StrCat("b-", c), c, "loc-mad", Madrid(2026, 3, 20));
  }
  v1::GetActiveUsersRequest r;
  r.set_location_id("loc-mad");
  r.set_month("2026-03");
  r.set_page_size(3);
  std::vector<std::string> seen;
  std::vector<std::string> tokens;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ActiveUsers> got = app_.GetActiveUsers(Admin(), r);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->count(), 7);
    EXPECT_LE(got->users_size(), 3);
    for (const v1::ActiveUser& u : got->users()) {
      seen.push_back(u.customer_id());
      if (u.customer_id() != "c-busy") continue;
      ASSERT_EQ(u.reasons_size(), 1);
      EXPECT_EQ(u.reasons(0).event_count(), 12);
      EXPECT_THAT(u.reasons(0).event_ids(),
                  ElementsAre(busy[0], busy[1], busy[2], busy[3], busy[4], busy[5], busy[6],
                              busy[7], busy[8], busy[9]));
    }
    if (got->next_page_token().empty()) break;
    tokens.push_back(got->next_page_token());
    r.set_page_token(got->next_page_token());
  }
  EXPECT_THAT(seen, ElementsAre("c-a", "c-b", "c-busy", "c-c", "c-d", "c-e", "c-f"));
  EXPECT_EQ(tokens.size(), 2u);

  // A page token of another month (or of another listing) is refused by name.
  r.set_month("2026-04");
  r.set_page_token(tokens[0]);
  absl::Status other = app_.GetActiveUsers(Admin(), r).status();
  ASSERT_EQ(FieldViolationsOf(other).size(), 1u) << other;
  EXPECT_EQ(FieldViolationsOf(other)[0].field, "page_token");
  r.set_page_token("not a token");
  EXPECT_EQ(app_.GetActiveUsers(Admin(), r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BillingAppTest, BadInputNamesEveryField) {
  v1::GetActiveUsersRequest r;
  r.set_location_id("loc/mad");
  r.set_month("2026-13");
  r.set_page_size(-1);
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(app_.GetActiveUsers(Admin(), r).status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("location_id", "month", "page_size"));
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
  ASSERT_TRUE(app_.activity().Reset().ok());
  EXPECT_THAT(Users("loc-mad", "2026-03"), IsEmpty());
}

// ---------------------------------------------------------------- the subscription

}  // namespace
}  // namespace cowork::billing::app
