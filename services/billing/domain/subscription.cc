#include "services/billing/domain/subscription.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"
#include "libs/validation/validation.h"

namespace cowork::billing::domain {
namespace {

// Shorter than any calendar month in any time zone (28 days, less a clock change).
constexpr absl::Duration kShortestMonth = absl::Hours(27 * 24);

// The built-in prices: a base fee per location and month, then per active user 3.00 for the
// first 50, 2.00 for the next 200 and 1.00 beyond (in each currency's own units).
constexpr absl::string_view kDefaultPriceTable = R"json({"currencies": [
  {"currency": "EUR", "baseFee": 4900,
   "bands": [{"upTo": 50, "unitPrice": 300}, {"upTo": 250, "unitPrice": 200}, {"unitPrice": 100}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 1900},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 2900},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 9900}]},
  {"currency": "USD", "baseFee": 5500,
   "bands": [{"upTo": 50, "unitPrice": 350}, {"upTo": 250, "unitPrice": 225}, {"unitPrice": 110}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 2100},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 3200},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 10900}]},
  {"currency": "GBP", "baseFee": 4200,
   "bands": [{"upTo": 50, "unitPrice": 260}, {"upTo": 250, "unitPrice": 175}, {"unitPrice": 90}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 1600},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 2500},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 8500}]},
  {"currency": "CHF", "baseFee": 4900,
   "bands": [{"upTo": 50, "unitPrice": 300}, {"upTo": 250, "unitPrice": 200}, {"unitPrice": 100}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 1900},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 2900},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 9900}]},
  {"currency": "CAD", "baseFee": 7500,
   "bands": [{"upTo": 50, "unitPrice": 450}, {"upTo": 250, "unitPrice": 300}, {"unitPrice": 150}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 2900},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 4400},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 14900}]},
  {"currency": "AUD", "baseFee": 8000,
   "bands": [{"upTo": 50, "unitPrice": 500}, {"upTo": 250, "unitPrice": 330}, {"unitPrice": 165}],
   "addOns": [{"addOn": "website", "name": "Website and online shop", "monthlyFee": 3100},
              {"addOn": "access-control", "name": "Door access control", "monthlyFee": 4700},
              {"addOn": "mobile-app", "name": "Branded mobile app", "monthlyFee": 15900}]}
]})json";

v1::InvoiceLine Line(v1::InvoiceLine::Kind kind, std::string description, int64_t quantity,
                     int64_t unit_price, const std::string& currency) {
  v1::InvoiceLine line;
  line.set_kind(kind);
  line.set_description(std::move(description));
  line.set_quantity(quantity);
  *line.mutable_unit_price() = MoneyOf(unit_price, currency);
  *line.mutable_amount() = MoneyOf(quantity * unit_price, currency);
  return line;
}

const AddOnState* FindAddOn(const AccountState& account, absl::string_view location_id,
                            absl::string_view add_on) {
  auto it = account.locations().find(std::string(location_id));
  if (it == account.locations().end()) return nullptr;
  for (const AddOnState& a : it->second.add_ons()) {
    if (a.add_on() == add_on) return &a;
  }
  return nullptr;
}

bool IsEnabled(const AddOnState* a) {
  return a != nullptr && a->enabled_size() > 0 && !a->enabled(a->enabled_size() - 1).has_to();
}

bool AllDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// A processor's reference (a token, a mandate id): 1..200 printable ASCII characters, no
// spaces, and no card number.
void CheckReference(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  if (value.empty() || value.size() > 200 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    errors.Add(std::string(field), "must be 1..200 printable ASCII characters without spaces");
  } else if (LooksLikeCardNumber(value)) {
    errors.Add(std::string(field),
               "must not hold a card number: give the payment processor's reference");
  }
}

void CheckLastFour(absl::string_view value, absl::string_view field, FieldErrors& errors) {
  if (LooksLikeCardNumber(value)) {
    errors.Add(std::string(field), "must be the last four digits only, never a card number");
  } else if (value.size() != 4 || !AllDigits(value)) {
    errors.Add(std::string(field), "must be 4 digits");
  }
}

