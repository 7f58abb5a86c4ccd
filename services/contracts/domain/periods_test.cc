// Billing periods, proration, tax, products, purchases and the ledger (charges, invoices,
// gapless numbers).

#include "services/contracts/domain/periods.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "services/contracts/domain/contract.h"
#include "services/contracts/domain/invoice.h"
#include "services/contracts/domain/product.h"

namespace cowork::contracts::domain {
namespace {

using ::testing::HasSubstr;

const absl::CivilDay kToday(2026, 5, 20);
const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 5, 20, 9, 0, 0),
                                        absl::UTCTimeZone());

// ---------------------------------------------------------------- periods and money

TEST(Periods, ThePlansCycleChoosesTheCalendarsPeriods) {
  // Unspecified is monthly (libs/calendar tests the periods themselves).
  EXPECT_EQ(PeriodAt(kToday, v1::BILLING_CYCLE_UNSPECIFIED, 1).first, absl::CivilDay(2026, 6, 20));
  EXPECT_EQ(PeriodAt(kToday, v1::MONTHLY, 1).first, absl::CivilDay(2026, 6, 20));
  EXPECT_EQ(PeriodAt(kToday, v1::WEEKLY, 1).first, absl::CivilDay(2026, 5, 27));
  EXPECT_EQ(PeriodAt(kToday, v1::YEARLY, 1).first, absl::CivilDay(2027, 5, 20));
}

TEST(Money, ProrationRoundsHalfUp) {
  EXPECT_EQ(Prorate(15000, 31, 31), 15000);
  EXPECT_EQ(Prorate(10000, 1, 3), 3333);   // 3333.33
  EXPECT_EQ(Prorate(10000, 2, 3), 6667);   // 6666.67
  EXPECT_EQ(Prorate(5, 1, 2), 3);          // 2.5 rounds up
  EXPECT_EQ(Prorate(0, 10, 30), 0);
}

TEST(Money, TaxRoundsHalfAwayFromZero) {
  EXPECT_EQ(TaxOf(10000, 210000), 2100);   // 21%
  EXPECT_EQ(TaxOf(1, 500000), 1);          // 0.5 -> 1
  EXPECT_EQ(TaxOf(-1, 500000), -1);        // refunds mirror charges
  EXPECT_EQ(TaxOf(999, 77000), 77);        // 76.923
  EXPECT_EQ(TaxOf(1'000'000'000'000'000, 1'000'000), 1'000'000'000'000'000);  // no overflow
  EXPECT_FALSE(CheckedAdd(INT64_MAX, 1).has_value());
}

// ---------------------------------------------------------------- contract periods

ContractState Running(absl::CivilDay start, int64_t price, const absl::CivilDay* end = nullptr) {
  ContractState c;
  c.set_contract_id("ct-1");
  c.set_customer_id("c-1");
  c.set_location_id("loc-1");
  *c.mutable_start_date() = ToDate(start);
  if (end != nullptr) *c.mutable_end_date() = ToDate(*end);
  c.set_phase(ContractState::ACTIVE);
  c.set_started(true);
  c.set_price_minor(price);
  c.set_currency("EUR");
  c.set_cycle(v1::MONTHLY);
  return c;
}

TEST(ContractBilling, APeriodIsInvoicedTheDayAfterItEnds) {
  const ContractState c = Running(absl::CivilDay(2026, 1, 31), 15000);
  EXPECT_TRUE(DuePeriods(c, absl::CivilDay(2026, 2, 27)).empty());  // its last day
  const std::vector<DuePeriod> due = DuePeriods(c, absl::CivilDay(2026, 2, 28));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].fee, 15000);
  EXPECT_FALSE(due[0].prorated);
  EXPECT_EQ(NextBoundary(c), absl::CivilDay(2026, 2, 28));
}

TEST(ContractBilling, AnOutageClosesEveryMissedPeriodInOrder) {
  const ContractState c = Running(absl::CivilDay(2026, 1, 15), 100);
  const std::vector<DuePeriod> due = DuePeriods(c, absl::CivilDay(2026, 4, 20));
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[2].period.first, absl::CivilDay(2026, 3, 15));
  EXPECT_EQ(due[2].period.last, absl::CivilDay(2026, 4, 14));
}

