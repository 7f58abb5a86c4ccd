#ifndef COWORK_SERVICES_BOOKINGS_PROJECTION_KEYS_H_
#define COWORK_SERVICES_BOOKINGS_PROJECTION_KEYS_H_

// Where the bookings service keeps things in its store.
//
// Aggregates: resource (rs-…), booking (bk-…), schedule ("<resource>:<YYYYMMDD>", UTC day;
// events unpublished), credit ("<location>:<customer>").
//
// Read views (Space::kViews), all starting with the operator id after the kind (single
// resources and bookings are read from their aggregate's state):
//   resloc/<op>/<location>/<resource>                                 cowork.bookings.v1.Resource
//   bkcust/<op>/<customer>/<start, 12 digits>/<booking>              Booking
//   bkres/<op>/<resource>/<local day>/<start>/<booking>               Booking, one per local day
//   bkloc/<op>/<location>/<local day>/<start>/<booking>               it touches
//   bkcontract/<op>/<customer>/<contract>   ContractCredit (from cowork.contracts.events)

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "libs/clock/proto_time.h"

namespace cowork::bookings::projection {

inline constexpr absl::string_view kService = "bookings";
inline constexpr absl::string_view kTopic = "cowork.bookings.events";
inline constexpr absl::string_view kResourceAggregate = "resource";
inline constexpr absl::string_view kBookingAggregate = "booking";
inline constexpr absl::string_view kScheduleAggregate = "schedule";
inline constexpr absl::string_view kCreditAggregate = "credit";

// This service's own views (the rebuild writes them again); bkcontract/ belongs to the
// contracts consumer.
inline constexpr absl::string_view kViewPrefixes[] = {"resloc/", "bkcust/", "bkres/", "bkloc/"};
inline constexpr absl::string_view kContractCreditPrefix = "bkcontract/";

inline std::string ScheduleId(absl::string_view resource_id, absl::string_view utc_day) {
  return absl::StrCat(resource_id, ":", utc_day);
}
inline std::string CreditId(absl::string_view location_id, absl::string_view customer_id) {
  return absl::StrCat(location_id, ":", customer_id);
}

inline std::string ResourcesAtPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("resloc/", op, "/", location, "/");
}
inline std::string CustomerBookingsPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("bkcust/", op, "/", customer, "/");
}
// kind "bkres" (by resource) or "bkloc" (by location); without a day: every day.
inline std::string BookingsOfPrefix(absl::string_view kind, absl::string_view op,
                                    absl::string_view id) {
  return absl::StrCat(kind, "/", op, "/", id, "/");
}
inline std::string BookingsOnDayPrefix(absl::string_view kind, absl::string_view op,
                                       absl::string_view id, absl::CivilDay day) {
  return absl::StrCat(BookingsOfPrefix(kind, op, id), FormatDay(day), "/");
}
inline std::string ContractCreditsPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat(kContractCreditPrefix, op, "/", customer, "/");
}

}  // namespace cowork::bookings::projection

#endif  // COWORK_SERVICES_BOOKINGS_PROJECTION_KEYS_H_
