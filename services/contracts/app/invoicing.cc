// The application layer's invoicing half: products, purchases, charges (also from the bookings
// events), accounts and invoices. See app.h for the rules and the views.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/money/money.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/contracts/app/app.h"
#include "services/contracts/app/internal.h"
#include "services/contracts/projection/projection.h"
#include "services/contracts/domain/product.h"

namespace cowork::contracts::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::PageOf;
using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;
using namespace projection;  // NOLINT: this service's keys, views, loading and staging

}  // namespace

// ---------------------------------------------------------------- products

absl::StatusOr<v1::Product> App::CreateProduct(const auth::Principal& p,
                                               const v1::CreateProductRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  return eventstore::Execute<v1::Product>(
      store_, runtime::RequestOf(p, "CreateProduct", r),
      [&]() -> absl::StatusOr<Decided<v1::Product>> {
        const std::string id = crypto::NewId("pr-");
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::Decide(domain::ProductState{},
                                               domain::CreateProduct{.product_id = id,
                                                                     .location_id = r.location_id(),
                                                                     .currency = location.currency,
                                                                     .name = r.name(),
                                                                     .price_minor = r.price_minor(),
                                                                     .kind = r.kind(),
                                                                     .cycle = r.cycle()},
                                               clock_.Now()));
        WriteSet writes;
        v1::Product product = StageProduct(Context(p.operator_id, r.request_id(), clock_.Now()),
                                           Loaded<domain::ProductState>(), id, r.location_id(),
                                           std::move(events), writes);
        return Decided<v1::Product>{std::move(writes), std::move(product)};
      },
      runtime::AdminAtAnswer<v1::Product>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Product> App::GetProduct(const auth::Principal& p,
                                            const v1::GetProductRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"product_id", r.product_id()}}));
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Product> product,
      eventstore::ReadView<v1::Product>(store_, ProductKey(p.operator_id, r.product_id())));
  if (!product.has_value()) {
    return absl::NotFoundError(absl::StrCat("product ", r.product_id(), " not found"));
  }
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kContractsRead, product->location_id()));
  return *std::move(product);
}

absl::StatusOr<v1::ListProductsResponse> App::ListProducts(
    const auth::Principal& p, const v1::ListProductsRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kContractsRead, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Product> page,
      runtime::PageFor<v1::Product>(store_, p, ProductsAtPrefix(p.operator_id, r.location_id()),
                           r.page_token(), r.page_size()));
  v1::ListProductsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_products(), out);
  return out;
}

// ---------------------------------------------------------------- purchases

absl::StatusOr<v1::Purchase> App::Buy(const auth::Principal& p,
                                      const v1::BuyRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"customer_id", r.customer_id()},
                                                   {"product_id", r.product_id()}}));
  if (p.is_customer()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsWrite, "", r.customer_id()));
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  }
  return eventstore::Execute<v1::Purchase>(
      store_, runtime::RequestOf(p, "Buy", r),
      [&]() -> absl::StatusOr<Decided<v1::Purchase>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ProductState> product,
                                ProductOf(store_, p.operator_id, r.product_id()));
        const std::string& location_id = product.state.location_id();
        if (p.is_admin()) {
          COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, location_id));
        }
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, location_id));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
        COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                                directory_.GetCustomer(p.operator_id, r.customer_id()));
        const absl::Time now = clock_.Now();
        const absl::CivilDay today = calendar::Today(now, tz);
        const std::string id = crypto::NewId("pu-");
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::Decide(domain::PurchaseState{},
                                               domain::BuyProduct{
                                                   .purchase_id = id,
                                                   .customer_id = r.customer_id(),
                                                   .customer = CustomerInfoOf(standing),
                                                   .product = &product.state,
                                                   .quantity = r.quantity(),
                                                   .today = today},
                                               now));
        const eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id(), now);
        WriteSet writes;
        const domain::PurchaseState after =
            StagePurchase(context, Loaded<domain::PurchaseState>(), id, location_id, tz,
                          std::move(events), writes);
        COWORK_ASSIGN_OR_RETURN(const std::string payer,
                                PayerOf(directory_, p.operator_id, r.customer_id()));
        COWORK_ASSIGN_OR_RETURN(Books books, OpenBooks(store_, location, payer));
        COWORK_RETURN_IF_ERROR(
            Charge(store_, books, {domain::PurchaseCharge(after, today)}, today));
        COWORK_RETURN_IF_ERROR(StageBooks(context, books, store_, writes));
        return Decided<v1::Purchase>{std::move(writes), PurchaseView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Purchase>(p, auth::kContractsWrite), kBillingAttempts);
}