TEST(ContractBilling, TheLastPeriodCutShortIsProratedByDays) {
  const absl::CivilDay end(2026, 3, 10);
  ContractState c = Running(absl::CivilDay(2026, 3, 1), 31000, &end);
  const std::vector<DuePeriod> due = DuePeriods(c, absl::CivilDay(2026, 3, 11));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].period.last, end);
  EXPECT_EQ(due[0].fee, 10000);  // 10 of 31 days
  EXPECT_TRUE(due[0].prorated);
  c = Apply(std::move(c), PeriodClosed(c, due[0], "in-1"));
  EXPECT_TRUE(DuePeriods(c, absl::CivilDay(2027, 1, 1)).empty());
}

TEST(ContractBilling, AContractThatNeverStartedIsNeverInvoiced) {
  ContractState c = Running(kToday, 100);
  c.set_started(false);
  c.set_phase(ContractState::ENDED);
  EXPECT_TRUE(DuePeriods(c, kToday + 400).empty());
}

// ---------------------------------------------------------------- products and purchases

ProductState Product(v1::ProductKind kind, int64_t price) {
  ProductState p;
  p.set_product_id("pr-1");
  p.set_location_id("loc-1");
  p.set_name("Day pass");
  p.set_price_minor(price);
  p.set_currency("EUR");
  p.set_kind(kind);
  if (kind == v1::RECURRING) p.set_cycle(v1::MONTHLY);
  return p;
}

PurchaseState Bought(const ProductState& product, int32_t quantity = 1) {
  absl::StatusOr<Events> events = Decide(PurchaseState{},
                                         BuyProduct{.purchase_id = "pu-1",
                                                    .customer_id = "c-1",
                                                    .customer = {.known = true},
                                                    .product = &product,
                                                    .quantity = quantity,
                                                    .today = kToday},
                                         kNow);
  EXPECT_TRUE(events.ok()) << events.status();
  PurchaseState s;
  for (const Event& e : events.value_or(Events{})) s = Apply(std::move(s), e);
  return s;
}

TEST(ProductDecide, BadProductsNameEveryField) {
  absl::StatusOr<Events> bad = Decide(
      ProductState{},
      CreateProduct{.name = " ", .price_minor = -1, .kind = v1::PRODUCT_KIND_UNSPECIFIED}, kNow);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"name", "price_minor", "kind"}) {
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(field));
  }
  absl::StatusOr<Events> cycle = Decide(
      ProductState{},
      CreateProduct{.name = "Pass", .price_minor = 0, .kind = v1::ONE_OFF, .cycle = v1::WEEKLY},
      kNow);
  EXPECT_THAT(std::string(cycle.status().message()), HasSubstr("cycle"));
  absl::StatusOr<Events> free_locker = Decide(
      ProductState{}, CreateProduct{.name = "Locker", .price_minor = 0, .kind = v1::RECURRING},
      kNow);
  ASSERT_TRUE(free_locker.ok());
  EXPECT_EQ((*free_locker)[0].product_created().cycle(), v1::MONTHLY);
}

