#include "services/checkins/projection/projection.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/scheduler.h"
#include "libs/status/macros.h"
#include "services/checkins/projection/keys.h"

namespace cowork::checkins::projection {
namespace {

using eventstore::Views;
using eventstore::WriteSet;
using eventstore::WriteViews;

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

// The views of one check-in record: history by location and day of arrival and by customer;
// while in, the present list and the automatic check-out's due entry.
Views RecordViews(absl::string_view op, const v1::CheckInRecord& r, absl::TimeZone tz) {
  const std::string value = r.SerializeAsString();
  const std::string tail = absl::StrCat(Ts12(r.in_time()), "/", r.checkin_id());
  Views out = {
      {CheckinsOnDayPrefix(op, r.location_id(), calendar::Today(FromTimestamp(r.in_time()), tz)) +
           tail,
       value},
      {CheckinsOfPrefix(op, r.customer_id()) + tail, value}};
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

// The day's log at the location (the expected arrival's local day, and the arrival's when it
// is another day) and the host's list.
Views VisitorViews(const domain::VisitorState& v, absl::TimeZone tz) {
  const std::string value = v.SerializeAsString();
  const std::string& op = v.operator_id();
  const absl::CivilDay expected_day = calendar::Today(FromTimestamp(v.expected_arrival()), tz);
  Views out = {{VisitorsOnDayPrefix(op, v.location_id(), expected_day) +
                    Ts12(v.expected_arrival()) + "/" + v.visitor_id(),
                value},
               {VisitorsOfPrefix(op, v.host_customer_id()) + Ts12(v.expected_arrival()) + "/" +
                    v.visitor_id(),
                value}};
  if (v.has_arrived_at()) {
    const absl::CivilDay arrival_day = calendar::Today(FromTimestamp(v.arrived_at()), tz);
    if (arrival_day != expected_day) {
      out.emplace(VisitorsOnDayPrefix(op, v.location_id(), arrival_day) + Ts12(v.arrived_at()) +
                      "/" + v.visitor_id(),
                  value);
    }
  }
  return out;
}

// Seals the name and email a VisitorRegistered carries in clear with the visitor's key.
absl::Status SealPersonal(domain::Event& e, const std::optional<std::string>& key,
                          absl::string_view visitor_id) {
  if (!e.has_personal()) return absl::OkStatus();
  if (!key.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("visitor ", visitor_id, " has no key to seal their data with"));
  }
  e.mutable_visitor_registered()->set_sealed_personal(
      crypto::Seal(*key, visitor_id, e.personal().SerializeAsString()));
  e.clear_personal();
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------- check-ins

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

absl::StatusOr<v1::CheckInRecord> StagePresence(const eventstore::EnvelopeContext& context,
                                                directory::ZoneCache& zones,
                                                absl::string_view customer_id,
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

Loaded<domain::PolicyState> StagePolicy(const eventstore::EnvelopeContext& context,
                                        absl::string_view location_id,
                                        const Loaded<domain::PolicyState>& before,
                                        domain::Events events, WriteSet& writes) {
  Loaded<domain::PolicyState> after = before;
  after.version = before.version + static_cast<int64_t>(events.size());
  after.state = eventstore::Stage(context, kPolicyAggregate, location_id, location_id, before,
                                  std::move(events), kTopic, writes);
  return after;
}

absl::Status RebuildCheckins(eventstore::Store& store, const directory::Directory& directory) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kCheckinViewPrefixes));
  // (op, check-in id) -> its record as the events left it.
  std::map<std::pair<std::string, std::string>, v1::CheckInRecord> records;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& event) {
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
  eventstore::ViewBatches out(store);
  for (const auto& [key, record] : records) {
    directory::ZoneCache zones(directory, key.first);
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(record.location_id()));
    COWORK_RETURN_IF_ERROR(out.Write(RecordViews(key.first, record, tz)));
  }
  return out.Finish();
}

// ---------------------------------------------------------------- visitors

absl::StatusOr<domain::VisitorState> StageVisitor(
    const eventstore::EnvelopeContext& context, const directory::Directory& directory,
    const eventstore::KeyVault& vault, absl::string_view visitor_id, absl::string_view location_id,
    const Loaded<domain::VisitorState>& before, domain::Events events,
    const std::optional<std::string>& key, WriteSet& writes) {
  bool erasing = false;
  for (const domain::Event& e : events) erasing = erasing || e.has_visitor_erased();
  directory::ZoneCache zones(directory, context.operator_id);
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(std::string(location_id)));
  const eventstore::StageHooks<domain::VisitorState, domain::Event> hooks{
      .seal = [&](domain::Event& e) { return SealPersonal(e, key, visitor_id); }};
  COWORK_ASSIGN_OR_RETURN(domain::VisitorState after,
                          eventstore::Stage(context, kVisitorAggregate, visitor_id, location_id,
                                            before, std::move(events), kTopic, writes, hooks));
  WriteViews(before.version > 0 ? VisitorViews(before.state, tz) : Views(),
             VisitorViews(after, tz), writes);
  if (erasing) vault.Erase(context.operator_id, visitor_id, writes);
  return after;
}

absl::StatusOr<v1::Visitor> VisitorOf(const eventstore::KeyVault& vault,
                                      const domain::VisitorState& state) {
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
                          vault.Get(state.operator_id(), state.visitor_id()));
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

absl::Status RebuildVisitors(eventstore::Store& store, const directory::Directory& directory) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kVisitorViewPrefixes));
  std::map<std::pair<std::string, std::string>, domain::VisitorState> visitors;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        if (envelope.aggregate_type() != kVisitorAggregate) return;
        domain::VisitorState& v = visitors[{envelope.operator_id(), envelope.aggregate_id()}];
        v = domain::Apply(std::move(v), e);
      }));
  eventstore::ViewBatches out(store);
  for (const auto& [key, visitor] : visitors) {
    directory::ZoneCache zones(directory, key.first);
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, zones.Of(visitor.location_id()));
    COWORK_RETURN_IF_ERROR(out.Write(VisitorViews(visitor, tz)));
  }
  return out.Finish();
}

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::PresenceState, domain::Event>(std::string(kPresenceAggregate));
  folds.Add<domain::PolicyState, domain::Event>(std::string(kPolicyAggregate));
  folds.Add<domain::VisitorState, domain::Event>(std::string(kVisitorAggregate));
  return folds;
}

}  // namespace cowork::checkins::projection