absl::StatusOr<v1::Purchase> App::CancelPurchase(const auth::Principal& p,
                                                 const v1::CancelPurchaseRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"purchase_id", r.purchase_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot cancel");
  return eventstore::Execute<v1::Purchase>(
      store_, runtime::RequestOf(p, "CancelPurchase", r),
      [&]() -> absl::StatusOr<Decided<v1::Purchase>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PurchaseState> before,
                                PurchaseOf(store_, p.operator_id, r.purchase_id()));
        const domain::PurchaseState& s = before.state;
        if (p.is_customer() && p.subject != s.customer_id()) {
          return absl::NotFoundError(absl::StrCat("purchase ", r.purchase_id(), " not found"));
        }
        COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsWrite,
                                                        s.location_id(), s.customer_id()));
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, s.location_id()));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(s,
                           domain::CancelPurchase{
                               .end_date = r.has_end_date() ? &r.end_date() : nullptr,
                               .today = calendar::Today(now, tz)},
                           now));
        WriteSet writes;
        const domain::PurchaseState after =
            StagePurchase(Context(p.operator_id, r.request_id(), now), before, r.purchase_id(),
                          s.location_id(), tz, std::move(events), writes);
        return Decided<v1::Purchase>{std::move(writes), PurchaseView(after)};
      },
      runtime::AdminAtAnswerOrSelf<v1::Purchase>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Purchase> App::GetPurchase(const auth::Principal& p,
                                              const v1::GetPurchaseRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"purchase_id", r.purchase_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read purchases");
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Purchase> purchase,
      eventstore::ReadView<v1::Purchase>(store_, PurchaseKey(p.operator_id, r.purchase_id())));
  if (!purchase.has_value() || (p.is_customer() && p.subject != purchase->customer_id())) {
    return absl::NotFoundError(absl::StrCat("purchase ", r.purchase_id(), " not found"));
  }
  COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsRead,
                                                  purchase->location_id(),
                                                  purchase->customer_id()));
  return *std::move(purchase);
}

absl::StatusOr<v1::ListPurchasesResponse> App::ListPurchases(
    const auth::Principal& p, const v1::ListPurchasesRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"customer_id", r.customer_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kContractsRead, r.customer_id()));
  COWORK_ASSIGN_OR_RETURN(PageOf<v1::Purchase> page,
                          runtime::PageFor<v1::Purchase>(store_, p,
                                                PurchasesOfPrefix(p.operator_id, r.customer_id()),
                                                r.page_token(), r.page_size()));
  v1::ListPurchasesResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_purchases(), out);
  return out;
}

absl::StatusOr<bool> App::TickPurchase(absl::string_view op, absl::string_view purchase_id) {
  bool changed = false;
  COWORK_RETURN_IF_ERROR(
      eventstore::ExecuteUnrecorded<v1::Purchase>(
          store_, "Tick",
          [&]() -> absl::StatusOr<Decided<v1::Purchase>> {
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::PurchaseState> before,
                                    PurchaseOf(store_, op, purchase_id));
            const domain::PurchaseState& s = before.state;
            COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                    directory_.FindLocation(op, s.location_id()));
            COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
            const absl::Time now = clock_.Now();
            const absl::CivilDay today = calendar::Today(now, tz);
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                domain::Decide(s, domain::RenewPurchase{.today = today}, now));
            changed = !events.empty();
            std::vector<v1::Charge> charges;
            for (const domain::Event& e : events) {
              charges.push_back(domain::PurchaseCharge(
                  s, *FromDate(e.purchase_renewed().period_start())));
            }
            const eventstore::EnvelopeContext context = Context(op, "", now);
            WriteSet writes;
            const domain::PurchaseState after = StagePurchase(
                context, before, purchase_id, s.location_id(), tz, std::move(events), writes);
            if (!charges.empty()) {
              COWORK_ASSIGN_OR_RETURN(const std::string payer,
                                      PayerOf(directory_, op, s.customer_id()));
              COWORK_ASSIGN_OR_RETURN(Books books, OpenBooks(store_, location, payer));
              COWORK_RETURN_IF_ERROR(Charge(store_, books, charges, today));
              COWORK_RETURN_IF_ERROR(StageBooks(context, books, store_, writes));
            }
            return Decided<v1::Purchase>{std::move(writes), PurchaseView(after)};
          },
          kBillingAttempts)
          .status());
  return changed;
}

