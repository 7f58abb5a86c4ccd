#include "services/checkins/app/visitors.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/checkins/app/app.h"
#include "services/checkins/domain/visitors.h"
#include "services/checkins/projection/keys.h"
#include "services/checkins/projection/projection.h"

namespace cowork::checkins::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::WriteSet;

// Whether the caller may act on the visitor now: its host, or an admin who may at its
// location (a retried request's answer is checked again).
absl::Status MayChange(const auth::Principal& p, const domain::VisitorState& v) {
  if (p.is_customer()) return auth::RequireAdminOrSelf(p, auth::kCheckinsWrite, "", v.host_customer_id());
  return auth::RequireAdmin(p, auth::kCheckinsWrite, v.location_id());
}

// The expected arrival; a timestamp out of its range counts as missing ("is required").
std::optional<absl::Time> ExpectedArrivalOf(const v1::RegisterVisitorRequest& r) {
  if (!r.has_expected_arrival() || !IsValidTimestamp(r.expected_arrival())) return std::nullopt;
  return FromTimestamp(r.expected_arrival());
}

}  // namespace

VisitorsApp::VisitorsApp(eventstore::Store& store, const directory::Directory& directory,
                         const Clock& clock, const auth::TokenVerifier& verifier)
    : store_(store),
      directory_(directory),
      clock_(clock),
      vault_(store),
      authn_(verifier, directory) {}

// ---------------------------------------------------------------- commands

absl::StatusOr<v1::Visitor> VisitorsApp::RegisterVisitor(const auth::Principal& p,
                                                         const v1::RegisterVisitorRequest& r) {
  const std::string host =
      r.host_customer_id().empty() && p.is_customer() ? p.subject : r.host_customer_id();
  FieldErrors errors;
  validation::CheckRequestId(r.request_id(), errors);
  validation::CheckId(r.location_id(), "location_id", errors);
  validation::CheckId(host, "host_customer_id", errors);
  domain::CheckVisitorDetails(r.name(), r.email(), ExpectedArrivalOf(r), clock_.Now(), errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (p.is_customer()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kCheckinsWrite, "", host));
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsWrite, r.location_id()));
  }
  COWORK_ASSIGN_OR_RETURN(
      domain::VisitorState state,
      eventstore::Execute<domain::VisitorState>(
          store_, runtime::RequestOf(p, "RegisterVisitor", r),
          [&]() -> absl::StatusOr<Decided<domain::VisitorState>> {
            COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
            COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                                    directory_.GetCustomer(p.operator_id, host));
            if (!standing.has_value() || standing->erased) {
              return absl::NotFoundError(absl::StrCat("customer ", host, " not found"));
            }
            const absl::Time now = clock_.Now();
            const domain::RegisterVisitor registration{
                .visitor_id = crypto::NewId("v-"),
                .location_id = r.location_id(),
                .host_customer_id = host,
                .name = r.name(),
                .email = r.email(),
                .expected_arrival = ExpectedArrivalOf(r),
                .registered_by = p.subject,
                .host_suspended = standing->suspended};
            COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                    domain::Decide(domain::VisitorState(), registration, now));
            WriteSet writes;
            const std::string key = vault_.Create(p.operator_id, registration.visitor_id, writes);
            COWORK_ASSIGN_OR_RETURN(
                domain::VisitorState after,
                projection::StageVisitor(
                    eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(),
                                               now),
                    directory_, vault_, registration.visitor_id, r.location_id(), {},
                    std::move(events), key, writes));
            // The stored answer (for retries) keeps the personal data sealed, like the log.
            return Decided<domain::VisitorState>{std::move(writes), std::move(after)};
          },
          [&](const domain::VisitorState& answer) { return MayChange(p, answer); }));
  return projection::VisitorOf(vault_, state);
}

