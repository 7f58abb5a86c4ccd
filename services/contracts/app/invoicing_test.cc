// The contracts application layer over a real Store (RocksDB in a temp dir), a simulated
// clock, and a directory fed with customers events as the customers consumer would feed it.

#include "services/contracts/app/app_test_fixture.h"

namespace cowork::contracts::app {
namespace {

class BillingTest : public ContractsAppTest {
 protected:
  v1::Product MakeProduct(v1::ProductKind kind, int64_t price, const std::string& loc = "loc-mad") {
    v1::CreateProductRequest r;
    r.set_location_id(loc);
    r.set_name(kind == v1::RECURRING ? "Locker" : "Day pass");
    r.set_price_minor(price);
    r.set_kind(kind);
    absl::StatusOr<v1::Product> product = app_.CreateProduct(Admin(), r);
    EXPECT_TRUE(product.ok()) << product.status();
    return product.value_or(v1::Product());
  }

  absl::StatusOr<v1::Purchase> Buy(const std::string& customer, const std::string& product,
                                   int quantity = 1, const auth::Principal& as = Admin()) {
    v1::BuyRequest r;
    r.set_customer_id(customer);
    r.set_product_id(product);
    r.set_quantity(quantity);
    return app_.Buy(as, r);
  }

  void SetTax(int64_t ppm, const std::string& loc = "loc-mad") {
    v1::SetTaxRateRequest r;
    r.set_location_id(loc);
    r.set_tax_rate_ppm(ppm);
    ASSERT_TRUE(app_.SetTaxRate(Admin(), r).ok());
  }

  std::vector<v1::Invoice> InvoicesOf(const std::string& customer) {
    v1::ListInvoicesRequest r;
    r.set_customer_id(customer);
    r.set_page_size(500);
    absl::StatusOr<v1::ListInvoicesResponse> out = app_.ListInvoices(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::vector<v1::Invoice>(out->invoices().begin(), out->invoices().end())
                    : std::vector<v1::Invoice>();
  }

  std::vector<v1::Invoice> InvoicesAt(const std::string& loc) {
    std::vector<v1::Invoice> all;
    v1::ListInvoicesRequest r;
    r.set_location_id(loc);
    r.set_page_size(500);
    do {
      absl::StatusOr<v1::ListInvoicesResponse> page = app_.ListInvoices(Admin(), r);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      all.insert(all.end(), page->invoices().begin(), page->invoices().end());
      r.set_page_token(page->next_page_token());
    } while (!r.page_token().empty());
    return all;
  }

  int Waiting(const std::string& customer, const std::string& loc = "loc-mad") {
    v1::GetAccountRequest r;
    r.set_customer_id(customer);
    r.set_location_id(loc);
    absl::StatusOr<v1::Account> account = app_.GetAccount(Admin(), r);
    EXPECT_TRUE(account.ok()) << account.status();
    return account.ok() ? account->uninvoiced_size() : -1;
  }

  // A bookings event as the bookings consumer hands it over.
  absl::Status Booking(const google::protobuf::Message& payload, const std::string& booking,
                       int64_t sequence) {
    const common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        {.service = "bookings", .operator_id = kOp, .now = clock_.Now()}, "booking", booking,
        sequence, "loc-mad", payload);
    eventstore::WriteSet writes;
    absl::Status s = payload.GetDescriptor()->name() == "BookingCreated"
                         ? app_.OnBookingCreated(
                               envelope, static_cast<const bookings::v1::BookingCreated&>(payload),
                               writes)
                         : app_.OnBookingCancelled(
                               envelope,
                               static_cast<const bookings::v1::BookingCancelled&>(payload), writes);
    if (!s.ok()) return s;
    return writes.empty() ? absl::OkStatus() : store_->Commit(std::move(writes));
  }

