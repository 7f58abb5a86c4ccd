#ifndef COWORK_SERVICES_BILLING_PROJECTION_ACCOUNT_H_
#define COWORK_SERVICES_BILLING_PROJECTION_ACCOUNT_H_

// The operator's platform account (domain/subscription.h): its aggregate, its staging and the
// read views its events keep, in Space::kViews:
//   bclosed/<op>/<location>/<YYYY-MM>        v1.MonthClosed (keys.h ClosedMonthKey)
//   bsinv/<op>/<999999999999 - number>       v1.SubscriptionInvoice, newest first
//   due/<time>/card/<op>                     ""  the card's expiry (runtime::RunDueIndex)
// Closed months and invoices never change once written; the due entry follows the state.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/eventstore/folds.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/store.h"
#include "services/billing/domain/subscription.h"

namespace cowork::billing::projection {

inline constexpr absl::string_view kAccount = "account";  // aggregate type, id: the operator
// The largest invoice number a key can hold.
inline constexpr int64_t kMaxInvoiceNumber = 999'999'999'999;

// Where the operator's subscription invoices are listed, and where one of them is.
std::string InvoicesPrefix(absl::string_view op);
std::string InvoiceKey(absl::string_view op, int64_t number);

absl::StatusOr<eventstore::Loaded<domain::AccountState>> LoadAccount(const eventstore::Store& store,
                                                                     absl::string_view op);
// Stages `events` on the operator's account with the views they change; returns the account
// after them.
domain::AccountState StageAccount(const eventstore::EnvelopeContext& context,
                                  const eventstore::Loaded<domain::AccountState>& before,
                                  absl::string_view location_id, domain::Events events,
                                  eventstore::WriteSet& writes);
// Rewrites the account views from the event log (--rebuild-projections).
absl::Status RebuildAccounts(eventstore::Store& store);

// How each aggregate's state is folded from its events (a restore from the topic).
eventstore::Folds AggregateFolds();

}  // namespace cowork::billing::projection

#endif  // COWORK_SERVICES_BILLING_PROJECTION_ACCOUNT_H_