// A label (a brand, a bank name) that must not hold a card number either.
void CheckShown(absl::string_view value, absl::string_view field, int max, FieldErrors& errors) {
  if (LooksLikeCardNumber(value)) {
    errors.Add(std::string(field), "must not hold a card number");
    return;
  }
  validation::CheckLabel(value, field, max, errors);
}

}  // namespace

// ---------------------------------------------------------------- prices

absl::StatusOr<PriceTable> ParsePriceTable(absl::string_view json) {
  PriceTable table;
  const auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json), &table);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("price table: ", std::string(parsed.message())));
  }
  FieldErrors errors;
  std::set<std::string> currencies;
  for (int i = 0; i < table.currencies_size(); ++i) {
    const CurrencyPrices& c = table.currencies(i);
    const std::string at = absl::StrCat("currencies[", i, "]");
    validation::CheckCurrency(c.currency(), at + ".currency", errors);
    if (!currencies.insert(c.currency()).second) {
      errors.Add(at + ".currency", "appears twice");
    }
    if (c.base_fee() < 0) errors.Add(at + ".base_fee", "must not be negative");
    if (c.bands().empty()) errors.Add(at + ".bands", "must have at least one band");
    int64_t up_to = 0;
    for (int b = 0; b < c.bands_size(); ++b) {
      const Band& band = c.bands(b);
      const std::string bat = absl::StrCat(at, ".bands[", b, "]");
      if (band.unit_price() < 0) errors.Add(bat + ".unit_price", "must not be negative");
      const bool last = b + 1 == c.bands_size();
      if (last && band.up_to() != 0) {
        errors.Add(bat + ".up_to", "the last band takes every user left: leave up_to out");
      } else if (!last && band.up_to() <= up_to) {
        errors.Add(bat + ".up_to", "must be more than the band before's");
      }
      up_to = band.up_to();
    }
    std::set<std::string> add_ons;
    for (int a = 0; a < c.add_ons_size(); ++a) {
      const AddOnPrice& add_on = c.add_ons(a);
      const std::string aat = absl::StrCat(at, ".add_ons[", a, "]");
      validation::CheckId(add_on.add_on(), aat + ".add_on", errors);
      if (!add_ons.insert(add_on.add_on()).second) errors.Add(aat + ".add_on", "appears twice");
      validation::CheckLabel(add_on.name(), aat + ".name", 100, errors);
      if (add_on.monthly_fee() < 0) errors.Add(aat + ".monthly_fee", "must not be negative");
    }
  }
  if (table.currencies().empty()) errors.Add("currencies", "must have at least one currency");
  if (!errors.empty()) return errors.ToStatus();
  return table;
}

const PriceTable& DefaultPriceTable() {
  static const PriceTable* const table = new PriceTable(*ParsePriceTable(kDefaultPriceTable));
  return *table;
}

const CurrencyPrices* PricesFor(const PriceTable& table, absl::string_view currency) {
  for (const CurrencyPrices& c : table.currencies()) {
    if (c.currency() == currency) return &c;
  }
  return nullptr;
}

absl::StatusOr<Priced> PriceMonth(const CurrencyPrices& prices, int64_t active_users,
                                  const std::vector<std::string>& add_ons) {
  const std::string& currency = prices.currency();
  Priced out;
  out.lines.push_back(
      Line(v1::InvoiceLine::LINE_BASE_FEE, "Base fee", 1, prices.base_fee(), currency));
  int64_t below = 0;  // users charged in the bands before
  for (const Band& band : prices.bands()) {
    if (below >= active_users) break;
    const int64_t upto = band.up_to() == 0 ? active_users : std::min(band.up_to(), active_users);
    const std::string range = band.up_to() == 0 ? absl::StrCat(below + 1, " and more")
                                                : absl::StrCat(below + 1, " to ", band.up_to());
    out.lines.push_back(Line(v1::InvoiceLine::LINE_ACTIVE_USERS,
                             absl::StrCat("Active users ", range), upto - below,
                             band.unit_price(), currency));
    below = upto;
  }
  for (const std::string& id : add_ons) {
    const AddOnPrice* price = nullptr;
    for (const AddOnPrice& a : prices.add_ons()) {
      if (a.add_on() == id) price = &a;
    }
    if (price == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("the ", currency, " prices have no add-on ", id));
    }
    v1::InvoiceLine line = Line(v1::InvoiceLine::LINE_ADD_ON, absl::StrCat("Add-on: ", price->name()),
                                1, price->monthly_fee(), currency);
    line.set_add_on(id);
    out.lines.push_back(std::move(line));
  }
  for (const v1::InvoiceLine& line : out.lines) out.total += line.amount().amount_minor();
  return out;
}

