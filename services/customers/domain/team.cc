#include "services/customers/domain/team.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/status/field_errors.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::domain {
namespace {

bool IsMember(const TeamState& state, absl::string_view customer_id) {
  return std::find(state.member_ids().begin(), state.member_ids().end(), customer_id) !=
         state.member_ids().end();
}

absl::Status MustExist(const TeamState& state) {
  if (state.team_id().empty()) return absl::NotFoundError("team not found");
  return absl::OkStatus();
}

Event TeamEvent(const google::protobuf::Message& payload, const TeamState& state,
                absl::Time now) {
  return MakeEvent(payload, state.operator_id(), now);
}

}  // namespace

absl::StatusOr<Events> Decide(const TeamState& state, const CreateTeam& c, absl::Time now) {
  if (!state.team_id().empty()) {
    return absl::AlreadyExistsError(absl::StrCat("team ", c.team_id, " already exists"));
  }
  if (c.team_id.empty() || c.operator_id.empty()) {
    return absl::InvalidArgumentError("a new team needs its id and operator");
  }
  FieldErrors errors;
  if (c.location_id.empty()) {
    errors.Add("location_id", "is required");
  } else if (!IsValidId(c.location_id)) {
    CheckId(c.location_id, "location_id", errors);
  } else if (!c.location_exists) {
    errors.Add("location_id", "no such location");
  }
  CheckLabel(c.name, "name", kMaxTeamNameLength, errors);
  std::vector<std::string> members;
  absl::flat_hash_set<std::string> seen;
  if (c.member_ids.size() > static_cast<size_t>(kMaxTeamMembers)) {
    errors.Add("member_ids", absl::StrCat("at most ", kMaxTeamMembers, " members"));
  } else {
    for (size_t i = 0; i < c.member_ids.size(); ++i) {
      const std::string& id = c.member_ids[i];
      const std::string field = absl::StrCat("member_ids[", i, "]");
      auto check = c.members.find(id);
      if (!IsValidId(id) || check == c.members.end() ||
          check->second == CustomerCheck::kNotFound) {
        errors.Add(field, "no such customer");
      } else if (check->second == CustomerCheck::kErased) {
        errors.Add(field, "the customer was erased");
      } else if (seen.insert(id).second) {
        members.push_back(id);
      }
    }
  }
  if (!errors.empty()) return errors.ToStatus();

  v1::TeamCreated created;
  created.set_team_id(c.team_id);
  created.set_name(std::string(TrimSpaces(c.name)));
  created.set_location_id(c.location_id);
  Events events{MakeEvent(created, c.operator_id, now)};
  for (const std::string& id : members) {
    v1::TeamMemberAdded added;
    added.set_team_id(c.team_id);
    added.set_customer_id(id);
    events.push_back(MakeEvent(added, c.operator_id, now));
  }
  if (c.share_booking_credit || c.share_printing_credit || c.share_access) {
    v1::TeamSharingChanged sharing;
    sharing.set_team_id(c.team_id);
    sharing.set_share_booking_credit(c.share_booking_credit);
    sharing.set_share_printing_credit(c.share_printing_credit);
    sharing.set_share_access(c.share_access);
    events.push_back(MakeEvent(sharing, c.operator_id, now));
  }
  return events;
}

absl::StatusOr<Events> Decide(const TeamState& state, const AddTeamMember& c, absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (!IsValidId(c.customer_id)) return InvalidField("customer_id", "is not a customer id");
  if (c.check == CustomerCheck::kNotFound) return absl::NotFoundError("customer not found");
  if (c.check == CustomerCheck::kErased) {
    return absl::FailedPreconditionError("the customer was erased");
  }
  if (IsMember(state, c.customer_id)) return Events{};
  if (state.member_ids_size() >= kMaxTeamMembers) {
    return absl::FailedPreconditionError(
        absl::StrCat("a team has at most ", kMaxTeamMembers, " members"));
  }
  v1::TeamMemberAdded added;
  added.set_team_id(state.team_id());
  added.set_customer_id(c.customer_id);
  return Events{TeamEvent(added, state, now)};
}

absl::StatusOr<Events> Decide(const TeamState& state, const RemoveTeamMember& c,
                              absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (!IsMember(state, c.customer_id)) {
    return absl::NotFoundError("the customer is not a member of this team");
  }
  Events events;
  if (state.paying_member_id() == c.customer_id) {
    // The paying member must be in the team: leaving it ends the role first.
    v1::TeamPayingMemberSet cleared;
    cleared.set_team_id(state.team_id());
    events.push_back(TeamEvent(cleared, state, now));
  }
  v1::TeamMemberRemoved removed;
  removed.set_team_id(state.team_id());
  removed.set_customer_id(c.customer_id);
  events.push_back(TeamEvent(removed, state, now));
  return events;
}

absl::StatusOr<Events> Decide(const TeamState& state, const SetPayingMember& c, absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (!c.customer_id.empty() && !IsMember(state, c.customer_id)) {
    return absl::FailedPreconditionError(
        "the paying member must be a member of the team: add the customer first");
  }
  if (state.paying_member_id() == c.customer_id) return Events{};
  v1::TeamPayingMemberSet set;
  set.set_team_id(state.team_id());
  set.set_customer_id(c.customer_id);
  return Events{TeamEvent(set, state, now)};
}

absl::StatusOr<Events> Decide(const TeamState& state, const UpdateTeamSharing& c,
                              absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (state.share_booking_credit() == c.share_booking_credit &&
      state.share_printing_credit() == c.share_printing_credit &&
      state.share_access() == c.share_access) {
    return Events{};
  }
  v1::TeamSharingChanged sharing;
  sharing.set_team_id(state.team_id());
  sharing.set_share_booking_credit(c.share_booking_credit);
  sharing.set_share_printing_credit(c.share_printing_credit);
  sharing.set_share_access(c.share_access);
  return Events{TeamEvent(sharing, state, now)};
}

TeamState Apply(TeamState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kTeamCreated:
      state.set_team_id(event.team_created().team_id());
      state.set_operator_id(event.operator_id());
      state.set_location_id(event.team_created().location_id());
      state.set_name(event.team_created().name());
      *state.mutable_create_time() = event.occurred_at();
      break;
    case Event::kTeamMemberAdded:
      if (!IsMember(state, event.team_member_added().customer_id())) {
        state.add_member_ids(event.team_member_added().customer_id());
      }
      break;
    case Event::kTeamMemberRemoved: {
      auto* members = state.mutable_member_ids();
      members->erase(
          std::remove(members->begin(), members->end(), event.team_member_removed().customer_id()),
          members->end());
      if (state.paying_member_id() == event.team_member_removed().customer_id()) {
        state.clear_paying_member_id();
      }
      break;
    }
    case Event::kTeamPayingMemberSet:
      state.set_paying_member_id(event.team_paying_member_set().customer_id());
      break;
    case Event::kTeamSharingChanged:
      state.set_share_booking_credit(event.team_sharing_changed().share_booking_credit());
      state.set_share_printing_credit(event.team_sharing_changed().share_printing_credit());
      state.set_share_access(event.team_sharing_changed().share_access());
      break;
    default:
      return state;
  }
  *state.mutable_update_time() = event.occurred_at();
  return state;
}

TeamState ApplyAll(TeamState state, const Events& events) {
  for (const Event& e : events) state = Apply(std::move(state), e);
  return state;
}

}  // namespace cowork::customers::domain
