#include "services/bookings/projection/projection.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cowork/contracts/v1/events.pb.h"
#include "libs/eventstore/staging.h"
#include "libs/eventstore/views.h"
#include "libs/status/macros.h"
#include "services/bookings/projection/keys.h"
#include "services/bookings/projection/views.h"

namespace cowork::bookings::projection {

using eventstore::Space;
using eventstore::WriteSet;

// ---------------------------------------------------------------- loading

absl::StatusOr<Schedules> LoadSchedules(const eventstore::Store& store,
                                        absl::string_view resource_id,
                                        const std::vector<std::string>& utc_days) {
  Schedules out;
  std::set<std::string> seen;
  for (const std::string& day : utc_days) {
    COWORK_ASSIGN_OR_RETURN(Loaded<domain::ScheduleState> s,
                            eventstore::LoadState<domain::ScheduleState>(
                                store, kScheduleAggregate, ScheduleId(resource_id, day)));
    for (const domain::SlotTaken& slot : s.state.slots()) {
      if (seen.insert(slot.booking_id()).second) out.slots.push_back(slot);
    }
    out.days.emplace(day, std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<domain::ContractCredit>> ContractsOf(const eventstore::Store& store,
                                                                absl::string_view op,
                                                                absl::string_view customer,
                                                                absl::string_view location) {
  std::vector<domain::ContractCredit> out;
  absl::Status bad;
  COWORK_RETURN_IF_ERROR(store.Scan(
      Space::kViews, ContractCreditsPrefix(op, customer), "",
      [&](absl::string_view key, absl::string_view value) {
        domain::ContractCredit c;
        if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError(absl::StrCat("view ", key, " does not parse"));
          return false;
        }
        if (c.location_id() == location) out.push_back(std::move(c));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(bad);
  return out;
}

std::vector<domain::CreditSource> Wallet::InOrder() const {
  std::vector<domain::CreditSource> out = own_plans;
  out.insert(out.end(), grants.begin(), grants.end());
  out.insert(out.end(), team.begin(), team.end());
  return out;
}

absl::StatusOr<Wallet> OpenWallet(const eventstore::Store& store,
                                  const directory::Directory& directory, absl::string_view op,
                                  absl::string_view customer, absl::string_view location,
                                  absl::CivilDay day) {
  Wallet w;
  auto account = [&](absl::string_view owner) -> absl::StatusOr<const domain::CreditState*> {
    auto it = w.accounts.find(std::string(owner));
    if (it == w.accounts.end()) {
      COWORK_ASSIGN_OR_RETURN(Loaded<domain::CreditState> loaded,
                              eventstore::LoadState<domain::CreditState>(
                                  store, kCreditAggregate, CreditId(location, owner)));
      it = w.accounts.emplace(std::string(owner), std::move(loaded)).first;
    }
    return &it->second.state;
  };
  COWORK_ASSIGN_OR_RETURN(const domain::CreditState* own, account(customer));
  COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> contracts,
                          ContractsOf(store, op, customer, location));
  w.own_plans = domain::PlanSources(contracts, *own, day);
  if (own->granted_left() > 0) {
    w.grants.push_back({.owner = std::string(customer),
                        .source = v1::GRANT,
                        .available = own->granted_left()});
  }
  COWORK_ASSIGN_OR_RETURN(std::vector<directory::TeamInfo> teams,
                          directory.TeamsOf(op, customer));
  std::set<std::string> mates_seen;
  for (const directory::TeamInfo& team : teams) {
    if (!team.share_booking_credit) continue;
    COWORK_ASSIGN_OR_RETURN(std::vector<std::string> members,
                            directory.MembersOf(op, team.team_id));
    for (const std::string& mate : members) {
      if (mate == customer || !mates_seen.insert(mate).second) continue;
      COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> theirs,
                              ContractsOf(store, op, mate, location));
      if (theirs.empty()) continue;
      COWORK_ASSIGN_OR_RETURN(const domain::CreditState* account_of_mate, account(mate));
      for (domain::CreditSource& s : domain::PlanSources(theirs, *account_of_mate, day)) {
        w.team.push_back(std::move(s));
      }
    }
  }
  return w;
}

absl::StatusOr<std::vector<domain::ResourceState>> ResourcesAt(const eventstore::Store& store,
                                                              absl::string_view op,
                                                              absl::string_view location) {
  std::vector<domain::ResourceState> out;
  absl::Status bad;
  COWORK_RETURN_IF_ERROR(store.Scan(
      Space::kViews, ResourcesAtPrefix(op, location), "",
      [&](absl::string_view key, absl::string_view value) {
        v1::Resource view;
        if (!view.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = absl::InternalError(absl::StrCat("view ", key, " does not parse"));
          return false;
        }
        domain::ResourceState s;
        s.set_resource_id(view.resource_id());
        s.mutable_settings()->set_capacity(view.capacity());
        out.push_back(std::move(s));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(bad);
  return out;
}

// ---------------------------------------------------------------- staging

domain::ResourceState StageResource(const eventstore::EnvelopeContext& context,
                                    absl::string_view resource_id, absl::string_view location_id,
                                    const Loaded<domain::ResourceState>& before,
                                    domain::Events events, WriteSet& writes) {
  domain::ResourceState after = eventstore::Stage(context, kResourceAggregate, resource_id,
                                                  location_id, before, std::move(events), kTopic,
                                                  writes);
  eventstore::WriteViews(before.version == 0 ? eventstore::Views() : ResourceViews(before.state),
                         ResourceViews(after), writes);
  return after;
}

domain::CreditState StageCredit(const eventstore::EnvelopeContext& context,
                                absl::string_view location_id, absl::string_view customer_id,
                                const Loaded<domain::CreditState>& before, domain::Events events,
                                WriteSet& writes) {
  return eventstore::Stage(context, kCreditAggregate, CreditId(location_id, customer_id),
                           location_id, before, std::move(events), kTopic, writes);
}

absl::StatusOr<domain::BookingState> StageBooking(
    const eventstore::Store& store, const eventstore::EnvelopeContext& context,
    const Loaded<domain::BookingState>& before, domain::BookingEvents events,
    const Schedules& schedules, const std::map<std::string, Loaded<domain::CreditState>>& accounts,
    absl::TimeZone tz, WriteSet& writes) {
  const std::string& location = events.location_id;
  for (auto& [day, day_events] : events.schedules) {
    const std::string id = ScheduleId(events.resource_id, day);
    auto it = schedules.days.find(day);
    Loaded<domain::ScheduleState> loaded;
    if (it != schedules.days.end()) {
      loaded = it->second;
    } else {
      COWORK_ASSIGN_OR_RETURN(loaded, eventstore::LoadState<domain::ScheduleState>(
                                          store, kScheduleAggregate, id));
    }
    // Topic "": schedules are this service's own bookkeeping, never published.
    eventstore::Stage(context, kScheduleAggregate, id, location, loaded, std::move(day_events), "",
                      writes);
  }
  for (auto& [owner, credit_events] : events.credit) {
    auto it = accounts.find(owner);
    Loaded<domain::CreditState> loaded;
    if (it != accounts.end()) {
      loaded = it->second;
    } else {
      COWORK_ASSIGN_OR_RETURN(loaded, eventstore::LoadState<domain::CreditState>(
                                          store, kCreditAggregate, CreditId(location, owner)));
    }
    StageCredit(context, location, owner, loaded, std::move(credit_events), writes);
  }
  domain::BookingState after =
      eventstore::Stage(context, kBookingAggregate, events.booking_id, location, before,
                        std::move(events.booking), kTopic, writes);
  eventstore::WriteViews(before.version == 0 ? eventstore::Views() : BookingViews(before.state, tz),
                         BookingViews(after, tz), writes);
  return after;
}

// ---------------------------------------------------------------- contracts consumer

absl::Status OnContractEvent(const eventstore::Store& store,
                             const common::v1::EventEnvelope& envelope,
                             const google::protobuf::Message& payload, WriteSet& writes) {
  namespace cv1 = ::cowork::contracts::v1;
  const std::string& type = payload.GetDescriptor()->full_name();
  const std::string bytes = payload.SerializeAsString();
  auto key_of = [&](const std::string& customer, const std::string& contract) {
    return ContractCreditsPrefix(envelope.operator_id(), customer) + contract;
  };
  if (type == cv1::ContractSigned::descriptor()->full_name()) {
    cv1::ContractSigned e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractSigned");
    domain::ContractCredit c;
    c.set_contract_id(e.contract_id());
    c.set_customer_id(e.customer_id());
    c.set_location_id(e.location_id());
    *c.mutable_start_date() = e.start_date();
    if (e.has_end_date()) *c.mutable_end_date() = e.end_date();
    c.set_cycle(e.cycle());
    c.set_credit_minutes(e.booking_credit_minutes());
    writes.Put(Space::kViews, key_of(e.customer_id(), e.contract_id()), c.SerializeAsString());
    return absl::OkStatus();
  }
  // Cancelled and ended contracts: the end date (and whether it ever started) change.
  std::string customer, contract;
  google::type::Date end_date;
  bool never_started = false;
  if (type == cv1::ContractCancelled::descriptor()->full_name()) {
    cv1::ContractCancelled e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractCancelled");
    customer = e.customer_id();
    contract = e.contract_id();
    end_date = e.end_date();
  } else if (type == cv1::ContractEnded::descriptor()->full_name()) {
    cv1::ContractEnded e;
    if (!e.ParseFromString(bytes)) return absl::InvalidArgumentError("ContractEnded");
    customer = e.customer_id();
    contract = e.contract_id();
    end_date = e.end_date();
    never_started = !e.started();
  } else {
    return absl::OkStatus();
  }
  const std::string key = key_of(customer, contract);
  COWORK_ASSIGN_OR_RETURN(std::optional<domain::ContractCredit> c,
                          eventstore::ReadView<domain::ContractCredit>(store, key));
  if (!c.has_value()) return absl::OkStatus();  // signed before this service listened
  *c->mutable_end_date() = end_date;
  if (never_started) c->set_never_started(true);
  writes.Put(Space::kViews, key, c->SerializeAsString());
  return absl::OkStatus();
}

void SubscribeToContracts(const eventstore::Store& store, kafka::EventConsumer& consumer) {
  auto handle = [&store](const common::v1::EventEnvelope& envelope,
                         const google::protobuf::Message& payload, WriteSet& writes) {
    return OnContractEvent(store, envelope, payload, writes);
  };
  consumer.On<contracts::v1::ContractSigned>(handle);
  consumer.On<contracts::v1::ContractCancelled>(handle);
  consumer.On<contracts::v1::ContractEnded>(handle);
}

absl::Status ResetContracts(eventstore::Store& store) {
  return store.DeletePrefix(Space::kViews, std::string(kContractCreditPrefix));
}

// ---------------------------------------------------------------- rebuild

absl::Status Rebuild(eventstore::Store& store, const directory::Directory& directory) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kViewPrefixes));
  std::map<std::string, domain::ResourceState> resources;
  std::map<std::string, domain::BookingState> bookings;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        const std::string& type = envelope.aggregate_type();
        const std::string& id = envelope.aggregate_id();
        if (type == kResourceAggregate) {
          resources[id] = domain::Apply(std::move(resources[id]), e);
        } else if (type == kBookingAggregate) {
          bookings[id] = domain::Apply(std::move(bookings[id]), e);
        }
      }));

  eventstore::ViewBatches out(store);
  for (const auto& [id, resource] : resources) {
    COWORK_RETURN_IF_ERROR(out.Write(ResourceViews(resource)));
  }
  for (const auto& [id, booking] : bookings) {
    COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                            directory.FindLocation(booking.operator_id(),
                                                   booking.created().location_id()));
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
    COWORK_RETURN_IF_ERROR(out.Write(BookingViews(booking, tz)));
  }
  return out.Finish();
}

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::ResourceState, domain::Event>(std::string(kResourceAggregate));
  folds.Add<domain::BookingState, domain::Event>(std::string(kBookingAggregate));
  folds.Add<domain::ScheduleState, domain::Event>(std::string(kScheduleAggregate));
  folds.Add<domain::CreditState, domain::Event>(std::string(kCreditAggregate));
  return folds;
}

