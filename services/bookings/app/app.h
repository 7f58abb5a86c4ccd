#ifndef COWORK_SERVICES_BOOKINGS_APP_APP_H_
#define COWORK_SERVICES_BOOKINGS_APP_APP_H_

// The application layer of the bookings service: one method per RPC (principal + request ->
// response or absl::Status). Each command authorizes, turns the request into a domain
// command, and runs it through eventstore::Execute: load (projection/) -> Decide (domain/) ->
// stage the events, states, views and outbox rows in one WriteSet (projection/). Idempotent
// by request id; a lost race on a schedule or a credit account decides again.
//
// Authorization: admins of the operator with bookings.write (mutations) or bookings.read
// (reads), scoped to the location concerned; customers may read their operator's resources
// and availability, book portal-bookable resources for themselves, cancel and move their own
// bookings, and read their own bookings and credit. Another operator's records are NOT_FOUND.
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cowork/bookings/v1/bookings.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"

namespace cowork::bookings::app {

class App {
 public:
  // Everything referenced must outlive the App.
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::Resource> CreateResource(const auth::Principal& p,
                                              const v1::CreateResourceRequest& r);
  absl::StatusOr<v1::Resource> UpdateResource(const auth::Principal& p,
                                              const v1::UpdateResourceRequest& r);
  absl::StatusOr<v1::Resource> GetResource(const auth::Principal& p,
                                           const v1::GetResourceRequest& r) const;
  absl::StatusOr<v1::ListResourcesResponse> ListResources(const auth::Principal& p,
                                                          const v1::ListResourcesRequest& r) const;

  absl::StatusOr<v1::Booking> CreateBooking(const auth::Principal& p,
                                            const v1::CreateBookingRequest& r);
  absl::StatusOr<v1::Booking> CancelBooking(const auth::Principal& p,
                                            const v1::CancelBookingRequest& r);
  absl::StatusOr<v1::Booking> MoveBooking(const auth::Principal& p,
                                          const v1::MoveBookingRequest& r);
  absl::StatusOr<v1::Booking> GetBooking(const auth::Principal& p,
                                         const v1::GetBookingRequest& r) const;
  absl::StatusOr<v1::ListBookingsResponse> ListBookings(const auth::Principal& p,
                                                        const v1::ListBookingsRequest& r) const;
  absl::StatusOr<v1::GetAvailabilityResponse> GetAvailability(
      const auth::Principal& p, const v1::GetAvailabilityRequest& r) const;

  absl::StatusOr<v1::CreditBalance> GrantCredit(const auth::Principal& p,
                                                const v1::GrantCreditRequest& r);
  absl::StatusOr<v1::CreditBalance> GetCredit(const auth::Principal& p,
                                              const v1::GetCreditRequest& r) const;

 private:
  // NOT_FOUND unless the customer exists (and is not erased); their standing otherwise.
  absl::StatusOr<directory::CustomerStanding> KnownCustomer(absl::string_view op,
                                                           absl::string_view customer) const;
  // The time zone of one of the operator's locations; NOT_FOUND for another's.
  absl::StatusOr<absl::TimeZone> ZoneOf(absl::string_view op, absl::string_view location) const;

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::bookings::app

#endif  // COWORK_SERVICES_BOOKINGS_APP_APP_H_
