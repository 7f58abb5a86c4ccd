#include "services/contracts/api/app.h"

#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/server/server.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/contracts/domain/calendar.h"
#include "services/contracts/domain/contract.h"
#include "services/contracts/domain/plan.h"

namespace cowork::contracts::api {
namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::PageOf;
using eventstore::Space;
using eventstore::WriteSet;
using Views = std::map<std::string, std::string>;

constexpr absl::string_view kPlanAggregate = "plan";
constexpr absl::string_view kContractAggregate = "contract";
constexpr absl::string_view kTopic = "cowork.contracts.events";
constexpr absl::string_view kViewPrefixes[] = {"plan/",         "planloc/",     "contract/",
                                               "contractcust/", "contractloc/", "due/"};
constexpr int kMaxScan = 20'000;   // entries one List call looks at, at most
constexpr int kDueBatch = 1'000;   // contracts one RunDue pass handles, at most

// ---------------------------------------------------------------- events

// The payload of a domain event (the set member of its oneof).
const google::protobuf::Message* PayloadOf(const domain::Event& e) {
  const google::protobuf::OneofDescriptor* oneof =
      domain::Event::descriptor()->FindOneofByName("payload");
  const google::protobuf::FieldDescriptor* field =
      e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return field == nullptr ? nullptr : &e.GetReflection()->GetMessage(e, field);
}

// The domain event an envelope carries; nullopt for payloads this service does not know.
std::optional<domain::Event> EventOf(const common::v1::EventEnvelope& envelope) {
  const google::protobuf::OneofDescriptor* oneof =
      domain::Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < oneof->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = oneof->field(i);
    if (!absl::EndsWith(envelope.payload().type_url(),
                        absl::StrCat("/", field->message_type()->full_name()))) {
      continue;
    }
    domain::Event e;
    if (!e.GetReflection()->MutableMessage(&e, field)->ParseFromString(
            envelope.payload().value())) {
      return std::nullopt;
    }
    *e.mutable_occurred_at() = envelope.occurred_at();
    e.set_operator_id(envelope.operator_id());
    return e;
  }
  return std::nullopt;
}

// Wraps `events` in envelopes, applies them and appends them to `writes`; returns the state
// after them.
template <typename State>
State Stage(const eventstore::EnvelopeContext& context, absl::string_view type,
            absl::string_view id, absl::string_view location_id, const Loaded<State>& before,
            domain::Events events, WriteSet& writes) {
  State state = before.state;
  if (events.empty()) return state;
  std::vector<common::v1::EventEnvelope> envelopes;
  for (size_t i = 0; i < events.size(); ++i) {
    domain::Event& e = events[i];
    common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        context, type, id, before.version + 1 + static_cast<int64_t>(i), location_id,
        *PayloadOf(e));
    *e.mutable_occurred_at() = envelope.occurred_at();
    e.set_operator_id(envelope.operator_id());
    state = domain::Apply(std::move(state), e);
    envelopes.push_back(std::move(envelope));
  }
  writes.Append(std::string(type), std::string(id), before.version, std::move(envelopes),
                state.SerializeAsString(), std::string(kTopic));
  return state;
}

// ---------------------------------------------------------------- views

v1::Plan PlanView(const domain::PlanState& s) {
  v1::Plan out;
  out.set_plan_id(s.plan_id());
  out.set_location_id(s.location_id());
  out.set_name(s.name());
  out.mutable_price()->set_amount_minor(s.price_minor());
  out.mutable_price()->set_currency(s.currency());
  out.set_cycle(s.cycle());
  out.set_booking_credit_minutes(s.booking_credit_minutes());
  *out.mutable_create_time() = s.create_time();
  return out;
}

