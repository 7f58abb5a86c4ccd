#ifndef COWORK_SERVICES_CONTRACTS_PROJECTION_PROJECTION_H_
#define COWORK_SERVICES_CONTRACTS_PROJECTION_PROJECTION_H_

// The contracts service's store: keys, read views, loading, staging and the rebuild.
// contracts.cc holds plans and contracts; invoicing.cc products, purchases, accounts, charges
// and invoices. The views are listed in app/app.h.
//
// Thread-safe: functions over the store, which serialises commits.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "libs/auth/auth.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/store.h"
#include "libs/eventstore/views.h"
#include "services/contracts/domain/contract.h"
#include "services/contracts/domain/invoice.h"
#include "services/contracts/domain/plan.h"
#include "services/contracts/domain/product.h"
#include "services/contracts/domain/state.pb.h"

namespace cowork::contracts::projection {

using eventstore::Loaded;
using eventstore::Views;
using eventstore::WriteSet;

inline constexpr absl::string_view kService = "contracts";
inline constexpr absl::string_view kTopic = "cowork.contracts.events";
inline constexpr absl::string_view kPlanAggregate = "plan";
inline constexpr absl::string_view kContractAggregate = "contract";
inline constexpr absl::string_view kProductAggregate = "product";
inline constexpr absl::string_view kPurchaseAggregate = "purchase";
inline constexpr absl::string_view kAccountAggregate = "account";
inline constexpr absl::string_view kBookAggregate = "invoicebook";
inline constexpr absl::string_view kBillingAggregate = "billing";
// Every view of this service (the rebuild writes them again).
inline constexpr absl::string_view kViewPrefixes[] = {
    "plan/",     "planloc/",     "contract/", "contractcust/", "contractloc/", "due/",
    "product/",  "productloc/",  "purchase/", "purchasecust/", "account/",     "charge/",
    "invoice/",  "invoicecust/", "invoiceloc/"};

// "due/<unix seconds, 12 digits>/<op>/<kind>/<id>": kind is an aggregate type.
std::string DueKey(absl::Time at, absl::string_view op, absl::string_view kind,
                   absl::string_view id);

// ---------------------------------------------------------------- plans and contracts

v1::Plan PlanView(const domain::PlanState& s);

v1::Contract ContractView(const domain::ContractState& s);

std::string PlanKey(absl::string_view op, absl::string_view plan);

std::string PlansAtPrefix(absl::string_view op, absl::string_view loc);

std::string ContractKey(absl::string_view op, absl::string_view contract);

std::string ContractsOfPrefix(absl::string_view op, absl::string_view customer);

std::string ContractsAtPrefix(absl::string_view op, absl::string_view loc);

Views PlanViews(const domain::PlanState& s);

Views ContractViews(const domain::ContractState& s, absl::TimeZone tz);

absl::StatusOr<absl::TimeZone> TimeZoneOf(const directory::Directory& directory,
                                          absl::string_view op,
                                          absl::string_view location_id);

// The plan of the caller's operator, or NOT_FOUND.
absl::StatusOr<Loaded<domain::PlanState>> PlanOf(const eventstore::Store& store,
                                                 const auth::Principal& p,
                                                 absl::string_view plan_id);

absl::StatusOr<Loaded<domain::ContractState>> ContractOf(const eventstore::Store& store,
                                                         absl::string_view operator_id,
                                                         absl::string_view contract_id);

// Stages `events` on a plan with its views; returns its view after them.
v1::Plan StagePlan(const eventstore::EnvelopeContext& context,
                   const Loaded<domain::PlanState>& before, absl::string_view plan_id,
                   absl::string_view location_id, domain::Events events, WriteSet& writes);

// Stages `events` on a contract with its views; returns its view after them.
v1::Contract StageContract(const eventstore::EnvelopeContext& context,
                           const Loaded<domain::ContractState>& before,
                           absl::string_view contract_id, absl::string_view location_id,
                           absl::TimeZone tz, domain::Events events, WriteSet& writes);

// ---------------------------------------------------------------- invoicing

// A customer's account at a location and the location's invoice book, loaded for one command,
// with the Ledger deciding what happens to them.
struct Books {
  std::string operator_id, location_id, customer_id;
  absl::TimeZone tz;
  eventstore::Loaded<domain::AccountState> account;
  eventstore::Loaded<domain::InvoiceBookState> book;
  domain::Ledger ledger;
};

// Loads the books of `customer_id` (the payer) at the location.
absl::StatusOr<Books> OpenBooks(const eventstore::Store& store,
                                const directory::LocationInfo& location,
                                absl::string_view customer_id);

// Stages what the ledger decided on the account and the book, with their views.
absl::Status StageBooks(const eventstore::EnvelopeContext& context, Books& books,
                        const eventstore::Store& store, eventstore::WriteSet& writes);

// Stage `events` on a product (a purchase) with its views; return it after them.
v1::Product StageProduct(const eventstore::EnvelopeContext& context,
                         const Loaded<domain::ProductState>& before, absl::string_view product_id,
                         absl::string_view location_id, domain::Events events, WriteSet& writes);
domain::PurchaseState StagePurchase(const eventstore::EnvelopeContext& context,
                                    const Loaded<domain::PurchaseState>& before,
                                    absl::string_view purchase_id, absl::string_view location_id,
                                    absl::TimeZone tz, domain::Events events, WriteSet& writes);

// The read views of each billing aggregate as a function of its state (invoicing.cc).
eventstore::Views ProductViews(const domain::ProductState& s);
eventstore::Views PurchaseViews(const domain::PurchaseState& s, absl::TimeZone tz);
eventstore::Views AccountViews(const domain::AccountState& s);

// An invoice as the book's events left it: InvoiceIssued creates it, InvoicePaid and
// InvoiceVoided change its state. Other events leave it as it is.
void ApplyToInvoice(v1::Invoice& invoice, const domain::Event& e);
// The invoice an invoice book event is about; empty for other events.
std::string InvoiceIdOf(const domain::Event& e);
eventstore::Views InvoiceViews(absl::string_view op, const v1::Invoice& invoice);
// "charge/<op>/<charge id>" -> ChargeIndex, for each charge a ChargeRecorded event records.
eventstore::Views ChargeIndexViews(absl::string_view op, absl::string_view account_id,
                                   const domain::Event& e);

std::string ProductKey(absl::string_view op, absl::string_view id);

std::string ProductsAtPrefix(absl::string_view op, absl::string_view loc);

std::string PurchaseKey(absl::string_view op, absl::string_view id);

std::string PurchasesOfPrefix(absl::string_view op, absl::string_view customer);

std::string AccountKey(absl::string_view op, absl::string_view loc, absl::string_view customer);

std::string ChargeKey(absl::string_view op, absl::string_view charge_id);

std::string InvoiceKey(absl::string_view op, absl::string_view id);

std::string InvoicesOfPrefix(absl::string_view op, absl::string_view customer);

std::string InvoicesAtPrefix(absl::string_view op, absl::string_view loc);

// The account aggregate's id.
std::string AccountId(absl::string_view loc, absl::string_view customer);

v1::Product ProductView(const domain::ProductState& s);

v1::Purchase PurchaseView(const domain::PurchaseState& s);

absl::StatusOr<Loaded<domain::ProductState>> ProductOf(const eventstore::Store& store,
                                                       absl::string_view op,
                                                       absl::string_view product_id);

absl::StatusOr<Loaded<domain::PurchaseState>> PurchaseOf(const eventstore::Store& store,
                                                         absl::string_view op,
                                                         absl::string_view purchase_id);

absl::StatusOr<Loaded<domain::InvoiceBookState>> BookOf(const eventstore::Store& store,
                                                        absl::string_view op,
                                                        absl::string_view location_id);

// Who pays what `customer_id` incurs: the paying member of the first team (in team id order)
// the customer is in that has one, else the customer.
absl::StatusOr<std::string> PayerOf(const directory::Directory& directory, absl::string_view op,
                                    absl::string_view customer_id);

// Whether `customer_id` is invoiced at each charge at the location: set to be invoiced as they
// buy, or holding no running contract there (a contact has no billing cycle).
absl::StatusOr<bool> InvoicedAtOnce(const eventstore::Store& store, absl::string_view op,
                                    absl::string_view customer_id,
                                    absl::string_view location_id);

// Records `charges` on the books, then invoices the account at once when its customer is
// invoiced as they buy.
absl::Status Charge(const eventstore::Store& store, Books& books,
                    const std::vector<v1::Charge>& charges, absl::CivilDay today);

// Stages `events` on the invoice book, with the invoices' views.
absl::Status StageBook(const eventstore::EnvelopeContext& context,
                       const Loaded<domain::InvoiceBookState>& book,
                       absl::string_view location_id, domain::Events events,
                       const eventstore::Store& store, WriteSet& writes);

// The context of the events a consumed event causes.
eventstore::EnvelopeContext EventContext(const common::v1::EventEnvelope& cause, absl::Time now);

// ---------------------------------------------------------------- rebuild

// Deletes every view of this service and writes them again from the event log.
absl::Status Rebuild(eventstore::Store& store, const directory::Directory& directory);

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

}  // namespace cowork::contracts::projection

#endif  // COWORK_SERVICES_CONTRACTS_PROJECTION_PROJECTION_H_
