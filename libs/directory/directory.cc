#include "libs/directory/directory.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/directory/views.pb.h"
#include "libs/eventstore/key_vault.h"

namespace cowork::directory {
namespace {

namespace events = ::cowork::customers::v1;
using eventstore::Space;
using eventstore::WriteSet;

// Ids become key segments; escaping '/' keeps "op-a/x" + "y" and "op-a" + "x/y" apart, so one
// operator's keys can never be read as another's.
std::string Segment(absl::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (char c : id) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string OperatorKey(absl::string_view op) { return absl::StrCat("dir/op/", Segment(op)); }
std::string LocationKey(absl::string_view op, absl::string_view location) {
  return absl::StrCat("dir/loc/", Segment(op), "/", Segment(location));
}
std::string CustomerKey(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("dir/cust/", Segment(op), "/", Segment(customer));
}
std::string SignedOutPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("dir/signedout/", Segment(op), "/", Segment(customer), "/");
}
std::string SignedOutKey(absl::string_view op, absl::string_view customer,
                         absl::string_view session) {
  return absl::StrCat(SignedOutPrefix(op, customer), Segment(session));
}

std::string TeamKey(absl::string_view op, absl::string_view team) {
  return absl::StrCat("dir/team/", Segment(op), "/", Segment(team));
}
std::string TeamsOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("dir/teamof/", Segment(op), "/", Segment(customer), "/");
}

std::string MembersOfPrefix(absl::string_view op, absl::string_view team) {
  return absl::StrCat("dir/teammember/", Segment(op), "/", Segment(team), "/");
}

// The payload as T: the object itself when it is one, else a copy through the wire format
// (a DynamicMessage of the same type, for instance).
template <typename T>
const T* As(const google::protobuf::Message& payload, T& storage) {
  if (const T* typed = dynamic_cast<const T*>(&payload)) return typed;
  if (!storage.ParseFromString(payload.SerializeAsString())) return nullptr;
  return &storage;
}

absl::Status Malformed(const common::v1::EventEnvelope& envelope, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("directory: event ", envelope.event_id(), " (",
                                                 envelope.payload().type_url(), "): ", why));
}

// Reads one view as the commit being built will leave it: the last write to the key in
// `writes` if there is one (a command may commit several events of one aggregate together),
// else the stored value.
template <typename View>
absl::StatusOr<std::optional<View>> ReadView(const eventstore::Store& store,
                                             const WriteSet& writes, const std::string& key) {
  std::optional<std::optional<std::string>> pending;
  for (auto it = writes.writes().rbegin(); it != writes.writes().rend(); ++it) {
    if (it->space == Space::kViews && it->key == key) {
      pending = it->value;
      break;
    }
  }
  std::optional<std::string> bytes;
  if (pending.has_value()) {
    bytes = *pending;
  } else {
    absl::StatusOr<std::optional<std::string>> stored = store.Get(Space::kViews, key);
    if (!stored.ok()) return stored.status();
    bytes = *std::move(stored);
  }
  if (!bytes.has_value()) return std::optional<View>();
  View view;
  if (!view.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("directory: view ", key, " does not parse"));
  }
  return std::optional<View>(std::move(view));
}

template <typename View>
absl::StatusOr<std::optional<View>> ReadStored(const eventstore::Store& store,
                                               const std::string& key) {
  return ReadView<View>(store, WriteSet(), key);
}

}  // namespace

