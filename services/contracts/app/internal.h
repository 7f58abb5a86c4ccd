#ifndef COWORK_SERVICES_CONTRACTS_APP_INTERNAL_H_
#define COWORK_SERVICES_CONTRACTS_APP_INTERNAL_H_

// What app.cc (plans, contracts, the clock) and invoicing.cc (products, purchases, charges,
// invoices) share. Private to the contracts app.

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/auth.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "services/contracts/domain/contract.h"

namespace cowork::contracts::app {

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

}  // namespace cowork::contracts::app

#endif  // COWORK_SERVICES_CONTRACTS_APP_INTERNAL_H_