v1::Contract ContractView(const domain::ContractState& s) {
  v1::Contract out;
  out.set_contract_id(s.contract_id());
  out.set_customer_id(s.customer_id());
  out.set_plan_id(s.plan_id());
  out.set_location_id(s.location_id());
  *out.mutable_start_date() = s.start_date();
  if (s.has_end_date()) *out.mutable_end_date() = s.end_date();
  switch (s.phase()) {
    case domain::ContractState::PENDING: out.set_state(v1::PENDING); break;
    case domain::ContractState::ACTIVE: out.set_state(v1::ACTIVE); break;
    case domain::ContractState::ENDING: out.set_state(v1::ENDING); break;
    case domain::ContractState::ENDED: out.set_state(v1::ENDED); break;
    default: break;
  }
  out.mutable_price()->set_amount_minor(s.price_minor());
  out.mutable_price()->set_currency(s.currency());
  out.set_cycle(s.cycle());
  out.set_booking_credit_minutes(s.booking_credit_minutes());
  *out.mutable_create_time() = s.create_time();
  return out;
}

std::string PlanKey(absl::string_view op, absl::string_view plan) {
  return absl::StrCat("plan/", op, "/", plan);
}
std::string PlansAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("planloc/", op, "/", loc, "/");
}
std::string ContractKey(absl::string_view op, absl::string_view contract) {
  return absl::StrCat("contract/", op, "/", contract);
}
std::string ContractsOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("contractcust/", op, "/", customer, "/");
}
std::string ContractsAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("contractloc/", op, "/", loc, "/");
}
std::string DueKey(absl::Time at, absl::string_view op, absl::string_view contract) {
  return absl::StrFormat("due/%012d/%s/%s", absl::ToUnixSeconds(at), op, contract);
}

Views PlanViews(const domain::PlanState& s) {
  const std::string view = PlanView(s).SerializeAsString();
  return {{PlanKey(s.operator_id(), s.plan_id()), view},
          {PlansAtPrefix(s.operator_id(), s.location_id()) + s.plan_id(), view}};
}

Views ContractViews(const domain::ContractState& s, absl::TimeZone tz) {
  const std::string view = ContractView(s).SerializeAsString();
  Views out = {{ContractKey(s.operator_id(), s.contract_id()), view},
               {ContractsOfPrefix(s.operator_id(), s.customer_id()) + s.contract_id(), view},
               {ContractsAtPrefix(s.operator_id(), s.location_id()) + s.contract_id(), view}};
  if (std::optional<absl::CivilDay> day = domain::NextBoundary(s); day.has_value()) {
    out.emplace(DueKey(domain::StartOfDay(*day, tz), s.operator_id(), s.contract_id()), "");
  }
  return out;
}

// Deletes what `before` had and `after` has not; writes what changed.
void WriteViews(const Views& before, const Views& after, WriteSet& writes) {
  for (const auto& [key, value] : before) {
    if (!after.contains(key)) writes.Delete(Space::kViews, key);
  }
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second != value) writes.Put(Space::kViews, key, value);
  }
}

// ---------------------------------------------------------------- helpers

eventstore::EnvelopeContext Context(absl::string_view operator_id, absl::string_view request_id,
                                    absl::Time now) {
  return {.service = std::string(kService),
          .operator_id = std::string(operator_id),
          .correlation_id = request_id.empty() ? crypto::NewUuid() : std::string(request_id),
          .causation_id = std::string(request_id),
          .now = now};
}

absl::Status CheckIds(absl::string_view request_id,
                      std::initializer_list<std::pair<absl::string_view, absl::string_view>> ids) {
  FieldErrors errors;
  validation::CheckRequestId(request_id, errors);
  for (const auto& [field, value] : ids) validation::CheckId(value, field, errors);
  return errors.ToStatus();
}

absl::Status RequireReader(const auth::Principal& p, absl::string_view location_id) {
  if (p.is_customer()) return absl::OkStatus();  // plans of their own operator
  return auth::RequireAdmin(p, auth::kContractsRead, location_id);
}