absl::Status Directory::Apply(const common::v1::EventEnvelope& envelope,
                              const google::protobuf::Message& payload,
                              eventstore::WriteSet& writes) const {
  const std::string& type = payload.GetDescriptor()->full_name();
  const std::string& op = envelope.operator_id();
  const std::string& id = envelope.aggregate_id();
  const int64_t sequence = envelope.sequence();

  // ---- operators
  if (type == events::OperatorCreated::descriptor()->full_name()) {
    events::OperatorCreated storage;
    const auto* e = As(payload, storage);
    if (e == nullptr || op.empty()) return Malformed(envelope, "no operator");
    const std::string key = OperatorKey(op);
    absl::StatusOr<std::optional<views::OperatorView>> current =
        ReadView<views::OperatorView>(store_, writes, key);
    if (!current.ok()) return current.status();
    if (current->has_value() && (*current)->sequence() >= sequence) return absl::OkStatus();
    views::OperatorView view;
    view.set_name(e->name());
    view.set_sequence(sequence);
    writes.Put(Space::kViews, key, view.SerializeAsString());
    return absl::OkStatus();
  }

  // ---- locations
  const bool location_created = type == events::LocationCreated::descriptor()->full_name();
  if (location_created || type == events::LocationUpdated::descriptor()->full_name()) {
    std::string name, time_zone, currency;
    if (location_created) {
      events::LocationCreated storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      name = e->name(), time_zone = e->time_zone(), currency = e->currency();
    } else {
      events::LocationUpdated storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      name = e->name(), time_zone = e->time_zone(), currency = e->currency();
    }
    if (op.empty() || id.empty()) return Malformed(envelope, "no operator or location id");
    const std::string key = LocationKey(op, id);
    absl::StatusOr<std::optional<views::LocationView>> current =
        ReadView<views::LocationView>(store_, writes, key);
    if (!current.ok()) return current.status();
    views::LocationView view = current->value_or(views::LocationView());
    if (current->has_value() && view.sequence() >= sequence) return absl::OkStatus();
    // An update names the fields it sets; empty ones keep their value.
    if (!name.empty()) view.set_name(name);
    if (!time_zone.empty()) view.set_time_zone(time_zone);
    if (!currency.empty()) view.set_currency(currency);
    view.set_sequence(sequence);
    writes.Put(Space::kViews, key, view.SerializeAsString());
    return absl::OkStatus();
  }

  // ---- teams
  const bool team_created = type == events::TeamCreated::descriptor()->full_name();
  const bool member_added = type == events::TeamMemberAdded::descriptor()->full_name();
  const bool member_removed = type == events::TeamMemberRemoved::descriptor()->full_name();
  const bool payer_set = type == events::TeamPayingMemberSet::descriptor()->full_name();
  const bool sharing = type == events::TeamSharingChanged::descriptor()->full_name();
  if (team_created || member_added || member_removed || payer_set || sharing) {
    if (op.empty() || id.empty()) return Malformed(envelope, "no operator or team id");
    const std::string key = TeamKey(op, id);
    absl::StatusOr<std::optional<views::TeamView>> current =
        ReadView<views::TeamView>(store_, writes, key);
    if (!current.ok()) return current.status();
    views::TeamView view = current->value_or(views::TeamView());
    if (current->has_value() && view.sequence() >= sequence) return absl::OkStatus();
    if (team_created) {
      events::TeamCreated storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_name(e->name());
      view.set_location_id(e->location_id());
    } else if (member_added || member_removed) {
      events::TeamMemberAdded storage;  // TeamMemberRemoved has the same fields
      if (!storage.ParseFromString(payload.SerializeAsString()) || storage.customer_id().empty()) {
        return Malformed(envelope, "no customer id");
      }
      const std::string member_key = TeamsOfPrefix(op, storage.customer_id()) + Segment(id);
      const std::string members_key = MembersOfPrefix(op, id) + Segment(storage.customer_id());
      if (member_added) {
        writes.Put(Space::kViews, member_key, id);  // the value is the team id
        writes.Put(Space::kViews, members_key, storage.customer_id());
      } else {
        writes.Delete(Space::kViews, member_key);
        writes.Delete(Space::kViews, members_key);
      }
    } else if (payer_set) {
      events::TeamPayingMemberSet storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_paying_member_id(e->customer_id());
    } else {
      events::TeamSharingChanged storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_share_booking_credit(e->share_booking_credit());
      view.set_share_printing_credit(e->share_printing_credit());
      view.set_share_access(e->share_access());
    }
    view.set_sequence(sequence);
    writes.Put(Space::kViews, key, view.SerializeAsString());
    return absl::OkStatus();
  }

  // ---- customers
  enum class Kind {
    kAdded, kUpdated, kSuspended, kReactivated, kAccount, kPassword, kSignedOut, kErased, kOther
  };
  Kind kind = Kind::kOther;
  if (type == events::CustomerAdded::descriptor()->full_name()) kind = Kind::kAdded;
  else if (type == events::CustomerUpdated::descriptor()->full_name()) kind = Kind::kUpdated;
  else if (type == events::CustomerSuspended::descriptor()->full_name()) kind = Kind::kSuspended;
  else if (type == events::CustomerReactivated::descriptor()->full_name()) kind = Kind::kReactivated;
  else if (type == events::UserAccountCreated::descriptor()->full_name()) kind = Kind::kAccount;
  else if (type == events::PasswordChanged::descriptor()->full_name()) kind = Kind::kPassword;
  else if (type == events::CustomerSignedOut::descriptor()->full_name()) kind = Kind::kSignedOut;
  else if (type == events::CustomerErased::descriptor()->full_name()) kind = Kind::kErased;
  if (kind == Kind::kOther) return absl::OkStatus();  // not the directory's business

  if (op.empty() || id.empty()) return Malformed(envelope, "no operator or customer id");
  const std::string key = CustomerKey(op, id);
  absl::StatusOr<std::optional<views::CustomerView>> current =
      ReadView<views::CustomerView>(store_, writes, key);
  if (!current.ok()) return current.status();
  views::CustomerView view = current->value_or(views::CustomerView());
  if (current->has_value() && view.sequence() >= sequence) return absl::OkStatus();

  switch (kind) {
    case Kind::kAdded: {
      events::CustomerAdded storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_home_location_id(e->home_location_id());
      break;
    }
    case Kind::kUpdated: {
      events::CustomerUpdated storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      if (!e->home_location_id().empty()) view.set_home_location_id(e->home_location_id());
      break;
    }
    case Kind::kSuspended: {
      events::CustomerSuspended storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_suspended(true);
      view.set_session_generation(e->session_generation());
      break;
    }
    case Kind::kReactivated:
      view.set_suspended(false);
      break;
    case Kind::kAccount: {
      events::UserAccountCreated storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_session_generation(e->session_generation());
      break;
    }
    case Kind::kPassword: {
      events::PasswordChanged storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_session_generation(e->session_generation());
      break;
    }
    case Kind::kSignedOut: {
      events::CustomerSignedOut storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      if (e->session_id().empty()) return Malformed(envelope, "no session id");
      writes.Put(Space::kViews, SignedOutKey(op, id, e->session_id()), "");
      break;
    }
    case Kind::kErased: {
      events::CustomerErased storage;
      const auto* e = As(payload, storage);
      if (e == nullptr) return Malformed(envelope, "does not parse");
      view.set_erased(true);
      view.set_session_generation(e->session_generation());
      // Every session is dead with the customer: the signed-out markers are no longer needed.
      absl::Status scanned = store_.Scan(
          Space::kViews, SignedOutPrefix(op, id), "",
          [&](absl::string_view k, absl::string_view) {
            writes.Delete(Space::kViews, std::string(k));
            return true;
          });
      if (!scanned.ok()) return scanned;
      // Whatever this service sealed with the customer's key becomes unreadable for good.
      eventstore::KeyVault(store_).Erase(op, id, writes);
      break;
    }
    case Kind::kOther:
      break;
  }
  view.set_sequence(sequence);
  writes.Put(Space::kViews, key, view.SerializeAsString());
  return absl::OkStatus();
}

