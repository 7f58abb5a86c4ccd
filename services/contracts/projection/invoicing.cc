#include "services/contracts/projection/projection.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/money/money.h"
#include "libs/status/macros.h"

namespace cowork::contracts::projection {

using eventstore::Space;
using eventstore::WriteViews;

// ---------------------------------------------------------------- keys and views

std::string ProductKey(absl::string_view op, absl::string_view id) {
  return absl::StrCat("product/", op, "/", id);
}
std::string ProductsAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("productloc/", op, "/", loc, "/");
}
std::string PurchaseKey(absl::string_view op, absl::string_view id) {
  return absl::StrCat("purchase/", op, "/", id);
}
std::string PurchasesOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("purchasecust/", op, "/", customer, "/");
}
std::string AccountKey(absl::string_view op, absl::string_view loc, absl::string_view customer) {
  return absl::StrCat("account/", op, "/", loc, "/", customer);
}
std::string ChargeKey(absl::string_view op, absl::string_view charge_id) {
  return absl::StrCat("charge/", op, "/", charge_id);
}
std::string InvoiceKey(absl::string_view op, absl::string_view id) {
  return absl::StrCat("invoice/", op, "/", id);
}
std::string InvoicesOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("invoicecust/", op, "/", customer, "/");
}
std::string InvoicesAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("invoiceloc/", op, "/", loc, "/");
}
// The account aggregate's id.
std::string AccountId(absl::string_view loc, absl::string_view customer) {
  return absl::StrCat(loc, ":", customer);
}

v1::Product ProductView(const domain::ProductState& s) {
  v1::Product out;
  out.set_product_id(s.product_id());
  out.set_location_id(s.location_id());
  out.set_name(s.name());
  *out.mutable_price() = MoneyOf(s.price_minor(), s.currency());
  out.set_kind(s.kind());
  out.set_cycle(s.cycle());
  *out.mutable_create_time() = s.create_time();
  return out;
}

v1::Purchase PurchaseView(const domain::PurchaseState& s) {
  v1::Purchase out;
  out.set_purchase_id(s.purchase_id());
  out.set_customer_id(s.customer_id());
  out.set_product_id(s.product_id());
  out.set_location_id(s.location_id());
  out.set_name(s.name());
  *out.mutable_unit_price() = MoneyOf(s.unit_price_minor(), s.currency());
  out.set_quantity(s.quantity());
  out.set_kind(s.kind());
  out.set_cycle(s.cycle());
  *out.mutable_start_date() = s.start_date();
  if (s.has_end_date()) *out.mutable_end_date() = s.end_date();
  out.set_state(s.kind() != v1::RECURRING ? v1::BOUGHT
                : s.has_end_date()         ? v1::CANCELLED
                                           : v1::RUNNING);
  *out.mutable_create_time() = s.create_time();
  return out;
}

// ---------------------------------------------------------------- loading

absl::StatusOr<Loaded<domain::ProductState>> ProductOf(const eventstore::Store& store,
                                                       absl::string_view op,
                                                       absl::string_view product_id) {
  return eventstore::LoadOwned<domain::ProductState>(store, kProductAggregate, op, product_id,
                                                     "product");
}

absl::StatusOr<Loaded<domain::PurchaseState>> PurchaseOf(const eventstore::Store& store,
                                                         absl::string_view op,
                                                         absl::string_view purchase_id) {
  return eventstore::LoadOwned<domain::PurchaseState>(store, kPurchaseAggregate, op,
                                                      purchase_id, "purchase");
}

absl::StatusOr<Loaded<domain::InvoiceBookState>> BookOf(const eventstore::Store& store,
                                                        absl::string_view op,
                                                        absl::string_view location_id) {
  COWORK_ASSIGN_OR_RETURN(
      Loaded<domain::InvoiceBookState> book,
      eventstore::LoadState<domain::InvoiceBookState>(store, kBookAggregate, location_id));
  if (book.version > 0 && book.state.operator_id() != op) {
    return absl::InternalError(absl::StrCat("invoice book ", location_id, " is not ", op, "'s"));
  }
  return book;
}

// Who pays what `customer_id` incurs: the paying member of the first team (in team id order)
// the customer is in that has one, else the customer.
absl::StatusOr<std::string> PayerOf(const directory::Directory& directory, absl::string_view op,
                                    absl::string_view customer_id) {
  COWORK_ASSIGN_OR_RETURN(std::vector<directory::TeamInfo> teams,
                          directory.TeamsOf(op, customer_id));
  for (const directory::TeamInfo& team : teams) {
    if (!team.paying_member_id.empty()) return team.paying_member_id;
  }
  return std::string(customer_id);
}

