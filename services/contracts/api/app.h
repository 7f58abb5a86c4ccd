#ifndef COWORK_SERVICES_CONTRACTS_API_APP_H_
#define COWORK_SERVICES_CONTRACTS_API_APP_H_

// The application layer of the contracts service: one method per RPC (principal + request ->
// response or absl::Status), the scheduler's RunDue, and the rebuild of the read views. Each
// command loads its aggregate, decides (domain/), and commits the events, the new state, the
// read views and the outbox rows in one WriteSet through eventstore::Execute (idempotent by
// request id).
//
// Authorization: admins of the operator with contracts.write (mutations) or contracts.read
// (reads), scoped to the plan's or contract's location; customers may read the plans of their
// operator and their own contracts. Another operator's plans and contracts are NOT_FOUND.
//
// Read views (Space::kViews), all starting with the operator id after the kind:
//   plan/<op>/<plan>                       cowork.contracts.v1.Plan
//   planloc/<op>/<location>/<plan>         ""  (plans by location)
//   contract/<op>/<contract>               cowork.contracts.v1.Contract
//   contractcust/<op>/<customer>/<contract>  ""  (contracts by customer)
//   contractloc/<op>/<location>/<contract>   ""  (contracts by location)
//   due/<unix seconds, 12 digits>/<op>/<contract>  ""  (when the scheduler must look at it)
// The views are a function of each aggregate's state: a command writes the difference, and
// Rebuild writes them again from the event log.
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/service/handlers.h"

namespace cowork::contracts::api {

inline constexpr absl::string_view kService = "contracts";

class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const service::Authenticator& authenticator() const { return authn_; }

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

  // Records what the passing of days made happen (contracts starting and ending) for every
  // contract due by the clock's now. Returns how many contracts changed.
  absl::StatusOr<int> RunDue();

  // Deletes this service's own read views and writes them again from the event log (the
  // directory's views are the customers consumer's, rebuilt by it).
  absl::Status Rebuild();

 private:
  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const service::Authenticator authn_;
};

}  // namespace cowork::contracts::api

#endif  // COWORK_SERVICES_CONTRACTS_API_APP_H_
