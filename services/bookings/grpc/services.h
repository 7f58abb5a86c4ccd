#ifndef COWORK_SERVICES_BOOKINGS_GRPC_SERVICES_H_
#define COWORK_SERVICES_BOOKINGS_GRPC_SERVICES_H_

// The gRPC adapters of bookings.proto on the callback API: each handler authenticates and
// runs the App method of the same name (runtime::Authed); nothing else. Thread-safe as the App
// is; the App must outlive them. (Namespace rpc: one named grpc would hide gRPC's own.)

#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "services/bookings/app/app.h"

namespace cowork::bookings::rpc {

using app::App;

#define COWORK_BOOKINGS_METHOD(Method, Request, Response)                                   \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,                       \
                                   const v1::Request* request, v1::Response* response) override;

class ResourcesServiceImpl final : public v1::ResourcesService::CallbackService {
 public:
  explicit ResourcesServiceImpl(App& app) : app_(app) {}
  COWORK_BOOKINGS_METHOD(CreateResource, CreateResourceRequest, Resource)
  COWORK_BOOKINGS_METHOD(UpdateResource, UpdateResourceRequest, Resource)
  COWORK_BOOKINGS_METHOD(GetResource, GetResourceRequest, Resource)
  COWORK_BOOKINGS_METHOD(ListResources, ListResourcesRequest, ListResourcesResponse)

 private:
  App& app_;
};

class BookingsServiceImpl final : public v1::BookingsService::CallbackService {
 public:
  explicit BookingsServiceImpl(App& app) : app_(app) {}
  COWORK_BOOKINGS_METHOD(CreateBooking, CreateBookingRequest, Booking)
  COWORK_BOOKINGS_METHOD(CancelBooking, CancelBookingRequest, Booking)
  COWORK_BOOKINGS_METHOD(MoveBooking, MoveBookingRequest, Booking)
  COWORK_BOOKINGS_METHOD(GetBooking, GetBookingRequest, Booking)
  COWORK_BOOKINGS_METHOD(ListBookings, ListBookingsRequest, ListBookingsResponse)
  COWORK_BOOKINGS_METHOD(GetAvailability, GetAvailabilityRequest, GetAvailabilityResponse)

 private:
  App& app_;
};

class CreditServiceImpl final : public v1::CreditService::CallbackService {
 public:
  explicit CreditServiceImpl(App& app) : app_(app) {}
  COWORK_BOOKINGS_METHOD(GrantCredit, GrantCreditRequest, CreditBalance)
  COWORK_BOOKINGS_METHOD(GetCredit, GetCreditRequest, CreditBalance)

 private:
  App& app_;
};

#undef COWORK_BOOKINGS_METHOD

}  // namespace cowork::bookings::rpc

#endif  // COWORK_SERVICES_BOOKINGS_GRPC_SERVICES_H_
