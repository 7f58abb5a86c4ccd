#ifndef COWORK_SERVICES_BOOKINGS_API_APP_H_
#define COWORK_SERVICES_BOOKINGS_API_APP_H_

// The application layer of the bookings service: one method per RPC (principal + request ->
// response or absl::Status), the contracts events' plan credit, and the rebuild of the read
// views. Each command loads its aggregates, decides (domain/), and commits the events, the
// new states, the read views and the outbox rows in one WriteSet through eventstore::Execute
// (idempotent by request id; a lost race on a schedule or a credit account decides again).
//
// Aggregates: resource (rs-…), booking (bk-…), schedule ("<resource>:<YYYYMMDD>", UTC day;
// events unpublished), credit ("<location>:<customer>").
//
// Authorization: admins of the operator with bookings.write (mutations) or bookings.read
// (reads), scoped to the location concerned; customers may read their operator's resources
// and availability, book portal-bookable resources for themselves, cancel and move their own
// bookings, and read their own bookings and credit. Another operator's records are NOT_FOUND.
//
// Read views (Space::kViews), all starting with the operator id after the kind (single
// resources and bookings are read from their aggregate's state):
//   resloc/<op>/<location>/<resource>                                 cowork.bookings.v1.Resource
//   bkcust/<op>/<customer>/<start, 12 digits>/<booking>              Booking
//   bkres/<op>/<resource>/<local day>/<start>/<booking>               Booking, one per local day
//   bkloc/<op>/<location>/<local day>/<start>/<booking>               it touches
//   bkcontract/<op>/<customer>/<contract>   ContractCredit (from cowork.contracts.events)
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cowork/bookings/v1/bookings.pb.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/handlers.h"

namespace cowork::bookings::api {

inline constexpr absl::string_view kService = "bookings";

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

  // Registers the handlers of the contracts events that carry plan credit (ContractSigned,
  // ContractStarted, ContractCancelled, ContractEnded) on a consumer of
  // cowork.contracts.events; ResetContracts forgets them before a re-read from offset zero.
  void SubscribeToContracts(kafka::EventConsumer& consumer) const;
  absl::Status ResetContracts() const;
  // One contracts event as the consumer hands it over (tests feed it directly).
  absl::Status OnContractEvent(const common::v1::EventEnvelope& envelope,
                               const google::protobuf::Message& payload,
                               eventstore::WriteSet& writes) const;

  // Deletes this service's own read views (resources and bookings) and writes them again
  // from the event log.
  absl::Status Rebuild();

 private:
  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::bookings::api

#endif  // COWORK_SERVICES_BOOKINGS_API_APP_H_
