#include "services/customers/projection/projection.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/team.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"

namespace cowork::customers::projection {
namespace {

using eventstore::Space;
using eventstore::WriteSet;

// Views written per commit during a rebuild.
constexpr int kRebuildBatch = 500;

// Which clear side field of an event is sealed into which bytes of its payload.
struct SealedField {
  const google::protobuf::Message* clear = nullptr;  // nullptr: nothing to seal
  std::string* sealed = nullptr;
};

SealedField SealedFieldOf(domain::Event& e) {
  switch (e.payload_case()) {
    case domain::Event::kCustomerAdded:
      return {e.has_personal() ? &e.personal() : nullptr,
              e.mutable_customer_added()->mutable_sealed_personal()};
    case domain::Event::kCustomerUpdated:
      return {e.has_personal() ? &e.personal() : nullptr,
              e.mutable_customer_updated()->mutable_sealed_personal()};
    case domain::Event::kUserAccountCreated:
      return {e.has_credentials() ? &e.credentials() : nullptr,
              e.mutable_user_account_created()->mutable_sealed_credentials()};
    case domain::Event::kPasswordChanged:
      return {e.has_credentials() ? &e.credentials() : nullptr,
              e.mutable_password_changed()->mutable_sealed_credentials()};
    case domain::Event::kWelcomeMessageRequested:
      return {e.has_welcome() ? &e.welcome() : nullptr,
              e.mutable_welcome_message_requested()->mutable_sealed_message()};
    default:
      return {};
  }
}

// The reverse: opens the sealed bytes of `e` into its clear side field. A key that is gone
// (erased customer) or bytes that do not open leave the side field empty.
void Unseal(domain::Event& e, absl::string_view key, absl::string_view customer_id) {
  const std::string* sealed = nullptr;
  google::protobuf::Message* clear = nullptr;
  switch (e.payload_case()) {
    case domain::Event::kCustomerAdded:
      sealed = &e.customer_added().sealed_personal();
      clear = e.mutable_personal();
      break;
    case domain::Event::kCustomerUpdated:
      sealed = &e.customer_updated().sealed_personal();
      clear = e.mutable_personal();
      break;
    case domain::Event::kUserAccountCreated:
      sealed = &e.user_account_created().sealed_credentials();
      clear = e.mutable_credentials();
      break;
    case domain::Event::kPasswordChanged:
      sealed = &e.password_changed().sealed_credentials();
      clear = e.mutable_credentials();
      break;
    case domain::Event::kWelcomeMessageRequested:
      sealed = &e.welcome_message_requested().sealed_message();
      clear = e.mutable_welcome();
      break;
    default:
      return;
  }
  absl::StatusOr<std::string> opened =
      key.empty() ? absl::NotFoundError("no key") : crypto::Open(key, customer_id, *sealed);
  if (!opened.ok() || !clear->ParseFromString(*opened)) {
    // mutable_* created an empty side field: remove it again so "absent" stays absent.
    if (e.payload_case() == domain::Event::kCustomerAdded ||
        e.payload_case() == domain::Event::kCustomerUpdated) {
      e.clear_personal();
    } else if (e.payload_case() == domain::Event::kWelcomeMessageRequested) {
      e.clear_welcome();
    } else {
      e.clear_credentials();
    }
  }
}

void PutView(WriteSet& writes, std::string key, const google::protobuf::Message& view) {
  writes.Put(Space::kViews, std::move(key), view.SerializeAsString());
}

std::string VisibleEmail(const domain::CustomerState& s) {
  return s.erased() || s.customer_id().empty() ? std::string() : s.personal().email();
}

void CustomerViews(const domain::CustomerState& before, const domain::CustomerState& after,
                   WriteSet& writes) {
  const std::string& op = after.operator_id();
  const std::string& id = after.customer_id();
  PutView(writes, CustomerKey(op, id), CustomerView(after));
  if (before.home_location_id() != after.home_location_id()) {
    if (!before.home_location_id().empty()) {
      writes.Delete(Space::kViews, CustomerAtKey(op, before.home_location_id(), id));
    }
    writes.Put(Space::kViews, CustomerAtKey(op, after.home_location_id(), id), "");
  }
  // The email index is the claim: unique per operator, taken and released in this commit.
  const std::string old_email = VisibleEmail(before);
  const std::string new_email = VisibleEmail(after);
  if (old_email != new_email) {
    if (!new_email.empty()) writes.Claim(EmailClaim(op, new_email), id);
    if (!old_email.empty()) writes.Release(EmailClaim(op, old_email));
  }
}

void TeamViews(const domain::TeamState& before, const domain::TeamState& after,
               WriteSet& writes) {
  const std::string& op = after.operator_id();
  const std::string& id = after.team_id();
  PutView(writes, TeamKey(op, id), TeamView(after));
  if (before.team_id().empty()) writes.Put(Space::kViews, TeamAtKey(op, after.location_id(), id), "");
  const absl::flat_hash_set<std::string> old_members(before.member_ids().begin(),
                                                     before.member_ids().end());
  const absl::flat_hash_set<std::string> new_members(after.member_ids().begin(),
                                                     after.member_ids().end());
  for (const std::string& m : new_members) {
    if (!old_members.contains(m)) writes.Put(Space::kViews, TeamOfKey(op, m, id), "");
  }
  for (const std::string& m : old_members) {
    if (!new_members.contains(m)) writes.Delete(Space::kViews, TeamOfKey(op, m, id));
  }
}

}  // namespace

absl::StatusOr<Loaded<domain::OperatorState>> Projection::LoadOperator(
    absl::string_view operator_id) const {
  return eventstore::LoadState<domain::OperatorState>(store_, kOperatorAggregate, operator_id);
}
absl::StatusOr<Loaded<domain::LocationState>> Projection::LoadLocation(
    absl::string_view location_id) const {
  return eventstore::LoadState<domain::LocationState>(store_, kLocationAggregate, location_id);
}
absl::StatusOr<Loaded<domain::CustomerState>> Projection::LoadCustomer(
    absl::string_view customer_id) const {
  return eventstore::LoadState<domain::CustomerState>(store_, kCustomerAggregate, customer_id);
}
absl::StatusOr<Loaded<domain::TeamState>> Projection::LoadTeam(absl::string_view team_id) const {
  return eventstore::LoadState<domain::TeamState>(store_, kTeamAggregate, team_id);
}

absl::StatusOr<std::optional<std::string>> Projection::SealKey(
    absl::string_view operator_id, absl::string_view customer_id) const {
  return vault_.Get(operator_id, customer_id);
}

template <typename State, typename LocationOf, typename Views>
absl::StatusOr<State> Projection::Stage(const eventstore::EnvelopeContext& context,
                                        absl::string_view aggregate_type,
                                        absl::string_view aggregate_id,
                                        const Loaded<State>& before, domain::Events events,
                                        absl::string_view seal_key, WriteSet& writes,
                                        LocationOf location_of, Views views) const {
  if (events.empty()) return before.state;
  eventstore::StageHooks<State, domain::Event> hooks{
      .seal = [&](domain::Event& e) -> absl::Status {
        SealedField sealed = SealedFieldOf(e);
        if (sealed.clear == nullptr) return absl::OkStatus();
        if (seal_key.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the key of ", aggregate_id, " is gone: its personal data was erased"));
        }
        *sealed.sealed = crypto::Seal(seal_key, aggregate_id, sealed.clear->SerializeAsString());
        return absl::OkStatus();
      },
      .location_of = location_of,
      .on_event = [this](const common::v1::EventEnvelope& envelope,
                         const google::protobuf::Message& payload, WriteSet& w) {
        return directory_.Apply(envelope, payload, w);
      }};
  absl::StatusOr<State> state =
      eventstore::Stage(context, aggregate_type, aggregate_id, "", before, std::move(events),
                        kTopic, writes, hooks);
  if (!state.ok()) return state;
  views(before.state, *state, writes);
  return state;
}

absl::StatusOr<domain::OperatorState> Projection::StageOperator(
    const eventstore::EnvelopeContext& context, const Loaded<domain::OperatorState>& before,
    domain::Events events, WriteSet& writes) const {
  if (events.empty()) return before.state;
  const std::string id = events.front().has_operator_created()
                             ? events.front().operator_created().operator_id()
                             : before.state.operator_id();
  return Stage(
      context, kOperatorAggregate, id, before, std::move(events), "", writes,
      [](const domain::OperatorState&) { return std::string(); },
      [](const domain::OperatorState&, const domain::OperatorState& after, WriteSet& w) {
        PutView(w, OperatorKey(after.operator_id()), OperatorView(after));
      });
}

absl::StatusOr<domain::LocationState> Projection::StageLocation(
    const eventstore::EnvelopeContext& context, const Loaded<domain::LocationState>& before,
    domain::Events events, WriteSet& writes) const {
  if (events.empty()) return before.state;
  const std::string id = events.front().has_location_created()
                             ? events.front().location_created().location_id()
                             : before.state.location_id();
  return Stage(
      context, kLocationAggregate, id, before, std::move(events), "", writes,
      [](const domain::LocationState& s) { return s.location_id(); },
      [](const domain::LocationState&, const domain::LocationState& after, WriteSet& w) {
        PutView(w, LocationKey(after.operator_id(), after.location_id()), LocationView(after));
      });
}

absl::StatusOr<domain::CustomerState> Projection::StageCustomer(
    const eventstore::EnvelopeContext& context, const Loaded<domain::CustomerState>& before,
    domain::Events events, WriteSet& writes) const {
  if (events.empty()) return before.state;
  const bool adding = events.front().has_customer_added();
  const std::string id =
      adding ? events.front().customer_added().customer_id() : before.state.customer_id();
  std::string key;
  if (adding) {
    key = vault_.Create(context.operator_id, id, writes);
  } else {
    absl::StatusOr<std::optional<std::string>> stored = SealKey(context.operator_id, id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) key = **stored;
  }
  return Stage(
      context, kCustomerAggregate, id, before, std::move(events), key, writes,
      [](const domain::CustomerState& s) { return s.home_location_id(); },
      [this](const domain::CustomerState& b, const domain::CustomerState& a, WriteSet& w) {
        WriteCustomer(b, a, w);
      });
}

void Projection::WriteCustomer(const domain::CustomerState& before,
                               const domain::CustomerState& after, WriteSet& writes) const {
  CustomerViews(before, after, writes);
  if (after.erased() && !before.erased()) {
    vault_.Erase(after.operator_id(), after.customer_id(), writes);
  }
}

absl::StatusOr<domain::TeamState> Projection::StageTeam(const eventstore::EnvelopeContext& context,
                                                        const Loaded<domain::TeamState>& before,
                                                        domain::Events events,
                                                        WriteSet& writes) const {
  if (events.empty()) return before.state;
  const std::string id = events.front().has_team_created() ? events.front().team_created().team_id()
                                                           : before.state.team_id();
  return Stage(
      context, kTeamAggregate, id, before, std::move(events), "", writes,
      [](const domain::TeamState& s) { return s.location_id(); }, TeamViews);
}

absl::StatusOr<std::optional<domain::Event>> Projection::FromEnvelope(
    const common::v1::EventEnvelope& envelope) const {
  absl::string_view type = envelope.payload().type_url();
  if (size_t slash = type.rfind('/'); slash != absl::string_view::npos) type.remove_prefix(slash + 1);
  domain::Event event;
  const google::protobuf::OneofDescriptor* oneof =
      domain::Event::descriptor()->FindOneofByName("payload");
  const google::protobuf::FieldDescriptor* field = nullptr;
  for (int i = 0; i < oneof->field_count(); ++i) {
    if (oneof->field(i)->message_type()->full_name() == type) field = oneof->field(i);
  }
  if (field == nullptr) return std::nullopt;
  google::protobuf::Message* payload = event.GetReflection()->MutableMessage(&event, field);
  if (!payload->ParseFromString(envelope.payload().value())) {
    return absl::DataLossError(absl::StrCat("event ", envelope.event_id(), " does not parse"));
  }
  event.set_operator_id(envelope.operator_id());
  *event.mutable_occurred_at() = envelope.occurred_at();
  if (SealedFieldOf(event).sealed != nullptr) {
    absl::StatusOr<std::optional<std::string>> key =
        SealKey(envelope.operator_id(), envelope.aggregate_id());
    if (!key.ok()) return key.status();
    Unseal(event, key->value_or(""), envelope.aggregate_id());
  }
  return event;
}

absl::Status Projection::Rebuild() const {
  if (absl::Status s = eventstore::DeleteViews(store_, kViewPrefixes); !s.ok()) return s;
  if (absl::Status s = directory_.Reset(); !s.ok()) return s;

  std::map<std::string, domain::OperatorState> operators;
  std::map<std::string, domain::LocationState> locations;
  std::map<std::string, domain::CustomerState> customers;
  std::map<std::string, domain::TeamState> teams;
  absl::Status failed;
  absl::Status scanned = store_.ForEachEvent([&](const common::v1::EventEnvelope& envelope) {
    absl::StatusOr<std::optional<domain::Event>> event = FromEnvelope(envelope);
    if (!event.ok()) {
      failed = event.status();
      return false;
    }
    if (!event->has_value()) return true;
    const domain::Event& e = **event;
    // The directory reads what it wrote for the previous event: one commit per event.
    WriteSet directory_writes;
    failed = directory_.Apply(envelope, *domain::PayloadOf(e), directory_writes);
    if (failed.ok() && !directory_writes.empty()) failed = store_.Commit(std::move(directory_writes));
    if (!failed.ok()) return false;
    const std::string& type = envelope.aggregate_type();
    const std::string& id = envelope.aggregate_id();
    if (type == kOperatorAggregate) {
      operators[id] = domain::Apply(std::move(operators[id]), e);
    } else if (type == kLocationAggregate) {
      locations[id] = domain::Apply(std::move(locations[id]), e);
    } else if (type == kCustomerAggregate) {
      customers[id] = domain::Apply(std::move(customers[id]), e);
    } else if (type == kTeamAggregate) {
      teams[id] = domain::Apply(std::move(teams[id]), e);
    }
    return true;
  });
  if (!scanned.ok()) return scanned;
  if (!failed.ok()) return failed;

  WriteSet writes;
  int pending = 0;
  auto flush = [&](bool force) -> absl::Status {
    if (pending == 0 || (!force && pending < kRebuildBatch)) return absl::OkStatus();
    pending = 0;
    absl::Status s = store_.Commit(std::move(writes));
    writes = WriteSet();
    return s;
  };
  for (const auto& [id, s] : operators) {
    PutView(writes, OperatorKey(s.operator_id()), OperatorView(s));
    ++pending;
    if (absl::Status st = flush(false); !st.ok()) return st;
  }
  for (const auto& [id, s] : locations) {
    PutView(writes, LocationKey(s.operator_id(), s.location_id()), LocationView(s));
    ++pending;
    if (absl::Status st = flush(false); !st.ok()) return st;
  }
  for (const auto& [id, s] : customers) {
    WriteCustomer(domain::CustomerState{}, s, writes);
    // The email claim is re-taken by the customer that already holds it: a no-op.
    ++pending;
    if (absl::Status st = flush(false); !st.ok()) return st;
  }
  for (const auto& [id, s] : teams) {
    TeamViews(domain::TeamState{}, s, writes);
    ++pending;
    if (absl::Status st = flush(false); !st.ok()) return st;
  }
  return flush(true);
}

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::OperatorState, domain::Event>(std::string(kOperatorAggregate));
  folds.Add<domain::LocationState, domain::Event>(std::string(kLocationAggregate));
  folds.Add<domain::CustomerState, domain::Event>(std::string(kCustomerAggregate));
  folds.Add<domain::TeamState, domain::Event>(std::string(kTeamAggregate));
  return folds;
}

}  // namespace cowork::customers::projection
