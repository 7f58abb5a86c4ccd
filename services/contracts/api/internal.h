#ifndef COWORK_SERVICES_CONTRACTS_API_INTERNAL_H_
#define COWORK_SERVICES_CONTRACTS_API_INTERNAL_H_

// What app.cc (plans, contracts, the clock, rebuild) and invoicing.cc (products, purchases,
// charges, invoices) share. Private to the contracts api.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/store.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/auth/auth.h"
#include "services/contracts/domain/contract.h"
#include "services/contracts/domain/invoice.h"
#include "services/contracts/domain/state.pb.h"

namespace cowork::contracts::api::internal {

inline constexpr absl::string_view kTopic = "cowork.contracts.events";
inline constexpr absl::string_view kPlanAggregate = "plan";
inline constexpr absl::string_view kContractAggregate = "contract";
inline constexpr absl::string_view kProductAggregate = "product";
inline constexpr absl::string_view kPurchaseAggregate = "purchase";
inline constexpr absl::string_view kAccountAggregate = "account";
inline constexpr absl::string_view kBookAggregate = "invoicebook";
inline constexpr absl::string_view kBillingAggregate = "billing";
// Commands on an invoice book race every other invoice of the location: retry more.
inline constexpr int kBillingAttempts = 64;

eventstore::EnvelopeContext Context(absl::string_view operator_id, absl::string_view request_id,
                                    absl::Time now);

domain::CustomerInfo CustomerInfoOf(const std::optional<directory::CustomerStanding>& standing);


// A listing of one customer's or one location's records (contracts, invoices): exactly one
// of the two given; by customer, the customer themself or an admin with contracts.read
// (PageFor keeps the locations their token covers); by location, an admin of it. `what`
// names the records ("contracts"). Returns true when the listing is by customer.
absl::StatusOr<bool> CheckCustomerOrLocationListing(const auth::Principal& p,
                                                    absl::string_view customer_id,
                                                    absl::string_view location_id,
                                                    absl::string_view what);

// "due/<unix seconds, 12 digits>/<op>/<kind>/<id>": kind is an aggregate type.
std::string DueKey(absl::Time at, absl::string_view op, absl::string_view kind,
                   absl::string_view id);

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

}  // namespace cowork::contracts::api::internal

#endif  // COWORK_SERVICES_CONTRACTS_API_INTERNAL_H_
