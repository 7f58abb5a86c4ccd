#ifndef COWORK_SERVICES_BOOKINGS_DOMAIN_RESOURCE_H_
#define COWORK_SERVICES_BOOKINGS_DOMAIN_RESOURCE_H_

// Resources (SPEC "Bookings"): what a location lets people book — meeting rooms, desks (hot
// and dedicated), offices, equipment — with a capacity (how many bookings may hold it at
// once), an hourly price in the location's currency (0 is free), whether customers may book
// it from the portal, and the shortest and longest booking (multiples of 15 minutes, at most
// 7 days). Changed settings apply to bookings made afterwards.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cowork/bookings/v1/bookings.pb.h"
#include "services/bookings/domain/state.pb.h"

namespace cowork::bookings::domain {

using Events = std::vector<Event>;

inline constexpr int kSlotMinutes = 15;
inline constexpr int kMaxBookingMinutes = 7 * 24 * 60;
inline constexpr int kDefaultMinMinutes = 15;
inline constexpr int kDefaultMaxMinutes = 8 * 60;
inline constexpr int kMaxCapacity = 10'000;
inline constexpr int64_t kMaxHourlyPriceMinor = 1'000'000'000;
inline constexpr int kMaxResourceNameLength = 100;

// The settings a spec asks for (defaults filled in), or INVALID_ARGUMENT naming every bad
// field ("spec.name", "spec.capacity", ...).
absl::StatusOr<v1::ResourceSettings> SettingsOf(const v1::ResourceSpec& spec,
                                                const std::string& currency);

absl::StatusOr<Events> DecideCreateResource(const std::string& resource_id,
                                            const std::string& location_id,
                                            const v1::ResourceSpec& spec,
                                            const std::string& currency);
// No event when nothing changes.
absl::StatusOr<Events> DecideUpdateResource(const ResourceState& resource,
                                            const v1::ResourceSpec& spec);

ResourceState Apply(ResourceState state, const Event& event);

}  // namespace cowork::bookings::domain

#endif  // COWORK_SERVICES_BOOKINGS_DOMAIN_RESOURCE_H_
