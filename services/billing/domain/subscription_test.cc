#include "services/billing/domain/subscription.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"

namespace cowork::billing::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone());
}

absl::TimeZone Madrid() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return tz;
}

// Folds events into the state as the App does, stamping each with `at`.
AccountState Fold(AccountState state, Events events, absl::Time at) {
  for (Event& e : events) {
    *e.mutable_occurred_at() = ToTimestamp(at);
    e.set_operator_id("op-1");
    state = Apply(std::move(state), e);
  }
  return state;
}

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

CloseMonth CloseOf(absl::CivilMonth month, std::vector<std::string> users,
                   absl::string_view location = "loc-mad") {
  const Span span = MonthIn(month, Madrid());
  return {.operator_id = "op-1",
          .location_id = std::string(location),
          .month = month,
          .span = span,
          .counted_until = span.to + absl::Minutes(15),
          .active_users = std::move(users),
          .prices = PricesFor(DefaultPriceTable(), "EUR"),
          .currency = "EUR"};
}

EnableAddOn Enable(const CurrencyPrices* prices, absl::string_view add_on,
                   absl::string_view location = "loc-mad") {
  return {.location_id = std::string(location),
          .add_on = std::string(add_on),
          .prices = prices,
          .by = "admin"};
}

DisableAddOn Disable(absl::string_view add_on, absl::string_view location = "loc-mad") {
  return {.location_id = std::string(location), .add_on = std::string(add_on), .by = "admin"};
}

// ---------------------------------------------------------------- prices

TEST(PriceTable, TheDefaultParsesAndHasTheMainCurrencies) {
  for (const char* currency : {"EUR", "USD", "GBP"}) {
    const CurrencyPrices* prices = PricesFor(DefaultPriceTable(), currency);
    ASSERT_NE(prices, nullptr) << currency;
    EXPECT_GT(prices->base_fee(), 0);
  }
  EXPECT_EQ(PricesFor(DefaultPriceTable(), "XAU"), nullptr);
}

TEST(PriceTable, EveryBadEntryIsNamed) {
  const absl::StatusOr<PriceTable> table = ParsePriceTable(R"({"currencies": [
      {"currency": "EUR", "baseFee": -1,
       "bands": [{"upTo": 50, "unitPrice": 300}, {"upTo": 40, "unitPrice": -2}, {"upTo": 9, "unitPrice": 1}],
       "addOns": [{"addOn": "a/b", "name": "X", "monthlyFee": -5}]},
      {"currency": "EUR", "baseFee": 1, "bands": [{"unitPrice": 1}]},
      {"currency": "eur", "baseFee": 1, "bands": []}]})");
  ASSERT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(table.status()),
              ::testing::UnorderedElementsAre(
                  "currencies[0].base_fee", "currencies[0].bands[1].unit_price",
                  "currencies[0].bands[1].up_to", "currencies[0].bands[2].up_to",
                  "currencies[0].add_ons[0].add_on", "currencies[0].add_ons[0].monthly_fee",
                  "currencies[1].currency", "currencies[2].currency", "currencies[2].bands"));
}