// ---------------------------------------------------------------- bookings

absl::Status App::OnBookingCreated(const common::v1::EventEnvelope& envelope,
                                   const bookings::v1::BookingCreated& e, WriteSet& writes) {
  if (e.charge().amount_minor() == 0) return absl::OkStatus();  // credit or a free resource
  const std::string& op = envelope.operator_id();
  absl::StatusOr<directory::LocationInfo> location = directory_.FindLocation(op, e.location_id());
  // The customers events may not have brought the location yet: try again later.
  if (absl::IsNotFound(location.status())) return absl::UnavailableError(location.status().message());
  COWORK_RETURN_IF_ERROR(location.status());
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(*location));
  v1::Charge charge;
  charge.set_charge_id(absl::StrCat("booking/", e.booking_id()));
  charge.set_customer_id(e.customer_id());
  charge.set_description(absl::StrCat(
      "Booking of ", e.resource_name().empty() ? e.resource_id() : e.resource_name(), " on ",
      absl::FormatTime("%Y-%m-%d %H:%M", FromTimestamp(e.start_time()), tz)));
  *charge.mutable_amount() = e.charge();
  const absl::CivilDay today = calendar::Today(clock_.Now(), tz);
  *charge.mutable_day() = ToDate(calendar::Today(FromTimestamp(envelope.occurred_at()), tz));
  COWORK_ASSIGN_OR_RETURN(const std::string payer, PayerOf(directory_, op, e.customer_id()));
  COWORK_ASSIGN_OR_RETURN(Books books, OpenBooks(store_, *location, payer));
  COWORK_RETURN_IF_ERROR(Charge(store_, books, {charge}, today));
  return StageBooks(EventContext(envelope, clock_.Now()), books, store_, writes);
}

absl::Status App::OnBookingCancelled(const common::v1::EventEnvelope& envelope,
                                     const bookings::v1::BookingCancelled& e, WriteSet& writes) {
  const std::string& op = envelope.operator_id();
  const std::string charge_id = absl::StrCat("booking/", e.booking_id());
  COWORK_ASSIGN_OR_RETURN(std::optional<domain::ChargeIndex> index,
                          eventstore::ReadView<domain::ChargeIndex>(store_, ChargeKey(op, charge_id)));
  if (!index.has_value()) return absl::OkStatus();  // nothing was charged
  const std::vector<std::string> account = absl::StrSplit(index->account_id(), ':');
  if (account.size() != 2) return absl::InternalError("bad account id in the charge index");
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(op, account[0]));
  COWORK_ASSIGN_OR_RETURN(Books books, OpenBooks(store_, location, account[1]));
  if (!books.ledger.Void(charge_id)) {
    // Invoiced already: an invoice is never edited, so the refund goes on the next one.
    v1::Charge refund = index->charge();
    refund.set_charge_id(absl::StrCat(charge_id, "/refund"));
    refund.set_description(absl::StrCat("Refund: ", refund.description()));
    refund.mutable_amount()->set_amount_minor(-refund.amount().amount_minor());
    COWORK_RETURN_IF_ERROR(
        Charge(store_, books, {refund}, calendar::Today(clock_.Now(), books.tz)));
  }
  return StageBooks(EventContext(envelope, clock_.Now()), books, store_, writes);
}

// ---------------------------------------------------------------- invoices

