#include "services/checkins/app/app.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/runtime/scheduler.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/checkins/domain/presence.h"
#include "services/checkins/projection/keys.h"
#include "services/checkins/projection/projection.h"

namespace cowork::checkins::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::Space;
using eventstore::WriteSet;
using projection::PolicyOf;
using projection::PresenceOf;
using projection::StagePresence;

// Everyone in a location counts towards ListPresent's count: bounded to keep the call bounded.
constexpr int kMaxPresentCount = 1'000'000;

eventstore::EnvelopeContext Context(absl::string_view op, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(projection::kService, op, request_id, now);
}

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store), directory_(directory), clock_(clock), authn_(verifier, directory) {}

// ---------------------------------------------------------------- check-in and out

absl::StatusOr<v1::CheckInRecord> App::CheckIn(const auth::Principal& p, const v1::CheckInRequest& r) {
  const std::string customer_id =
      r.customer_id().empty() && p.is_customer() ? p.subject : r.customer_id();
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      r.request_id(), {{"customer_id", customer_id}, {"location_id", r.location_id()}}));
  if (p.is_customer()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kCheckinsWrite, "", customer_id));
    if (r.method() != v1::APP && r.method() != v1::QR_CODE) {
      return absl::PermissionDeniedError("customers check in by app or QR code");
    }
  } else {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsWrite, r.location_id()));
  }
  COWORK_ASSIGN_OR_RETURN(
      v1::CheckInRecord record,
      eventstore::Execute<v1::CheckInRecord>(
          store_, runtime::RequestOf(p, "CheckIn", r),
          [&]() -> absl::StatusOr<Decided<v1::CheckInRecord>> {
            COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                    directory_.FindLocation(p.operator_id, r.location_id()));
            COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
            COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                                    directory_.GetCustomer(p.operator_id, customer_id));
            if (!standing.has_value() || standing->erased) {
              return absl::NotFoundError(absl::StrCat("customer ", customer_id, " not found"));
            }
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::PresenceState> before,
                                    PresenceOf(store_, p.operator_id, customer_id));
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::PolicyState> policy,
                                    PolicyOf(store_, p.operator_id, r.location_id()));
            const absl::Time now = clock_.Now();
            const domain::CheckIn check_in{
                .checkin_id = crypto::NewId("ci-"),
                .customer_id = customer_id,
                .location_id = r.location_id(),
                .method = r.method(),
                .recorded_by = p.subject,
                .suspended = standing->suspended,
                .policy = policy.version > 0 ? &policy.state : nullptr,
                .tz = tz};
            COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                    domain::Decide(before.state, check_in, now));
            WriteSet writes;
            directory::ZoneCache zones(directory_, p.operator_id);
            COWORK_ASSIGN_OR_RETURN(
                v1::CheckInRecord last,
                StagePresence(Context(p.operator_id, r.request_id(), now), zones, customer_id,
                              before, std::move(events), writes));
            return Decided<v1::CheckInRecord>{std::move(writes), std::move(last)};
          },
          runtime::AdminAtAnswerOrSelf<v1::CheckInRecord>(p, auth::kCheckinsWrite)));
  if (record.refused()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "customer ", customer_id, " is suspended and cannot check in (the attempt is recorded)"));
  }
  return record;
}

absl::StatusOr<v1::CheckInRecord> App::CheckOut(const auth::Principal& p,
                                          const v1::CheckOutRequest& r) {
  const std::string customer_id =
      r.customer_id().empty() && p.is_customer() ? p.subject : r.customer_id();
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"customer_id", customer_id}}));
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kCheckinsWrite, customer_id));
  return eventstore::Execute<v1::CheckInRecord>(
      store_, runtime::RequestOf(p, "CheckOut", r),
      [&]() -> absl::StatusOr<Decided<v1::CheckInRecord>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PresenceState> before,
                                PresenceOf(store_, p.operator_id, customer_id));
        if (p.is_admin() && before.state.has_current()) {
          COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsWrite,
                                                    before.state.current().location_id()));
        }
        before.state.set_customer_id(customer_id);
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::Decide(before.state, domain::CheckOut{}, now));
        WriteSet writes;
        directory::ZoneCache zones(directory_, p.operator_id);
        COWORK_ASSIGN_OR_RETURN(
            v1::CheckInRecord last,
            StagePresence(Context(p.operator_id, r.request_id(), now), zones, customer_id,
                          before, std::move(events), writes));
        return Decided<v1::CheckInRecord>{std::move(writes), std::move(last)};
      },
      runtime::AdminAtAnswerOrSelf<v1::CheckInRecord>(p, auth::kCheckinsWrite));
}

absl::StatusOr<v1::Presence> App::GetPresence(const auth::Principal& p,
                                              const v1::GetPresenceRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"customer_id", r.customer_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kCheckinsRead, r.customer_id()));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::PresenceState> presence,
                          PresenceOf(store_, p.operator_id, r.customer_id()));
  v1::Presence out;
  out.set_customer_id(r.customer_id());
  if (presence.state.has_current() &&
      (p.is_customer() || p.CoversLocation(presence.state.current().location_id()))) {
    *out.mutable_checkin() = projection::RecordOf(presence.state.current());
  }
  return out;
}