absl::StatusOr<absl::TimeZone> TimeZoneOf(const directory::Directory& directory,
                                          absl::string_view op,
                                          absl::string_view location_id) {
  COWORK_ASSIGN_OR_RETURN(std::optional<directory::LocationInfo> location,
                          directory.GetLocation(op, location_id));
  if (!location.has_value()) {
    return absl::NotFoundError(absl::StrCat("location ", location_id, " not found"));
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(location->time_zone, &tz)) {
    return absl::InternalError(
        absl::StrCat("time zone ", location->time_zone, " of ", location_id, " not found"));
  }
  return tz;
}

// The plan of the caller's operator, or NOT_FOUND.
absl::StatusOr<Loaded<domain::PlanState>> PlanOf(const eventstore::Store& store,
                                                 const auth::Principal& p,
                                                 absl::string_view plan_id) {
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::PlanState> plan,
                          eventstore::LoadState<domain::PlanState>(store, kPlanAggregate,
                                                                   plan_id));
  if (plan.version == 0 || plan.state.operator_id() != p.operator_id) {
    return absl::NotFoundError(absl::StrCat("plan ", plan_id, " not found"));
  }
  return plan;
}

absl::StatusOr<Loaded<domain::ContractState>> ContractOf(const eventstore::Store& store,
                                                         absl::string_view operator_id,
                                                         absl::string_view contract_id) {
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::ContractState> contract,
                          eventstore::LoadState<domain::ContractState>(
                              store, kContractAggregate, contract_id));
  if (contract.version == 0 || contract.state.operator_id() != operator_id) {
    return absl::NotFoundError(absl::StrCat("contract ", contract_id, " not found"));
  }
  return contract;
}

// Stages `events` on a contract with its views; returns its view after them.
v1::Contract StageContract(const eventstore::EnvelopeContext& context,
                           const Loaded<domain::ContractState>& before,
                           absl::string_view contract_id, absl::string_view location_id,
                           absl::TimeZone tz, domain::Events events, WriteSet& writes) {
  const domain::ContractState after =
      Stage(context, kContractAggregate, contract_id, location_id, before, std::move(events),
            writes);
  WriteViews(before.version == 0 ? Views() : ContractViews(before.state, tz),
             ContractViews(after, tz), writes);
  return ContractView(after);
}

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store), directory_(directory), clock_(clock), authn_(verifier, directory, clock) {}

// ---------------------------------------------------------------- plans

absl::StatusOr<v1::Plan> App::CreatePlan(const auth::Principal& p,
                                         const v1::CreatePlanRequest& r) {
  COWORK_RETURN_IF_ERROR(CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(std::optional<directory::LocationInfo> location,
                          directory_.GetLocation(p.operator_id, r.location_id()));
  if (!location.has_value()) {
    return absl::NotFoundError(absl::StrCat("location ", r.location_id(), " not found"));
  }
  return eventstore::Execute<v1::Plan>(
      store_, eventstore::RequestKeyFor(p.operator_id, r.request_id(), "CreatePlan"),
      [&]() -> absl::StatusOr<Decided<v1::Plan>> {
        const std::string id = crypto::NewId("pl-");
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::DecideCreatePlan({.plan_id = id,
                                      .location_id = r.location_id(),
                                      .currency = location->currency,
                                      .name = r.name(),
                                      .price_minor = r.price_minor(),
                                      .cycle = r.cycle(),
                                      .booking_credit_minutes = r.booking_credit_minutes()}));
        WriteSet writes;
        const domain::PlanState after =
            Stage(Context(p.operator_id, r.request_id(), clock_.Now()), kPlanAggregate, id,
                  r.location_id(), Loaded<domain::PlanState>(), std::move(events), writes);
        WriteViews({}, PlanViews(after), writes);
        return Decided<v1::Plan>{std::move(writes), PlanView(after)};
      });
}

