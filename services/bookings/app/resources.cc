// The ResourcesService half of the App: what a location lets people book.

#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/bookings/app/app.h"
#include "services/bookings/domain/resource.h"
#include "services/bookings/projection/keys.h"
#include "services/bookings/projection/projection.h"
#include "services/bookings/projection/views.h"

namespace cowork::bookings::app {

using eventstore::Decided;
using eventstore::Loaded;

absl::StatusOr<v1::Resource> App::CreateResource(const auth::Principal& p,
                                                 const v1::CreateResourceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, r.location_id()));
  return eventstore::Execute<v1::Resource>(
      store_, runtime::RequestOf(p, "CreateResource", r),
      [&]() -> absl::StatusOr<Decided<v1::Resource>> {
        COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                directory_.FindLocation(p.operator_id, r.location_id()));
        const absl::Time now = clock_.Now();
        const domain::CreateResource create{.resource_id = crypto::NewId("rs-"),
                                            .location_id = r.location_id(),
                                            .currency = location.currency,
                                            .spec = r.spec()};
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::Decide(domain::ResourceState(), create, now));
        eventstore::WriteSet writes;
        const domain::ResourceState after = projection::StageResource(
            eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(), now),
            create.resource_id, create.location_id, Loaded<domain::ResourceState>(),
            std::move(events), writes);
        return Decided<v1::Resource>{std::move(writes), projection::ResourceView(after)};
      },
      runtime::AdminAtAnswer<v1::Resource>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::Resource> App::UpdateResource(const auth::Principal& p,
                                                 const v1::UpdateResourceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"resource_id", r.resource_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kBookingsWrite));
  return eventstore::Execute<v1::Resource>(
      store_, runtime::RequestOf(p, "UpdateResource", r),
      [&]() -> absl::StatusOr<Decided<v1::Resource>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> before,
                                eventstore::LoadOwned<domain::ResourceState>(
                                    store_, projection::kResourceAggregate, p.operator_id,
                                    r.resource_id(), "resource"));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kBookingsWrite, before.state.location_id()));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state, domain::UpdateResource{r.spec()}, now));
        eventstore::WriteSet writes;
        const domain::ResourceState after = projection::StageResource(
            eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(), now),
            r.resource_id(), before.state.location_id(), before, std::move(events), writes);
        return Decided<v1::Resource>{std::move(writes), projection::ResourceView(after)};
      },
      runtime::AdminAtAnswer<v1::Resource>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::Resource> App::GetResource(const auth::Principal& p,
                                              const v1::GetResourceRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"resource_id", r.resource_id()}}));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::ResourceState> resource,
                          eventstore::LoadOwned<domain::ResourceState>(
                              store_, projection::kResourceAggregate, p.operator_id,
                              r.resource_id(), "resource"));
  COWORK_RETURN_IF_ERROR(
      auth::RequireCatalogueReader(p, auth::kBookingsRead, resource.state.location_id()));
  return projection::ResourceView(resource.state);
}

absl::StatusOr<v1::ListResourcesResponse> App::ListResources(
    const auth::Principal& p, const v1::ListResourcesRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kBookingsRead, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      eventstore::PageOf<v1::Resource> page,
      runtime::PageFor<v1::Resource>(store_, p,
                                     projection::ResourcesAtPrefix(p.operator_id, r.location_id()),
                                     r.page_token(), r.page_size()));
  v1::ListResourcesResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_resources(), out);
  return out;
}

}  // namespace cowork::bookings::app
