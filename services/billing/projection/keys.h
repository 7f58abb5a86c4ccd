#ifndef COWORK_SERVICES_BILLING_PROJECTION_KEYS_H_
#define COWORK_SERVICES_BILLING_PROJECTION_KEYS_H_

// The read-view keys that the projection of activity and the account (account.h) share.

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "cowork/billing/v1/events.pb.h"
#include "services/billing/domain/subscription.h"

namespace cowork::billing::projection {

inline constexpr absl::string_view kService = "billing";

// The projection: a location the customers events created, with the month it was created in
// ("YYYY-MM", its time zone) — its first month to close.
inline std::string LocationKey(absl::string_view op, absl::string_view location) {
  return absl::StrCat("bloc/", op, "/", location);
}

// The subscription: a closed month of a location (v1.MonthClosed).
inline std::string ClosedMonthKey(absl::string_view op, absl::string_view location,
                                  absl::CivilMonth month) {
  return absl::StrCat("bclosed/", op, "/", location, "/", domain::FormatMonth(month));
}

// The key of the view a MonthClosed event writes (the subscription as it closes the month, a
// replay of cowork.billing.events as it reads it); nullopt when its month does not parse.
inline std::optional<std::string> ClosedMonthKey(absl::string_view op,
                                                 const v1::MonthClosed& closed) {
  absl::CivilMonth month;
  if (!absl::ParseCivilTime(closed.month(), &month)) return std::nullopt;
  return ClosedMonthKey(op, closed.location_id(), month);
}

}  // namespace cowork::billing::projection

#endif  // COWORK_SERVICES_BILLING_PROJECTION_KEYS_H_
