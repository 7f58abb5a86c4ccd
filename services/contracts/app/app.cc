#include "services/contracts/app/app.h"

#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/money/money.h"
#include "libs/runtime/scheduler.h"
#include "libs/runtime/pages.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/contracts/app/internal.h"
#include "services/contracts/projection/projection.h"
#include "services/contracts/domain/contract.h"
#include "services/contracts/domain/plan.h"
#include "services/contracts/domain/product.h"

namespace cowork::contracts::app {

absl::StatusOr<bool> CheckCustomerOrLocationListing(const auth::Principal& p,
                                                    absl::string_view customer_id,
                                                    absl::string_view location_id,
                                                    absl::string_view what) {
  if (customer_id.empty() == location_id.empty()) {
    return InvalidField("customer_id", "give exactly one of customer_id and location_id");
  }
  if (p.is_platform()) {
    return absl::PermissionDeniedError(absl::StrCat("platform tokens cannot read ", what));
  }
  if (!customer_id.empty()) {
    COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"customer_id", customer_id}}));
    COWORK_RETURN_IF_ERROR(auth::RequireSelfOrPermission(p, auth::kContractsRead, customer_id));
    return true;
  }
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", location_id}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsRead, location_id));
  return false;
}

eventstore::EnvelopeContext Context(absl::string_view operator_id, absl::string_view request_id,
                                    absl::Time now) {
  return eventstore::CommandContext(projection::kService, operator_id, request_id, now);
}

domain::CustomerInfo CustomerInfoOf(const std::optional<directory::CustomerStanding>& standing) {
  return {.known = standing.has_value(),
          .suspended = standing.has_value() && standing->suspended,
          .erased = standing.has_value() && standing->erased};
}

namespace {

using eventstore::Decided;
using eventstore::Loaded;
using eventstore::PageOf;
using eventstore::Space;
using eventstore::Views;
using eventstore::WriteSet;
using namespace projection;  // NOLINT: this service's keys, views, loading and staging

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : store_(store), directory_(directory), clock_(clock), authn_(verifier, directory) {}

// ---------------------------------------------------------------- plans

absl::StatusOr<v1::Plan> App::CreatePlan(const auth::Principal& p,
                                         const v1::CreatePlanRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kContractsWrite, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  return eventstore::Execute<v1::Plan>(
      store_, runtime::RequestOf(p, "CreatePlan", r),
      [&]() -> absl::StatusOr<Decided<v1::Plan>> {
        const std::string id = crypto::NewId("pl-");
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(domain::PlanState{},
                           domain::CreatePlan{.plan_id = id,
                                              .location_id = r.location_id(),
                                              .currency = location.currency,
                                              .name = r.name(),
                                              .price_minor = r.price_minor(),
                                              .cycle = r.cycle(),
                                              .booking_credit_minutes = r.booking_credit_minutes()},
                           clock_.Now()));
        WriteSet writes;
        v1::Plan plan =
            StagePlan(Context(p.operator_id, r.request_id(), clock_.Now()),
                      Loaded<domain::PlanState>(), id, r.location_id(), std::move(events), writes);
        return Decided<v1::Plan>{std::move(writes), std::move(plan)};
      },
      runtime::AdminAtAnswer<v1::Plan>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Plan> App::UpdatePlanPrice(const auth::Principal& p,
                                              const v1::UpdatePlanPriceRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"plan_id", r.plan_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Plan>(
      store_, runtime::RequestOf(p, "UpdatePlanPrice", r),
      [&]() -> absl::StatusOr<Decided<v1::Plan>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::PlanState> before,
                                PlanOf(store_, p, r.plan_id()));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kContractsWrite, before.state.location_id()));
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state, domain::ChangePlanPrice{r.price_minor()}, clock_.Now()));
        WriteSet writes;
        v1::Plan plan =
            StagePlan(Context(p.operator_id, r.request_id(), clock_.Now()), before, r.plan_id(),
                      before.state.location_id(), std::move(events), writes);
        return Decided<v1::Plan>{std::move(writes), std::move(plan)};
      },
      runtime::AdminAtAnswer<v1::Plan>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Plan> App::GetPlan(const auth::Principal& p,
                                      const v1::GetPlanRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"plan_id", r.plan_id()}}));
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read plans");
  COWORK_ASSIGN_OR_RETURN(std::optional<v1::Plan> plan,
                          eventstore::ReadView<v1::Plan>(store_, PlanKey(p.operator_id,
                                                                         r.plan_id())));
  if (!plan.has_value()) return absl::NotFoundError(absl::StrCat("plan ", r.plan_id(), " not found"));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kContractsRead, plan->location_id()));
  return *std::move(plan);
}

absl::StatusOr<v1::ListPlansResponse> App::ListPlans(const auth::Principal& p,
                                                     const v1::ListPlansRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"location_id", r.location_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequireCatalogueReader(p, auth::kContractsRead, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Plan> page,
      runtime::PageFor<v1::Plan>(store_, p, PlansAtPrefix(p.operator_id, r.location_id()),
                        r.page_token(), r.page_size()));
  v1::ListPlansResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_plans(), out);
  return out;
}

// ---------------------------------------------------------------- contracts