void Directory::Subscribe(kafka::EventConsumer& consumer) const {
  const auto apply = [this](const common::v1::EventEnvelope& envelope,
                            const google::protobuf::Message& payload, WriteSet& writes) {
    return Apply(envelope, payload, writes);
  };
  consumer.On<events::OperatorCreated>(apply);
  consumer.On<events::LocationCreated>(apply);
  consumer.On<events::LocationUpdated>(apply);
  consumer.On<events::CustomerAdded>(apply);
  consumer.On<events::CustomerUpdated>(apply);
  consumer.On<events::UserAccountCreated>(apply);
  // Who may act: never set aside, so a session is never left open by an event in quarantine.
  consumer.On<events::CustomerSuspended>(apply, kafka::OnFailure::kStall);
  consumer.On<events::CustomerReactivated>(apply, kafka::OnFailure::kStall);
  consumer.On<events::PasswordChanged>(apply, kafka::OnFailure::kStall);
  consumer.On<events::CustomerSignedOut>(apply, kafka::OnFailure::kStall);
  consumer.On<events::CustomerErased>(apply, kafka::OnFailure::kStall);
  consumer.On<events::TeamCreated>(apply);
  consumer.On<events::TeamMemberAdded>(apply);
  consumer.On<events::TeamMemberRemoved>(apply);
  consumer.On<events::TeamPayingMemberSet>(apply);
  consumer.On<events::TeamSharingChanged>(apply);
}

