#include "services/checkins/api/visitors.h"

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
#include "services/checkins/api/app.h"
#include "services/checkins/domain/visitors.h"

namespace cowork::checkins::api {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::Views;
using eventstore::WriteSet;

constexpr absl::string_view kVisitorAggregate = "visitor";
constexpr absl::string_view kViewPrefixes[] = {"vislog/", "vishost/"};

std::string Ts12(const google::protobuf::Timestamp& t) {
  return absl::StrFormat("%012d", t.seconds());
}
std::string LogPrefix(absl::string_view op, absl::string_view location, absl::CivilDay day) {
  return absl::StrCat("vislog/", op, "/", location, "/", FormatDay(day), "/");
}
std::string HostPrefix(absl::string_view op, absl::string_view host) {
  return absl::StrCat("vishost/", op, "/", host, "/");
}

// The day's log at the location (the expected arrival's local day, and the arrival's when it
// is another day) and the host's list.
Views VisitorViews(const domain::VisitorState& v, absl::TimeZone tz) {
  const std::string value = v.SerializeAsString();
  const std::string& op = v.operator_id();
  const absl::CivilDay expected_day = calendar::Today(FromTimestamp(v.expected_arrival()), tz);
  Views out = {
      {LogPrefix(op, v.location_id(), expected_day) + Ts12(v.expected_arrival()) + "/" +
           v.visitor_id(),
       value},
      {HostPrefix(op, v.host_customer_id()) + Ts12(v.expected_arrival()) + "/" + v.visitor_id(),
       value}};
  if (v.has_arrived_at()) {
    const absl::CivilDay arrival_day = calendar::Today(FromTimestamp(v.arrived_at()), tz);
    if (arrival_day != expected_day) {
      out.emplace(LogPrefix(op, v.location_id(), arrival_day) + Ts12(v.arrived_at()) + "/" +
                      v.visitor_id(),
                  value);
    }
  }
  return out;
}

// Stages a visitor's events with the views they change (and, on erasure, the key's deletion);
// returns the state after them.
absl::StatusOr<domain::VisitorState> StageVisitor(const eventstore::EnvelopeContext& context,
                                                  const directory::Directory& directory,
                                                  absl::string_view visitor_id,
                                                  absl::string_view location_id,
                                                  const Loaded<domain::VisitorState>& before,
                                                  domain::Events events, WriteSet& writes) {
  bool erasing = false;
  for (const domain::Event& e : events) erasing = erasing || e.has_visitor_erased();
  directory::ZoneCache zones(directory, context.operator_id);
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(std::string(location_id)));
  domain::VisitorState after =
      eventstore::Stage(context, kVisitorAggregate, visitor_id, location_id, before,
                        std::move(events), kTopic, writes);
  eventstore::WriteViews(before.version > 0 ? VisitorViews(before.state, tz) : Views(),
                         VisitorViews(after, tz), writes);
  if (erasing) eventstore::KeyVault::Erase(context.operator_id, visitor_id, writes);
  return after;
}

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

absl::StatusOr<v1::Visitor> VisitorsApp::VisitorOf(const domain::VisitorState& state) const {
  v1::Visitor out;
  out.set_visitor_id(state.visitor_id());
  out.set_location_id(state.location_id());
  out.set_host_customer_id(state.host_customer_id());
  *out.mutable_expected_arrival() = state.expected_arrival();
  if (state.has_arrived_at()) *out.mutable_arrival_time() = state.arrived_at();
  if (state.has_left_at()) *out.mutable_departure_time() = state.left_at();
  out.set_status(domain::StatusOf(state));
  out.set_registered_by(state.registered_by());
  *out.mutable_create_time() = state.registered_at();
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> key,
                          vault_.Get(state.operator_id(), state.visitor_id()));
  if (state.erased() || !key.has_value()) {
    out.set_erased(true);
    return out;
  }
  COWORK_ASSIGN_OR_RETURN(std::string clear,
                          crypto::Open(*key, state.visitor_id(), state.sealed_personal()));
  v1::VisitorPersonal personal;
  if (!personal.ParseFromString(clear)) {
    return absl::DataLossError(absl::StrCat("visitor ", state.visitor_id(), " does not open"));
  }
  out.set_name(personal.name());
  out.set_email(personal.email());
  return out;
}

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
            const std::string id = crypto::NewId("v-");
            WriteSet writes;
            v1::VisitorPersonal personal;
            personal.set_name(std::string(validation::TrimSpaces(r.name())));
            personal.set_email(std::string(validation::TrimSpaces(r.email())));
            const std::string key = vault_.Create(p.operator_id, id, writes);
            const absl::Time now = clock_.Now();
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                domain::DecideRegisterVisitor(
                    {.visitor_id = id,
                     .location_id = r.location_id(),
                     .host_customer_id = host,
                     .name = personal.name(),
                     .email = personal.email(),
                     .sealed_personal = crypto::Seal(key, id, personal.SerializeAsString()),
                     .expected_arrival = ExpectedArrivalOf(r),
                     .registered_by = p.subject,
                     .host_suspended = standing->suspended,
                     .now = now}));
            COWORK_ASSIGN_OR_RETURN(
                domain::VisitorState after,
                StageVisitor(eventstore::CommandContext(kService, p.operator_id, r.request_id(), now),
                             directory_, id, r.location_id(), {}, std::move(events), writes));
            // The stored answer (for retries) keeps the personal data sealed, like the log.
            return Decided<domain::VisitorState>{std::move(writes), std::move(after)};
          },
          [&](const domain::VisitorState& answer) { return MayChange(p, answer); }));
  return VisitorOf(state);
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
                eventstore::LoadOwned<domain::VisitorState>(store_, kVisitorAggregate,
                                                            p.operator_id, visitor_id, "visitor"));
            COWORK_RETURN_IF_ERROR(MayChange(p, before.state));
            const absl::Time now = clock_.Now();
            COWORK_ASSIGN_OR_RETURN(domain::Events events, decide(before.state, now));
            WriteSet writes;
            COWORK_ASSIGN_OR_RETURN(
                domain::VisitorState after,
                StageVisitor(eventstore::CommandContext(kService, p.operator_id, request_id, now),
                             directory_, visitor_id, before.state.location_id(), before,
                             std::move(events), writes));
            return Decided<domain::VisitorState>{std::move(writes), std::move(after)};
          },
          [&](const domain::VisitorState& answer) { return MayChange(p, answer); }));
  return VisitorOf(state);
}

