// The billing application layer over a real Store: the projection fed with the events of the
// customers, contracts and bookings topics as the consumer applies them, the answers with
// their proofs, who may ask, bad input, the network's counts.

#include "services/billing/app/app_test_fixture.h"

namespace cowork::billing::app {
namespace {

class SubscriptionTest : public BillingAppTest {
 protected:
  SubscriptionTest() {
    LocationCreated("loc-mad", "Europe/Madrid", "EUR", Madrid(2026, 1, 1));
    LocationCreated("loc-nyc", "America/New_York", "USD", Madrid(2026, 3, 10));
  }

  // The clock's work at `at`.
  int RunAt(absl::Time at) {
    clock_.Set(at);
    absl::StatusOr<int> changed = subscription_.RunDue();
    EXPECT_TRUE(changed.ok()) << changed.status();
    return changed.value_or(-1);
  }

  std::vector<std::string> Invoices(const auth::Principal& as = Admin(),
                                    const std::string& location = "") {
    v1::ListSubscriptionInvoicesRequest r;
    r.set_location_id(location);
    absl::StatusOr<v1::ListSubscriptionInvoicesResponse> got =
        subscription_.ListSubscriptionInvoices(as, r);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> out;
    if (!got.ok()) return out;
    for (const v1::SubscriptionInvoice& i : got->invoices()) {
      out.push_back(absl::StrCat(i.number(), " ", i.location_id(), " ", i.month(), " ",
                                 i.active_users(), " ", i.total().amount_minor(), " ",
                                 i.total().currency()));
    }
    return out;
  }

  absl::StatusOr<v1::SubscriptionInvoice> Invoice(const std::string& id,
                                                  const auth::Principal& as = Admin()) {
    v1::GetSubscriptionInvoiceRequest r;
    r.set_invoice_id(id);
    return subscription_.GetSubscriptionInvoice(as, r);
  }

  absl::StatusOr<v1::Account> SetCard(const std::string& last_four, int month, int year,
                                      const std::string& request_id = "") {
    v1::SetPaymentMethodRequest r;
    r.set_request_id(request_id);
    v1::Card* card = r.mutable_method()->mutable_card();
    card->set_processor_token("pm_1Nv0FGQ9RKHgCVdK");
    card->set_brand("visa");
    card->set_last_four(last_four);
    card->set_expiry_month(month);
    card->set_expiry_year(year);
    return subscription_.SetPaymentMethod(Admin(), r);
  }

  absl::StatusOr<v1::Account> Account() {
    return subscription_.GetAccount(Admin(), v1::GetAccountRequest());
  }

  Subscription subscription_{*store_, directory_, clock_, app_, {}};
};

TEST_F(SubscriptionTest, EachMonthClosesByTheClockOnceAndIsInvoicedWithoutGaps) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 15));
  // Mid-March: January and February of loc-mad close (nobody active), nothing of loc-nyc's
  // March.
  EXPECT_EQ(RunAt(Madrid(2026, 3, 20)), 2);
  EXPECT_EQ(RunAt(Madrid(2026, 3, 21)), 0);
  EXPECT_THAT(Invoices(), ElementsAre("2 loc-mad 2026-02 0 4900 EUR", "1 loc-mad 2026-01 0 4900 EUR"));
  // March ends at midnight in Madrid; it closes 15 minutes later, and in New York when its
  // own March has ended there.
  EXPECT_EQ(RunAt(Madrid(2026, 4, 1, 0, 14)), 0);
  EXPECT_EQ(RunAt(Madrid(2026, 4, 1, 0, 15)), 1);
  absl::TimeZone ny;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &ny));
  EXPECT_EQ(RunAt(absl::FromCivil(absl::CivilMinute(2026, 4, 1, 0, 15), ny)), 1);
  EXPECT_THAT(Invoices(), ElementsAre("4 loc-nyc 2026-03 0 5500 USD",
                                      "3 loc-mad 2026-03 1 5200 EUR",
                                      "2 loc-mad 2026-02 0 4900 EUR",
                                      "1 loc-mad 2026-01 0 4900 EUR"));
  absl::StatusOr<v1::SubscriptionInvoice> march = Invoice("op-1-000003");
  ASSERT_TRUE(march.ok()) << march.status();
  ASSERT_EQ(march->lines_size(), 2);
  EXPECT_EQ(march->lines(1).description(), "Active users 1 to 50");
  EXPECT_EQ(march->lines(1).quantity(), 1);
  EXPECT_EQ(FromTimestamp(march->issue_time()), Madrid(2026, 4, 1, 0, 15));
  EXPECT_EQ(Account()->invoices_issued(), 4);
  EXPECT_THAT(EventTypes(), ::testing::Contains("MonthClosed"));
  int invoices = 0;
  for (const std::string& type : EventTypes()) invoices += type == "SubscriptionInvoiceIssued";
  EXPECT_EQ(invoices, 4);
}