// ---------------------------------------------------------------- closing a month

std::string FormatMonth(absl::CivilMonth month) { return absl::FormatCivilTime(month); }

std::vector<std::string> AddOnsCharged(const AccountState& account, absl::string_view location_id,
                                       const Span& month) {
  std::vector<std::string> out;
  auto it = account.locations().find(std::string(location_id));
  if (it == account.locations().end()) return out;
  for (const AddOnState& a : it->second.add_ons()) {
    for (const Interval& i : a.enabled()) {
      const Span enabled = {FromTimestamp(i.from()),
                            i.has_to() ? FromTimestamp(i.to()) : absl::InfiniteFuture()};
      if (!Intersect(enabled, month).empty()) {
        out.push_back(a.add_on());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::CivilMonth NextMonthToClose(const AccountState& account, absl::string_view location_id,
                                  absl::CivilMonth first) {
  auto it = account.locations().find(std::string(location_id));
  absl::CivilMonth last;
  if (it == account.locations().end() || it->second.last_closed_month().empty() ||
      !absl::ParseCivilTime(it->second.last_closed_month(), &last)) {
    return first;
  }
  return last + 1;
}

absl::StatusOr<Events> Decide(const AccountState& account, const CloseMonth& c, absl::Time now) {
  if (NextMonthToClose(account, c.location_id, c.month) != c.month) {
    return absl::FailedPreconditionError(absl::StrCat(
        "month ", FormatMonth(c.month), " of location ", c.location_id, " is not the next to close"));
  }
  if (now < c.counted_until || c.counted_until < c.span.to) {
    return absl::FailedPreconditionError(
        absl::StrCat("month ", FormatMonth(c.month), " has not ended yet"));
  }
  if (c.prices == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the price table has no prices in ", c.currency, " (location ", c.location_id, ")"));
  }
  const int64_t count = static_cast<int64_t>(c.active_users.size());
  const std::vector<std::string> add_ons = AddOnsCharged(account, c.location_id, c.span);
  absl::StatusOr<Priced> priced = PriceMonth(*c.prices, count, add_ons);
  if (!priced.ok()) return priced.status();

  Events events(2);
  v1::MonthClosed* closed = events[0].mutable_month_closed();
  closed->set_location_id(c.location_id);
  closed->set_month(FormatMonth(c.month));
  closed->set_active_users(count);
  *closed->mutable_counted_until() = ToTimestamp(c.counted_until);
  *closed->mutable_month_start() = ToTimestamp(c.span.from);
  *closed->mutable_month_end() = ToTimestamp(c.span.to);
  // users_digest is the App's (it hashes the ids).

  v1::SubscriptionInvoice* invoice =
      events[1].mutable_subscription_invoice_issued()->mutable_invoice();
  const int64_t number = account.invoices_issued() + 1;
  invoice->set_invoice_id(absl::StrFormat("%s-%06d", c.operator_id, number));
  invoice->set_number(number);
  invoice->set_location_id(c.location_id);
  invoice->set_month(FormatMonth(c.month));
  invoice->set_active_users(count);
  for (v1::InvoiceLine& line : priced->lines) *invoice->add_lines() = std::move(line);
  *invoice->mutable_total() = MoneyOf(priced->total, c.prices->currency());
  *invoice->mutable_issue_time() = ToTimestamp(now);
  return events;
}

// ---------------------------------------------------------------- add-ons

absl::StatusOr<Events> Decide(const AccountState& account, const EnableAddOn& command,
                              absl::Time) {
  const CurrencyPrices* prices = command.prices;
  const bool priced =
      prices != nullptr &&
      std::any_of(prices->add_ons().begin(), prices->add_ons().end(),
                  [&](const AddOnPrice& a) { return a.add_on() == command.add_on; });
  if (!priced) {
    FieldErrors errors;
    errors.Add("add_on", absl::StrCat("unknown add-on \"", command.add_on,
                                      "\" for the location's currency"));
    return errors.ToStatus();
  }
  if (IsEnabled(FindAddOn(account, command.location_id, command.add_on))) return Events{};
  Events events(1);
  v1::AddOnEnabled* e = events[0].mutable_add_on_enabled();
  e->set_location_id(command.location_id);
  e->set_add_on(command.add_on);
  e->set_by(command.by);
  return events;
}

absl::StatusOr<Events> Decide(const AccountState& account, const DisableAddOn& command,
                              absl::Time) {
  if (!IsEnabled(FindAddOn(account, command.location_id, command.add_on))) return Events{};
  Events events(1);
  v1::AddOnDisabled* e = events[0].mutable_add_on_disabled();
  e->set_location_id(command.location_id);
  e->set_add_on(command.add_on);
  e->set_by(command.by);
  return events;
}

// ---------------------------------------------------------------- payment

bool LooksLikeCardNumber(absl::string_view text) {
  int digits = 0;
  bool separated = false;  // the character before was a space or a dash after a digit
  for (char c : text) {
    if (absl::ascii_isdigit(c)) {
      if (++digits >= 13) return true;
      separated = false;
    } else if ((c == ' ' || c == '-') && digits > 0 && !separated) {
      separated = true;
    } else {
      digits = 0;
      separated = false;
    }
  }
  return false;
}

void CheckPaymentMethod(const v1::PaymentMethod& method, absl::Time now, FieldErrors& errors) {
  switch (method.method_case()) {
    case v1::PaymentMethod::kCard: {
      const v1::Card& card = method.card();
      CheckReference(card.processor_token(), "method.card.processor_token", errors);
      CheckShown(card.brand(), "method.card.brand", 30, errors);
      CheckLastFour(card.last_four(), "method.card.last_four", errors);
      const bool month_ok = card.expiry_month() >= 1 && card.expiry_month() <= 12;
      const bool year_ok = card.expiry_year() >= 2000 && card.expiry_year() <= 2200;
      if (!month_ok) errors.Add("method.card.expiry_month", "must be 1..12");
      if (!year_ok) errors.Add("method.card.expiry_year", "must be a year, e.g. 2028");
      if (month_ok && year_ok) {
        const absl::CivilMonth after =
            absl::CivilMonth(card.expiry_year(), card.expiry_month()) + 1;
        if (absl::FromCivil(after, absl::UTCTimeZone()) <= now) {
          errors.Add("method.card.expiry_year", "the card has expired");
        }
      }
      break;
    }
    case v1::PaymentMethod::kDirectDebit: {
      const v1::DirectDebit& debit = method.direct_debit();
      CheckReference(debit.mandate_reference(), "method.direct_debit.mandate_reference", errors);
      CheckShown(debit.bank_name(), "method.direct_debit.bank_name", 100, errors);
      CheckLastFour(debit.account_last_four(), "method.direct_debit.account_last_four", errors);
      break;
    }
    case v1::PaymentMethod::kManual:
      break;
    default:
      errors.Add("method", "is required: card, direct_debit or manual");
  }
}

absl::Time CardExpiry(const AccountState& account) {
  if (!account.payment_method().has_card()) return absl::InfiniteFuture();
  const v1::Card& card = account.payment_method().card();
  return absl::FromCivil(absl::CivilMonth(card.expiry_year(), card.expiry_month()) + 1,
                         absl::UTCTimeZone());
}

absl::StatusOr<Events> Decide(const AccountState&, const SetPaymentMethod& command,
                              absl::Time) {
  Events events(1);
  v1::PaymentMethodSet* e = events[0].mutable_payment_method_set();
  *e->mutable_method() = command.method;
  e->set_by(command.by);
  return events;
}

absl::StatusOr<Events> Decide(const AccountState& account, const RemovePaymentMethod& command,
                              absl::Time) {
  if (account.payment_method().method_case() == v1::PaymentMethod::METHOD_NOT_SET) {
    return absl::FailedPreconditionError("there is no payment method to remove");
  }
  Events events(1);
  v1::PaymentMethodRemoved* e = events[0].mutable_payment_method_removed();
  e->set_reason(v1::PaymentMethodRemoved::REMOVED_BY_ADMIN);
  e->set_by(command.by);
  return events;
}

absl::StatusOr<Events> Decide(const AccountState& account, const RemoveExpiredCard&,
                              absl::Time now) {
  if (CardExpiry(account) > now) return Events{};
  Events events(1);
  events[0].mutable_payment_method_removed()->set_reason(v1::PaymentMethodRemoved::CARD_EXPIRED);
  return events;
}

// ---------------------------------------------------------------- apply

AccountState Apply(AccountState state, const Event& event) {
  state.set_operator_id(event.operator_id());
  auto add_on_at = [&state](const std::string& location_id,
                            const std::string& add_on) -> AddOnState& {
    LocationAccount& location = (*state.mutable_locations())[location_id];
    for (AddOnState& a : *location.mutable_add_ons()) {
      if (a.add_on() == add_on) return a;
    }
    AddOnState* a = location.add_add_ons();
    a->set_add_on(add_on);
    return *a;
  };
  switch (event.payload_case()) {
    case Event::kMonthClosed: {
      const v1::MonthClosed& e = event.month_closed();
      LocationAccount& location = (*state.mutable_locations())[e.location_id()];
      location.set_last_closed_month(e.month());
      // Intervals over by the month's end can charge no later month.
      const absl::Time end = FromTimestamp(e.month_end());
      for (AddOnState& a : *location.mutable_add_ons()) {
        auto* enabled = a.mutable_enabled();
        enabled->erase(std::remove_if(enabled->begin(), enabled->end(),
                                      [end](const Interval& i) {
                                        return i.has_to() && FromTimestamp(i.to()) <= end;
                                      }),
                       enabled->end());
      }
      break;
    }
    case Event::kSubscriptionInvoiceIssued:
      state.set_invoices_issued(event.subscription_invoice_issued().invoice().number());
      break;
    case Event::kAddOnEnabled: {
      const v1::AddOnEnabled& e = event.add_on_enabled();
      AddOnState& a = add_on_at(e.location_id(), e.add_on());
      // A month is charged when any interval meets it, and no month fits in a gap shorter
      // than kShortestMonth: closing such a gap charges the same months and keeps the list
      // from growing with every toggle.
      if (a.enabled_size() > 0) {
        Interval& last = *a.mutable_enabled(a.enabled_size() - 1);
        if (last.has_to() && FromTimestamp(event.occurred_at()) - FromTimestamp(last.to()) <
                                 kShortestMonth) {
          last.clear_to();
          break;
        }
      }
      *a.add_enabled()->mutable_from() = event.occurred_at();
      break;
    }
    case Event::kAddOnDisabled: {
      const v1::AddOnDisabled& e = event.add_on_disabled();
      AddOnState& a = add_on_at(e.location_id(), e.add_on());
      if (a.enabled_size() > 0) {
        *a.mutable_enabled(a.enabled_size() - 1)->mutable_to() = event.occurred_at();
      }
      break;
    }
    case Event::kPaymentMethodSet:
      *state.mutable_payment_method() = event.payment_method_set().method();
      break;
    case Event::kPaymentMethodRemoved:
      state.clear_payment_method();
      break;
    default:
      break;
  }
  return state;
}

}  // namespace cowork::billing::domain