absl::StatusOr<v1::Visitor> VisitorsApp::RecordVisitorArrival(
    const auth::Principal& p, const v1::RecordVisitorArrivalRequest& r) {
  return Change(p, "RecordVisitorArrival", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::DecideVisitorArrival(v, now, p.subject);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::RecordVisitorDeparture(
    const auth::Principal& p, const v1::RecordVisitorDepartureRequest& r) {
  return Change(p, "RecordVisitorDeparture", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time now) {
                  return domain::DecideVisitorDeparture(v, now, p.subject);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::CancelVisitor(const auth::Principal& p,
                                                       const v1::CancelVisitorRequest& r) {
  return Change(p, "CancelVisitor", r, Who::kFrontDeskOrHost,
                [&p](const domain::VisitorState& v, absl::Time) {
                  return domain::DecideCancelVisitor(v, p.subject);
                });
}

absl::StatusOr<v1::Visitor> VisitorsApp::EraseVisitor(const auth::Principal& p,
                                                      const v1::EraseVisitorRequest& r) {
  return Change(p, "EraseVisitor", r, Who::kFrontDesk,
                [&p](const domain::VisitorState& v, absl::Time) {
                  return domain::DecideEraseVisitor(v, p.subject);
                });
}

// ---------------------------------------------------------------- reads

absl::StatusOr<v1::Visitor> VisitorsApp::GetVisitor(const auth::Principal& p,
                                                    const v1::GetVisitorRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"visitor_id", r.visitor_id()}}));
  COWORK_ASSIGN_OR_RETURN(
      Loaded<domain::VisitorState> visitor,
      eventstore::LoadOwned<domain::VisitorState>(store_, kVisitorAggregate, p.operator_id,
                                                  r.visitor_id(), "visitor"));
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kCheckinsRead,
                                                       visitor.state.host_customer_id()));
  if (p.is_admin()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, visitor.state.location_id()));
  }
  return VisitorOf(visitor.state);
}

absl::StatusOr<v1::ListVisitorsResponse> VisitorsApp::ListVisitors(
    const auth::Principal& p, const v1::ListVisitorsRequest& r) const {
  COWORK_ASSIGN_OR_RETURN(
      const std::optional<absl::CivilDay> day,
      CheckCustomerOrDayListing(p, directory_, "host_customer_id", r.host_customer_id(),
                                r.location_id(), r.has_day() ? &r.day() : nullptr));
  const std::string prefix = day.has_value()
                                 ? LogPrefix(p.operator_id, r.location_id(), *day)
                                 : HostPrefix(p.operator_id, r.host_customer_id());
  COWORK_ASSIGN_OR_RETURN(eventstore::PageOf<domain::VisitorState> page,
                          runtime::PageFor<domain::VisitorState>(store_, p, prefix, r.page_token(),
                                                                 r.page_size()));
  v1::ListVisitorsResponse out;
  for (const domain::VisitorState& v : page.items) {
    COWORK_ASSIGN_OR_RETURN(*out.add_visitors(), VisitorOf(v));
  }
  out.set_next_page_token(page.next_page_token);
  return out;
}

// ---------------------------------------------------------------- rebuild

absl::Status VisitorsApp::Rebuild() {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store_, kViewPrefixes));
  std::map<std::pair<std::string, std::string>, domain::VisitorState> visitors;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store_, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        if (envelope.aggregate_type() != kVisitorAggregate) return;
        domain::VisitorState& v = visitors[{envelope.operator_id(), envelope.aggregate_id()}];
        v = domain::Apply(std::move(v), e);
      }));
  eventstore::ViewBatches out(store_);
  for (const auto& [key, visitor] : visitors) {
    directory::ZoneCache zones(directory_, key.first);
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(visitor.location_id()));
    COWORK_RETURN_IF_ERROR(out.Write(VisitorViews(visitor, tz)));
  }
  return out.Finish();
}

}  // namespace cowork::checkins::api
