#ifndef COWORK_SERVICES_CHECKINS_APP_APP_H_
#define COWORK_SERVICES_CHECKINS_APP_APP_H_

// The CheckinsService half of the application layer of the checkins service (visitors.h is
// the other): one method per RPC (principal + request -> response or absl::Status) and the
// scheduler's RunDue (automatic check-outs). Each command loads its aggregate, decides
// (domain/), and stages the events, the new state, the read views and the outbox rows
// (projection/) in one WriteSet through eventstore::Execute (idempotent by request id).
//
// Authorization: admins of the operator with checkins.write (check in and out anyone at their
// locations, policies) or checkins.read (lists, presence); customers check themselves in (app
// or QR code) and out, and read their own presence and history. Another operator's records
// are NOT_FOUND.
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cowork/checkins/v1/checkins.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"

namespace cowork::checkins::app {

// The check of a listing by customer (`customer_field` names the request's field), or by
// location and local day (checkins.read at the location): INVALID_ARGUMENT naming the bad
// fields, PERMISSION_DENIED, NOT_FOUND for an unknown location. Returns the day of a location
// listing, nullopt for a customer listing.
absl::StatusOr<std::optional<absl::CivilDay>> CheckCustomerOrDayListing(
    const auth::Principal& p, const directory::Directory& directory,
    absl::string_view customer_field, absl::string_view customer_id,
    absl::string_view location_id, const google::type::Date* day);

class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::CheckInRecord> CheckIn(const auth::Principal& p, const v1::CheckInRequest& r);
  absl::StatusOr<v1::CheckInRecord> CheckOut(const auth::Principal& p, const v1::CheckOutRequest& r);
  absl::StatusOr<v1::Presence> GetPresence(const auth::Principal& p,
                                           const v1::GetPresenceRequest& r) const;
  absl::StatusOr<v1::ListPresentResponse> ListPresent(const auth::Principal& p,
                                                      const v1::ListPresentRequest& r) const;
  absl::StatusOr<v1::ListCheckinsResponse> ListCheckins(const auth::Principal& p,
                                                        const v1::ListCheckinsRequest& r) const;
  absl::StatusOr<v1::CheckoutPolicy> SetCheckoutPolicy(const auth::Principal& p,
                                                       const v1::SetCheckoutPolicyRequest& r);
  absl::StatusOr<v1::CheckoutPolicy> GetCheckoutPolicy(
      const auth::Principal& p, const v1::GetCheckoutPolicyRequest& r) const;

  // Checks out everyone whose automatic check-out time has passed by the clock's now (also
  // after the service was down: timed when it fell due). Returns how many.
  absl::StatusOr<int> RunDue();

 private:
  absl::StatusOr<bool> AutoCheckOut(absl::string_view op, absl::string_view customer_id);

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::checkins::app

#endif  // COWORK_SERVICES_CHECKINS_APP_APP_H_
