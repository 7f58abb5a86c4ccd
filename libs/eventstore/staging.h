#ifndef COWORK_LIBS_EVENTSTORE_STAGING_H_
#define COWORK_LIBS_EVENTSTORE_STAGING_H_

// What every service's application layer does with its domain events: a service's domain
// defines one event message with a `oneof payload` of the public event types (plus
// occurred_at and operator_id); these helpers turn such events into envelopes on an
// aggregate (Stage), read them back from envelopes (DomainEventOf), and write read views as
// the difference between two sets (WriteViews).
//
// Thread-safe (pure functions over their arguments).
//
//   State after = eventstore::Stage(context, "contract", id, location, before, events,
//                                   "cowork.contracts.events", writes);
//   eventstore::WriteViews(ViewsOf(before.state), ViewsOf(after), writes);

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"

namespace cowork::eventstore {

// The payload of a domain event (the member set in its oneof `payload`); null when none is.
template <typename Event>
const google::protobuf::Message* PayloadOf(const Event& e) {
  const google::protobuf::OneofDescriptor* oneof = Event::descriptor()->FindOneofByName("payload");
  const google::protobuf::FieldDescriptor* field =
      e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return field == nullptr ? nullptr : &e.GetReflection()->GetMessage(e, field);
}

// The domain event an envelope carries, with its occurred_at and operator_id; nullopt for a
// payload type the Event does not know; DATA_LOSS when the payload does not parse.
template <typename Event>
absl::StatusOr<std::optional<Event>> DomainEventOf(const common::v1::EventEnvelope& envelope) {
  const google::protobuf::OneofDescriptor* oneof = Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < oneof->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = oneof->field(i);
    if (!absl::EndsWith(envelope.payload().type_url(),
                        absl::StrCat("/", field->message_type()->full_name()))) {
      continue;
    }
    Event e;
    if (!e.GetReflection()->MutableMessage(&e, field)->ParseFromString(
            envelope.payload().value())) {
      return absl::DataLossError(absl::StrCat("event ", envelope.event_id(), " does not parse"));
    }
    *e.mutable_occurred_at() = envelope.occurred_at();
    e.set_operator_id(envelope.operator_id());
    return std::optional<Event>(std::move(e));
  }
  return std::optional<Event>();
}

// Calls fn(envelope, event) for every event of the store's log, in commit order, whose payload
// the domain's Event knows (rebuilds of read views). DATA_LOSS for a payload that does not
// parse.
template <typename Event>
absl::Status ForEachDomainEvent(
    const Store& store,
    const std::function<void(const common::v1::EventEnvelope&, const Event&)>& fn) {
  absl::Status failed;
  absl::Status scanned = store.ForEachEvent([&](const common::v1::EventEnvelope& envelope) {
    absl::StatusOr<std::optional<Event>> e = DomainEventOf<Event>(envelope);
    if (!e.ok()) {
      failed = e.status();
      return false;
    }
    if (e->has_value()) fn(envelope, **e);
    return true;
  });
  return scanned.ok() ? failed : scanned;
}

// What a service adds to staging, each optional.
template <typename State, typename Event>
struct StageHooks {
  // Called on each event before its envelope is made, e.g. to seal personal data into the
  // payload.
  std::function<absl::Status(Event&)> seal;
  // The location of each event's envelope, from the state after it; unset: `location_id`.
  std::function<std::string(const State&)> location_of;
  // Called with each envelope once its event is applied, e.g. to keep another projection in
  // the same commit (it reads through and writes to the caller's WriteSet).
  std::function<absl::Status(const common::v1::EventEnvelope&, const google::protobuf::Message&,
                             WriteSet&)>
      on_event;
};

// Wraps `events` in envelopes (sequences after before.version), applies each to the state
// with `Apply(State, const Event&)` found by argument-dependent lookup, and appends them with
// the new state to `writes` for `topic` ("": never published). Returns the state after them
// (before.state when there are none), or the first error of a hook (then `writes` is to be
// dropped: the command fails). The one staging path of every service.
template <typename State, typename Event>
absl::StatusOr<State> Stage(const EnvelopeContext& context, absl::string_view type,
                            absl::string_view id, absl::string_view location_id,
                            const Loaded<State>& before, std::vector<Event> events,
                            absl::string_view topic, WriteSet& writes,
                            const StageHooks<State, Event>& hooks) {
  State state = before.state;
  if (events.empty()) return state;
  std::vector<common::v1::EventEnvelope> envelopes;
  envelopes.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    if (hooks.seal) {
      if (absl::Status s = hooks.seal(e); !s.ok()) return s;
    }
    const std::string location =
        hooks.location_of ? hooks.location_of(Apply(state, e)) : std::string(location_id);
    common::v1::EventEnvelope envelope =
        MakeEnvelope(context, type, id, before.version + 1 + static_cast<int64_t>(i), location,
                     *PayloadOf(e));
    // The state keeps the envelope's time and operator, exactly as a replay will see them.
    *e.mutable_occurred_at() = envelope.occurred_at();
    e.set_operator_id(envelope.operator_id());
    state = Apply(std::move(state), e);
    if (hooks.on_event) {
      if (absl::Status s = hooks.on_event(envelope, *PayloadOf(e), writes); !s.ok()) return s;
    }
    envelopes.push_back(std::move(envelope));
  }
  writes.Append(std::string(type), std::string(id), before.version, std::move(envelopes),
                state.SerializeAsString(), std::string(topic));
  return state;
}

// Stage without hooks: it cannot fail.
template <typename State, typename Event>
State Stage(const EnvelopeContext& context, absl::string_view type, absl::string_view id,
            absl::string_view location_id, const Loaded<State>& before, std::vector<Event> events,
            absl::string_view topic, WriteSet& writes) {
  return *Stage(context, type, id, location_id, before, std::move(events), topic, writes,
                StageHooks<State, Event>());
}

// Read views as key -> serialized value.
using Views = std::map<std::string, std::string>;

// Deletes what `before` had and `after` has not; writes what is new or changed.
inline void WriteViews(const Views& before, const Views& after, WriteSet& writes) {
  for (const auto& [key, value] : before) {
    if (!after.contains(key)) writes.Delete(Space::kViews, key);
  }
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second != value) writes.Put(Space::kViews, key, value);
  }
}

// Writes the views of a rebuild (too many for one commit) in commits of `batch` sets.
//
//   ViewBatches out(store);
//   for (...) RETURN_IF_ERROR(out.Write(ViewsOf(state)));
//   RETURN_IF_ERROR(out.Finish());
class ViewBatches {
 public:
  explicit ViewBatches(Store& store, int batch = 500) : store_(store), batch_(batch) {}

  absl::Status Write(const Views& views) {
    WriteViews({}, views, writes_);
    if (++staged_ % batch_ != 0) return absl::OkStatus();
    return Flush();
  }
  // Commits what is left.
  absl::Status Finish() { return writes_.empty() ? absl::OkStatus() : Flush(); }

 private:
  absl::Status Flush() {
    absl::Status s = store_.Commit(std::move(writes_));
    writes_ = WriteSet();
    return s;
  }

  Store& store_;
  const int batch_;
  int staged_ = 0;
  WriteSet writes_;
};

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_STAGING_H_