TEST_F(SubscriptionTest, AClosedMonthIsFrozenWhateverIsRecordedLater) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 15));
  RunAt(Madrid(2026, 4, 2));
  absl::StatusOr<v1::ActiveUsers> march = Get("loc-mad", "2026-03");
  ASSERT_TRUE(march.ok());
  EXPECT_TRUE(march->closed());
  EXPECT_EQ(FromTimestamp(march->counted_until()), Madrid(2026, 4, 1, 0, 15));
  // Recorded on April 3rd, about March: a contract backdated to March 1st, an invoice dated
  // March 31st, a booking can't be (made now). March stays as closed; April moves.
  cv1::ContractStarted late;
  late.set_contract_id("ct-2");
  late.set_customer_id("c-2");
  late.set_location_id("loc-mad");
  *late.mutable_start_date() = Date(2026, 3, 1);
  Project("contract", "ct-2", 2, late, Madrid(2026, 4, 3));
  cv1::InvoiceIssued invoice;
  invoice.set_invoice_id("inv-9");
  invoice.set_customer_id("c-3");
  invoice.set_location_id("loc-mad");
  *invoice.mutable_issue_date() = Date(2026, 3, 31);
  Project("invoicebook", "loc-mad", 9, invoice, Madrid(2026, 4, 3));
  EXPECT_THAT(Users("loc-mad", "2026-03"), ElementsAre("c-1"));
  EXPECT_THAT(Users("loc-mad", "2026-04"), ElementsAre("c-1", "c-2"));
  v1::ListActiveUserCountsRequest range;
  range.set_location_id("loc-mad");
  range.set_from_month("2026-03");
  range.set_to_month("2026-04");
  absl::StatusOr<v1::ListActiveUserCountsResponse> counts =
      app_.ListActiveUserCounts(Admin(), range);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->counts(0).count(), 1);
  EXPECT_TRUE(counts->counts(0).closed());
  EXPECT_EQ(counts->counts(1).count(), 2);
  EXPECT_FALSE(counts->counts(1).closed());
}

TEST_F(SubscriptionTest, AfterDowntimeEveryMissedMonthClosesInOrder) {
  // Nothing ran from January 1st to June 10th.
  EXPECT_EQ(RunAt(Madrid(2026, 6, 10)), 5 + 3);  // loc-mad Jan..May, loc-nyc Mar..May
  std::vector<std::string> mad = Invoices(Admin(), "loc-mad");
  ASSERT_EQ(mad.size(), 5u);
  EXPECT_THAT(mad.front(), HasSubstr("loc-mad 2026-05"));
  EXPECT_THAT(mad.back(), HasSubstr("loc-mad 2026-01"));
  std::vector<int64_t> numbers;
  for (const std::string& row : Invoices()) numbers.push_back(std::stoll(row));
  EXPECT_THAT(numbers, ElementsAre(8, 7, 6, 5, 4, 3, 2, 1));
}