absl::StatusOr<v1::TaxRate> App::SetTaxRate(const auth::Principal& p,
                                             const v1::SetTaxRateRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  return eventstore::Execute<v1::TaxRate>(
      store_, runtime::RequestOf(p, "SetTaxRate", r),
      [&]() -> absl::StatusOr<Decided<v1::TaxRate>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::InvoiceBookState> book,
                                BookOf(store_, p.operator_id, r.location_id()));
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(book.state,
                           domain::SetTaxRate{.location_id = r.location_id(),
                                              .tax_rate_ppm = r.tax_rate_ppm()},
                           clock_.Now()));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(StageBook(Context(p.operator_id, r.request_id(), clock_.Now()),
                                         book, r.location_id(), std::move(events), store_,
                                         writes));
        v1::TaxRate out;
        out.set_location_id(r.location_id());
        out.set_tax_rate_ppm(r.tax_rate_ppm());
        return Decided<v1::TaxRate>{std::move(writes), std::move(out)};
      },
      runtime::AdminAtAnswer<v1::TaxRate>(p, auth::kContractsWrite), kBillingAttempts);
}

absl::StatusOr<v1::TaxRate> App::GetTaxRate(const auth::Principal& p,
                                            const v1::GetTaxRateRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kContractsRead, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::InvoiceBookState> book,
                          BookOf(store_, p.operator_id, r.location_id()));
  v1::TaxRate out;
  out.set_location_id(r.location_id());
  out.set_tax_rate_ppm(book.state.tax_rate_ppm());
  return out;
}

absl::StatusOr<v1::InvoicingPreference> App::SetInvoicingPreference(
    const auth::Principal& p, const v1::SetInvoicingPreferenceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"customer_id", r.customer_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                          directory_.GetCustomer(p.operator_id, r.customer_id()));
  if (!standing.has_value()) {
    return absl::NotFoundError(absl::StrCat("customer ", r.customer_id(), " not found"));
  }
  return eventstore::Execute<v1::InvoicingPreference>(
      store_, runtime::RequestOf(p, "SetInvoicingPreference", r),
      [&]() -> absl::StatusOr<Decided<v1::InvoicingPreference>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::BillingState> billing,
                                eventstore::LoadState<domain::BillingState>(
                                    store_, kBillingAggregate, r.customer_id()));
        WriteSet writes;
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(billing.state,
                           domain::SetInvoicingPreference{
                               .customer_id = r.customer_id(),
                               .invoice_as_they_buy = r.invoice_as_they_buy()},
                           clock_.Now()));
        eventstore::Stage(Context(p.operator_id, r.request_id(), clock_.Now()),
                          kBillingAggregate, r.customer_id(), "", billing,
                          std::move(events),
                          kTopic, writes);
        v1::InvoicingPreference out;
        out.set_customer_id(r.customer_id());
        out.set_invoice_as_they_buy(r.invoice_as_they_buy());
        return Decided<v1::InvoicingPreference>{std::move(writes), std::move(out)};
      },
      [&](const v1::InvoicingPreference&) {
        return auth::RequirePermission(p, auth::kContractsWrite);
      });
}

absl::StatusOr<v1::Account> App::GetAccount(const auth::Principal& p,
                                            const v1::GetAccountRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"customer_id", r.customer_id()},
                                       {"location_id", r.location_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read accounts");
  COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsRead, r.location_id(),
                                                  r.customer_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Account> account,
      eventstore::ReadView<v1::Account>(
          store_, AccountKey(p.operator_id, r.location_id(), r.customer_id())));
  if (account.has_value()) return *std::move(account);
  v1::Account empty;
  empty.set_customer_id(r.customer_id());
  empty.set_location_id(r.location_id());
  *empty.mutable_uninvoiced_total() = MoneyOf(0, location.currency);
  return empty;
}

absl::StatusOr<v1::Invoice> App::GetInvoice(const auth::Principal& p,
                                            const v1::GetInvoiceRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"invoice_id", r.invoice_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read invoices");
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Invoice> invoice,
      eventstore::ReadView<v1::Invoice>(store_, InvoiceKey(p.operator_id, r.invoice_id())));
  if (!invoice.has_value() || (p.is_customer() && p.subject != invoice->customer_id())) {
    return absl::NotFoundError(absl::StrCat("invoice ", r.invoice_id(), " not found"));
  }
  COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsRead,
                                                  invoice->location_id(),
                                                  invoice->customer_id()));
  return *std::move(invoice);
}

