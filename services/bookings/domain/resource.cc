#include "services/bookings/domain/resource.h"

#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"
#include "libs/money/money.h"
#include "libs/status/field_errors.h"
#include "libs/validation/validation.h"

namespace cowork::bookings::domain {

absl::StatusOr<v1::ResourceSettings> SettingsOf(const v1::ResourceSpec& spec,
                                                const std::string& currency) {
  FieldErrors errors;
  validation::CheckLabel(spec.name(), "spec.name", kMaxResourceNameLength, errors);
  if (spec.kind() == v1::RESOURCE_KIND_UNSPECIFIED || !v1::ResourceKind_IsValid(spec.kind())) {
    errors.Add("spec.kind", "must be MEETING_ROOM, HOT_DESK, DEDICATED_DESK, OFFICE or EQUIPMENT");
  }
  if (spec.capacity() < 1 || spec.capacity() > kMaxCapacity) {
    errors.Add("spec.capacity", absl::StrCat("must be 1..", kMaxCapacity));
  }
  if (spec.hourly_price_minor() < 0 || spec.hourly_price_minor() > kMaxHourlyPriceMinor) {
    errors.Add("spec.hourly_price_minor",
               absl::StrCat("must be 0 (free)..", kMaxHourlyPriceMinor, " minor units"));
  }
  const int min = spec.min_minutes() == 0 ? kDefaultMinMinutes : spec.min_minutes();
  const int max = spec.max_minutes() == 0 ? kDefaultMaxMinutes : spec.max_minutes();
  auto check_length = [&](int minutes, const char* field) {
    if (minutes < kSlotMinutes || minutes > kMaxBookingMinutes || minutes % kSlotMinutes != 0) {
      errors.Add(field, absl::StrCat("must be a multiple of ", kSlotMinutes, " minutes, ",
                                     kSlotMinutes, "..", kMaxBookingMinutes));
      return false;
    }
    return true;
  };
  const bool min_ok = check_length(min, "spec.min_minutes");
  const bool max_ok = check_length(max, "spec.max_minutes");
  if (min_ok && max_ok && min > max) {
    errors.Add("spec.max_minutes", "must not be less than min_minutes");
  }
  if (!errors.empty()) return errors.ToStatus();
  v1::ResourceSettings out;
  out.set_name(std::string(validation::TrimSpaces(spec.name())));
  out.set_kind(spec.kind());
  out.set_capacity(spec.capacity());
  *out.mutable_hourly_price() = MoneyOf(spec.hourly_price_minor(), currency);
  out.set_portal_bookable(spec.portal_bookable());
  out.set_min_minutes(min);
  out.set_max_minutes(max);
  return out;
}

absl::StatusOr<Events> Decide(const ResourceState& /*resource*/, const CreateResource& command,
                              absl::Time /*now*/) {
  absl::StatusOr<v1::ResourceSettings> settings = SettingsOf(command.spec, command.currency);
  if (!settings.ok()) return settings.status();
  Event e;
  v1::ResourceCreated* created = e.mutable_resource_created();
  created->set_resource_id(command.resource_id);
  created->set_location_id(command.location_id);
  *created->mutable_settings() = *std::move(settings);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const ResourceState& resource, const UpdateResource& command,
                              absl::Time /*now*/) {
  absl::StatusOr<v1::ResourceSettings> settings =
      SettingsOf(command.spec, resource.settings().hourly_price().currency());
  if (!settings.ok()) return settings.status();
  if (google::protobuf::util::MessageDifferencer::Equals(*settings, resource.settings())) {
    return Events{};
  }
  Event e;
  v1::ResourceUpdated* updated = e.mutable_resource_updated();
  updated->set_resource_id(resource.resource_id());
  updated->set_location_id(resource.location_id());
  *updated->mutable_settings() = *std::move(settings);
  return Events{std::move(e)};
}

ResourceState Apply(ResourceState state, const Event& event) {
  if (event.has_resource_created()) {
    const v1::ResourceCreated& e = event.resource_created();
    state.set_operator_id(event.operator_id());
    state.set_resource_id(e.resource_id());
    state.set_location_id(e.location_id());
    *state.mutable_settings() = e.settings();
  } else if (event.has_resource_updated()) {
    *state.mutable_settings() = event.resource_updated().settings();
  }
  return state;
}

}  // namespace cowork::bookings::domain
