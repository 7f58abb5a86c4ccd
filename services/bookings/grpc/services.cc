#include "services/bookings/grpc/services.h"

#include "libs/runtime/handlers.h"

namespace cowork::bookings::rpc {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(ResourcesServiceImpl, CreateResource, v1::CreateResourceRequest, v1::Resource)
COWORK_AUTHED_HANDLER(ResourcesServiceImpl, UpdateResource, v1::UpdateResourceRequest, v1::Resource)
COWORK_AUTHED_HANDLER(ResourcesServiceImpl, GetResource, v1::GetResourceRequest, v1::Resource)
COWORK_AUTHED_HANDLER(ResourcesServiceImpl, ListResources, v1::ListResourcesRequest, v1::ListResourcesResponse)

COWORK_AUTHED_HANDLER(BookingsServiceImpl, CreateBooking, v1::CreateBookingRequest, v1::Booking)
COWORK_AUTHED_HANDLER(BookingsServiceImpl, CancelBooking, v1::CancelBookingRequest, v1::Booking)
COWORK_AUTHED_HANDLER(BookingsServiceImpl, MoveBooking, v1::MoveBookingRequest, v1::Booking)
COWORK_AUTHED_HANDLER(BookingsServiceImpl, GetBooking, v1::GetBookingRequest, v1::Booking)
COWORK_AUTHED_HANDLER(BookingsServiceImpl, ListBookings, v1::ListBookingsRequest, v1::ListBookingsResponse)
COWORK_AUTHED_HANDLER(BookingsServiceImpl, GetAvailability, v1::GetAvailabilityRequest, v1::GetAvailabilityResponse)

COWORK_AUTHED_HANDLER(CreditServiceImpl, GrantCredit, v1::GrantCreditRequest, v1::CreditBalance)
COWORK_AUTHED_HANDLER(CreditServiceImpl, GetCredit, v1::GetCreditRequest, v1::CreditBalance)

}  // namespace cowork::bookings::rpc