absl::StatusOr<v1::Contract> App::CreateContract(const auth::Principal& p,
                                                 const v1::CreateContractRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"customer_id", r.customer_id()},
                                                   {"plan_id", r.plan_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Contract>(
      store_, runtime::RequestOf(p, "CreateContract", r),
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
            domain::Decide(
                domain::ContractState{},
                domain::SignContract{
                    .contract_id = id,
                    .customer_id = r.customer_id(),
                    .customer = CustomerInfoOf(standing),
                    .plan = &plan.state,
                    .start_date = r.has_start_date() ? &r.start_date() : nullptr,
                    .end_date = r.has_end_date() ? &r.end_date() : nullptr,
                    .today = calendar::Today(now, tz)},
                now));
        WriteSet writes;
        v1::Contract view =
            StageContract(Context(p.operator_id, r.request_id(), now),
                          Loaded<domain::ContractState>(), id, location_id, tz,
                          std::move(events), writes);
        return Decided<v1::Contract>{std::move(writes), std::move(view)};
      },
      runtime::AdminAtAnswer<v1::Contract>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Contract> App::CancelContract(const auth::Principal& p,
                                                 const v1::CancelContractRequest& r) {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(r.request_id(), {{"contract_id", r.contract_id()}}));
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kContractsWrite));
  return eventstore::Execute<v1::Contract>(
      store_, runtime::RequestOf(p, "CancelContract", r),
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
            domain::Decide(before.state,
                           domain::CancelContract{
                               .end_date = r.has_end_date() ? &r.end_date() : nullptr,
                               .today = calendar::Today(now, tz)},
                           now));
        WriteSet writes;
        v1::Contract view =
            StageContract(Context(p.operator_id, r.request_id(), now), before, r.contract_id(),
                          location_id, tz, std::move(events), writes);
        return Decided<v1::Contract>{std::move(writes), std::move(view)};
      },
      runtime::AdminAtAnswer<v1::Contract>(p, auth::kContractsWrite));
}

absl::StatusOr<v1::Contract> App::GetContract(const auth::Principal& p,
                                              const v1::GetContractRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds("", {{"contract_id", r.contract_id()}}));
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
  COWORK_ASSIGN_OR_RETURN(
      const bool by_customer,
      CheckCustomerOrLocationListing(p, r.customer_id(), r.location_id(), "contracts"));
  const std::string prefix = by_customer
                                 ? ContractsOfPrefix(p.operator_id, r.customer_id())
                                 : ContractsAtPrefix(p.operator_id, r.location_id());
  // An admin sees a customer's contracts at the locations the token covers only.
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Contract> page,
      runtime::PageFor<v1::Contract>(store_, p, prefix, r.page_token(), r.page_size()));
  v1::ListContractsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_contracts(), out);
  return out;
}

// ---------------------------------------------------------------- the clock

absl::StatusOr<int> App::RunDue() {
  return runtime::RunDueIndex(store_, clock_.Now(), [this](absl::string_view rest) {
    // "<op>/<kind>/<id>"
    std::vector<std::string> parts = absl::StrSplit(rest, '/');
    if (parts.size() != 3) return absl::StatusOr<bool>(false);
    return parts[1] == kContractAggregate ? TickContract(parts[0], parts[2])
                                          : TickPurchase(parts[0], parts[2]);
  });
}

absl::StatusOr<bool> App::TickContract(absl::string_view op, absl::string_view contract_id) {
  bool changed = false;
  COWORK_RETURN_IF_ERROR(
      eventstore::ExecuteUnrecorded<v1::Contract>(
          store_, "Tick",
          [&]() -> absl::StatusOr<Decided<v1::Contract>> {
            COWORK_ASSIGN_OR_RETURN(Loaded<domain::ContractState> before,
                                    ContractOf(store_, op, contract_id));
            const domain::ContractState& c = before.state;
            COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                                    directory_.FindLocation(op, c.location_id()));
            COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
            const absl::Time at = clock_.Now();
            const absl::CivilDay today = calendar::Today(at, tz);
            COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                    domain::Decide(c, domain::TickContract{today}, at));
            domain::ContractState ticked = c;
            for (const domain::Event& e : events) ticked = domain::Apply(std::move(ticked), e);

            // Billing periods that are over: each on its own invoice, the plan fee plus (on
            // the first) the charges waiting on the customer's account.
            WriteSet writes;
            const eventstore::EnvelopeContext context = Context(op, "", at);
            const std::vector<domain::DuePeriod> due = domain::DuePeriods(ticked, today);
            if (!due.empty()) {
              COWORK_ASSIGN_OR_RETURN(Books books,
                                      OpenBooks(store_, location, c.customer_id()));
              for (size_t i = 0; i < due.size(); ++i) {
                const domain::DuePeriod& d = due[i];
                v1::InvoiceLine fee;
                fee.set_description(absl::StrCat(
                    "Plan fee ", absl::FormatCivilTime(d.period.first), " to ",
                    absl::FormatCivilTime(d.period.last), d.prorated ? " (prorated)" : ""));
                fee.set_customer_id(c.customer_id());
                *fee.mutable_amount() = MoneyOf(d.fee, c.currency());
                fee.set_contract_id(c.contract_id());
                *fee.mutable_period_start() = ToDate(d.period.first);
                *fee.mutable_period_end() = ToDate(d.period.last);
                const std::string invoice_id = crypto::NewId("in-");
                COWORK_ASSIGN_OR_RETURN(
                    std::optional<v1::InvoiceIssued> issued,
                    books.ledger.Issue(invoice_id, {std::move(fee)}, i == 0, today));
                events.push_back(
                    domain::PeriodClosed(ticked, d, issued.has_value() ? invoice_id : ""));
              }
              // Charges beyond the first invoice's lines: invoices of their own, now.
              COWORK_RETURN_IF_ERROR(
                  books.ledger.IssueWaiting([] { return crypto::NewId("in-"); }, today));
              COWORK_RETURN_IF_ERROR(StageBooks(context, books, store_, writes));
            }
            changed = !events.empty();
            v1::Contract view = StageContract(context, before, contract_id, c.location_id(), tz,
                                              std::move(events), writes);
            return Decided<v1::Contract>{std::move(writes), std::move(view)};
          },
          kBillingAttempts)
          .status());
  return changed;
}

}  // namespace cowork::contracts::app
