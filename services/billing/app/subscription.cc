#include "services/billing/app/subscription.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/runtime/scheduler.h"
#include "libs/server/logging.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/billing/projection/account.h"
#include "services/billing/projection/keys.h"
#include "unicode/ucurr.h"

namespace cowork::billing::app {

namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::WriteSet;

// The account as `p` may see it: all of it for an admin of every location; for an admin of
// some, only those locations' add-ons (the payment method and the invoice count are the
// operator's, which GetAccount shows to admins of every location only).
v1::Account AccountOf(const auth::Principal& p, const domain::AccountState& s) {
  v1::Account out;
  out.set_operator_id(p.operator_id);
  const bool whole = auth::RequireAdmin(p, auth::kPlatformInvoices, "").ok();
  if (whole && s.has_payment_method()) *out.mutable_payment_method() = s.payment_method();
  if (whole) out.set_invoices_issued(s.invoices_issued());
  const std::map<std::string, domain::LocationAccount> locations(s.locations().begin(),
                                                                 s.locations().end());
  for (const auto& [location_id, location] : locations) {
    if (!auth::RequireAdmin(p, auth::kPlatformInvoices, location_id).ok()) continue;
    std::vector<std::string> enabled;
    for (const domain::AddOnState& a : location.add_ons()) {
      if (a.enabled_size() > 0 && !a.enabled(a.enabled_size() - 1).has_to()) {
        enabled.push_back(a.add_on());
      }
    }
    if (enabled.empty()) continue;
    std::sort(enabled.begin(), enabled.end());
    v1::LocationAddOns* add_ons = out.add_add_ons();
    add_ons->set_location_id(location_id);
    for (std::string& id : enabled) add_ons->add_add_ons(std::move(id));
  }
  return out;
}

// minor units -> "1234.50" with the currency's usual number of decimals (ICU).
std::string FormatAmount(int64_t minor, absl::string_view currency) {
  std::u16string code(currency.begin(), currency.end());
  UErrorCode status = U_ZERO_ERROR;
  int digits = ucurr_getDefaultFractionDigits(code.c_str(), &status);
  if (U_FAILURE(status) || digits < 0 || digits > 4) digits = 2;
  if (digits == 0) return absl::StrCat(minor);
  int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  const int64_t magnitude = minor < 0 ? -minor : minor;
  return absl::StrFormat("%s%d.%0*d", minor < 0 ? "-" : "", magnitude / scale, digits,
                         magnitude % scale);
}

// A CSV field: quoted, with quotes doubled.
std::string Csv(absl::string_view field) {
  return absl::StrCat("\"", absl::StrReplaceAll(field, {{"\"", "\"\""}}), "\"");
}

}  // namespace

Subscription::Subscription(eventstore::Store& store, const directory::Directory& directory,
                           const Clock& clock, const App& counts, Options options)
    : store_(store),
      directory_(directory),
      clock_(clock),
      counts_(counts),
      options_(std::move(options)) {}

// ---------------------------------------------------------------- commands

absl::StatusOr<Decided<domain::AccountState>> Subscription::Stage(
    absl::string_view operator_id, absl::string_view request_id, absl::string_view location_id,
    const Decide& decide) {
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::AccountState> before,
                          projection::LoadAccount(store_, operator_id));
  COWORK_ASSIGN_OR_RETURN(domain::Events events, decide(before.state));
  WriteSet writes;
  domain::AccountState after = projection::StageAccount(
      eventstore::CommandContext(projection::kService, operator_id, request_id, clock_.Now()),
      before, location_id, std::move(events), writes);
  return Decided<domain::AccountState>{std::move(writes), std::move(after)};
}

absl::StatusOr<domain::AccountState> Subscription::Change(absl::string_view operator_id,
                                                          absl::string_view method,
                                                          absl::string_view location_id,
                                                          const Decide& decide) {
  return eventstore::ExecuteUnrecorded<domain::AccountState>(
      store_, method, [&] { return Stage(operator_id, "", location_id, decide); });
}