absl::StatusOr<v1::Plan> App::UpdatePlanPrice(const auth::Principal& p,
                                              const v1::UpdatePlanPriceRequest& r) {
  COWORK_RETURN_IF_ERROR(CheckIds(r.request_id(), {{"plan_id", r.plan_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Plan>(
      store_, eventstore::RequestKeyFor(p.operator_id, r.request_id(), "UpdatePlanPrice"),
      [&]() -> absl::StatusOr<Decided<v1::Plan>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PlanState> before,
                                PlanOf(store_, p, r.plan_id()));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kContractsWrite, before.state.location_id()));
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                domain::DecideChangePlanPrice(before.state, r.price_minor()));
        WriteSet writes;
        const domain::PlanState after =
            Stage(Context(p.operator_id, r.request_id(), clock_.Now()), kPlanAggregate,
                  r.plan_id(), before.state.location_id(), before, std::move(events), writes);
        WriteViews(PlanViews(before.state), PlanViews(after), writes);
        return Decided<v1::Plan>{std::move(writes), PlanView(after)};
      });
}

absl::StatusOr<v1::Plan> App::GetPlan(const auth::Principal& p,
                                      const v1::GetPlanRequest& r) const {
  COWORK_RETURN_IF_ERROR(CheckIds("", {{"plan_id", r.plan_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read plans");
  COWORK_ASSIGN_OR_RETURN(std::optional<v1::Plan> plan,
                          eventstore::ReadView<v1::Plan>(store_, PlanKey(p.operator_id,
                                                                         r.plan_id())));
  if (!plan.has_value()) return absl::NotFoundError(absl::StrCat("plan ", r.plan_id(), " not found"));
  COWORK_RETURN_IF_ERROR(RequireReader(p, plan->location_id()));
  return *std::move(plan);
}

absl::StatusOr<v1::ListPlansResponse> App::ListPlans(const auth::Principal& p,
                                                     const v1::ListPlansRequest& r) const {
  COWORK_RETURN_IF_ERROR(CheckIds("", {{"location_id", r.location_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read plans");
  COWORK_RETURN_IF_ERROR(RequireReader(p, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const int page_size, eventstore::PageSize(r.page_size()));
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Plan> page,
      eventstore::Paginate<v1::Plan>(store_, PlansAtPrefix(p.operator_id, r.location_id()),
                                     r.page_token(), page_size, kMaxScan,
                                     eventstore::ParseView<v1::Plan>));
  v1::ListPlansResponse out;
  for (v1::Plan& plan : page.items) *out.add_plans() = std::move(plan);
  out.set_next_page_token(page.next_page_token);
  return out;
}

// ---------------------------------------------------------------- contracts

absl::StatusOr<v1::Contract> App::CreateContract(const auth::Principal& p,
                                                 const v1::CreateContractRequest& r) {
  COWORK_RETURN_IF_ERROR(CheckIds(r.request_id(), {{"customer_id", r.customer_id()},
                                                   {"plan_id", r.plan_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Contract>(
      store_, eventstore::RequestKeyFor(p.operator_id, r.request_id(), "CreateContract"),
      [&]() -> absl::StatusOr<Decided<v1::Contract>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PlanState> plan,
                                PlanOf(store_, p, r.plan_id()));
        const std::string& location_id = plan.state.location_id();
        COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, location_id));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                                TimeZoneOf(directory_, p.operator_id, location_id));
        COWORK_ASSIGN_OR_RETURN(std::optional<directory::CustomerStanding> standing,
                                directory_.GetCustomer(p.operator_id, r.customer_id()));
        const absl::Time now = clock_.Now();
        const std::string id = crypto::NewId("ct-");
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::DecideSignContract(
                {.contract_id = id,
                 .customer_id = r.customer_id(),
                 .customer = {.known = standing.has_value(),
                              .suspended = standing.has_value() && standing->suspended,
                              .erased = standing.has_value() && standing->erased},
                 .plan = &plan.state,
                 .start_date = r.has_start_date() ? &r.start_date() : nullptr,
                 .end_date = r.has_end_date() ? &r.end_date() : nullptr,
                 .today = domain::Today(now, tz)}));
        WriteSet writes;
        v1::Contract view =
            StageContract(Context(p.operator_id, r.request_id(), now),
                          Loaded<domain::ContractState>(), id, location_id, tz,
                          std::move(events), writes);
        return Decided<v1::Contract>{std::move(writes), std::move(view)};
      });
}

absl::StatusOr<v1::Contract> App::CancelContract(const auth::Principal& p,
                                                 const v1::CancelContractRequest& r) {
  COWORK_RETURN_IF_ERROR(CheckIds(r.request_id(), {{"contract_id", r.contract_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Contract>(
      store_, eventstore::RequestKeyFor(p.operator_id, r.request_id(), "CancelContract"),
      [&]() -> absl::StatusOr<Decided<v1::Contract>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::ContractState> before,
                                ContractOf(store_, p.operator_id, r.contract_id()));
        const std::string location_id = before.state.location_id();
        COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, location_id));
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                                TimeZoneOf(directory_, p.operator_id, location_id));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::DecideCancelContract(before.state,
                                         r.has_end_date() ? &r.end_date() : nullptr,
                                         domain::Today(now, tz)));
        WriteSet writes;
        v1::Contract view =
            StageContract(Context(p.operator_id, r.request_id(), now), before, r.contract_id(),
                          location_id, tz, std::move(events), writes);
        return Decided<v1::Contract>{std::move(writes), std::move(view)};
      });
}

absl::StatusOr<v1::Contract> App::GetContract(const auth::Principal& p,
                                              const v1::GetContractRequest& r) const {
  COWORK_RETURN_IF_ERROR(CheckIds("", {{"contract_id", r.contract_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read contracts");
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Contract> contract,
      eventstore::ReadView<v1::Contract>(store_, ContractKey(p.operator_id, r.contract_id())));
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("contract ", r.contract_id(), " not found"));
  if (!contract.has_value()) return not_found;
  // A customer asking for someone else's contract learns nothing, not even that it exists.
  if (p.is_customer() && p.subject != contract->customer_id()) return not_found;
  COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(p, auth::kContractsRead,
                                                  contract->location_id(),
                                                  contract->customer_id()));
  return *std::move(contract);
}

absl::StatusOr<v1::ListContractsResponse> App::ListContracts(
    const auth::Principal& p, const v1::ListContractsRequest& r) const {
  if (r.customer_id().empty() == r.location_id().empty()) {
    return InvalidField("customer_id", "give exactly one of customer_id and location_id");
  }
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read contracts");
  std::string prefix;
  if (!r.customer_id().empty()) {
    COWORK_RETURN_IF_ERROR(CheckIds("", {{"customer_id", r.customer_id()}}));
    if (p.is_customer()) {
      COWORK_RETURN_IF_ERROR(
          auth::RequireAdminOrSelf(p, auth::kContractsRead, "", r.customer_id()));
    } else {
      COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsRead));
    }
    prefix = ContractsOfPrefix(p.operator_id, r.customer_id());
  } else {
    COWORK_RETURN_IF_ERROR(CheckIds("", {{"location_id", r.location_id()}}));
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsRead, r.location_id()));
    prefix = ContractsAtPrefix(p.operator_id, r.location_id());
  }
  COWORK_ASSIGN_OR_RETURN(const int page_size, eventstore::PageSize(r.page_size()));
  // An admin sees a customer's contracts at the locations the token covers only.
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Contract> page,
      eventstore::Paginate<v1::Contract>(
          store_, prefix, r.page_token(), page_size, kMaxScan,
          [&p](absl::string_view key,
               absl::string_view value) -> absl::StatusOr<std::optional<v1::Contract>> {
            COWORK_ASSIGN_OR_RETURN(std::optional<v1::Contract> c,
                                    eventstore::ParseView<v1::Contract>(key, value));
            if (p.is_admin() && !p.CoversLocation(c->location_id())) return std::nullopt;
            return c;
          }));
  v1::ListContractsResponse out;
  for (v1::Contract& c : page.items) *out.add_contracts() = std::move(c);
  out.set_next_page_token(page.next_page_token);
  return out;
}