TEST_F(SubscriptionTest, AddOnsEnabledAtAnyMomentOfTheMonthAreCharged) {
  clock_.Set(Madrid(2026, 3, 10));
  v1::EnableAddOnRequest enable;
  enable.set_location_id("loc-mad");
  enable.set_add_on("website");
  absl::StatusOr<v1::Account> account = subscription_.EnableAddOn(Admin(), enable);
  ASSERT_TRUE(account.ok()) << account.status();
  ASSERT_EQ(account->add_ons_size(), 1);
  EXPECT_THAT(account->add_ons(0).add_ons(), ElementsAre("website"));
  clock_.Set(Madrid(2026, 3, 12));
  v1::DisableAddOnRequest disable;
  disable.set_location_id("loc-mad");
  disable.set_add_on("website");
  ASSERT_TRUE(subscription_.DisableAddOn(Admin(), disable).ok());
  EXPECT_EQ(Account()->add_ons_size(), 0);
  RunAt(Madrid(2026, 5, 2));
  EXPECT_THAT(Invoices(Admin(), "loc-mad"),
              ElementsAre(HasSubstr("2026-04 0 4900 EUR"), HasSubstr("2026-03 0 6800 EUR"),
                          HasSubstr("2026-02 0 4900 EUR"), HasSubstr("2026-01 0 4900 EUR")));

  enable.set_add_on("teleporter");
  absl::Status unknown = subscription_.EnableAddOn(Admin(), enable).status();
  ASSERT_EQ(FieldViolationsOf(unknown).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(unknown)[0].field, "add_on");
  enable.set_add_on("website");
  EXPECT_EQ(subscription_.EnableAddOn(Admin({"loc-nyc"}), enable).status().code(),
            absl::StatusCode::kPermissionDenied);
  // An admin of one location sees that location's add-ons only, not the operator's account.
  v1::SetPaymentMethodRequest card;
  card.mutable_method()->mutable_manual();
  ASSERT_TRUE(subscription_.SetPaymentMethod(Admin(), card).ok());
  enable.set_location_id("loc-nyc");
  ASSERT_TRUE(subscription_.EnableAddOn(Admin(), enable).ok());
  enable.set_location_id("loc-mad");
  account = subscription_.EnableAddOn(Admin({"loc-mad"}), enable);
  ASSERT_TRUE(account.ok()) << account.status();
  ASSERT_EQ(account->add_ons_size(), 1);
  EXPECT_EQ(account->add_ons(0).location_id(), "loc-mad");
  EXPECT_FALSE(account->has_payment_method());
  EXPECT_EQ(account->invoices_issued(), 0);
  EXPECT_EQ(subscription_.EnableAddOn(Admin(), enable)->add_ons_size(), 2);
  enable.set_location_id("loc-nowhere");
  EXPECT_EQ(subscription_.EnableAddOn(Admin(), enable).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SubscriptionTest, OnlyAdminsWithInvoicesFromThePlatformSeeInvoices) {
  RunAt(Madrid(2026, 4, 2));  // loc-mad Jan..Mar (1..3), loc-nyc Mar (4)
  RunAt(Madrid(2026, 5, 2));  // loc-mad Apr (5), loc-nyc Apr (6)
  auth::Principal no_permission = Admin();
  no_permission.permissions.erase(std::string(auth::kPlatformInvoices));
  const auth::Principal customer = cowork::testing::CustomerOf(kOp, "c-1");
  for (const auth::Principal& as : {no_permission, customer}) {
    EXPECT_EQ(subscription_.ListSubscriptionInvoices(as, {}).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(Invoice("op-1-000001", as).status().code(), absl::StatusCode::kPermissionDenied);
    v1::DownloadSubscriptionInvoiceRequest d;
    d.set_invoice_id("op-1-000001");
    EXPECT_EQ(subscription_.DownloadSubscriptionInvoice(as, d).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(subscription_.GetAccount(as, {}).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
  // An admin of New York sees New York's only.
  const auth::Principal nyc = Admin({"loc-nyc"});
  EXPECT_THAT(Invoices(nyc), ElementsAre(HasSubstr("loc-nyc 2026-04"), HasSubstr("loc-nyc 2026-03")));
  EXPECT_EQ(Invoice("op-1-000001", nyc).status().code(), absl::StatusCode::kPermissionDenied);
  v1::ListSubscriptionInvoicesRequest mad;
  mad.set_location_id("loc-mad");
  EXPECT_EQ(subscription_.ListSubscriptionInvoices(nyc, mad).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Another operator's admin finds nothing.
  EXPECT_EQ(Invoice("op-1-000001", Admin({"*"}, "op-2")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(Invoices(Admin({"*"}, "op-2")), IsEmpty());
  for (const char* id : {"op-1-000099", "op-1-x", "op-1-", "op-1-0"}) {
    EXPECT_EQ(Invoice(id).status().code(), absl::StatusCode::kNotFound) << id;
  }
  EXPECT_EQ(FieldViolationsOf(Invoice("op/1").status()).at(0).field, "invoice_id");

  v1::DownloadSubscriptionInvoiceRequest d;
  d.set_invoice_id("op-1-000004");
  absl::StatusOr<v1::InvoiceDocument> doc = subscription_.DownloadSubscriptionInvoice(nyc, d);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->filename(), "op-1-000004.csv");
  EXPECT_EQ(doc->content_type(), "text/csv; charset=utf-8");
  EXPECT_THAT(doc->content(), HasSubstr("\"Month\",\"2026-03\"\r\n"));
  EXPECT_THAT(doc->content(), HasSubstr("\"Base fee\",1,55.00,55.00,\"USD\"\r\n"));
  EXPECT_THAT(doc->content(), HasSubstr("\"Total\",,,55.00,\"USD\"\r\n"));
}

TEST_F(SubscriptionTest, PaymentDetailsNeverHoldACardNumberAndExpiredCardsGo) {
  clock_.Set(Madrid(2026, 3, 1));
  const std::vector<std::string> before = EventTypes();
  absl::Status refused = SetCard("4111111111111111", 13, 2027).status();
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(refused)) fields.push_back(v.field);
  EXPECT_THAT(fields, ElementsAre("method.card.last_four", "method.card.expiry_month"));
  EXPECT_FALSE(absl::StrContains(refused.ToString(), "4111111111111111"))
      << "the error must not echo the number";
  EXPECT_EQ(EventTypes(), before);
  EXPECT_FALSE(Account()->has_payment_method());

  absl::StatusOr<v1::Account> set = SetCard("4242", 4, 2026, "req-card");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->payment_method().card().last_four(), "4242");
  ASSERT_TRUE(SetCard("4242", 4, 2026, "req-card").ok());  // a retry: nothing twice
  EXPECT_EQ(EventTypes().size(), before.size() + 1);
  auth::Principal one_location = Admin({"loc-mad"});
  v1::SetPaymentMethodRequest r;
  r.mutable_method()->mutable_manual();
  EXPECT_EQ(subscription_.SetPaymentMethod(one_location, r).status().code(),
            absl::StatusCode::kPermissionDenied);

  // The card's last month is April 2026: still there on April 30th, gone on May 1st (UTC),
  // and that is an event.
  RunAt(absl::FromCivil(absl::CivilSecond(2026, 4, 30, 23, 59, 59), absl::UTCTimeZone()));
  EXPECT_TRUE(Account()->has_payment_method());
  RunAt(absl::FromCivil(absl::CivilSecond(2026, 5, 1, 0, 0, 0), absl::UTCTimeZone()));
  EXPECT_FALSE(Account()->has_payment_method());
  EXPECT_EQ(EventTypes().back(), "PaymentMethodRemoved");
  bool expired = false;
  ASSERT_TRUE(store_
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    v1::PaymentMethodRemoved removed;
                    if (e.payload().UnpackTo(&removed)) {
                      expired = removed.reason() == v1::PaymentMethodRemoved::CARD_EXPIRED;
                    }
                    return true;
                  })
                  .ok());
  EXPECT_TRUE(expired);
  EXPECT_EQ(subscription_.RemovePaymentMethod(Admin(), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Direct debit, then removed by an admin.
  v1::SetPaymentMethodRequest debit;
  debit.mutable_method()->mutable_direct_debit()->set_mandate_reference("MD0012AB34CD");
  debit.mutable_method()->mutable_direct_debit()->set_bank_name("Banco Ejemplo");
  debit.mutable_method()->mutable_direct_debit()->set_account_last_four("0123");
  ASSERT_TRUE(subscription_.SetPaymentMethod(Admin(), debit).ok());
  EXPECT_TRUE(Account()->payment_method().has_direct_debit());
  ASSERT_TRUE(subscription_.RemovePaymentMethod(Admin(), {}).ok());
  EXPECT_FALSE(Account()->has_payment_method());
}

TEST_F(SubscriptionTest, ALocationWithoutPricesWaitsAndHoldsUpNoOther) {
  LocationCreated("loc-tyo", "Asia/Tokyo", "JPY", Madrid(2026, 1, 5));
  clock_.Set(Madrid(2026, 2, 10));
  const absl::StatusOr<int> run = subscription_.RunDue();
  EXPECT_EQ(run.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(run.status().message()), HasSubstr("JPY"));
  EXPECT_THAT(Invoices(), ElementsAre(HasSubstr("loc-mad 2026-01")));
}

TEST_F(SubscriptionTest, RebuildGivesTheSameViews) {
  ContractStarted("ct-1", "c-1", "loc-mad", Date(2026, 3, 15));
  ASSERT_TRUE(SetCard("4242", 4, 2029).ok());
  RunAt(Madrid(2026, 5, 2));
  const std::map<std::string, std::string> views = AllViews();
  ASSERT_TRUE(subscription_.Rebuild().ok());
  EXPECT_EQ(AllViews(), views);
}

}  // namespace
}  // namespace cowork::billing::app