absl::StatusOr<v1::ListInvoicesResponse> App::ListInvoices(
    const auth::Principal& p, const v1::ListInvoicesRequest& r) const {
  COWORK_ASSIGN_OR_RETURN(
      const bool by_customer,
      CheckCustomerOrLocationListing(p, r.customer_id(), r.location_id(), "invoices"));
  const std::string prefix = by_customer ? InvoicesOfPrefix(p.operator_id, r.customer_id())
                                         : InvoicesAtPrefix(p.operator_id, r.location_id());
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Invoice> page,
      runtime::PageFor<v1::Invoice>(store_, p, prefix, r.page_token(), r.page_size()));
  v1::ListInvoicesResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_invoices(), out);
  return out;
}

// PayInvoice and VoidInvoice: load the invoice and its book, decide, stage on the book.
absl::StatusOr<v1::Invoice> App::ChangeInvoice(
    const auth::Principal& p, absl::string_view method, const google::protobuf::Message& request,
    absl::string_view request_id, absl::string_view invoice_id,
    absl::FunctionRef<absl::StatusOr<domain::Events>(const v1::InvoiceIssued&,
                                                     domain::InvoiceStatus)>
        decide) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(request_id, {{"invoice_id", invoice_id}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Invoice>(
      store_, runtime::RequestOf(p, method, request),
      [&]() -> absl::StatusOr<Decided<v1::Invoice>> {
        COWORK_ASSIGN_OR_RETURN(
            std::optional<v1::Invoice> invoice,
            eventstore::ReadView<v1::Invoice>(store_, InvoiceKey(p.operator_id, invoice_id)));
        if (!invoice.has_value()) {
          return absl::NotFoundError(absl::StrCat("invoice ", invoice_id, " not found"));
        }
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kContractsWrite, invoice->location_id()));
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::InvoiceBookState> book,
                                BookOf(store_, p.operator_id, invoice->location_id()));
        v1::InvoiceIssued issued;
        issued.set_invoice_id(invoice->invoice_id());
        issued.set_location_id(invoice->location_id());
        issued.set_customer_id(invoice->customer_id());
        issued.set_number(invoice->number());
        const domain::InvoiceStatus status =
            invoice->state() == v1::PAID     ? domain::InvoiceStatus::kPaid
            : invoice->state() == v1::VOIDED ? domain::InvoiceStatus::kVoided
                                             : domain::InvoiceStatus::kIssued;
        COWORK_ASSIGN_OR_RETURN(domain::Events events, decide(issued, status));
        for (const domain::Event& e : events) ApplyToInvoice(*invoice, e);
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(StageBook(Context(p.operator_id, request_id, clock_.Now()), book,
                                         invoice->location_id(), std::move(events), store_,
                                         writes));
        return Decided<v1::Invoice>{std::move(writes), *std::move(invoice)};
      },
      runtime::AdminAtAnswer<v1::Invoice>(p, auth::kContractsWrite), kBillingAttempts);
}

absl::StatusOr<v1::Invoice> App::PayInvoice(const auth::Principal& p,
                                            const v1::PayInvoiceRequest& r) {
  return ChangeInvoice(p, "PayInvoice", r, r.request_id(), r.invoice_id(),
                       [this](const v1::InvoiceIssued& invoice, domain::InvoiceStatus status) {
                         return domain::Decide(domain::InvoiceState{invoice, status},
                                               domain::PayInvoice{}, clock_.Now());
                       });
}

absl::StatusOr<v1::Invoice> App::VoidInvoice(const auth::Principal& p,
                                             const v1::VoidInvoiceRequest& r) {
  return ChangeInvoice(p, "VoidInvoice", r, r.request_id(), r.invoice_id(),
                       [this, &r](const v1::InvoiceIssued& invoice, domain::InvoiceStatus status) {
                         return domain::Decide(domain::InvoiceState{invoice, status},
                                               domain::VoidInvoice{r.reason()}, clock_.Now());
                       });
}

}  // namespace cowork::contracts::app