// ---------------------------------------------------------------- the clock

absl::StatusOr<int> App::RunDue() {
  const absl::Time now = clock_.Now();
  // Every key due by `now` sorts before "due/<now>0" ('0' comes after '/').
  const std::string until = absl::StrFormat("due/%012d0", absl::ToUnixSeconds(now));
  std::vector<std::pair<std::string, std::string>> due;  // (operator, contract)
  COWORK_RETURN_IF_ERROR(store_.Scan(
      Space::kViews, "due/", "", [&](absl::string_view key, absl::string_view) {
        if (key > until) return false;
        std::vector<absl::string_view> parts = absl::StrSplit(key, '/');
        if (parts.size() == 4) due.emplace_back(parts[2], parts[3]);
        return static_cast<int>(due.size()) < kDueBatch;
      }));
  int changed = 0;
  for (const auto& [op, contract_id] : due) {
    bool did_change = false;
    absl::StatusOr<v1::Contract> result = eventstore::Execute<v1::Contract>(
        store_, {"", "Tick"}, [&]() -> absl::StatusOr<Decided<v1::Contract>> {
          COWORK_ASSIGN_OR_RETURN(Loaded<domain::ContractState> before,
                                  ContractOf(store_, op, contract_id));
          const std::string location_id = before.state.location_id();
          COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                                  TimeZoneOf(directory_, op, location_id));
          const absl::Time at = clock_.Now();
          domain::Events events = domain::DecideTick(before.state, domain::Today(at, tz));
          did_change = !events.empty();
          WriteSet writes;
          v1::Contract view = StageContract(Context(op, "", at), before, contract_id,
                                            location_id, tz, std::move(events), writes);
          return Decided<v1::Contract>{std::move(writes), std::move(view)};
        });
    if (!result.ok()) {
      server::LogJson("error", "scheduled contract change failed",
                      {{"contract", contract_id}, {"error", result.status().ToString()}});
      continue;
    }
    if (did_change) ++changed;
  }
  return changed;
}

