#include "services/bookings/app/app.h"

#include "absl/strings/str_cat.h"

namespace cowork::bookings::app {

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store), directory_(directory), clock_(clock), authn_(verifier, directory) {}

absl::StatusOr<directory::CustomerStanding> App::KnownCustomer(absl::string_view op,
                                                               absl::string_view customer) const {
  absl::StatusOr<std::optional<directory::CustomerStanding>> standing =
      directory_.GetCustomer(op, customer);
  if (!standing.ok()) return standing.status();
  if (!standing->has_value() || (*standing)->erased) {
    return absl::NotFoundError(absl::StrCat("customer ", customer, " not found"));
  }
  return **std::move(standing);
}

absl::StatusOr<absl::TimeZone> App::ZoneOf(absl::string_view op,
                                           absl::string_view location) const {
  absl::StatusOr<directory::LocationInfo> info = directory_.FindLocation(op, location);
  if (!info.ok()) return info.status();
  return directory::TimeZoneOf(*info);
}

}  // namespace cowork::bookings::app
