#include "services/checkins/api/app.h"

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

namespace cowork::checkins::api {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;
using eventstore::WriteViews;

constexpr absl::string_view kPresenceAggregate = "presence";
constexpr absl::string_view kPolicyAggregate = "policy";
// Everyone in a location counts towards ListPresent's count: bounded to keep the call bounded.
constexpr int kMaxPresentCount = 1'000'000;
constexpr absl::string_view kViewPrefixes[] = {"in/", "cihist/", "cicust/", "due/"};

eventstore::EnvelopeContext Context(absl::string_view op, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(kService, op, request_id, now);
}

// ---------------------------------------------------------------- records and views

v1::CheckInRecord RecordOf(const v1::CheckedIn& e) {
  v1::CheckInRecord out;
  out.set_checkin_id(e.checkin_id());
  out.set_customer_id(e.customer_id());
  out.set_location_id(e.location_id());
  out.set_method(e.method());
  *out.mutable_in_time() = e.in_time();
  if (e.has_auto_checkout_time()) *out.mutable_auto_checkout_time() = e.auto_checkout_time();
  return out;
}

v1::CheckInRecord RecordOf(const v1::CheckInRefused& e) {
  v1::CheckInRecord out;
  out.set_checkin_id(e.checkin_id());
  out.set_customer_id(e.customer_id());
  out.set_location_id(e.location_id());
  out.set_method(e.method());
  *out.mutable_in_time() = e.at();
  out.set_refused(true);
  out.set_refusal(e.reason());
  return out;
}

v1::CheckInRecord Closed(v1::CheckInRecord record, const v1::CheckedOut& e) {
  *record.mutable_out_time() = e.out_time();
  record.set_out_reason(e.reason());
  return record;
}

std::string Ts12(const google::protobuf::Timestamp& t) {
  return absl::StrFormat("%012d", t.seconds());
}
std::string PresentPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("in/", op, "/", location, "/");
}
std::string DayPrefix(absl::string_view op, absl::string_view location, absl::CivilDay day) {
  return absl::StrCat("cihist/", op, "/", location, "/", FormatDay(day), "/");
}
std::string CustomerPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("cicust/", op, "/", customer, "/");
}

// The views of one check-in record: history by location and day of arrival and by customer;
// while in, the present list and the automatic check-out's due entry.
Views RecordViews(absl::string_view op, const v1::CheckInRecord& r, absl::TimeZone tz) {
  const std::string value = r.SerializeAsString();
  const std::string tail = absl::StrCat(Ts12(r.in_time()), "/", r.checkin_id());
  Views out = {
      {DayPrefix(op, r.location_id(), calendar::Today(FromTimestamp(r.in_time()), tz)) + tail,
       value},
      {CustomerPrefix(op, r.customer_id()) + tail, value}};
  if (!r.refused() && !r.has_out_time()) {
    out.emplace(PresentPrefix(op, r.location_id()) + r.customer_id(), value);
    if (r.has_auto_checkout_time()) {
      out.emplace(runtime::DueKey(FromTimestamp(r.auto_checkout_time()),
                                  absl::StrCat(op, "/", r.customer_id())),
                  "");
    }
  }
  return out;
}

// Stages presence events with the views they change; returns the record of the last one.
absl::StatusOr<v1::CheckInRecord> StagePresence(const eventstore::EnvelopeContext& context,
                                          directory::ZoneCache& zones, absl::string_view customer_id,
                                          const Loaded<domain::PresenceState>& before,
                                          domain::Events events, WriteSet& writes) {
  const std::string& op = context.operator_id;
  v1::CheckInRecord last;
  for (const domain::Event& e : events) {
    if (e.has_checked_out()) {
      const v1::CheckInRecord open = RecordOf(before.state.current());
      last = Closed(open, e.checked_out());
      COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(open.location_id()));
      WriteViews(RecordViews(op, open, tz), RecordViews(op, last, tz), writes);
      continue;
    }
    last = e.has_checked_in() ? RecordOf(e.checked_in()) : RecordOf(e.check_in_refused());
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(last.location_id()));
    WriteViews({}, RecordViews(op, last, tz), writes);
  }
  eventstore::Stage(context, kPresenceAggregate, customer_id, last.location_id(), before,
                    std::move(events), kTopic, writes);
  return last;
}

