#include "services/customers/domain/directory.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/status/field_errors.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::domain {

absl::StatusOr<Events> Decide(const OperatorState& state, const CreateOperator& command,
                              absl::Time now) {
  FieldErrors errors;
  CheckId(command.operator_id, "operator_id", errors);
  CheckLabel(command.name, "name", 100, errors);
  if (!errors.empty()) return errors.ToStatus();
  if (!state.operator_id().empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("operator ", command.operator_id, " already exists"));
  }
  v1::OperatorCreated created;
  created.set_operator_id(command.operator_id);
  created.set_name(std::string(TrimSpaces(command.name)));
  return Events{MakeEvent(created, command.operator_id, now)};
}

OperatorState Apply(OperatorState state, const Event& event) {
  if (event.has_operator_created()) {
    state.set_operator_id(event.operator_created().operator_id());
    state.set_name(event.operator_created().name());
    *state.mutable_create_time() = event.occurred_at();
  }
  return state;
}

absl::StatusOr<Events> Decide(const LocationState& state, const CreateLocation& command,
                              absl::Time now) {
  FieldErrors errors;
  CheckId(command.location_id, "location_id", errors);
  CheckLabel(command.name, "name", kMaxLocationNameLength, errors);
  CheckTimeZone(command.time_zone, "time_zone", errors);
  CheckCurrency(command.currency, "currency", errors);
  if (!errors.empty()) return errors.ToStatus();
  if (!command.operator_exists) {
    return absl::FailedPreconditionError(
        absl::StrCat("operator ", command.operator_id,
                     " does not exist: a platform token must create it first"));
  }
  if (!state.location_id().empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("location ", command.location_id, " already exists"));
  }
  v1::LocationCreated created;
  created.set_location_id(command.location_id);
  created.set_name(std::string(TrimSpaces(command.name)));
  created.set_time_zone(command.time_zone);
  created.set_currency(command.currency);
  return Events{MakeEvent(created, command.operator_id, now)};
}

absl::StatusOr<Events> Decide(const LocationState& state, const UpdateLocation& command,
                              absl::Time now) {
  if (state.location_id().empty()) return absl::NotFoundError("location not found");
  std::vector<std::string> paths = command.paths;
  if (paths.empty()) {
    if (!command.name.empty()) paths.push_back("name");
    if (!command.time_zone.empty()) paths.push_back("time_zone");
    if (!command.currency.empty()) paths.push_back("currency");
  }
  FieldErrors errors;
  if (paths.empty()) errors.Add("update_mask", "names no field to update");
  v1::LocationUpdated updated;
  updated.set_location_id(state.location_id());
  updated.set_name(state.name());
  updated.set_time_zone(state.time_zone());
  updated.set_currency(state.currency());
  for (const std::string& path : paths) {
    if (path == "name") {
      CheckLabel(command.name, "location.name", kMaxLocationNameLength, errors);
      updated.set_name(std::string(TrimSpaces(command.name)));
    } else if (path == "time_zone") {
      CheckTimeZone(command.time_zone, "location.time_zone", errors);
      updated.set_time_zone(command.time_zone);
    } else if (path == "currency") {
      CheckCurrency(command.currency, "location.currency", errors);
      updated.set_currency(command.currency);
    } else {
      errors.Add("update_mask",
                 absl::StrCat("cannot update '", path, "'; updatable: name, time_zone, currency"));
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  if (updated.name() == state.name() && updated.time_zone() == state.time_zone() &&
      updated.currency() == state.currency()) {
    return Events{};
  }
  return Events{MakeEvent(updated, state.operator_id(), now)};
}

LocationState Apply(LocationState state, const Event& event) {
  if (event.has_location_created()) {
    const v1::LocationCreated& e = event.location_created();
    state.set_location_id(e.location_id());
    state.set_operator_id(event.operator_id());
    state.set_name(e.name());
    state.set_time_zone(e.time_zone());
    state.set_currency(e.currency());
    *state.mutable_create_time() = event.occurred_at();
    *state.mutable_update_time() = event.occurred_at();
  } else if (event.has_location_updated()) {
    const v1::LocationUpdated& e = event.location_updated();
    state.set_name(e.name());
    state.set_time_zone(e.time_zone());
    state.set_currency(e.currency());
    *state.mutable_update_time() = event.occurred_at();
  }
  return state;
}

OperatorState ApplyAll(OperatorState state, const Events& events) {
  for (const Event& e : events) state = Apply(std::move(state), e);
  return state;
}

LocationState ApplyAll(LocationState state, const Events& events) {
  for (const Event& e : events) state = Apply(std::move(state), e);
  return state;
}

}  // namespace cowork::customers::domain
