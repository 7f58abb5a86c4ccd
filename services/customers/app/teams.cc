// The TeamsService half of the App: teams, members, paying member, sharing.

#include "services/customers/app/app.h"

#include <string>
#include <utility>
#include <vector>

#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/validation.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"
#include "services/customers/app/internal.h"

namespace cowork::customers::app {

// ---------------------------------------------------------------- teams

absl::StatusOr<v1::Team> App::CreateTeam(const auth::Principal& p,
                                         const v1::CreateTeamRequest& r) {
  COWORK_RETURN_IF_ERROR(RequireAdminFor(p, auth::kCustomersWrite, r.location_id()));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  domain::CreateTeam command;
  command.team_id = crypto::NewId("t-");
  command.operator_id = p.operator_id;
  command.location_id = r.location_id();
  command.name = r.name();
  command.member_ids.assign(r.member_ids().begin(), r.member_ids().end());
  command.share_booking_credit = r.share_booking_credit();
  command.share_printing_credit = r.share_printing_credit();
  command.share_access = r.share_access();
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateTeam", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(command.location_exists,
                                   LocationExists(p.operator_id, r.location_id()));
        command.members.clear();
        if (command.member_ids.size() <= static_cast<size_t>(domain::kMaxTeamMembers)) {
          for (const std::string& id : command.member_ids) {
            COWORK_ASSIGN_OR_RETURN(command.members[id], CheckCustomer(p.operator_id, id));
          }
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(domain::TeamState{}, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageTeam(context, {}, std::move(events), writes).status());
        CommandResult out;
        out.set_id(command.team_id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return CoveredTeamView(p, result->id());
}

absl::StatusOr<v1::Team> App::GetTeam(const auth::Principal& p,
                                      const v1::GetTeamRequest& r) const {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersRead));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::TeamState> team, TeamOf(p, r.team_id()));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersRead, team.state.location_id()));
  return TeamView(p.operator_id, r.team_id());
}

absl::StatusOr<v1::ListTeamsResponse> App::ListTeams(const auth::Principal& p,
                                                     const v1::ListTeamsRequest& r) const {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersRead));
  FieldErrors errors;
  absl::StatusOr<int> page_size = PageSize(r.page_size());
  if (!page_size.ok()) errors.Merge(page_size.status());
  if (!r.location_id().empty()) domain::CheckId(r.location_id(), "location_id", errors);
  if (!r.member_id().empty()) domain::CheckId(r.member_id(), "member_id", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (!r.location_id().empty()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersRead, r.location_id()));
  }
  // An index names the teams: by member, by location, or all of the operator's.
  std::string prefix;
  bool indexed = true;
  if (!r.member_id().empty()) {
    prefix = projection::TeamsOfPrefix(p.operator_id, r.member_id());
  } else if (!r.location_id().empty()) {
    prefix = projection::TeamsAtPrefix(p.operator_id, r.location_id());
  } else {
    prefix = projection::TeamPrefix(p.operator_id);
    indexed = false;
  }
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Team> page,
      Paginate<v1::Team>(
          store_, prefix, r.page_token(), *page_size, options_.max_scan,
          [&](absl::string_view key,
              absl::string_view value) -> absl::StatusOr<std::optional<v1::Team>> {
            std::optional<v1::Team> t;
            if (indexed) {
              COWORK_ASSIGN_OR_RETURN(
                  t, ReadView<v1::Team>(store_, projection::TeamKey(p.operator_id,
                                                                     key.substr(prefix.size()))));
            } else {
              COWORK_ASSIGN_OR_RETURN(t, eventstore::ParseView<v1::Team>(key, value));
            }
            if (!t.has_value() || !p.CoversLocation(t->location_id()) ||
                (!r.location_id().empty() && t->location_id() != r.location_id())) {
              return std::optional<v1::Team>();
            }
            return t;
          }));
  v1::ListTeamsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_teams(), out);
  return out;
}

template <typename MakeCommand>
absl::StatusOr<v1::Team> App::TeamCommand(const auth::Principal& p, absl::string_view method,
                                          const google::protobuf::Message& message,
                                          absl::string_view team_id, MakeCommand make_command) {
  const eventstore::Request request = runtime::RequestOf(p, method, message);
  const std::string& request_id = request.request_id;
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersWrite));
  COWORK_RETURN_IF_ERROR(CheckRequest(request_id));
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, request,
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::TeamState> team, TeamOf(p, team_id));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kCustomersWrite, team.state.location_id()));
        COWORK_ASSIGN_OR_RETURN(auto command, make_command());
        eventstore::EnvelopeContext context = Context(p.operator_id, request_id);
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(team.state, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageTeam(context, team, std::move(events), writes).status());
        CommandResult r;
        r.set_id(std::string(team_id));
        return Decided<CommandResult>{std::move(writes), std::move(r)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return CoveredTeamView(p, result->id());
}

absl::StatusOr<v1::Team> App::AddTeamMember(const auth::Principal& p,
                                            const v1::AddTeamMemberRequest& r) {
  return TeamCommand(p, "AddTeamMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::AddTeamMember> {
                       if (r.customer_id().empty()) {
                         return InvalidField("customer_id", "is required");
                       }
                       COWORK_ASSIGN_OR_RETURN(domain::CustomerCheck check,
                                                  CheckCustomer(p.operator_id, r.customer_id()));
                       return domain::AddTeamMember{r.customer_id(), check};
                     });
}

absl::StatusOr<v1::Team> App::RemoveTeamMember(const auth::Principal& p,
                                               const v1::RemoveTeamMemberRequest& r) {
  return TeamCommand(p, "RemoveTeamMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::RemoveTeamMember> {
                       if (r.customer_id().empty()) {
                         return InvalidField("customer_id", "is required");
                       }
                       return domain::RemoveTeamMember{r.customer_id()};
                     });
}

absl::StatusOr<v1::Team> App::SetPayingMember(const auth::Principal& p,
                                              const v1::SetPayingMemberRequest& r) {
  return TeamCommand(p, "SetPayingMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::SetPayingMember> {
                       return domain::SetPayingMember{r.customer_id()};
                     });
}

absl::StatusOr<v1::Team> App::UpdateTeamSharing(const auth::Principal& p,
                                                const v1::UpdateTeamSharingRequest& r) {
  return TeamCommand(p, "UpdateTeamSharing", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::UpdateTeamSharing> {
                       return domain::UpdateTeamSharing{r.share_booking_credit(),
                                                        r.share_printing_credit(),
                                                        r.share_access()};
                     });
}

}  // namespace cowork::customers::app