// The presence of a customer of the operator (empty when they never checked in).
absl::StatusOr<Loaded<domain::PresenceState>> PresenceOf(const eventstore::Store& store,
                                                         absl::string_view op,
                                                         absl::string_view customer_id) {
  return eventstore::LoadStateOf<domain::PresenceState>(store, kPresenceAggregate, op,
                                                         customer_id);
}

absl::StatusOr<Loaded<domain::PolicyState>> PolicyOf(const eventstore::Store& store,
                                                     absl::string_view op,
                                                     absl::string_view location_id) {
  return eventstore::LoadStateOf<domain::PolicyState>(store, kPolicyAggregate, op, location_id);
}

v1::CheckoutPolicy PolicyView(absl::string_view location_id, const Loaded<domain::PolicyState>& p) {
  v1::CheckoutPolicy out;
  out.set_location_id(std::string(location_id));
  if (p.version == 0) {
    out.set_max_hours(domain::kDefaultMaxHours);
  } else {
    out.set_closing_time(p.state.closing_time());
    out.set_max_hours(p.state.max_hours());
  }
  return out;
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
            COWORK_ASSIGN_OR_RETURN(
                domain::Events events,
                domain::DecideCheckIn(
                    before.state, {.checkin_id = crypto::NewId("ci-"),
                                   .customer_id = customer_id,
                                   .location_id = r.location_id(),
                                   .method = r.method(),
                                   .recorded_by = p.subject,
                                   .suspended = standing->suspended,
                                   .now = now,
                                   .policy = policy.version > 0 ? &policy.state : nullptr,
                                   .tz = tz}));
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
        COWORK_ASSIGN_OR_RETURN(domain::Events events, domain::DecideCheckOut(before.state, now));
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
    *out.mutable_checkin() = RecordOf(presence.state.current());
  }
  return out;
}

absl::StatusOr<v1::ListPresentResponse> App::ListPresent(const auth::Principal& p,
                                                         const v1::ListPresentRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCheckinsRead, r.location_id()));
  COWORK_RETURN_IF_ERROR(directory_.FindLocation(p.operator_id, r.location_id()).status());
  const std::string prefix = PresentPrefix(p.operator_id, r.location_id());
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
  const std::string prefix = day.has_value()
                                 ? DayPrefix(p.operator_id, r.location_id(), *day)
                                 : CustomerPrefix(p.operator_id, r.customer_id());
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
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::DecideSetPolicy(r.location_id(), r.closing_time(), r.max_hours()));
        WriteSet writes;
        Loaded<domain::PolicyState> after = before;
        after.state = eventstore::Stage(Context(p.operator_id, r.request_id(), clock_.Now()),
                                        kPolicyAggregate, r.location_id(), r.location_id(),
                                        before, std::move(events), kTopic, writes);
        after.version = before.version + 1;
        return Decided<v1::CheckoutPolicy>{std::move(writes), PolicyView(r.location_id(), after)};
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
  return PolicyView(r.location_id(), policy);
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
            domain::Events events = domain::DecideAutoCheckOut(before.state, clock_.Now());
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

// ---------------------------------------------------------------- rebuild

absl::Status App::Rebuild() {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store_, kViewPrefixes));
  // (op, check-in id) -> its record as the events left it.
  std::map<std::pair<std::string, std::string>, v1::CheckInRecord> records;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store_, [&](const common::v1::EventEnvelope& envelope, const domain::Event& event) {
        const std::string& op = envelope.operator_id();
        if (event.has_checked_in()) {
          records[{op, event.checked_in().checkin_id()}] = RecordOf(event.checked_in());
        } else if (event.has_check_in_refused()) {
          records[{op, event.check_in_refused().checkin_id()}] =
              RecordOf(event.check_in_refused());
        } else if (event.has_checked_out()) {
          v1::CheckInRecord& r = records[{op, event.checked_out().checkin_id()}];
          r = Closed(std::move(r), event.checked_out());
        }
      }));
  eventstore::ViewBatches out(store_);
  for (const auto& [key, record] : records) {
    directory::ZoneCache zones(directory_, key.first);
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(record.location_id()));
    COWORK_RETURN_IF_ERROR(out.Write(RecordViews(key.first, record, tz)));
  }
  return out.Finish();
}

}  // namespace cowork::checkins::api