absl::StatusOr<v1::ListPresentResponse> App::ListPresent(const auth::Principal& p,
                                                         const v1::ListPresentRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  const std::string prefix = projection::PresentPrefix(p.operator_id, r.location_id());
  COWORK_ASSIGN_OR_RETURN(eventstore::PageOf<v1::CheckInRecord> page,
                          runtime::PageFor<v1::CheckInRecord>(store_, p, prefix, r.page_token(),
                                                        r.page_size()));
  int64_t count = 0;
  COWORK_RETURN_IF_ERROR(store_.Scan(Space::kViews, prefix, "",
                                     [&count](absl::string_view, absl::string_view) {
                                       return ++count < kMaxPresentCount;
                                     }));
  v1::ListPresentResponse out;
  out.set_count(count);
  eventstore::MovePage(std::move(page), *out.mutable_checkins(), out);
  return out;
}

absl::StatusOr<std::optional<absl::CivilDay>> CheckCustomerOrDayListing(
    const auth::Principal& p, const directory::Directory& directory,
    absl::string_view customer_field, absl::string_view customer_id,
    absl::string_view location_id, const google::type::Date* day) {
  if (!customer_id.empty()) {
    if (!location_id.empty() || day != nullptr) {
      return InvalidField(std::string(customer_field),
                          absl::StrCat("give ", customer_field, " alone, or location_id and day"));
    }
    COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{customer_field, customer_id}}));
    COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kCheckinsRead, customer_id));
    return std::nullopt;
  }
  FieldErrors errors;
  validation::CheckId(location_id, "location_id", errors);
  const std::optional<absl::CivilDay> civil =
      day == nullptr ? std::nullopt : FromDate(*day);
  if (!civil.has_value()) errors.Add("day", "a calendar date is required");
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, location_id));
  COWORK_RETURN_IF_ERROR(directory.FindLocation(p.operator_id, location_id).status());
  return civil;
}

absl::StatusOr<v1::ListCheckinsResponse> App::ListCheckins(
    const auth::Principal& p, const v1::ListCheckinsRequest& r) const {
  COWORK_ASSIGN_OR_RETURN(
      const std::optional<absl::CivilDay> day,
      CheckCustomerOrDayListing(p, directory_, "customer_id", r.customer_id(), r.location_id(),
                                r.has_day() ? &r.day() : nullptr));
  const std::string prefix =
      day.has_value() ? projection::CheckinsOnDayPrefix(p.operator_id, r.location_id(), *day)
                      : projection::CheckinsOfPrefix(p.operator_id, r.customer_id());
  COWORK_ASSIGN_OR_RETURN(eventstore::PageOf<v1::CheckInRecord> page,
                          runtime::PageFor<v1::CheckInRecord>(store_, p, prefix, r.page_token(),
                                                        r.page_size()));
  v1::ListCheckinsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_checkins(), out);
  return out;
}

// ---------------------------------------------------------------- policies

absl::StatusOr<v1::CheckoutPolicy> App::SetCheckoutPolicy(const auth::Principal& p,
                                                          const v1::SetCheckoutPolicyRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsWrite, r.location_id()));
  return eventstore::Execute<v1::CheckoutPolicy>(
      store_, runtime::RequestOf(p, "SetCheckoutPolicy", r),
      [&]() -> absl::StatusOr<Decided<v1::CheckoutPolicy>> {
        COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PolicyState> before,
                                PolicyOf(store_, p.operator_id, r.location_id()));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state,
                           domain::SetCheckoutPolicy{r.location_id(), r.closing_time(),
                                                     r.max_hours()},
                           now));
        WriteSet writes;
        const Loaded<domain::PolicyState> after = projection::StagePolicy(
            Context(p.operator_id, r.request_id(), now), r.location_id(), before,
            std::move(events), writes);
        return Decided<v1::CheckoutPolicy>{std::move(writes),
                                           projection::PolicyView(r.location_id(), after)};
      },
      runtime::AdminAtAnswer<v1::CheckoutPolicy>(p, auth::kCheckinsWrite));
}

absl::StatusOr<v1::CheckoutPolicy> App::GetCheckoutPolicy(
    const auth::Principal& p, const v1::GetCheckoutPolicyRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::PolicyState> policy,
                          PolicyOf(store_, p.operator_id, r.location_id()));
  return projection::PolicyView(r.location_id(), policy);
}

// ---------------------------------------------------------------- by the clock

absl::StatusOr<int> App::RunDue() {
  return runtime::RunDueIndex(store_, clock_.Now(), [this](absl::string_view rest) {
    // "<op>/<customer>"
    std::vector<std::string> parts = absl::StrSplit(rest, '/');
    if (parts.size() != 2) return absl::StatusOr<bool>(false);
    return AutoCheckOut(parts[0], parts[1]);
  });
}

absl::StatusOr<bool> App::AutoCheckOut(absl::string_view op, absl::string_view customer_id) {
  bool changed = false;
  COWORK_RETURN_IF_ERROR(
      eventstore::ExecuteUnrecorded<v1::CheckInRecord>(
          store_, "AutoCheckOut",
          [&]() -> absl::StatusOr<Decided<v1::CheckInRecord>> {
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::PresenceState> before,
                                    PresenceOf(store_, op, customer_id));
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                domain::Decide(before.state, domain::CheckOutWhenDue{}, clock_.Now()));
            changed = !events.empty();
            if (events.empty()) return Decided<v1::CheckInRecord>{WriteSet(), v1::CheckInRecord()};
            WriteSet writes;
            directory::ZoneCache zones(directory_, op);
            COWORK_ASSIGN_OR_RETURN(
                v1::CheckInRecord last,
                StagePresence(Context(op, "", clock_.Now()), zones, customer_id, before,
                              std::move(events), writes));
            return Decided<v1::CheckInRecord>{std::move(writes), std::move(last)};
          })
          .status());
  return changed;
}

}  // namespace cowork::checkins::app
