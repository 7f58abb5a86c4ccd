#include "services/contracts/projection/projection.h"

#include "absl/strings/str_cat.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"
#include "libs/runtime/scheduler.h"
#include "libs/status/macros.h"

namespace cowork::contracts::projection {

using eventstore::Space;
using eventstore::WriteViews;

std::string DueKey(absl::Time at, absl::string_view op, absl::string_view kind,
                   absl::string_view id) {
  return runtime::DueKey(at, absl::StrCat(op, "/", kind, "/", id));
}

// ---------------------------------------------------------------- views

v1::Plan PlanView(const domain::PlanState& s) {
  v1::Plan out;
  out.set_plan_id(s.plan_id());
  out.set_location_id(s.location_id());
  out.set_name(s.name());
  *out.mutable_price() = MoneyOf(s.price_minor(), s.currency());
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
  *out.mutable_price() = MoneyOf(s.price_minor(), s.currency());
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
    out.emplace(DueKey(calendar::StartOfDay(*day, tz), s.operator_id(), kContractAggregate,
                       s.contract_id()),
                "");
  }
  return out;
}

// ---------------------------------------------------------------- helpers


absl::StatusOr<absl::TimeZone> TimeZoneOf(const directory::Directory& directory,
                                          absl::string_view op,
                                          absl::string_view location_id) {
  COWORK_ASSIGN_OR_RETURN(directory::LocationInfo location,
                          directory.FindLocation(op, location_id));
  return directory::TimeZoneOf(location);
}

// The plan of the caller's operator, or NOT_FOUND.
absl::StatusOr<Loaded<domain::PlanState>> PlanOf(const eventstore::Store& store,
                                                 const auth::Principal& p,
                                                 absl::string_view plan_id) {
  return eventstore::LoadOwned<domain::PlanState>(store, kPlanAggregate, p.operator_id, plan_id,
                                                  "plan");
}

absl::StatusOr<Loaded<domain::ContractState>> ContractOf(const eventstore::Store& store,
                                                         absl::string_view operator_id,
                                                         absl::string_view contract_id) {
  return eventstore::LoadOwned<domain::ContractState>(store, kContractAggregate, operator_id,
                                                      contract_id, "contract");
}

// Stages `events` on a contract with its views; returns its view after them.
v1::Plan StagePlan(const eventstore::EnvelopeContext& context,
                   const Loaded<domain::PlanState>& before, absl::string_view plan_id,
                   absl::string_view location_id, domain::Events events, WriteSet& writes) {
  const domain::PlanState after = eventstore::Stage(context, kPlanAggregate, plan_id, location_id,
                                                    before, std::move(events), kTopic, writes);
  WriteViews(before.version == 0 ? Views() : PlanViews(before.state), PlanViews(after), writes);
  return PlanView(after);
}

v1::Contract StageContract(const eventstore::EnvelopeContext& context,
                           const Loaded<domain::ContractState>& before,
                           absl::string_view contract_id, absl::string_view location_id,
                           absl::TimeZone tz, domain::Events events, WriteSet& writes) {
  const domain::ContractState after =
      eventstore::Stage(context, kContractAggregate, contract_id, location_id, before,
                        std::move(events), kTopic, writes);
  WriteViews(before.version == 0 ? Views() : ContractViews(before.state, tz),
             ContractViews(after, tz), writes);
  return ContractView(after);
}

// ---------------------------------------------------------------- rebuild

absl::Status Rebuild(eventstore::Store& store, const directory::Directory& directory) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kViewPrefixes));
  std::map<std::string, domain::PlanState> plans;
  std::map<std::string, domain::ContractState> contracts;
  std::map<std::string, domain::ProductState> products;
  std::map<std::string, domain::PurchaseState> purchases;
  std::map<std::string, domain::AccountState> accounts;
  std::map<std::pair<std::string, std::string>, v1::Invoice> invoices;  // (op, invoice id)
  Views charges;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& event) {
        const std::string& type = envelope.aggregate_type();
        const std::string& id = envelope.aggregate_id();
        auto apply = [&](auto& states) {
          states[id] = domain::Apply(std::move(states[id]), event);
        };
        if (type == kPlanAggregate) apply(plans);
        else if (type == kContractAggregate) apply(contracts);
        else if (type == kProductAggregate) apply(products);
        else if (type == kPurchaseAggregate) apply(purchases);
        else if (type == kAccountAggregate) {
          apply(accounts);
          charges.merge(ChargeIndexViews(envelope.operator_id(), id, event));
        } else if (type == kBookAggregate) {
          if (const std::string invoice_id = InvoiceIdOf(event); !invoice_id.empty()) {
            ApplyToInvoice(invoices[{envelope.operator_id(), invoice_id}], event);
          }
        }
      }));

  eventstore::ViewBatches out(store);
  auto write = [&out](const Views& views) { return out.Write(views); };
  auto tz_of = [&](absl::string_view op, absl::string_view location) {
    return TimeZoneOf(directory, op, location);
  };
  for (const auto& [id, plan] : plans) COWORK_RETURN_IF_ERROR(write(PlanViews(plan)));
  for (const auto& [id, contract] : contracts) {
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                            tz_of(contract.operator_id(), contract.location_id()));
    COWORK_RETURN_IF_ERROR(write(ContractViews(contract, tz)));
  }
  for (const auto& [id, product] : products) COWORK_RETURN_IF_ERROR(write(ProductViews(product)));
  for (const auto& [id, purchase] : purchases) {
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz,
                            tz_of(purchase.operator_id(), purchase.location_id()));
    COWORK_RETURN_IF_ERROR(write(PurchaseViews(purchase, tz)));
  }
  for (const auto& [id, account] : accounts) COWORK_RETURN_IF_ERROR(write(AccountViews(account)));
  for (const auto& [key, invoice] : invoices) {
    COWORK_RETURN_IF_ERROR(write(InvoiceViews(key.first, invoice)));
  }
  COWORK_RETURN_IF_ERROR(write(charges));
  return out.Finish();
}

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::PlanState, domain::Event>(std::string(kPlanAggregate));
  folds.Add<domain::ContractState, domain::Event>(std::string(kContractAggregate));
  folds.Add<domain::ProductState, domain::Event>(std::string(kProductAggregate));
  folds.Add<domain::PurchaseState, domain::Event>(std::string(kPurchaseAggregate));
  folds.Add<domain::AccountState, domain::Event>(std::string(kAccountAggregate));
  folds.Add<domain::InvoiceBookState, domain::Event>(std::string(kBookAggregate));
  folds.Add<domain::BillingState, domain::Event>(std::string(kBillingAggregate));
  return folds;
}

}  // namespace cowork::contracts::projection
