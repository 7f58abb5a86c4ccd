#ifndef COWORK_LIBS_DIRECTORY_DIRECTORY_H_
#define COWORK_LIBS_DIRECTORY_DIRECTORY_H_

// What every service knows from the customers events: operators, locations (name, time
// zone, currency), each customer's standing (home location, suspended, erased, session
// generation, signed-out sessions), and teams (paying member, sharing, who is in them). A
// projection in the service's own Store (Space::kViews, keys under "dir/"). Other services
// feed it from cowork.customers.events with Directory::Subscribe; the customers service feeds
// it from its own commits with Directory::Apply, so the rules live once. A customer's erasure
// also erases their key in the service's eventstore::KeyVault, in the same commit.
//
// Thread-safe: reads go to the Store.
//
//   Directory directory(*store);
//   directory.Subscribe(consumer);               // other services
//   auto location = directory.GetLocation("op-1", "loc-1");
//   RETURN_IF_ERROR(directory.CheckSession(principal));  // as an auth::SessionValidator

#include <map>
#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "libs/auth/auth.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"

namespace cowork::directory {

struct LocationInfo {
  std::string operator_id;
  std::string location_id;
  std::string name;
  std::string time_zone;  // IANA
  std::string currency;   // ISO 4217
};

struct CustomerStanding {
  std::string operator_id;
  std::string customer_id;
  std::string home_location_id;
  bool suspended = false;
  bool erased = false;
  int64_t session_generation = 0;
};

struct TeamInfo {
  std::string operator_id;
  std::string team_id;
  std::string name;
  std::string location_id;
  std::string paying_member_id;  // empty: none
  bool share_booking_credit = false;
  bool share_printing_credit = false;
  bool share_access = false;
};

// The location's time zone; INTERNAL when this machine does not know it.
absl::StatusOr<absl::TimeZone> TimeZoneOf(const LocationInfo& location);

class Directory final : public auth::SessionValidator {
 public:
  explicit Directory(eventstore::Store& store) : store_(store) {}

  // Adds the view writes for one customers event to `writes`. Events of other types and
  // events already reflected are ignored. `payload` is the decoded envelope payload.
  absl::Status Apply(const common::v1::EventEnvelope& envelope,
                     const google::protobuf::Message& payload, eventstore::WriteSet& writes) const;
  // Registers handlers for the customers events on a consumer of cowork.customers.events.
  void Subscribe(kafka::EventConsumer& consumer) const;
  // Deletes the whole projection (before a rebuild).
  absl::Status Reset() const;

  absl::StatusOr<std::optional<LocationInfo>> GetLocation(absl::string_view operator_id,
                                                          absl::string_view location_id) const;
  absl::StatusOr<bool> OperatorExists(absl::string_view operator_id) const;
  absl::StatusOr<std::optional<CustomerStanding>> GetCustomer(absl::string_view operator_id,
                                                              absl::string_view customer_id) const;

  // The location, or NOT_FOUND ("location <id> not found").
  absl::StatusOr<LocationInfo> FindLocation(absl::string_view operator_id,
                                            absl::string_view location_id) const;

  // Every location of the operator, in location id order.
  absl::StatusOr<std::vector<LocationInfo>> LocationsOf(absl::string_view operator_id) const;

  // The teams a customer is in, in team id order.
  absl::StatusOr<std::vector<TeamInfo>> TeamsOf(absl::string_view operator_id,
                                                absl::string_view customer_id) const;

  // The members of a team, in customer id order.
  absl::StatusOr<std::vector<std::string>> MembersOf(absl::string_view operator_id,
                                                     absl::string_view team_id) const;

  // A customer session lives while the customer exists, is not suspended or erased, the
  // token's generation is the current one, and the session was not signed out.
  absl::Status CheckSession(const auth::Principal& principal) const override;

 private:
  eventstore::Store& store_;
};

// Time zones of an operator's locations, each looked up once (one command, one rebuild).
// Not thread-safe.
class ZoneCache {
 public:
  ZoneCache(const Directory& directory, absl::string_view operator_id)
      : directory_(directory), operator_id_(operator_id) {}
  // NOT_FOUND for an unknown location, INTERNAL for an unknown time zone.
  absl::StatusOr<absl::TimeZone> Of(const std::string& location_id);

 private:
  const Directory& directory_;
  const std::string operator_id_;
  std::map<std::string, absl::TimeZone> zones_;
};

}  // namespace cowork::directory

#endif  // COWORK_LIBS_DIRECTORY_DIRECTORY_H_