  bookings::v1::BookingCreated Booked(const std::string& booking, const std::string& customer,
                                      int64_t charge) {
    bookings::v1::BookingCreated e;
    e.set_booking_id(booking);
    e.set_resource_id("room-1");
    e.set_resource_name("Room 1");
    e.set_location_id("loc-mad");
    e.set_customer_id(customer);
    *e.mutable_start_time() = ToTimestamp(clock_.Now() + absl::Hours(2));
    *e.mutable_end_time() = ToTimestamp(clock_.Now() + absl::Hours(3));
    e.mutable_charge()->set_amount_minor(charge);
    e.mutable_charge()->set_currency("EUR");
    return e;
  }
};

TEST_F(BillingTest, AContactIsInvoicedAtOnceWithTheLocationsTax) {
  SetTax(210000);  // 21%
  const v1::Product pass = MakeProduct(v1::ONE_OFF, 1500);
  absl::StatusOr<v1::Purchase> bought = Buy("c-1", pass.product_id(), 2);
  ASSERT_TRUE(bought.ok()) << bought.status();
  EXPECT_EQ(bought->state(), v1::BOUGHT);
  const std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0].number(), 1);
  EXPECT_EQ(invoices[0].subtotal().amount_minor(), 3000);
  EXPECT_EQ(invoices[0].tax().amount_minor(), 630);
  EXPECT_EQ(invoices[0].total().amount_minor(), 3630);
  EXPECT_EQ(invoices[0].state(), v1::ISSUED);
  EXPECT_EQ(FromDate(invoices[0].issue_date()), absl::CivilDay(2026, 5, 20));
  EXPECT_EQ(Waiting("c-1"), 0);
  // A free product costs nothing and invoices nothing.
  ASSERT_TRUE(Buy("c-1", MakeProduct(v1::ONE_OFF, 0).product_id()).ok());
  EXPECT_EQ(InvoicesOf("c-1").size(), 1u);
}

TEST_F(BillingTest, MembersAreInvoicedAtTheEndOfEachCycleForTheFeeAndWaitingCharges) {
  const v1::Plan desk = MakePlan("loc-mad", 15000);
  ASSERT_TRUE(Sign("c-1", desk.plan_id()).ok());  // 2026-05-20, a member today
  ASSERT_TRUE(Buy("c-1", MakeProduct(v1::ONE_OFF, 1500).product_id()).ok());
  EXPECT_EQ(Waiting("c-1"), 1);
  EXPECT_TRUE(InvoicesOf("c-1").empty());

  MoveTo(absl::CivilSecond(2026, 6, 19, 23, 59, 0));  // the period's last day
  ASSERT_TRUE(app_.RunDue().ok());
  EXPECT_TRUE(InvoicesOf("c-1").empty());
  MoveTo(absl::CivilSecond(2026, 6, 20, 0, 0, 1));  // midnight in Madrid
  ASSERT_TRUE(app_.RunDue().ok());
  std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 1u);
  ASSERT_EQ(invoices[0].lines_size(), 2);
  EXPECT_EQ(FromDate(invoices[0].lines(0).period_start()), absl::CivilDay(2026, 5, 20));
  EXPECT_EQ(FromDate(invoices[0].lines(0).period_end()), absl::CivilDay(2026, 6, 19));
  EXPECT_EQ(invoices[0].total().amount_minor(), 16500);
  EXPECT_EQ(Waiting("c-1"), 0);

  // Across a month end and the autumn DST change: one invoice per period, numbered on.
  MoveTo(absl::CivilSecond(2026, 11, 1, 12, 0, 0));
  ASSERT_TRUE(app_.RunDue().ok());
  invoices = InvoicesAt("loc-mad");
  ASSERT_EQ(invoices.size(), 5u);  // periods ending 19 Jun, Jul, Aug, Sep, Oct
  for (size_t i = 0; i < invoices.size(); ++i) EXPECT_EQ(invoices[i].number(), i + 1);
  EXPECT_EQ(invoices.back().total().amount_minor(), 15000);
}

