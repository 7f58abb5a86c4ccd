#ifndef COWORK_SERVICES_BOOKINGS_PROJECTION_VIEWS_H_
#define COWORK_SERVICES_BOOKINGS_PROJECTION_VIEWS_H_

// The read views of resources and bookings (keys.h), computed from their aggregates' state.
//
// Pure functions; thread-safe.

#include "absl/time/time.h"
#include "cowork/bookings/v1/bookings.pb.h"
#include "libs/eventstore/staging.h"
#include "services/bookings/domain/state.pb.h"

namespace cowork::bookings::projection {

v1::Resource ResourceView(const domain::ResourceState& s);
v1::Booking BookingView(const domain::BookingState& s);

// resloc/…
eventstore::Views ResourceViews(const domain::ResourceState& s);
// bkcust/…, and bkres/… and bkloc/… for each day of the location's time zone `tz` it touches.
eventstore::Views BookingViews(const domain::BookingState& s, absl::TimeZone tz);

}  // namespace cowork::bookings::projection

#endif  // COWORK_SERVICES_BOOKINGS_PROJECTION_VIEWS_H_
