#ifndef COWORK_SERVICES_BILLING_APP_APP_H_
#define COWORK_SERVICES_BILLING_APP_APP_H_

// The ActiveUsersService half of the application layer of the billing service (subscription.h
// is the other): the calls that read the projection of the customers, contracts and bookings
// events (projection/activity.h) to tell who is an active user of a location in a month
// (domain/active_users.h).
//
// Authorization: admins of the operator holding platform.invoices at the location (every
// location for the network's counts).
//
// Thread-safe: reads go to the Store; the consumer's thread writes.

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"
#include "services/billing/domain/active_users.h"
#include "services/billing/projection/activity.h"

namespace cowork::billing::app {

// The longest range of months ListActiveUserCounts answers.
inline constexpr int kMaxMonths = 36;

class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::ActiveUsers> GetActiveUsers(const auth::Principal& p,
                                                 const v1::GetActiveUsersRequest& r) const;
  absl::StatusOr<v1::ListActiveUserCountsResponse> ListActiveUserCounts(
      const auth::Principal& p, const v1::ListActiveUserCountsRequest& r) const;

  // The projection the calls read (its consumer's handlers, the counts of closed months).
  const projection::Activity& activity() const { return activity_; }

 private:
  const directory::Directory& directory_;
  const Clock& clock_;
  const runtime::Authenticator authn_;
  const projection::Activity activity_;
};

}  // namespace cowork::billing::app

#endif  // COWORK_SERVICES_BILLING_APP_APP_H_