absl::StatusOr<v1::Account> Subscription::Command(const auth::Principal& p,
                                                  absl::string_view method,
                                                  const google::protobuf::Message& request,
                                                  absl::string_view location_id,
                                                  const Decide& decide) {
  const eventstore::Request asked = runtime::RequestOf(p, method, request);
  COWORK_ASSIGN_OR_RETURN(
      const domain::AccountState after,
      eventstore::Execute<domain::AccountState>(
          store_, asked,
          [&] { return Stage(p.operator_id, asked.request_id, location_id, decide); },
          [&](const domain::AccountState&) {
            return auth::RequireAdmin(p, auth::kPlatformInvoices, location_id);
          }));
  return AccountOf(p, after);
}

absl::StatusOr<v1::Account> Subscription::GetAccount(const auth::Principal& p,
                                                     const v1::GetAccountRequest&) const {
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, ""));
  COWORK_ASSIGN_OR_RETURN(const Loaded<domain::AccountState> account,
                          projection::LoadAccount(store_, p.operator_id));
  return AccountOf(p, account.state);
}

absl::StatusOr<v1::Account> Subscription::SetPaymentMethod(const auth::Principal& p,
                                                           const v1::SetPaymentMethodRequest& r) {
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  domain::CheckPaymentMethod(r.method(), clock_.Now(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, ""));
  return Command(p, "SetPaymentMethod", r, "",
                 [&](const domain::AccountState& s) -> absl::StatusOr<domain::Events> {
                   return domain::Decide(s, domain::SetPaymentMethod{r.method(), p.subject},
                                         clock_.Now());
                 });
}

absl::StatusOr<v1::Account> Subscription::RemovePaymentMethod(
    const auth::Principal& p, const v1::RemovePaymentMethodRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, ""));
  return Command(p, "RemovePaymentMethod", r, "",
                 [&](const domain::AccountState& s) {
                   return domain::Decide(s, domain::RemovePaymentMethod{p.subject},
                                         clock_.Now());
                 });
}