template <typename Request, typename Decide>
absl::StatusOr<v1::Visitor> VisitorsApp::Change(const auth::Principal& p,
                                                absl::string_view method, const Request& request,
                                                Who who, Decide decide) {
  const std::string& request_id = request.request_id();
  const std::string& visitor_id = request.visitor_id();
  COWORK_RETURN_IF_ERROR(validation::CheckIds(request_id, {{"visitor_id", visitor_id}}));
  if (who == Who::kFrontDesk || !p.is_customer()) {
    COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCheckinsWrite));
  }
  COWORK_ASSIGN_OR_RETURN(
      domain::VisitorState state,
      eventstore::Execute<domain::VisitorState>(
          store_, runtime::RequestOf(p, method, request),
          [&]() -> absl::StatusOr<Decided<domain::VisitorState>> {
            COWORK_ASSIGN_OR_RETURN(
                Loaded<domain::VisitorState> before,
                eventstore::LoadOwned<domain::VisitorState>(store_, projection::kVisitorAggregate,
                                                            p.operator_id, visitor_id, "visitor"));
            COWORK_RETURN_IF_ERROR(MayChange(p, before.state));
            const absl::Time now = clock_.Now();
            COWORK_ASSIGN_OR_RETURN(domain::Events events, decide(before.state, now));
            WriteSet writes;
            COWORK_ASSIGN_OR_RETURN(
                domain::VisitorState after,
                projection::StageVisitor(eventstore::CommandContext(projection::kService,
                                                                    p.operator_id, request_id, now),
                                         directory_, vault_, visitor_id, before.state.location_id(),
                                         before, std::move(events), std::nullopt, writes));
            return Decided<domain::VisitorState>{std::move(writes), std::move(after)};
          },
          [&](const domain::VisitorState& answer) { return MayChange(p, answer); }));
  return projection::VisitorOf(vault_, state);
}

absl::StatusOr<v1::Visitor> VisitorsApp::RecordVisitorArrival(
    const auth::Principal& p, const v1::RecordVisitorArrivalRequest& r) {
  return Change(p, "RecordVisitorArrival", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::Decide(v, domain::RecordVisitorArrival{p.subject}, now);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::RecordVisitorDeparture(
    const auth::Principal& p, const v1::RecordVisitorDepartureRequest& r) {
  return Change(p, "RecordVisitorDeparture", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::Decide(v, domain::RecordVisitorDeparture{p.subject}, now);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::CancelVisitor(const auth::Principal& p,
                                                       const v1::CancelVisitorRequest& r) {
  return Change(p, "CancelVisitor", r, Who::kFrontDeskOrHost,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::Decide(v, domain::CancelVisitor{p.subject}, now);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::EraseVisitor(const auth::Principal& p,
                                                      const v1::EraseVisitorRequest& r) {
  return Change(p, "EraseVisitor", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::Decide(v, domain::EraseVisitor{p.subject}, now);
                });
}

// ---------------------------------------------------------------- reads

absl::StatusOr<v1::Visitor> VisitorsApp::GetVisitor(const auth::Principal& p,
                                                    const v1::GetVisitorRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"visitor_id", r.visitor_id()}}));
  COWORK_ASSIGN_OR_RETURN(
      Loaded<domain::VisitorState> visitor,
      eventstore::LoadOwned<domain::VisitorState>(store_, projection::kVisitorAggregate,
                                                  p.operator_id, r.visitor_id(), "visitor"));
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kCheckinsRead,
                                                       visitor.state.host_customer_id()));
  if (p.is_admin()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, visitor.state.location_id()));
  }
  return projection::VisitorOf(vault_, visitor.state);
}

absl::StatusOr<v1::ListVisitorsResponse> VisitorsApp::ListVisitors(
    const auth::Principal& p, const v1::ListVisitorsRequest& r) const {
  COWORK_ASSIGN_OR_RETURN(
      const std::optional<absl::CivilDay> day,
      CheckCustomerOrDayListing(p, directory_, "host_customer_id", r.host_customer_id(),
                                r.location_id(), r.has_day() ? &r.day() : nullptr));
  const std::string prefix =
      day.has_value() ? projection::VisitorsOnDayPrefix(p.operator_id, r.location_id(), *day)
                      : projection::VisitorsOfPrefix(p.operator_id, r.host_customer_id());
  COWORK_ASSIGN_OR_RETURN(eventstore::PageOf<domain::VisitorState> page,
                          runtime::PageFor<domain::VisitorState>(store_, p, prefix, r.page_token(),
                                                                 r.page_size()));
  v1::ListVisitorsResponse out;
  COWORK_RETURN_IF_ERROR(eventstore::MovePage(
      std::move(page), *out.mutable_visitors(), out,
      [this](const domain::VisitorState& v) { return projection::VisitorOf(vault_, v); }));
  return out;
}

}  // namespace cowork::checkins::app
