#ifndef COWORK_SERVICES_CONTRACTS_DOMAIN_CALENDAR_H_
#define COWORK_SERVICES_CONTRACTS_DOMAIN_CALENDAR_H_

// Calendar days in a location's time zone (SPEC: dates people see are in the location's time
// zone; everything stored is UTC).
//
// Thread-safe (pure functions).

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cowork::contracts::domain {

// The calendar day `now` falls on in `tz`.
absl::CivilDay Today(absl::Time now, absl::TimeZone tz);

// The first instant of `day` in `tz`. Where a DST change skips local midnight, the day
// begins at the transition (the first instant whose local date is `day`); where midnight
// happens twice, at the first one.
absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz);

}  // namespace cowork::contracts::domain

#endif  // COWORK_SERVICES_CONTRACTS_DOMAIN_CALENDAR_H_