// ---------------------------------------------------------------- rebuild

absl::Status App::Rebuild() {
  for (absl::string_view prefix : kViewPrefixes) {
    COWORK_RETURN_IF_ERROR(store_.DeletePrefix(Space::kViews, prefix));
  }
  std::map<std::string, domain::PlanState> plans;
  std::map<std::string, domain::ContractState> contracts;
  COWORK_RETURN_IF_ERROR(store_.ForEachEvent([&](const common::v1::EventEnvelope& envelope) {
    std::optional<domain::Event> e = EventOf(envelope);
    if (!e.has_value()) return true;
    if (envelope.aggregate_type() == kPlanAggregate) {
      domain::PlanState& s = plans[envelope.aggregate_id()];
      s = domain::Apply(std::move(s), *e);
    } else if (envelope.aggregate_type() == kContractAggregate) {
      domain::ContractState& s = contracts[envelope.aggregate_id()];
      s = domain::Apply(std::move(s), *e);
    }
    return true;
  }));
  WriteSet writes;
  auto flush = [&]() -> absl::Status {
    if (writes.empty()) return absl::OkStatus();
    absl::Status s = store_.Commit(std::move(writes));
    writes = WriteSet();
    return s;
  };
  int staged = 0;
  for (const auto& [id, plan] : plans) {
    WriteViews({}, PlanViews(plan), writes);
    if (++staged % 500 == 0) COWORK_RETURN_IF_ERROR(flush());
  }
  for (const auto& [id, contract] : contracts) {
    COWORK_ASSIGN_OR_RETURN(
        const absl::TimeZone tz,
        TimeZoneOf(directory_, contract.operator_id(), contract.location_id()));
    WriteViews({}, ContractViews(contract, tz), writes);
    if (++staged % 500 == 0) COWORK_RETURN_IF_ERROR(flush());
  }
  return flush();
}

}  // namespace cowork::contracts::api
