#include "services/bookings/domain/credit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"

namespace cowork::bookings::domain {
namespace {

// Dates in stored state were checked when they were recorded.
absl::CivilDay DayOf(const google::type::Date& date) {
  return FromDate(date).value_or(absl::CivilDay());
}

}  // namespace

std::string PlanKey(absl::string_view contract_id, absl::CivilDay period_start) {
  return absl::StrCat(contract_id, "/", absl::FormatCivilTime(period_start));
}

std::optional<calendar::Period> CreditPeriodOn(const ContractCredit& contract,
                                               absl::CivilDay day) {
  if (contract.never_started() || contract.credit_minutes() <= 0) return std::nullopt;
  const absl::CivilDay start = DayOf(contract.start_date());
  if (day < start) return std::nullopt;
  if (contract.has_end_date() && day > DayOf(contract.end_date())) return std::nullopt;
  const calendar::Cycle cycle = contract.cycle() == contracts::v1::WEEKLY ? calendar::Cycle::kWeekly
                                : contract.cycle() == contracts::v1::YEARLY
                                    ? calendar::Cycle::kYearly
                                    : calendar::Cycle::kMonthly;
  return calendar::PeriodAt(start, cycle, calendar::PeriodIndexOf(start, cycle, day));
}

std::vector<CreditSource> PlanSources(const std::vector<ContractCredit>& contracts,
                                      const CreditState& credit, absl::CivilDay day) {
  std::vector<CreditSource> out;
  for (const ContractCredit& c : contracts) {
    std::optional<calendar::Period> period = CreditPeriodOn(c, day);
    if (!period.has_value()) continue;
    auto used = credit.plan_used().find(PlanKey(c.contract_id(), period->first));
    const int64_t left =
        c.credit_minutes() - (used == credit.plan_used().end() ? 0 : used->second);
    if (left <= 0) continue;
    out.push_back({.owner = c.customer_id(),
                   .source = v1::PLAN,
                   .contract_id = c.contract_id(),
                   .period_start = period->first,
                   .available = left});
  }
  return out;
}

std::vector<v1::CreditDrawn> Draw(const std::vector<CreditSource>& sources, int64_t minutes,
                                  absl::string_view booking_id, absl::string_view for_customer,
                                  absl::string_view location_id) {
  std::vector<v1::CreditDrawn> out;
  for (const CreditSource& s : sources) {
    if (minutes <= 0) break;
    const int64_t take = std::min(minutes, s.available);
    if (take <= 0) continue;
    v1::CreditDrawn d;
    d.set_customer_id(s.owner);
    d.set_location_id(std::string(location_id));
    d.set_booking_id(std::string(booking_id));
    d.set_for_customer_id(std::string(for_customer));
    d.set_source(s.source);
    if (s.source == v1::PLAN) {
      d.set_contract_id(s.contract_id);
      *d.mutable_period_start() = ToDate(s.period_start);
    }
    d.set_minutes(take);
    out.push_back(std::move(d));
    minutes -= take;
  }
  return out;
}

v1::CreditReturned ReturnOf(const v1::CreditDrawn& drawn) {
  v1::CreditReturned r;
  r.set_customer_id(drawn.customer_id());
  r.set_location_id(drawn.location_id());
  r.set_booking_id(drawn.booking_id());
  r.set_source(drawn.source());
  r.set_contract_id(drawn.contract_id());
  if (drawn.has_period_start()) *r.mutable_period_start() = drawn.period_start();
  r.set_minutes(drawn.minutes());
  return r;
}

CreditState Apply(CreditState state, const Event& event) {
  auto count = [&state](v1::CreditSource source, const std::string& contract_id,
                        const google::type::Date& period_start, int64_t minutes) {
    if (source == v1::GRANT) {
      state.set_granted_left(state.granted_left() - minutes);
    } else {
      int64_t& used = (*state.mutable_plan_used())[PlanKey(contract_id, DayOf(period_start))];
      used += minutes;
      if (used == 0) state.mutable_plan_used()->erase(PlanKey(contract_id, DayOf(period_start)));
    }
  };
  if (event.has_credit_granted()) {
    const v1::CreditGranted& e = event.credit_granted();
    state.set_operator_id(event.operator_id());
    state.set_customer_id(e.customer_id());
    state.set_location_id(e.location_id());
    state.set_granted_left(state.granted_left() + e.minutes());
  } else if (event.has_credit_drawn()) {
    const v1::CreditDrawn& e = event.credit_drawn();
    state.set_operator_id(event.operator_id());
    state.set_customer_id(e.customer_id());
    state.set_location_id(e.location_id());
    count(e.source(), e.contract_id(), e.period_start(), e.minutes());
  } else if (event.has_credit_returned()) {
    const v1::CreditReturned& e = event.credit_returned();
    count(e.source(), e.contract_id(), e.period_start(), -e.minutes());
  }
  return state;
}

v1::CreditBalance BalanceOf(absl::string_view customer, absl::string_view location,
                            const std::vector<ContractCredit>& contracts,
                            const CreditState& account, const std::vector<CreditSource>& team,
                            absl::CivilDay day) {
  v1::CreditBalance out;
  out.set_customer_id(std::string(customer));
  out.set_location_id(std::string(location));
  int64_t plans_left = 0;
  for (const ContractCredit& c : contracts) {
    const std::optional<calendar::Period> period = CreditPeriodOn(c, day);
    if (!period.has_value()) continue;
    auto used = account.plan_used().find(PlanKey(c.contract_id(), period->first));
    v1::PlanCredit* plan = out.add_plans();
    plan->set_contract_id(c.contract_id());
    *plan->mutable_period_start() = ToDate(period->first);
    *plan->mutable_period_end() = ToDate(period->last);
    plan->set_included_minutes(c.credit_minutes());
    plan->set_used_minutes(used == account.plan_used().end() ? 0 : used->second);
    plans_left += std::max<int64_t>(0, plan->included_minutes() - plan->used_minutes());
  }
  int64_t team_left = 0;
  for (const CreditSource& s : team) team_left += s.available;
  out.set_granted_minutes_left(std::max<int64_t>(0, account.granted_left()));
  out.set_team_minutes_left(team_left);
  out.set_available_minutes(plans_left + out.granted_minutes_left() + out.team_minutes_left());
  return out;
}

void CheckGrant(const GrantCredit& command, FieldErrors& errors) {
  if (command.minutes < 1 || command.minutes > kMaxGrantMinutes) {
    errors.Add("minutes", absl::StrCat("must be 1..", kMaxGrantMinutes));
  }
  validation::CheckLabel(command.reason, "reason", kMaxGrantReasonLength, errors,
                         /*required=*/false);
}

absl::StatusOr<Events> Decide(const CreditState& /*account*/, const GrantCredit& command,
                              absl::Time /*now*/) {
  FieldErrors errors;
  CheckGrant(command, errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  Event e;
  v1::CreditGranted* g = e.mutable_credit_granted();
  g->set_customer_id(command.customer_id);
  g->set_location_id(command.location_id);
  g->set_minutes(command.minutes);
  g->set_reason(std::string(validation::TrimSpaces(command.reason)));
  return Events{std::move(e)};
}

}  // namespace cowork::bookings::domain