absl::Status Directory::Reset() const { return store_.DeletePrefix(Space::kViews, "dir/"); }

absl::StatusOr<std::optional<LocationInfo>> Directory::GetLocation(
    absl::string_view operator_id, absl::string_view location_id) const {
  absl::StatusOr<std::optional<views::LocationView>> view =
      ReadStored<views::LocationView>(store_, LocationKey(operator_id, location_id));
  if (!view.ok()) return view.status();
  if (!view->has_value()) return std::optional<LocationInfo>();
  return std::optional<LocationInfo>(LocationInfo{.operator_id = std::string(operator_id),
                                                  .location_id = std::string(location_id),
                                                  .name = (*view)->name(),
                                                  .time_zone = (*view)->time_zone(),
                                                  .currency = (*view)->currency()});
}

absl::StatusOr<std::vector<LocationInfo>> Directory::LocationsOf(
    absl::string_view operator_id) const {
  std::vector<std::string> ids;
  const std::string prefix = absl::StrCat("dir/loc/", Segment(operator_id), "/");
  absl::Status scanned =
      store_.Scan(Space::kViews, prefix, "", [&](absl::string_view key, absl::string_view) {
        // Ids are valid ids (no '/' or '%'), so the key's segment is the id itself.
        ids.emplace_back(key.substr(prefix.size()));
        return true;
      });
  if (!scanned.ok()) return scanned;
  std::vector<LocationInfo> out;
  for (const std::string& id : ids) {
    absl::StatusOr<std::optional<LocationInfo>> location = GetLocation(operator_id, id);
    if (!location.ok()) return location.status();
    if (location->has_value()) out.push_back(**location);
  }
  return out;
}

absl::StatusOr<bool> Directory::OperatorExists(absl::string_view operator_id) const {
  absl::StatusOr<std::optional<std::string>> value =
      store_.Get(Space::kViews, OperatorKey(operator_id));
  if (!value.ok()) return value.status();
  return value->has_value();
}

absl::StatusOr<std::optional<CustomerStanding>> Directory::GetCustomer(
    absl::string_view operator_id, absl::string_view customer_id) const {
  absl::StatusOr<std::optional<views::CustomerView>> view =
      ReadStored<views::CustomerView>(store_, CustomerKey(operator_id, customer_id));
  if (!view.ok()) return view.status();
  if (!view->has_value()) return std::optional<CustomerStanding>();
  return std::optional<CustomerStanding>(
      CustomerStanding{.operator_id = std::string(operator_id),
                       .customer_id = std::string(customer_id),
                       .home_location_id = (*view)->home_location_id(),
                       .suspended = (*view)->suspended(),
                       .erased = (*view)->erased(),
                       .session_generation = (*view)->session_generation()});
}