absl::Status RestoreSchedules(eventstore::Store& store, absl::Time now) {
  std::map<std::string, domain::BookingState> bookings;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        if (envelope.aggregate_type() == kBookingAggregate) {
          domain::BookingState& b = bookings[envelope.aggregate_id()];
          b = domain::Apply(std::move(b), e);
        }
      }));
  // Every schedule day with the bookings holding it, in the order they were made.
  std::map<std::string, std::pair<const domain::BookingState*, domain::Events>> days;
  for (const auto& [id, booking] : bookings) {
    for (auto& [day, slots] : domain::SlotsHeldBy(booking)) {
      auto& [first, events] = days[ScheduleId(booking.created().resource_id(), day)];
      if (first == nullptr) first = &booking;
      for (domain::Event& e : slots) events.push_back(std::move(e));
    }
  }
  WriteSet writes;
  int staged = 0;
  for (auto& [id, day] : days) {
    COWORK_ASSIGN_OR_RETURN(
        const Loaded<domain::ScheduleState> stored,
        eventstore::LoadState<domain::ScheduleState>(store, kScheduleAggregate, id));
    if (stored.version > 0) continue;
    const domain::BookingState& booking = *day.first;
    eventstore::Stage(eventstore::CommandContext(kService, booking.operator_id(), "", now),
                      kScheduleAggregate, id, booking.created().location_id(), stored,
                      std::move(day.second), "", writes);
    if (++staged % 500 != 0) continue;
    COWORK_RETURN_IF_ERROR(store.Commit(std::move(writes)));
    writes = WriteSet();
  }
  return writes.empty() ? absl::OkStatus() : store.Commit(std::move(writes));
}

}  // namespace cowork::bookings::projection