TEST(PriceTable, NotJsonIsRefused) {
  EXPECT_EQ(ParsePriceTable("currencies: EUR").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePriceTable("{}").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PriceMonth, UsersAreChargedBandByBand) {
  const CurrencyPrices& eur = *PricesFor(DefaultPriceTable(), "EUR");
  // 4900 base; 50 x 300; 10 x 200.
  absl::StatusOr<Priced> sixty = PriceMonth(eur, 60, {});
  ASSERT_TRUE(sixty.ok()) << sixty.status();
  EXPECT_EQ(sixty->total, 4900 + 50 * 300 + 10 * 200);
  ASSERT_EQ(sixty->lines.size(), 3u);
  EXPECT_EQ(sixty->lines[1].quantity(), 50);
  EXPECT_EQ(sixty->lines[1].description(), "Active users 1 to 50");
  EXPECT_EQ(sixty->lines[2].quantity(), 10);
  EXPECT_EQ(sixty->lines[2].description(), "Active users 51 to 250");
  // 300: every band.
  absl::StatusOr<Priced> many = PriceMonth(eur, 300, {"website"});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->total, 4900 + 50 * 300 + 200 * 200 + 50 * 100 + 1900);
  EXPECT_EQ(many->lines[3].description(), "Active users 251 and more");
  EXPECT_EQ(many->lines.back().add_on(), "website");
  EXPECT_EQ(many->lines.back().amount().currency(), "EUR");
  // None: the base fee only.
  absl::StatusOr<Priced> none = PriceMonth(eur, 0, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->total, 4900);
  EXPECT_EQ(none->lines.size(), 1u);
  // An add-on the currency has no price for.
  EXPECT_EQ(PriceMonth(eur, 1, {"teleporter"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------- closing

TEST(AccountDecide, CloseMonthFreezesTheCountAndNumbersInvoicesWithoutGaps) {
  AccountState account;
  const absl::CivilMonth may(2026, 5);
  const absl::Time now = Utc(2026, 6, 1, 0, 30);
  absl::StatusOr<Events> first = Decide(account, CloseOf(may, {"c-1", "c-2"}), now);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 2u);
  const v1::MonthClosed& closed = (*first)[0].month_closed();
  EXPECT_EQ(closed.month(), "2026-05");
  EXPECT_EQ(closed.active_users(), 2);
  // Madrid is UTC+2 in summer: May ends at 22:00 UTC on the 31st.
  EXPECT_EQ(FromTimestamp(closed.month_end()), Utc(2026, 5, 31, 22));
  const v1::SubscriptionInvoice& invoice =
      (*first)[1].subscription_invoice_issued().invoice();
  EXPECT_EQ(invoice.number(), 1);
  EXPECT_EQ(invoice.invoice_id(), "op-1-000001");
  EXPECT_EQ(invoice.total().amount_minor(), 4900 + 2 * 300);
  account = Fold(account, *first, now);

  // Another location: the next number.
  absl::StatusOr<Events> other = Decide(account, CloseOf(may, {"c-9"}, "loc-bcn"), now);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)[1].subscription_invoice_issued().invoice().number(), 2);
  account = Fold(account, *other, now);

  // The same month again: refused; a month skipped: refused.
  EXPECT_EQ(Decide(account, CloseOf(may, {}), now).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(account, CloseOf(may + 2, {}), Utc(2026, 8, 2)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NextMonthToClose(account, "loc-mad", absl::CivilMonth(2020, 1)), may + 1);
  EXPECT_EQ(NextMonthToClose(account, "loc-new", absl::CivilMonth(2026, 4)),
            absl::CivilMonth(2026, 4));
}

TEST(AccountDecide, CloseMonthNotBeforeTheMonthAndTheDelayHaveEnded) {
  const CloseMonth june = CloseOf(absl::CivilMonth(2026, 6), {"c-1"});
  // 23:59 local on June 30th (21:59 UTC): still June.
  EXPECT_EQ(Decide(AccountState(), june, Utc(2026, 6, 30, 21, 59)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Midnight local, but the delay has not passed.
  EXPECT_EQ(Decide(AccountState(), june, Utc(2026, 6, 30, 22, 5)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Decide(AccountState(), june, Utc(2026, 6, 30, 22, 15)).ok());
}

TEST(AccountDecide, CloseMonthWithNoPricesForTheCurrencyWaits) {
  CloseMonth c = CloseOf(absl::CivilMonth(2026, 6), {"c-1"});
  c.prices = nullptr;
  c.currency = "XOF";
  const absl::Status s = Decide(AccountState(), c, Utc(2026, 7, 2)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("XOF"));
}

// ---------------------------------------------------------------- add-ons

TEST(AccountDecide, AddOnsChargeAMonthForEachAddOnEnabledAtAnyMomentOfIt) {
  const CurrencyPrices* eur = PricesFor(DefaultPriceTable(), "EUR");
  AccountState account;
  // website: May 10th to May 12th only. mobile-app: from May 20th on.
  account = Fold(account, *Decide(account, Enable(eur, "website"), Utc(2026, 5, 10)),
                 Utc(2026, 5, 10));
  EXPECT_THAT(*Decide(account, Enable(eur, "website"), Utc(2026, 5, 11)), IsEmpty());
  account = Fold(account, *Decide(account, Disable("website"), Utc(2026, 5, 12)),
                 Utc(2026, 5, 12));
  EXPECT_THAT(*Decide(account, Disable("website"), Utc(2026, 5, 13)), IsEmpty());
  account = Fold(account, *Decide(account, Enable(eur, "mobile-app"), Utc(2026, 5, 20)),
                 Utc(2026, 5, 20));

  const Span may = MonthIn(absl::CivilMonth(2026, 5), Madrid());
  const Span june = MonthIn(absl::CivilMonth(2026, 6), Madrid());
  const Span april = MonthIn(absl::CivilMonth(2026, 4), Madrid());
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", may), ElementsAre("mobile-app", "website"));
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", june), ElementsAre("mobile-app"));
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", april), IsEmpty());
  EXPECT_THAT(AddOnsCharged(account, "loc-bcn", may), IsEmpty());

  // May's invoice has both; closing May drops website's interval, June's has mobile-app only.
  absl::StatusOr<Events> closed =
      Decide(account, CloseOf(absl::CivilMonth(2026, 5), {}), Utc(2026, 6, 2));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ((*closed)[1].subscription_invoice_issued().invoice().lines_size(), 3);
  account = Fold(account, *closed, Utc(2026, 6, 2));
  EXPECT_EQ(account.locations().at("loc-mad").add_ons(0).enabled_size(), 0);
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", june), ElementsAre("mobile-app"));
}

TEST(AccountDecide, AddOnTogglingDoesNotGrowTheStateAndAWholeMonthOffIsNotCharged) {
  const CurrencyPrices* eur = PricesFor(DefaultPriceTable(), "EUR");
  AccountState account;
  // A thousand toggles in May: one interval.
  absl::Time at = Utc(2026, 5, 1, 8);
  for (int i = 0; i < 1000; ++i) {
    account = Fold(account, *Decide(account, Enable(eur, "website"), at), at);
    at += absl::Minutes(1);
    account = Fold(account, *Decide(account, Disable("website"), at), at);
    at += absl::Minutes(1);
  }
  EXPECT_EQ(account.locations().at("loc-mad").add_ons(0).enabled_size(), 1);
  // Off from May 20th to July 5th: June is not charged, May and July are.
  account = Fold(account, *Decide(account, Enable(eur, "website"), Utc(2026, 5, 19)),
                 Utc(2026, 5, 19));
  account = Fold(account, *Decide(account, Disable("website"), Utc(2026, 5, 20)),
                 Utc(2026, 5, 20));
  account = Fold(account, *Decide(account, Enable(eur, "website"), Utc(2026, 7, 5)),
                 Utc(2026, 7, 5));
  EXPECT_EQ(account.locations().at("loc-mad").add_ons(0).enabled_size(), 2);
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", MonthIn(absl::CivilMonth(2026, 5), Madrid())),
              ElementsAre("website"));
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", MonthIn(absl::CivilMonth(2026, 6), Madrid())),
              IsEmpty());
  EXPECT_THAT(AddOnsCharged(account, "loc-mad", MonthIn(absl::CivilMonth(2026, 7), Madrid())),
              ElementsAre("website"));
}

TEST(AccountDecide, EnableAddOnOnlyThoseOfThePriceTable) {
  const absl::StatusOr<Events> events = Decide(
      AccountState(), Enable(PricesFor(DefaultPriceTable(), "EUR"), "teleporter"), Utc(2026, 5, 1));
  EXPECT_THAT(FieldsOf(events.status()), ElementsAre("add_on"));
  EXPECT_EQ(Decide(AccountState(), Enable(nullptr, "website"), Utc(2026, 5, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- payment

TEST(LooksLikeCardNumber, RunsOfThirteenToNineteenDigits) {
  EXPECT_TRUE(LooksLikeCardNumber("4111111111111111"));
  EXPECT_TRUE(LooksLikeCardNumber("4111 1111 1111 1111"));
  EXPECT_TRUE(LooksLikeCardNumber("4111-1111-1111-1111"));
  EXPECT_TRUE(LooksLikeCardNumber("tok_378282246310005"));
  EXPECT_TRUE(LooksLikeCardNumber("4000 0566 5566 5556 xyz"));
  EXPECT_FALSE(LooksLikeCardNumber("tok_1Nv0FGQ9RKHgCVdK"));
  EXPECT_FALSE(LooksLikeCardNumber("123456789012"));  // 12 digits
  EXPECT_FALSE(LooksLikeCardNumber("4242"));
  EXPECT_FALSE(LooksLikeCardNumber("4111 1111 1111 x 1111"));
}

v1::PaymentMethod GoodCard() {
  v1::PaymentMethod m;
  v1::Card* card = m.mutable_card();
  card->set_processor_token("pm_1Nv0FGQ9RKHgCVdK");
  card->set_brand("visa");
  card->set_last_four("4242");
  card->set_expiry_month(5);
  card->set_expiry_year(2027);
  return m;
}

TEST(CheckPaymentMethod, AGoodCardADirectDebitAndManualPass) {
  FieldErrors errors;
  CheckPaymentMethod(GoodCard(), Utc(2026, 11, 21), errors);
  v1::PaymentMethod debit;
  debit.mutable_direct_debit()->set_mandate_reference("MD0012AB34CD");
  debit.mutable_direct_debit()->set_bank_name("Banco Ejemplo");
  debit.mutable_direct_debit()->set_account_last_four("0123");
  CheckPaymentMethod(debit, Utc(2026, 11, 21), errors);
  v1::PaymentMethod manual;
  manual.mutable_manual();
  CheckPaymentMethod(manual, Utc(2026, 11, 21), errors);
  EXPECT_TRUE(errors.empty()) << errors.ToStatus();
}

TEST(CheckPaymentMethod, CardNumbersAnywhereAreRefusedAndEveryBadFieldNamed) {
  v1::PaymentMethod m = GoodCard();
  m.mutable_card()->set_processor_token("4111111111111111");
  m.mutable_card()->set_brand("visa 4111 1111 1111 1111");
  m.mutable_card()->set_last_four("4111111111111111");
  m.mutable_card()->set_expiry_month(13);
  FieldErrors errors;
  CheckPaymentMethod(m, Utc(2026, 11, 21), errors);
  EXPECT_THAT(FieldsOf(errors.ToStatus()),
              ElementsAre("method.card.processor_token", "method.card.brand",
                          "method.card.last_four", "method.card.expiry_month"));
  EXPECT_THAT(std::string(errors.ToStatus().message()), HasSubstr("card number"));

  v1::PaymentMethod debit;
  debit.mutable_direct_debit()->set_mandate_reference("5500 0000 0000 0004");
  debit.mutable_direct_debit()->set_account_last_four("12");
  FieldErrors debit_errors;
  CheckPaymentMethod(debit, Utc(2026, 11, 21), debit_errors);
  EXPECT_THAT(FieldsOf(debit_errors.ToStatus()),
              ElementsAre("method.direct_debit.mandate_reference",
                          "method.direct_debit.bank_name",
                          "method.direct_debit.account_last_four"));

  FieldErrors none;
  CheckPaymentMethod(v1::PaymentMethod(), Utc(2026, 11, 21), none);
  EXPECT_THAT(FieldsOf(none.ToStatus()), ElementsAre("method"));
}

TEST(CheckPaymentMethod, AnExpiredCardIsRefused) {
  v1::PaymentMethod m = GoodCard();
  m.mutable_card()->set_expiry_year(2026);
  m.mutable_card()->set_expiry_month(10);
  FieldErrors errors;
  CheckPaymentMethod(m, Utc(2026, 11, 1), errors);
  EXPECT_THAT(FieldsOf(errors.ToStatus()), ElementsAre("method.card.expiry_year"));
  FieldErrors still_good;
  CheckPaymentMethod(m, Utc(2026, 10, 31, 23, 59, 59), still_good);
  EXPECT_TRUE(still_good.empty());
}

TEST(AccountDecide, AnExpiredCardIsRemovedOnceItsMonthHasEnded) {
  AccountState account =
      Fold(AccountState(),
           *Decide(AccountState(), SetPaymentMethod{GoodCard(), "admin"}, Utc(2026, 11, 21)),
           Utc(2026, 11, 21));
  EXPECT_EQ(CardExpiry(account), Utc(2027, 6, 1));
  EXPECT_THAT(*Decide(account, RemoveExpiredCard{}, Utc(2027, 5, 31, 23, 59, 59)), IsEmpty());
  const Events removed = *Decide(account, RemoveExpiredCard{}, Utc(2027, 6, 1));
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].payment_method_removed().reason(), v1::PaymentMethodRemoved::CARD_EXPIRED);
  account = Fold(account, removed, Utc(2027, 6, 1));
  EXPECT_FALSE(account.has_payment_method());
  EXPECT_EQ(CardExpiry(account), absl::InfiniteFuture());
  EXPECT_EQ(Decide(account, RemovePaymentMethod{"admin"}, Utc(2027, 6, 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Direct debit never expires.
  v1::PaymentMethod debit;
  debit.mutable_direct_debit()->set_mandate_reference("MD1");
  account = Fold(account, *Decide(account, SetPaymentMethod{debit, "admin"}, Utc(2027, 6, 2)),
                 Utc(2027, 6, 2));
  EXPECT_THAT(*Decide(account, RemoveExpiredCard{}, Utc(2099, 1, 1)), IsEmpty());
  absl::StatusOr<Events> by_admin =
      Decide(account, RemovePaymentMethod{"admin"}, Utc(2027, 6, 2));
  ASSERT_TRUE(by_admin.ok());
  EXPECT_EQ((*by_admin)[0].payment_method_removed().reason(),
            v1::PaymentMethodRemoved::REMOVED_BY_ADMIN);
}

}  // namespace
}  // namespace cowork::billing::domain