absl::StatusOr<std::vector<TeamInfo>> Directory::TeamsOf(absl::string_view operator_id,
                                                         absl::string_view customer_id) const {
  const std::string prefix = TeamsOfPrefix(operator_id, customer_id);
  std::vector<std::string> team_ids;
  absl::Status scanned = store_.Scan(Space::kViews, prefix, "",
                                     [&](absl::string_view, absl::string_view team_id) {
                                       team_ids.push_back(std::string(team_id));
                                       return true;
                                     });
  if (!scanned.ok()) return scanned;
  std::vector<TeamInfo> out;
  for (std::string& team_id : team_ids) {
    absl::StatusOr<std::optional<views::TeamView>> view =
        ReadStored<views::TeamView>(store_, TeamKey(operator_id, team_id));
    if (!view.ok()) return view.status();
    if (!view->has_value()) continue;
    out.push_back(TeamInfo{.operator_id = std::string(operator_id),
                           .team_id = std::move(team_id),
                           .name = (*view)->name(),
                           .location_id = (*view)->location_id(),
                           .paying_member_id = (*view)->paying_member_id(),
                           .share_booking_credit = (*view)->share_booking_credit(),
                           .share_printing_credit = (*view)->share_printing_credit(),
                           .share_access = (*view)->share_access()});
  }
  return out;
}

absl::StatusOr<LocationInfo> Directory::FindLocation(absl::string_view operator_id,
                                                     absl::string_view location_id) const {
  absl::StatusOr<std::optional<LocationInfo>> location = GetLocation(operator_id, location_id);
  if (!location.ok()) return location.status();
  if (!location->has_value()) {
    return absl::NotFoundError(absl::StrCat("location ", location_id, " not found"));
  }
  return **std::move(location);
}

absl::StatusOr<absl::TimeZone> TimeZoneOf(const LocationInfo& location) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(location.time_zone, &tz)) {
    return absl::InternalError(absl::StrCat("time zone ", location.time_zone, " of ",
                                            location.location_id, " not found"));
  }
  return tz;
}

absl::StatusOr<std::vector<std::string>> Directory::MembersOf(absl::string_view operator_id,
                                                           absl::string_view team_id) const {
  std::vector<std::string> out;
  absl::Status scanned = store_.Scan(Space::kViews, MembersOfPrefix(operator_id, team_id), "",
                                     [&](absl::string_view, absl::string_view customer_id) {
                                       out.push_back(std::string(customer_id));
                                       return true;
                                     });
  if (!scanned.ok()) return scanned;
  return out;
}

absl::Status Directory::CheckSession(const auth::Principal& principal) const {
  // Admin and platform tokens have no session to end.
  if (!principal.is_customer()) return absl::OkStatus();
  absl::StatusOr<std::optional<CustomerStanding>> customer =
      GetCustomer(principal.operator_id, principal.subject);
  if (!customer.ok()) return customer.status();
  if (!customer->has_value()) return absl::UnauthenticatedError("session ended: unknown customer");
  const CustomerStanding& standing = **customer;
  if (standing.erased) return absl::UnauthenticatedError("session ended: customer erased");
  if (standing.suspended) return absl::UnauthenticatedError("session ended: customer suspended");
  if (principal.session_generation != standing.session_generation) {
    return absl::UnauthenticatedError("session ended: password changed, sign in again");
  }
  absl::StatusOr<std::optional<std::string>> signed_out = store_.Get(
      Space::kViews,
      SignedOutKey(principal.operator_id, principal.subject, principal.session_id));
  if (!signed_out.ok()) return signed_out.status();
  if (signed_out->has_value()) return absl::UnauthenticatedError("session ended: signed out");
  return absl::OkStatus();
}

absl::StatusOr<absl::TimeZone> ZoneCache::Of(const std::string& location_id) {
  auto it = zones_.find(location_id);
  if (it != zones_.end()) return it->second;
  absl::StatusOr<LocationInfo> location = directory_.FindLocation(operator_id_, location_id);
  if (!location.ok()) return location.status();
  absl::StatusOr<absl::TimeZone> tz = TimeZoneOf(*location);
  if (!tz.ok()) return tz.status();
  return zones_.emplace(location_id, *tz).first->second;
}

}  // namespace cowork::directory