absl::StatusOr<v1::Account> Subscription::EnableAddOn(const auth::Principal& p,
                                                      const v1::EnableAddOnRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      r.request_id(), {{"location_id", r.location_id()}, {"add_on", r.add_on()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  const domain::CurrencyPrices* prices = domain::PricesFor(options_.prices, location.currency);
  return Command(p, "EnableAddOn", r, r.location_id(),
                 [&](const domain::AccountState& s) {
                   return domain::Decide(s,
                                         domain::EnableAddOn{.location_id = r.location_id(),
                                                             .add_on = r.add_on(),
                                                             .prices = prices,
                                                             .by = p.subject},
                                         clock_.Now());
                 });
}

absl::StatusOr<v1::Account> Subscription::DisableAddOn(const auth::Principal& p,
                                                       const v1::DisableAddOnRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      r.request_id(), {{"location_id", r.location_id()}, {"add_on", r.add_on()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  return Command(p, "DisableAddOn", r, r.location_id(),
                 [&](const domain::AccountState& s) -> absl::StatusOr<domain::Events> {
                   return domain::Decide(s,
                                         domain::DisableAddOn{.location_id = r.location_id(),
                                                              .add_on = r.add_on(),
                                                              .by = p.subject},
                                         clock_.Now());
                 });
}

// ---------------------------------------------------------------- invoices

absl::StatusOr<v1::ListSubscriptionInvoicesResponse> Subscription::ListSubscriptionInvoices(
    const auth::Principal& p, const v1::ListSubscriptionInvoicesRequest& r) const {
  FieldErrors errors;
  validation::CheckId(r.location_id(), "location_id", errors, /*required=*/false);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  // Without a location: every location the token covers.
  COWORK_RETURN_IF_ERROR(r.location_id().empty()
                             ? auth::RequirePermission(p, auth::kPlatformInvoices)
                             : auth::RequireAdmin(p, auth::kPlatformInvoices, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<v1::SubscriptionInvoice> page,
      runtime::PageFor<v1::SubscriptionInvoice>(
          store_, p, projection::InvoicesPrefix(p.operator_id), r.page_token(), r.page_size(),
          eventstore::kMaxScan, [&r](const v1::SubscriptionInvoice& i) {
            return r.location_id().empty() || i.location_id() == r.location_id();
          }));
  v1::ListSubscriptionInvoicesResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_invoices(), out);
  return out;
}

absl::StatusOr<v1::SubscriptionInvoice> Subscription::InvoiceFor(
    const auth::Principal& p, absl::string_view invoice_id) const {
  FieldErrors errors;
  validation::CheckId(invoice_id, "invoice_id", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kPlatformInvoices));
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("subscription invoice ", invoice_id, " not found"));
  // "<operator>-<number>": only the caller's operator's invoices exist for them.
  int64_t number = 0;
  if (!absl::StartsWith(invoice_id, absl::StrCat(p.operator_id, "-")) ||
      !absl::SimpleAtoi(invoice_id.substr(p.operator_id.size() + 1), &number) || number <= 0 ||
      number > projection::kMaxInvoiceNumber) {
    return not_found;
  }
  COWORK_ASSIGN_OR_RETURN(std::optional<v1::SubscriptionInvoice> invoice,
                          eventstore::ReadView<v1::SubscriptionInvoice>(
                              store_, projection::InvoiceKey(p.operator_id, number)));
  if (!invoice.has_value() || invoice->invoice_id() != invoice_id) return not_found;
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdmin(p, auth::kPlatformInvoices, invoice->location_id()));
  return *std::move(invoice);
}

absl::StatusOr<v1::SubscriptionInvoice> Subscription::GetSubscriptionInvoice(
    const auth::Principal& p, const v1::GetSubscriptionInvoiceRequest& r) const {
  return InvoiceFor(p, r.invoice_id());
}

absl::StatusOr<v1::InvoiceDocument> Subscription::DownloadSubscriptionInvoice(
    const auth::Principal& p, const v1::DownloadSubscriptionInvoiceRequest& r) const {
  COWORK_ASSIGN_OR_RETURN(const v1::SubscriptionInvoice invoice, InvoiceFor(p, r.invoice_id()));
  const std::string& currency = invoice.total().currency();
  std::string location_name = invoice.location_id();
  if (absl::StatusOr<directory::LocationInfo> location =
          directory_.FindLocation(p.operator_id, invoice.location_id());
      location.ok()) {
    location_name = location->name;
  }
  std::string csv = absl::StrCat(
      "\"Invoice\",", Csv(invoice.invoice_id()), "\r\n",
      "\"Number\",", invoice.number(), "\r\n",
      "\"Operator\",", Csv(p.operator_id), "\r\n",
      "\"Location\",", Csv(location_name), "\r\n",
      "\"Month\",", Csv(invoice.month()), "\r\n",
      "\"Issued\",", Csv(absl::FormatTime(absl::RFC3339_sec, FromTimestamp(invoice.issue_time()),
                                         absl::UTCTimeZone())),
      "\r\n", "\"Active users\",", invoice.active_users(), "\r\n", "\r\n",
      "\"Description\",\"Quantity\",\"Unit price\",\"Amount\",\"Currency\"\r\n");
  for (const v1::InvoiceLine& line : invoice.lines()) {
    absl::StrAppend(&csv, Csv(line.description()), ",", line.quantity(), ",",
                    FormatAmount(line.unit_price().amount_minor(), currency), ",",
                    FormatAmount(line.amount().amount_minor(), currency), ",", Csv(currency),
                    "\r\n");
  }
  absl::StrAppend(&csv, "\"Total\",,,", FormatAmount(invoice.total().amount_minor(), currency),
                  ",", Csv(currency), "\r\n");
  v1::InvoiceDocument out;
  out.set_filename(absl::StrCat(invoice.invoice_id(), ".csv"));
  out.set_content_type("text/csv; charset=utf-8");
  out.set_content(std::move(csv));
  return out;
}

// ---------------------------------------------------------------- the clock

absl::StatusOr<int> Subscription::CloseMonths(absl::string_view operator_id,
                                              absl::string_view location_id,
                                              absl::CivilMonth first_month, absl::Time now,
                                              const std::function<bool()>& ready) {
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(operator_id, location_id));
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
  COWORK_ASSIGN_OR_RETURN(const Loaded<domain::AccountState> account,
                          projection::LoadAccount(store_, operator_id));
  int closed = 0;
  for (absl::CivilMonth month = domain::NextMonthToClose(account.state, location_id, first_month);
       ; ++month) {
    const domain::Span span = domain::MonthIn(month, tz);
    const absl::Time counted_until = span.to + options_.close_delay;
    if (counted_until > now || !ready()) break;
    COWORK_ASSIGN_OR_RETURN(const std::vector<domain::ActiveUser> users,
                            counts_.activity().ActiveUsersAt(location, tz, month, counted_until));
    std::vector<std::string> ids;
    ids.reserve(users.size());
    for (const domain::ActiveUser& u : users) ids.push_back(u.customer_id);  // sorted
    const domain::CloseMonth closing = {
        .operator_id = std::string(operator_id),
        .location_id = location.location_id,
        .month = month,
        .span = span,
        .counted_until = counted_until,
        .active_users = ids,
        .prices = domain::PricesFor(options_.prices, location.currency),
        .currency = location.currency};
    COWORK_RETURN_IF_ERROR(
        Change(operator_id, "CloseMonth", location_id,
               [&](const domain::AccountState& s) -> absl::StatusOr<domain::Events> {
                 // Closed meanwhile (another pass): nothing to do.
                 if (domain::NextMonthToClose(s, location_id, first_month) != month) {
                   return domain::Events();
                 }
                 COWORK_ASSIGN_OR_RETURN(domain::Events events, domain::Decide(s, closing, now));
                 events[0].mutable_month_closed()->set_users_digest(
                     crypto::Sha256Hex(absl::StrCat(absl::StrJoin(ids, "\n"), "\n")));
                 return events;
               })
            .status());
    server::LogJson("info", "month closed",
                    {{"operator", std::string(operator_id)},
                     {"location", std::string(location_id)},
                     {"month", domain::FormatMonth(month)},
                     {"active_users", absl::StrCat(ids.size())}});
    ++closed;
  }
  return closed;
}