TEST_F(BillingTest, CancellingMidPeriodProratesTheLastFee) {
  const v1::Plan desk = MakePlan("loc-mad", 31000);
  absl::StatusOr<v1::Contract> c = Sign("c-1", desk.plan_id(), absl::CivilDay(2026, 5, 1));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(app_.RunDue().ok());  // nothing over yet
  v1::CancelContractRequest cancel;
  cancel.set_contract_id(c->contract_id());
  *cancel.mutable_end_date() = ToDate(absl::CivilDay(2026, 5, 25));
  ASSERT_TRUE(app_.CancelContract(Admin(), cancel).ok());
  MoveTo(absl::CivilSecond(2026, 5, 26, 0, 0, 1));
  ASSERT_TRUE(app_.RunDue().ok());
  const std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0].total().amount_minor(), 25000);  // 25 of 31 days
  EXPECT_EQ(StateOf(c->contract_id()), v1::ENDED);
}

TEST_F(BillingTest, NumbersHaveNoGapsUnderConcurrentInvoiceRuns) {
  const v1::Product pass = MakeProduct(v1::ONE_OFF, 100);
  constexpr int kThreads = 6, kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!Buy(absl::StrCat("c-", 1 + t % 3), pass.product_id()).ok()) ++failures;
      }
    });
  }
  // Meanwhile the clock's invoice run for a member.
  ASSERT_TRUE(Sign("c-3", MakePlan().plan_id(), absl::CivilDay(2026, 4, 1)).ok());
  threads.emplace_back([&] {
    if (!app_.RunDue().ok()) ++failures;
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  const std::vector<v1::Invoice> invoices = InvoicesAt("loc-mad");
  std::set<std::string> ids;
  for (size_t i = 0; i < invoices.size(); ++i) {
    EXPECT_EQ(invoices[i].number(), static_cast<int64_t>(i + 1));
    ids.insert(invoices[i].invoice_id());
  }
  EXPECT_EQ(ids.size(), invoices.size());
  // c-3's purchases wait on its account (a member) unless they came before its contract.
  int invoiced_charges = 0;
  for (const v1::Invoice& inv : invoices) {
    for (const v1::InvoiceLine& line : inv.lines()) invoiced_charges += !line.charge_id().empty();
  }
  EXPECT_EQ(invoiced_charges + Waiting("c-3"), kThreads * kEach);
}

TEST_F(BillingTest, ATeamsPayingMemberGetsTheMembersCharges) {
  events::TeamCreated team;
  team.set_team_id("t-1");
  team.set_location_id("loc-mad");
  Feed("team", "t-1", 1, team);
  events::TeamMemberAdded added;
  added.set_team_id("t-1");
  added.set_customer_id("c-2");
  Feed("team", "t-1", 2, added);
  events::TeamPayingMemberSet payer;
  payer.set_team_id("t-1");
  payer.set_customer_id("c-1");
  Feed("team", "t-1", 3, payer);
  ASSERT_TRUE(Buy("c-2", MakeProduct(v1::ONE_OFF, 700).product_id()).ok());
  EXPECT_TRUE(InvoicesOf("c-2").empty());
  const std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 1u);
  EXPECT_EQ(invoices[0].lines(0).customer_id(), "c-2");  // who incurred it
}