// Whether `customer_id` is invoiced at each charge at the location: set to be invoiced as they
// buy, or holding no running contract there (a contact has no billing cycle).
absl::StatusOr<bool> InvoicedAtOnce(const eventstore::Store& store, absl::string_view op,
                                    absl::string_view customer_id,
                                    absl::string_view location_id) {
  COWORK_ASSIGN_OR_RETURN(
      Loaded<domain::BillingState> billing,
      eventstore::LoadState<domain::BillingState>(store, kBillingAggregate, customer_id));
  if (billing.version > 0 && billing.state.operator_id() == op &&
      billing.state.invoice_as_they_buy()) {
    return true;
  }
  bool holds_contract = false;
  COWORK_RETURN_IF_ERROR(store.Scan(
      Space::kViews, absl::StrCat("contractcust/", op, "/", customer_id, "/"), "",
      [&](absl::string_view, absl::string_view value) {
        v1::Contract c;
        holds_contract = c.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
                         c.location_id() == location_id &&
                         (c.state() == v1::ACTIVE || c.state() == v1::ENDING);
        return !holds_contract;
      }));
  return !holds_contract;
}

// Records `charges` on the books, then invoices the account at once when its customer is
// invoiced as they buy, or when a full invoice's worth of charges waits (Ledger::full).
absl::Status Charge(const eventstore::Store& store, Books& books,
                    const std::vector<v1::Charge>& charges, absl::CivilDay today) {
  for (const v1::Charge& charge : charges) books.ledger.Record(charge);
  if (!books.ledger.has_waiting_charges()) return absl::OkStatus();
  if (!books.ledger.full()) {
    COWORK_ASSIGN_OR_RETURN(
        const bool at_once,
        InvoicedAtOnce(store, books.operator_id, books.customer_id, books.location_id));
    if (!at_once) return absl::OkStatus();
  }
  return books.ledger.IssueWaiting([] { return crypto::NewId("in-"); }, today);
}

// Stages `events` on the invoice book, with the invoices' views.
absl::Status StageBook(const eventstore::EnvelopeContext& context,
                       const Loaded<domain::InvoiceBookState>& book,
                       absl::string_view location_id, domain::Events events,
                       const eventstore::Store& store, WriteSet& writes) {
  for (domain::Event& e : events) {
    *e.mutable_occurred_at() = ToTimestamp(context.now);
    const std::string invoice_id = InvoiceIdOf(e);
    if (invoice_id.empty()) continue;
    v1::Invoice invoice;
    if (!e.has_invoice_issued()) {
      COWORK_ASSIGN_OR_RETURN(
          std::optional<v1::Invoice> stored,
          eventstore::ReadView<v1::Invoice>(store, InvoiceKey(context.operator_id, invoice_id)));
      if (!stored.has_value()) return absl::InternalError("invoice view missing");
      invoice = *std::move(stored);
    }
    ApplyToInvoice(invoice, e);
    WriteViews({}, InvoiceViews(context.operator_id, invoice), writes);
  }
  eventstore::Stage(context, kBookAggregate, location_id, location_id, book, std::move(events),
                    kTopic, writes);
  return absl::OkStatus();
}

// The context of the events a consumed event causes.
eventstore::EnvelopeContext EventContext(const common::v1::EventEnvelope& cause, absl::Time now) {
  return {.service = std::string(kService),
          .operator_id = cause.operator_id(),
          .correlation_id = cause.correlation_id(),
          .causation_id = cause.event_id(),
          .now = now};
}



absl::StatusOr<Books> OpenBooks(const eventstore::Store& store,
                                const directory::LocationInfo& location,
                                absl::string_view customer_id) {
  const std::string& op = location.operator_id;
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::AccountState> account,
                          eventstore::LoadState<domain::AccountState>(
                              store, kAccountAggregate,
                              AccountId(location.location_id, customer_id)));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::InvoiceBookState> book,
                          BookOf(store, op, location.location_id));
  domain::Ledger ledger(account.state, book.state, std::string(customer_id),
                        location.location_id, location.currency);
  return Books{.operator_id = op,
               .location_id = location.location_id,
               .customer_id = std::string(customer_id),
               .tz = tz,
               .account = std::move(account),
               .book = std::move(book),
               .ledger = std::move(ledger)};
}

absl::Status StageBooks(const eventstore::EnvelopeContext& context, Books& books,
                        const eventstore::Store& store, WriteSet& writes) {
  domain::Events& account_events = books.ledger.account_events();
  if (!account_events.empty()) {
    const std::string id = AccountId(books.location_id, books.customer_id);
    for (const domain::Event& e : account_events) {
      WriteViews({}, ChargeIndexViews(books.operator_id, id, e), writes);
    }
    const domain::AccountState after =
        eventstore::Stage(context, kAccountAggregate, id, books.location_id, books.account,
                          std::move(account_events), kTopic, writes);
    WriteViews(books.account.version == 0 ? Views() : AccountViews(books.account.state),
               AccountViews(after), writes);
  }
  return StageBook(context, books.book, books.location_id,
                   std::move(books.ledger.book_events()), store, writes);
}

