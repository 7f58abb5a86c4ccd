#include "services/bookings/api/services.h"

#include "libs/service/handlers.h"

namespace cowork::bookings::api {

// Each handler: authenticate, then `*response = app.<Method>(principal, *request)`.
#define COWORK_BOOKINGS_HANDLER(Service, Method, Request, Response)                           \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx,                 \
                                            const v1::Request* request,                       \
                                            v1::Response* response) {                         \
    return service::Authed(app_.authenticator(), ctx, request, response,                     \
                           [this](const auth::Principal& p, const v1::Request& r) {           \
                             return app_.Method(p, r);                                        \
                           });                                                                \
  }

COWORK_BOOKINGS_HANDLER(ResourcesServiceImpl, CreateResource, CreateResourceRequest, Resource)
COWORK_BOOKINGS_HANDLER(ResourcesServiceImpl, UpdateResource, UpdateResourceRequest, Resource)
COWORK_BOOKINGS_HANDLER(ResourcesServiceImpl, GetResource, GetResourceRequest, Resource)
COWORK_BOOKINGS_HANDLER(ResourcesServiceImpl, ListResources, ListResourcesRequest, ListResourcesResponse)

COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, CreateBooking, CreateBookingRequest, Booking)
COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, CancelBooking, CancelBookingRequest, Booking)
COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, MoveBooking, MoveBookingRequest, Booking)
COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, GetBooking, GetBookingRequest, Booking)
COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, ListBookings, ListBookingsRequest, ListBookingsResponse)
COWORK_BOOKINGS_HANDLER(BookingsServiceImpl, GetAvailability, GetAvailabilityRequest, GetAvailabilityResponse)

COWORK_BOOKINGS_HANDLER(CreditServiceImpl, GrantCredit, GrantCreditRequest, CreditBalance)
COWORK_BOOKINGS_HANDLER(CreditServiceImpl, GetCredit, GetCreditRequest, CreditBalance)

#undef COWORK_BOOKINGS_HANDLER

}  // namespace cowork::bookings::api
