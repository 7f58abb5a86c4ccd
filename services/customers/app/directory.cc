// The DirectoryService half of the App: operators and locations.

#include "services/customers/app/app.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/requests.h"
#include "libs/status/macros.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/validation.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"
#include "services/customers/app/internal.h"

namespace cowork::customers::app {

// ---------------------------------------------------------------- directory

absl::StatusOr<v1::Operator> App::CreateOperator(const auth::Principal& p,
                                                 const v1::CreateOperatorRequest& r) {
  if (!p.is_platform()) {
    return absl::PermissionDeniedError("only a platform token can create operators");
  }
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string id = IdOrNew(r.operator_id(), "op-");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateOperator", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        Loaded<domain::OperatorState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadOperator(id));
        }
        eventstore::EnvelopeContext context = Context(id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state, domain::CreateOperator{id, r.name()}, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageOperator(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Operator> view,
      ReadView<v1::Operator>(store_, projection::OperatorKey(result->id())));
  if (!view.has_value()) return absl::InternalError("operator view missing after its creation");
  return *std::move(view);
}

absl::StatusOr<v1::Location> App::CreateLocation(const auth::Principal& p,
                                                 const v1::CreateLocationRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kLocationsWrite, ""));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string id = IdOrNew(r.location_id(), "loc-");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateLocation", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::OperatorState> op,
                                   projection_.LoadOperator(p.operator_id));
        Loaded<domain::LocationState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadLocation(id));
        }
        // Location ids are aggregate ids: unique across operators. Another operator's id is
        // taken without saying whose it is.
        if (before.version > 0 && before.state.operator_id() != p.operator_id) {
          return absl::AlreadyExistsError(
              absl::StrCat("location id ", id, " is taken: choose another or leave it empty"));
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state,
                           domain::CreateLocation{.operator_id = p.operator_id,
                                                  .operator_exists = op.version > 0,
                                                  .location_id = id,
                                                  .name = r.name(),
                                                  .time_zone = r.time_zone(),
                                                  .currency = r.currency()},
                           context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageLocation(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  v1::GetLocationRequest get;
  get.set_location_id(result->id());
  return GetLocation(p, get);
}

absl::StatusOr<v1::Location> App::UpdateLocation(const auth::Principal& p,
                                                 const v1::UpdateLocationRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kLocationsWrite, ""));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string& id = r.location().location_id();
  if (id.empty()) return InvalidField("location.location_id", "is required");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "UpdateLocation", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        Loaded<domain::LocationState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadLocation(id));
        }
        if (before.version == 0 || before.state.operator_id() != p.operator_id) {
          return absl::NotFoundError("location not found");
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state,
                           domain::UpdateLocation{.paths = Paths(r.update_mask()),
                                                  .name = r.location().name(),
                                                  .time_zone = r.location().time_zone(),
                                                  .currency = r.location().currency()},
                           context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageLocation(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  v1::GetLocationRequest get;
  get.set_location_id(result->id());
  return GetLocation(p, get);
}

absl::StatusOr<v1::Location> App::GetLocation(const auth::Principal& p,
                                              const v1::GetLocationRequest& r) const {
  COWORK_RETURN_IF_ERROR(RequireOperatorMember(p));
  if (r.location_id().empty()) return InvalidField("location_id", "is required");
  if (!domain::IsValidId(r.location_id())) return absl::NotFoundError("location not found");
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Location> view,
      ReadView<v1::Location>(store_, projection::LocationKey(p.operator_id, r.location_id())));
  if (!view.has_value()) return absl::NotFoundError("location not found");
  return *std::move(view);
}

absl::StatusOr<v1::ListLocationsResponse> App::ListLocations(
    const auth::Principal& p, const v1::ListLocationsRequest& r) const {
  COWORK_RETURN_IF_ERROR(RequireOperatorMember(p));
  COWORK_ASSIGN_OR_RETURN(const int page_size, PageSize(r.page_size()));
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Location> page,
      Paginate<v1::Location>(
          store_, projection::LocationPrefix(p.operator_id), r.page_token(), page_size,
          options_.max_scan, eventstore::ParseView<v1::Location>));
  v1::ListLocationsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_locations(), out);
  return out;
}

}  // namespace cowork::customers::app