TEST_F(BillingTest, InvoiceAsTheyBuyAndSuspendedCustomers) {
  ASSERT_TRUE(Sign("c-1", MakePlan().plan_id()).ok());
  v1::SetInvoicingPreferenceRequest pref;
  pref.set_customer_id("c-1");
  pref.set_invoice_as_they_buy(true);
  ASSERT_TRUE(app_.SetInvoicingPreference(Admin(), pref).ok());
  const v1::Product pass = MakeProduct(v1::ONE_OFF, 1500);
  ASSERT_TRUE(Buy("c-1", pass.product_id()).ok());
  EXPECT_EQ(InvoicesOf("c-1").size(), 1u);  // a member, but invoiced at once

  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  EXPECT_EQ(Buy("c-2", pass.product_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(InvoicesOf("c-2").empty());
}

TEST_F(BillingTest, ASuspendedMembersInvoicesStillIssue) {
  const v1::Plan desk = MakePlan("loc-mad", 15000);
  ASSERT_TRUE(Sign("c-1", desk.plan_id()).ok());  // 2026-05-20
  ASSERT_TRUE(Buy("c-1", MakeProduct(v1::ONE_OFF, 1500).product_id()).ok());
  ASSERT_TRUE(Booking(Booked("bk-1", "c-1", 2000), "bk-1", 1).ok());
  EXPECT_EQ(Waiting("c-1"), 2);

  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-1");
  Feed("customer", "c-1", 2, suspended);
  MoveTo(absl::CivilSecond(2026, 6, 20, 0, 0, 1));
  ASSERT_TRUE(app_.RunDue().ok());
  const std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 1u);  // the fee, the pass and the booking they owe
  EXPECT_EQ(invoices[0].lines_size(), 3);
  EXPECT_EQ(invoices[0].total().amount_minor(), 18500);
  EXPECT_EQ(Waiting("c-1"), 0);
}

TEST_F(BillingTest, CustomersBuyForThemselvesOnly) {
  const v1::Product pass = MakeProduct(v1::ONE_OFF, 1500);
  EXPECT_TRUE(Buy("c-1", pass.product_id(), 1, Customer("c-1")).ok());
  EXPECT_EQ(Buy("c-2", pass.product_id(), 1, Customer("c-1")).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ListInvoicesRequest theirs;
  theirs.set_customer_id("c-2");
  EXPECT_EQ(app_.ListInvoices(Customer("c-1"), theirs).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::GetInvoiceRequest get;
  get.set_invoice_id(InvoicesOf("c-1").at(0).invoice_id());
  EXPECT_TRUE(app_.GetInvoice(Customer("c-1"), get).ok());
  EXPECT_EQ(app_.GetInvoice(Customer("c-2"), get).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(app_.GetInvoice(Admin({"loc-nyc"}), get).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(BillingTest, RecurringProductsChargeEachCycleAndNeverMakeAMember) {
  const v1::Product locker = MakeProduct(v1::RECURRING, 3000);
  absl::StatusOr<v1::Purchase> p = Buy("c-1", locker.product_id());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->state(), v1::RUNNING);
  EXPECT_EQ(InvoicesOf("c-1").size(), 1u);  // a contact: the first month at once
  MoveTo(absl::CivilSecond(2026, 6, 20, 0, 0, 1));
  ASSERT_EQ(*app_.RunDue(), 1);
  EXPECT_EQ(InvoicesOf("c-1").size(), 2u);
  v1::CancelPurchaseRequest cancel;
  cancel.set_purchase_id(p->purchase_id());
  absl::StatusOr<v1::Purchase> cancelled = app_.CancelPurchase(Admin(), cancel);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), v1::CANCELLED);
  MoveTo(absl::CivilSecond(2026, 9, 1, 0, 0, 0));
  ASSERT_EQ(*app_.RunDue(), 0);
  EXPECT_EQ(InvoicesOf("c-1").size(), 2u);
  for (const std::string& type : EventTypes()) {
    EXPECT_NE(type, "ContractStarted");  // nothing a customers service would make a member of
  }
}

TEST_F(BillingTest, PaidBookingsAreChargedAndCancelledOnesVoidedOrRefunded) {
  // A contact: invoiced at once; the cancellation refunds on a new invoice.
  ASSERT_TRUE(Booking(Booked("b-1", "c-1", 2000), "b-1", 1).ok());
  ASSERT_TRUE(Booking(Booked("b-free", "c-1", 0), "b-free", 1).ok());  // credit paid it
  ASSERT_EQ(InvoicesOf("c-1").size(), 1u);
  bookings::v1::BookingCancelled cancelled;
  cancelled.set_booking_id("b-1");
  cancelled.set_customer_id("c-1");
  cancelled.set_location_id("loc-mad");
  ASSERT_TRUE(Booking(cancelled, "b-1", 2).ok());
  std::vector<v1::Invoice> invoices = InvoicesOf("c-1");
  ASSERT_EQ(invoices.size(), 2u);
  int64_t sum = 0;
  for (const v1::Invoice& inv : invoices) sum += inv.total().amount_minor();
  EXPECT_EQ(sum, 0);

  // A member: the charge waits, and the cancellation withdraws it.
  ASSERT_TRUE(Sign("c-2", MakePlan().plan_id()).ok());
  ASSERT_TRUE(Booking(Booked("b-2", "c-2", 2000), "b-2", 1).ok());
  EXPECT_EQ(Waiting("c-2"), 1);
  cancelled.set_booking_id("b-2");
  cancelled.set_customer_id("c-2");
  ASSERT_TRUE(Booking(cancelled, "b-2", 2).ok());
  EXPECT_EQ(Waiting("c-2"), 0);
  EXPECT_TRUE(InvoicesOf("c-2").empty());
}

TEST_F(BillingTest, InvoicesArePaidOrVoidedNeverEdited) {
  ASSERT_TRUE(Buy("c-1", MakeProduct(v1::ONE_OFF, 1500).product_id()).ok());
  const v1::Invoice invoice = InvoicesOf("c-1").at(0);
  v1::VoidInvoiceRequest no_reason;
  no_reason.set_invoice_id(invoice.invoice_id());
  EXPECT_EQ(app_.VoidInvoice(Admin(), no_reason).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::PayInvoiceRequest pay;
  pay.set_invoice_id(invoice.invoice_id());
  absl::StatusOr<v1::Invoice> paid = app_.PayInvoice(Admin(), pay);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->state(), v1::PAID);
  EXPECT_EQ(paid->total().amount_minor(), invoice.total().amount_minor());
  v1::VoidInvoiceRequest late = no_reason;
  late.set_reason("entered twice");
  EXPECT_EQ(app_.VoidInvoice(Admin(), late).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(InvoicesOf("c-1").at(0).state(), v1::PAID);
}

TEST_F(BillingTest, BadInputNamesEveryFieldAndChangesNothing) {
  const auto before = AllViews();
  v1::CreateProductRequest product;
  product.set_location_id("loc-mad");
  product.set_price_minor(-5);
  absl::Status bad = app_.CreateProduct(Admin(), product).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"name", "price_minor", "kind"}) {
    EXPECT_THAT(std::string(bad.message()), ::testing::HasSubstr(field));
  }
  EXPECT_EQ(Buy("c-1", "pr-unknown").status().code(), absl::StatusCode::kNotFound);
  v1::SetTaxRateRequest tax;
  tax.set_location_id("loc-mad");
  tax.set_tax_rate_ppm(-1);
  EXPECT_THAT(std::string(app_.SetTaxRate(Admin(), tax).status().message()),
              ::testing::HasSubstr("tax_rate_ppm"));
  tax.set_location_id("loc-nowhere");
  EXPECT_EQ(app_.SetTaxRate(Admin(), tax).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AllViews(), before);
  EXPECT_TRUE(EventTypes().empty());
}

TEST_F(BillingTest, RebuildingTheBillingViewsGivesIdenticalViews) {
  SetTax(200000);
  ASSERT_TRUE(Sign("c-1", MakePlan().plan_id()).ok());
  ASSERT_TRUE(Buy("c-1", MakeProduct(v1::RECURRING, 3000).product_id()).ok());
  ASSERT_TRUE(Buy("c-2", MakeProduct(v1::ONE_OFF, 1500).product_id()).ok());
  ASSERT_TRUE(Booking(Booked("b-1", "c-3", 2000), "b-1", 1).ok());
  v1::PayInvoiceRequest pay;
  pay.set_invoice_id(InvoicesOf("c-2").at(0).invoice_id());
  ASSERT_TRUE(app_.PayInvoice(Admin(), pay).ok());
  MoveTo(absl::CivilSecond(2026, 7, 1, 0, 0, 0));
  ASSERT_TRUE(app_.RunDue().ok());

  const std::map<std::string, std::string> before = AllViews();
  ASSERT_TRUE(projection::Rebuild(*store_, directory_).ok());
  EXPECT_EQ(AllViews(), before);
}

}  // namespace
}  // namespace cowork::contracts::app
