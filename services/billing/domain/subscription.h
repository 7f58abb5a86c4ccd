#ifndef COWORK_SERVICES_BILLING_DOMAIN_SUBSCRIPTION_H_
#define COWORK_SERVICES_BILLING_DOMAIN_SUBSCRIPTION_H_

// The platform subscription (SPEC "Subscription billing: active users"; the rules are written
// down in docs/DECISIONS.md "The platform subscription"):
//
//  - Each location's month closes by the clock, once it has ended in the location's time zone
//    (plus the close delay): its active users are frozen (MonthClosed) and the platform's
//    invoice for it is issued (SubscriptionInvoiceIssued), priced from the price table of the
//    location's currency: the base fee, the active users band by band, and a month's fee for
//    each add-on enabled at any moment of the month. A location's months close in order, each
//    once. Invoice numbers run 1, 2, 3, ... per operator without gaps.
//  - Payment method: a card (the processor's token, brand, last four digits and expiry; never
//    a card number: any field holding 13 to 19 digits in a row, spaces and dashes aside, is
//    refused), a direct debit mandate or manual payment. A card is removed by the clock once
//    its expiry month has ended (UTC), and that is an event.
//
// Pure functions; thread-safe. Each command is decided by a Decide overload:
//
//   ASSIGN_OR_RETURN(Events events, Decide(account, EnableAddOn{...}, now));
//   account = Apply(std::move(account), event);  // for each event

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/events.pb.h"
#include "libs/status/field_errors.h"
#include "services/billing/domain/active_users.h"
#include "services/billing/domain/state.pb.h"

namespace cowork::billing::domain {

using Events = std::vector<Event>;

// ---- prices

// The price table in `json` (PriceTable in protobuf's JSON form). INVALID_ARGUMENT naming each
// bad entry: currencies (active ISO 4217, each once), amounts (not negative), bands (up_to
// increasing, only the last without one), add-ons (ids, each once per currency).
absl::StatusOr<PriceTable> ParsePriceTable(absl::string_view json);
// The built-in table (EUR, USD, GBP and a few more), used when no file is given.
const PriceTable& DefaultPriceTable();
// The prices of `currency`; nullptr when the table has none.
const CurrencyPrices* PricesFor(const PriceTable& table, absl::string_view currency);

// The invoice lines of a month: the base fee, one line per band the active users reach, one
// per add-on charged (in the order given), and their total.
struct Priced {
  std::vector<v1::InvoiceLine> lines;
  int64_t total = 0;  // minor units
};
absl::StatusOr<Priced> PriceMonth(const CurrencyPrices& prices, int64_t active_users,
                                  const std::vector<std::string>& add_ons);

// ---- closing a month

// "YYYY-MM".
std::string FormatMonth(absl::CivilMonth month);

// The add-ons enabled at the location at any moment of `month`, sorted.
std::vector<std::string> AddOnsCharged(const AccountState& account, absl::string_view location_id,
                                       const Span& month);

// The next month of the location to close: the one after its last closed month, or `first`
// when none has closed.
absl::CivilMonth NextMonthToClose(const AccountState& account, absl::string_view location_id,
                                  absl::CivilMonth first);

// Close the location's month. The caller looks up and hands in the month's span, the
// active users and the prices.
struct CloseMonth {
  std::string operator_id;
  std::string location_id;
  absl::CivilMonth month;
  Span span;                  // the month in the location's time zone (MonthIn)
  absl::Time counted_until;   // span.to plus the close delay
  std::vector<std::string> active_users;  // customer ids, sorted
  const CurrencyPrices* prices = nullptr;  // of the location's currency
  std::string currency;
};

// MonthClosed and SubscriptionInvoiceIssued (number invoices_issued + 1), issued at `now`.
// FAILED_PRECONDITION when the month is not the location's next to close, when it has not
// ended by `now`, or when there are no prices for its currency.
absl::StatusOr<Events> Decide(const AccountState& account, const CloseMonth& command,
                              absl::Time now);

// ---- add-ons

struct EnableAddOn {
  std::string location_id;
  std::string add_on;
  const CurrencyPrices* prices = nullptr;  // of the location's currency
  std::string by;
};
struct DisableAddOn {
  std::string location_id;
  std::string add_on;
  std::string by;
};

// AddOnEnabled, or nothing when enabled already. INVALID_ARGUMENT (add_on) when the prices of
// the location's currency have no such add-on.
absl::StatusOr<Events> Decide(const AccountState& account, const EnableAddOn& command,
                              absl::Time now);
// AddOnDisabled, or nothing when not enabled.
absl::StatusOr<Events> Decide(const AccountState& account, const DisableAddOn& command,
                              absl::Time now);

// ---- payment

// True when `text` holds 13 to 19 digits in a row, single spaces or dashes between them aside.
bool LooksLikeCardNumber(absl::string_view text);

// Adds a violation per bad field of `method` (fields "method", "method.card.processor_token",
// ...), and for a card that has expired by `now`.
void CheckPaymentMethod(const v1::PaymentMethod& method, absl::Time now, FieldErrors& errors);

// The first instant (UTC) after the card's expiry month; InfiniteFuture when the account has
// no card.
absl::Time CardExpiry(const AccountState& account);

// The caller has checked `method` with CheckPaymentMethod before deciding.
struct SetPaymentMethod {
  v1::PaymentMethod method;
  std::string by;
};
struct RemovePaymentMethod {
  std::string by;
};
struct RemoveExpiredCard {};

// PaymentMethodSet (after CheckPaymentMethod).
absl::StatusOr<Events> Decide(const AccountState& account, const SetPaymentMethod& command,
                              absl::Time now);
// PaymentMethodRemoved by an admin; FAILED_PRECONDITION when there is none.
absl::StatusOr<Events> Decide(const AccountState& account, const RemovePaymentMethod& command,
                              absl::Time now);
// PaymentMethodRemoved (CARD_EXPIRED) when the account's card has expired by `now`; nothing
// otherwise.
absl::StatusOr<Events> Decide(const AccountState& account, const RemoveExpiredCard& command,
                              absl::Time now);

AccountState Apply(AccountState state, const Event& event);

}  // namespace cowork::billing::domain

#endif  // COWORK_SERVICES_BILLING_DOMAIN_SUBSCRIPTION_H_