TEST(PurchaseDecide, OneOffChargesQuantityTimesPrice) {
  const PurchaseState s = Bought(Product(v1::ONE_OFF, 1500), 3);
  const v1::Charge charge = PurchaseCharge(s, kToday);
  EXPECT_EQ(charge.amount().amount_minor(), 4500);
  EXPECT_EQ(charge.description(), "3 x Day pass");
  EXPECT_FALSE(NextRenewal(s).has_value());
  EXPECT_EQ(Decide(s, CancelPurchase{.today = kToday}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PurchaseDecide, RefusalsForQuantityAndCustomers) {
  const ProductState pass = Product(v1::ONE_OFF, 1500);
  const ProductState locker = Product(v1::RECURRING, 3000);
  auto buy = [&](const ProductState& p, int32_t quantity, CustomerInfo customer) {
    return Decide(PurchaseState{},
                  BuyProduct{.purchase_id = "pu-1", .customer_id = "c-1", .customer = customer,
                             .product = &p, .quantity = quantity, .today = kToday},
                  kNow)
        .status();
  };
  EXPECT_EQ(buy(pass, 1001, {.known = true}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(buy(pass, -1, {.known = true}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(buy(locker, 2, {.known = true}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(buy(pass, 1, {}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(buy(pass, 1, {.known = true, .suspended = true}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(buy(pass, 1, {.known = true, .erased = true}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PurchaseDecide, RecurringRenewsEachCycleUntilCancelled) {
  PurchaseState s = Bought(Product(v1::RECURRING, 3000));
  EXPECT_EQ(s.periods_charged(), 1);  // the first cycle is charged at purchase
  EXPECT_EQ(NextRenewal(s), absl::CivilDay(2026, 6, 20));
  EXPECT_TRUE(Decide(s, RenewPurchase{.today = absl::CivilDay(2026, 6, 19)}, kNow)->empty());
  // After an outage:
  const Events two = *Decide(s, RenewPurchase{.today = absl::CivilDay(2026, 7, 25)}, kNow);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(FromDate(two[1].purchase_renewed().period_start()), absl::CivilDay(2026, 7, 20));
  for (const Event& e : two) s = Apply(std::move(s), e);

  const google::type::Date before_today = ToDate(kToday - 1);
  const CancelPurchase too_early{.end_date = &before_today, .today = kToday};
  EXPECT_EQ(Decide(s, too_early, kNow).status().code(), absl::StatusCode::kInvalidArgument);
  const google::type::Date end = ToDate(absl::CivilDay(2026, 8, 19));
  absl::StatusOr<Events> cancelled =
      Decide(s, CancelPurchase{.end_date = &end, .today = kToday}, kNow);
  ASSERT_TRUE(cancelled.ok());
  s = Apply(std::move(s), (*cancelled)[0]);
  EXPECT_FALSE(NextRenewal(s).has_value());  // the next cycle would start after the end
  EXPECT_TRUE(Decide(s, RenewPurchase{.today = absl::CivilDay(2027, 1, 1)}, kNow)->empty());
  EXPECT_EQ(Decide(s, CancelPurchase{.today = kToday}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------- the ledger

v1::Charge ChargeOf(const std::string& id, int64_t amount, const std::string& who = "c-1") {
  v1::Charge c;
  c.set_charge_id(id);
  c.set_customer_id(who);
  c.set_description(id);
  c.mutable_amount()->set_amount_minor(amount);
  c.mutable_amount()->set_currency("EUR");
  return c;
}

InvoiceBookState Book(int64_t last, int64_t rate) {
  InvoiceBookState b;
  b.set_location_id("loc-1");
  b.set_last_number(last);
  b.set_tax_rate_ppm(rate);
  return b;
}

TEST(Ledger, InvoiceTotalsTaxOnceOnTheSubtotal) {
  Ledger ledger({}, Book(41, 210000), "c-1", "loc-1", "EUR");
  ledger.Record(ChargeOf("a", 333));
  ledger.Record(ChargeOf("b", 333));
  ledger.Record(ChargeOf("a", 333));  // the same charge again: once
  ledger.Record(ChargeOf("free", 0));  // nothing to invoice
  v1::InvoiceLine fee;
  fee.mutable_amount()->set_amount_minor(1000);
  absl::StatusOr<std::optional<v1::InvoiceIssued>> issued =
      ledger.Issue("in-1", {fee}, /*take_charges=*/true, kToday);
  ASSERT_TRUE(issued.ok() && issued->has_value());
  const v1::InvoiceIssued& invoice = **issued;
  EXPECT_EQ(invoice.number(), 42);
  EXPECT_EQ(invoice.lines_size(), 3);
  EXPECT_EQ(invoice.subtotal().amount_minor(), 1666);
  EXPECT_EQ(invoice.tax().amount_minor(), 350);  // 349.86
  EXPECT_EQ(invoice.total().amount_minor(), 2016);
  EXPECT_EQ(invoice.total().currency(), "EUR");
  EXPECT_FALSE(ledger.has_waiting_charges());
  ASSERT_EQ(ledger.account_events().size(), 3u);  // two recorded, then invoiced
  EXPECT_EQ(ledger.account_events()[2].charges_invoiced().charge_ids_size(), 2);
}

TEST(Ledger, NumbersFollowEachOtherWithinOneCommand) {
  Ledger ledger({}, Book(0, 0), "c-1", "loc-1", "EUR");
  v1::InvoiceLine line;
  line.mutable_amount()->set_amount_minor(5);
  std::vector<int64_t> numbers;
  for (int i = 0; i < 3; ++i) {
    numbers.push_back(ledger.Issue(absl::StrCat("in-", i), {line}, false, kToday)
                          .value()
                          ->number());
  }
  EXPECT_THAT(numbers, ::testing::ElementsAre(1, 2, 3));
  // Nothing owed: no invoice, no number used.
  v1::InvoiceLine zero;
  EXPECT_FALSE(ledger.Issue("in-z", {zero}, true, kToday).value().has_value());
  EXPECT_EQ(ledger.book_events().size(), 3u);
}

TEST(Ledger, ManyChargesMakeSeveralInvoicesNumberedInARow) {
  Ledger ledger({}, Book(9, 0), "c-1", "loc-1", "EUR");
  const int charges = 2 * kMaxInvoiceLines + 3;
  for (int i = 0; i < charges; ++i) ledger.Record(ChargeOf(absl::StrCat("ch-", i), 100));
  int next_id = 0;
  ASSERT_TRUE(ledger.IssueWaiting([&] { return absl::StrCat("in-", next_id++); }, kToday).ok());
  EXPECT_FALSE(ledger.has_waiting_charges());
  std::vector<int64_t> numbers;
  std::vector<int> lines;
  std::set<std::string> invoiced;
  for (const Event& e : ledger.book_events()) {
    numbers.push_back(e.invoice_issued().number());
    lines.push_back(e.invoice_issued().lines_size());
    for (const v1::InvoiceLine& line : e.invoice_issued().lines())
      invoiced.insert(line.charge_id());
  }
  EXPECT_THAT(numbers, ::testing::ElementsAre(10, 11, 12));
  EXPECT_THAT(lines, ::testing::ElementsAre(kMaxInvoiceLines, kMaxInvoiceLines, 3));
  EXPECT_EQ(invoiced.size(), static_cast<size_t>(charges));  // each once
  // With a line of its own (a plan fee) an invoice takes that many charges fewer.
  Ledger fee_first({}, Book(0, 0), "c-1", "loc-1", "EUR");
  for (int i = 0; i < kMaxInvoiceLines; ++i) fee_first.Record(ChargeOf(absl::StrCat("ch-", i), 1));
  v1::InvoiceLine fee;
  fee.mutable_amount()->set_amount_minor(1000);
  auto issued = fee_first.Issue("in-fee", {fee}, /*take_charges=*/true, kToday);
  ASSERT_TRUE(issued.ok() && issued->has_value());
  EXPECT_EQ((*issued)->lines_size(), kMaxInvoiceLines);
  EXPECT_TRUE(fee_first.has_waiting_charges());
}

TEST(Ledger, AFullInvoicesWorthOfChargesIsFull) {
  Ledger ledger({}, Book(0, 0), "c-1", "loc-1", "EUR");
  for (int i = 0; i < kMaxInvoiceLines - 1; ++i) {
    ledger.Record(ChargeOf(absl::StrCat("ch-", i), 1));
  }
  EXPECT_FALSE(ledger.full());
  ledger.Record(ChargeOf("ch-last", 1));
  EXPECT_TRUE(ledger.full());
  ASSERT_TRUE(ledger.IssueWaiting([] { return std::string("in-1"); }, kToday).ok());
  EXPECT_FALSE(ledger.full());
}

TEST(Ledger, VoidOnlyWhatStillWaits) {
  Ledger ledger({}, Book(0, 0), "c-1", "loc-1", "EUR");
  ledger.Record(ChargeOf("a", 100));
  EXPECT_FALSE(ledger.Void("unknown"));
  EXPECT_TRUE(ledger.Void("a"));
  EXPECT_FALSE(ledger.has_waiting_charges());
  EXPECT_FALSE(ledger.Void("a"));
}

TEST(InvoiceDecide, PaidOrVoidedNeverBoth) {
  v1::InvoiceIssued invoice;
  invoice.set_invoice_id("in-1");
  invoice.set_number(7);
  const InvoiceState issued{invoice, InvoiceStatus::kIssued};
  const InvoiceState paid{invoice, InvoiceStatus::kPaid};
  const InvoiceState voided{invoice, InvoiceStatus::kVoided};
  EXPECT_EQ(Decide(issued, PayInvoice{}, kNow)->size(), 1u);
  EXPECT_TRUE(Decide(paid, PayInvoice{}, kNow)->empty());
  EXPECT_EQ(Decide(voided, PayInvoice{}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(issued, VoidInvoice{""}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decide(issued, VoidInvoice{"duplicate"}, kNow)->size(), 1u);
  EXPECT_EQ(Decide(paid, VoidInvoice{"late"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(InvoiceBookDecide, TaxRateBounds) {
  EXPECT_EQ(Decide(InvoiceBookState{}, SetTaxRate{"loc-1", -1}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decide(InvoiceBookState{}, SetTaxRate{"loc-1", 1'000'001}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decide(InvoiceBookState{}, SetTaxRate{"loc-1", 200000}, kNow)->size(), 1u);
  EXPECT_TRUE(Decide(Book(0, 200000), SetTaxRate{"loc-1", 200000}, kNow)->empty());
}

}  // namespace
}  // namespace cowork::contracts::domain