absl::StatusOr<int> Subscription::RunDue() {
  const absl::Time now = clock_.Now();
  // Expired cards ("card/<op>").
  COWORK_ASSIGN_OR_RETURN(
      int changed,
      runtime::RunDueIndex(store_, now, [&](absl::string_view rest) -> absl::StatusOr<bool> {
        if (!absl::StartsWith(rest, "card/")) return false;
        const std::string op(rest.substr(5));
        COWORK_ASSIGN_OR_RETURN(const domain::AccountState after,
                                Change(op, "RemoveExpiredCard", "",
                                       [&](const domain::AccountState& s) -> absl::StatusOr<domain::Events> {
                                         return domain::Decide(s, domain::RemoveExpiredCard{},
                                                               now);
                                       }));
        return !after.has_payment_method();
      }));
  // Months: only once the projection has caught up with the topics (asked once per pass, and
  // only when a month is due).
  std::optional<bool> caught_up;
  auto ready = [&] {
    if (!caught_up.has_value()) caught_up = options_.caught_up();
    return *caught_up;
  };
  absl::Status first_error;
  COWORK_RETURN_IF_ERROR(counts_.activity().ForEachLocation(
      [&](absl::string_view op, absl::string_view location, absl::CivilMonth first) {
        // One location's failure (no prices for its currency) holds up only that location.
        absl::StatusOr<int> closed = CloseMonths(op, location, first, now, ready);
        if (closed.ok()) {
          changed += *closed;
        } else if (first_error.ok()) {
          first_error = absl::Status(closed.status().code(),
                                     absl::StrCat("location ", location, ": ",
                                                  closed.status().message()));
        }
        return absl::OkStatus();
      }));
  COWORK_RETURN_IF_ERROR(first_error);
  return changed;
}

// ---------------------------------------------------------------- rebuild

absl::Status Subscription::Rebuild() { return projection::RebuildAccounts(store_); }

}  // namespace cowork::billing::app