v1::Product StageProduct(const eventstore::EnvelopeContext& context,
                         const Loaded<domain::ProductState>& before, absl::string_view product_id,
                         absl::string_view location_id, domain::Events events, WriteSet& writes) {
  const domain::ProductState after =
      eventstore::Stage(context, kProductAggregate, product_id, location_id, before,
                        std::move(events), kTopic, writes);
  WriteViews(before.version == 0 ? Views() : ProductViews(before.state), ProductViews(after),
             writes);
  return ProductView(after);
}

domain::PurchaseState StagePurchase(const eventstore::EnvelopeContext& context,
                                    const Loaded<domain::PurchaseState>& before,
                                    absl::string_view purchase_id, absl::string_view location_id,
                                    absl::TimeZone tz, domain::Events events, WriteSet& writes) {
  domain::PurchaseState after =
      eventstore::Stage(context, kPurchaseAggregate, purchase_id, location_id, before,
                        std::move(events), kTopic, writes);
  WriteViews(before.version == 0 ? Views() : PurchaseViews(before.state, tz),
             PurchaseViews(after, tz), writes);
  return after;
}

Views ProductViews(const domain::ProductState& s) {
  const std::string view = ProductView(s).SerializeAsString();
  return {{ProductKey(s.operator_id(), s.product_id()), view},
          {ProductsAtPrefix(s.operator_id(), s.location_id()) + s.product_id(), view}};
}

Views PurchaseViews(const domain::PurchaseState& s, absl::TimeZone tz) {
  const std::string view = PurchaseView(s).SerializeAsString();
  Views out = {{PurchaseKey(s.operator_id(), s.purchase_id()), view},
               {PurchasesOfPrefix(s.operator_id(), s.customer_id()) + s.purchase_id(), view}};
  if (std::optional<absl::CivilDay> day = domain::NextRenewal(s); day.has_value()) {
    out.emplace(DueKey(calendar::StartOfDay(*day, tz), s.operator_id(), kPurchaseAggregate,
                       s.purchase_id()),
                "");
  }
  return out;
}

Views AccountViews(const domain::AccountState& s) {
  v1::Account account;
  account.set_customer_id(s.customer_id());
  account.set_location_id(s.location_id());
  int64_t total = 0;
  std::string currency;
  for (const v1::Charge& c : s.uninvoiced()) {
    *account.add_uninvoiced() = c;
    total += c.amount().amount_minor();  // bounded: each charge is, and so is their number
    currency = c.amount().currency();
  }
  *account.mutable_uninvoiced_total() = MoneyOf(total, currency);
  return {{AccountKey(s.operator_id(), s.location_id(), s.customer_id()),
           account.SerializeAsString()}};
}

void ApplyToInvoice(v1::Invoice& invoice, const domain::Event& e) {
  switch (e.payload_case()) {
    case domain::Event::kInvoiceIssued: {
      const v1::InvoiceIssued& issued = e.invoice_issued();
      invoice.set_invoice_id(issued.invoice_id());
      invoice.set_location_id(issued.location_id());
      invoice.set_customer_id(issued.customer_id());
      invoice.set_number(issued.number());
      *invoice.mutable_lines() = issued.lines();
      *invoice.mutable_subtotal() = issued.subtotal();
      invoice.set_tax_rate_ppm(issued.tax_rate_ppm());
      *invoice.mutable_tax() = issued.tax();
      *invoice.mutable_total() = issued.total();
      *invoice.mutable_issue_date() = issued.issue_date();
      invoice.set_state(v1::ISSUED);
      *invoice.mutable_issue_time() = e.occurred_at();
      break;
    }
    case domain::Event::kInvoicePaid:
      invoice.set_state(v1::PAID);
      break;
    case domain::Event::kInvoiceVoided:
      invoice.set_state(v1::VOIDED);
      invoice.set_void_reason(e.invoice_voided().reason());
      break;
    default:
      break;
  }
}

std::string InvoiceIdOf(const domain::Event& e) {
  if (e.has_invoice_issued()) return e.invoice_issued().invoice_id();
  if (e.has_invoice_paid()) return e.invoice_paid().invoice_id();
  if (e.has_invoice_voided()) return e.invoice_voided().invoice_id();
  return "";
}

Views InvoiceViews(absl::string_view op, const v1::Invoice& invoice) {
  const std::string view = invoice.SerializeAsString();
  return {{InvoiceKey(op, invoice.invoice_id()), view},
          {InvoicesOfPrefix(op, invoice.customer_id()) + invoice.invoice_id(), view},
          {absl::StrFormat("%s%012d", InvoicesAtPrefix(op, invoice.location_id()),
                           invoice.number()),
           view}};
}

Views ChargeIndexViews(absl::string_view op, absl::string_view account_id,
                       const domain::Event& e) {
  if (!e.has_charge_recorded()) return {};
  domain::ChargeIndex index;
  index.set_account_id(std::string(account_id));
  *index.mutable_charge() = e.charge_recorded().charge();
  return {{ChargeKey(op, e.charge_recorded().charge().charge_id()), index.SerializeAsString()}};
}

}  // namespace cowork::contracts::projection
