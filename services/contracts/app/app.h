#ifndef COWORK_SERVICES_CONTRACTS_APP_APP_H_
#define COWORK_SERVICES_CONTRACTS_APP_APP_H_

// The application layer of the contracts service: one method per RPC (principal + request ->
// response or absl::Status), the scheduler's RunDue and the bookings events' charges. Each
// command loads its aggregate, decides (domain/), and stages the events, the new state, the
// read views and the outbox rows (projection/) in one WriteSet through eventstore::Execute
// (idempotent by request id).
//
// Authorization: admins of the operator with contracts.write (mutations) or contracts.read
// (reads), scoped to the location concerned; customers may read the plans and products of
// their operator, buy for themselves, and read their own contracts, purchases, account and
// invoices. Another operator's records are NOT_FOUND.
//
// Charges (invoicing.cc): a purchase, a recurring purchase's new cycle and a paid booking
// record a charge on the payer's account at the location: the paying member of the first
// team (in team id order) the customer is in that has one, else the customer. The payer is
// invoiced at once when set to be invoiced as they buy or when they hold no running contract
// at the location (a contact); otherwise the charge waits for their contract's period end.
//
// Read views (Space::kViews, projection/), all starting with the operator id after the kind:
//   plan/<op>/<plan>                       cowork.contracts.v1.Plan
//   planloc/<op>/<location>/<plan>         ""  (plans by location)
//   contract/<op>/<contract>               cowork.contracts.v1.Contract
//   contractcust/<op>/<customer>/<contract>  ""  (contracts by customer)
//   contractloc/<op>/<location>/<contract>   ""  (contracts by location)
//   product/<op>/<product>, productloc/<op>/<location>/<product>   Product
//   purchase/<op>/<purchase>, purchasecust/<op>/<customer>/<purchase>   Purchase
//   account/<op>/<location>/<customer>                   Account (uninvoiced charges)
//   charge/<op>/<charge id>                              ChargeIndex (whose account)
//   invoice/<op>/<invoice>, invoicecust/<op>/<customer>/<invoice>,
//   invoiceloc/<op>/<location>/<number, 12 digits>       Invoice
//   due/<unix seconds, 12 digits>/<op>/<contract|purchase>/<id>  ""  (when the scheduler
//                                                        must look at it)
// The views are a function of each aggregate's state: a command writes the difference, and
// projection::Rebuild writes them again from the event log.
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"
#include "services/contracts/domain/invoice.h"

namespace cowork::contracts::app {


class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::Plan> CreatePlan(const auth::Principal& p, const v1::CreatePlanRequest& r);
  absl::StatusOr<v1::Plan> UpdatePlanPrice(const auth::Principal& p,
                                           const v1::UpdatePlanPriceRequest& r);
  absl::StatusOr<v1::Plan> GetPlan(const auth::Principal& p, const v1::GetPlanRequest& r) const;
  absl::StatusOr<v1::ListPlansResponse> ListPlans(const auth::Principal& p,
                                                  const v1::ListPlansRequest& r) const;

  absl::StatusOr<v1::Contract> CreateContract(const auth::Principal& p,
                                              const v1::CreateContractRequest& r);
  absl::StatusOr<v1::Contract> CancelContract(const auth::Principal& p,
                                              const v1::CancelContractRequest& r);
  absl::StatusOr<v1::Contract> GetContract(const auth::Principal& p,
                                           const v1::GetContractRequest& r) const;
  absl::StatusOr<v1::ListContractsResponse> ListContracts(const auth::Principal& p,
                                                          const v1::ListContractsRequest& r) const;

  absl::StatusOr<v1::Product> CreateProduct(const auth::Principal& p,
                                            const v1::CreateProductRequest& r);
  absl::StatusOr<v1::Product> GetProduct(const auth::Principal& p,
                                         const v1::GetProductRequest& r) const;
  absl::StatusOr<v1::ListProductsResponse> ListProducts(const auth::Principal& p,
                                                        const v1::ListProductsRequest& r) const;

  absl::StatusOr<v1::Purchase> Buy(const auth::Principal& p, const v1::BuyRequest& r);
  absl::StatusOr<v1::Purchase> CancelPurchase(const auth::Principal& p,
                                              const v1::CancelPurchaseRequest& r);
  absl::StatusOr<v1::Purchase> GetPurchase(const auth::Principal& p,
                                           const v1::GetPurchaseRequest& r) const;
  absl::StatusOr<v1::ListPurchasesResponse> ListPurchases(const auth::Principal& p,
                                                          const v1::ListPurchasesRequest& r) const;

  absl::StatusOr<v1::TaxRate> SetTaxRate(const auth::Principal& p, const v1::SetTaxRateRequest& r);
  absl::StatusOr<v1::TaxRate> GetTaxRate(const auth::Principal& p,
                                         const v1::GetTaxRateRequest& r) const;
  absl::StatusOr<v1::InvoicingPreference> SetInvoicingPreference(
      const auth::Principal& p, const v1::SetInvoicingPreferenceRequest& r);
  absl::StatusOr<v1::Account> GetAccount(const auth::Principal& p,
                                         const v1::GetAccountRequest& r) const;
  absl::StatusOr<v1::Invoice> GetInvoice(const auth::Principal& p,
                                         const v1::GetInvoiceRequest& r) const;
  absl::StatusOr<v1::ListInvoicesResponse> ListInvoices(const auth::Principal& p,
                                                        const v1::ListInvoicesRequest& r) const;
  absl::StatusOr<v1::Invoice> PayInvoice(const auth::Principal& p, const v1::PayInvoiceRequest& r);
  absl::StatusOr<v1::Invoice> VoidInvoice(const auth::Principal& p,
                                          const v1::VoidInvoiceRequest& r);

  // Consumer handlers of cowork.bookings.events (add their writes to `writes`): a booking with
  // a charge records it; a cancelled booking voids its charge, or, when it was invoiced
  // already, records a refund (a negative charge) for the next invoice.
  absl::Status OnBookingCreated(const common::v1::EventEnvelope& envelope,
                                const bookings::v1::BookingCreated& e,
                                eventstore::WriteSet& writes);
  absl::Status OnBookingCancelled(const common::v1::EventEnvelope& envelope,
                                  const bookings::v1::BookingCancelled& e,
                                  eventstore::WriteSet& writes);

  // Records what the passing of days made happen for everything due by the clock's now:
  // contracts starting and ending and their billing periods invoiced, recurring purchases
  // charged for each new cycle. Returns how many contracts and purchases changed.
  absl::StatusOr<int> RunDue();

 private:
  // The contract's or purchase's scheduled work (RunDue); true when something changed.
  absl::StatusOr<bool> TickContract(absl::string_view op, absl::string_view contract_id);
  absl::StatusOr<bool> TickPurchase(absl::string_view op, absl::string_view purchase_id);

  absl::StatusOr<v1::Invoice> ChangeInvoice(
      const auth::Principal& p, absl::string_view method,
      const google::protobuf::Message& request, absl::string_view request_id,
      absl::string_view invoice_id,
      absl::FunctionRef<absl::StatusOr<domain::Events>(const v1::InvoiceIssued&,
                                                       domain::InvoiceStatus)>
          decide);

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::contracts::app

#endif  // COWORK_SERVICES_CONTRACTS_APP_APP_H_
