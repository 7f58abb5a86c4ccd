#include "services/contracts/domain/contract.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"
#include "libs/status/field_errors.h"

namespace cowork::contracts::domain {
namespace {

using Phase = ContractState::Phase;

// A day field: unset (null) is fine; set, it must be a real calendar day.
std::optional<absl::CivilDay> DayField(const google::type::Date* date, absl::string_view field,
                                       FieldErrors& errors) {
  if (date == nullptr) return std::nullopt;
  std::optional<absl::CivilDay> day = FromDate(*date);
  if (!day.has_value()) errors.Add(std::string(field), "must be a valid calendar date");
  return day;
}

absl::CivilDay DayOf(const google::type::Date& date) { return *FromDate(date); }

Event Started(const ContractState& c) {
  Event e;
  v1::ContractStarted* started = e.mutable_contract_started();
  started->set_contract_id(c.contract_id());
  started->set_customer_id(c.customer_id());
  started->set_plan_id(c.plan_id());
  started->set_location_id(c.location_id());
  *started->mutable_start_date() = c.start_date();
  started->set_booking_credit_minutes(c.booking_credit_minutes());
  started->set_cycle(c.cycle());
  return e;
}

Event Ended(const ContractState& c) {
  Event e;
  v1::ContractEnded* ended = e.mutable_contract_ended();
  ended->set_contract_id(c.contract_id());
  ended->set_customer_id(c.customer_id());
  ended->set_plan_id(c.plan_id());
  ended->set_location_id(c.location_id());
  *ended->mutable_end_date() = c.end_date();
  ended->set_started(c.started());
  return e;
}

// Appends `events` to `out`, applying each to `state` so later decisions see it.
void Emit(Event e, ContractState& state, Events& out) {
  state = Apply(std::move(state), e);
  out.push_back(std::move(e));
}

// What the passing of days makes happen by `today` (TickContract).
Events Tick(const ContractState& contract, absl::CivilDay today) {
  ContractState state = contract;
  Events out;
  if (state.phase() == ContractState::PENDING && DayOf(state.start_date()) <= today) {
    Emit(Started(state), state, out);
  }
  if ((state.phase() == ContractState::ACTIVE || state.phase() == ContractState::ENDING) &&
      state.has_end_date() && DayOf(state.end_date()) < today) {
    Emit(Ended(state), state, out);
  }
  return out;
}

}  // namespace

absl::StatusOr<Events> Decide(const ContractState& /*contract*/, const SignContract& s,
                              absl::Time /*now*/) {
  FieldErrors errors;
  const std::optional<absl::CivilDay> start = DayField(s.start_date, "start_date", errors);
  const std::optional<absl::CivilDay> end = DayField(s.end_date, "end_date", errors);
  const absl::CivilDay start_day = start.value_or(s.today);
  if (end.has_value()) {
    if (*end < start_day) {
      errors.Add("end_date", absl::StrCat("must not be before the start date ",
                                          FormatDay(start_day)));
    } else if (*end < s.today) {
      errors.Add("end_date", absl::StrCat("must not be before today (", FormatDay(s.today),
                                          ") in the location's time zone"));
    }
  }
  if (absl::Status st = errors.ToStatus(); !st.ok()) return st;
  if (!s.customer.known) {
    return absl::NotFoundError(absl::StrCat("customer ", s.customer_id, " not found"));
  }
  if (s.customer.erased) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", s.customer_id, " was erased"));
  }
  if (s.customer.suspended) {
    return absl::FailedPreconditionError(absl::StrCat(
        "customer ", s.customer_id, " is suspended: no new contracts until reactivated"));
  }

  const PlanState& plan = *s.plan;
  Event e;
  v1::ContractSigned* signed_ = e.mutable_contract_signed();
  signed_->set_contract_id(s.contract_id);
  signed_->set_customer_id(s.customer_id);
  signed_->set_plan_id(plan.plan_id());
  signed_->set_location_id(plan.location_id());
  *signed_->mutable_start_date() = ToDate(start_day);
  if (end.has_value()) *signed_->mutable_end_date() = ToDate(*end);
  *signed_->mutable_price() = MoneyOf(plan.price_minor(), plan.currency());
  signed_->set_cycle(EffectiveCycle(plan.cycle()));
  signed_->set_booking_credit_minutes(plan.booking_credit_minutes());

  ContractState state;
  Events out;
  Emit(std::move(e), state, out);
  for (Event& more : Tick(state, s.today)) Emit(std::move(more), state, out);
  return out;
}

absl::StatusOr<Events> Decide(const ContractState& contract, const CancelContract& command,
                              absl::Time /*now*/) {
  const absl::CivilDay today = command.today;
  if (contract.phase() == ContractState::ENDED) {
    return absl::FailedPreconditionError(
        absl::StrCat("contract ", contract.contract_id(), " has already ended"));
  }
  FieldErrors errors;
  const absl::CivilDay end = DayField(command.end_date, "end_date", errors).value_or(today);
  if (errors.empty() && end < today) {
    errors.Add("end_date", absl::StrCat("must not be before today (", FormatDay(today),
                                        ") in the location's time zone"));
  }
  if (absl::Status st = errors.ToStatus(); !st.ok()) return st;

  Event e;
  v1::ContractCancelled* cancelled = e.mutable_contract_cancelled();
  cancelled->set_contract_id(contract.contract_id());
  cancelled->set_customer_id(contract.customer_id());
  cancelled->set_plan_id(contract.plan_id());
  cancelled->set_location_id(contract.location_id());
  *cancelled->mutable_end_date() = ToDate(end);

  ContractState state = contract;
  Events out;
  Emit(std::move(e), state, out);
  if (state.phase() == ContractState::PENDING && end < DayOf(state.start_date())) {
    Emit(Ended(state), state, out);  // never started
  }
  return out;
}

absl::StatusOr<Events> Decide(const ContractState& contract, const TickContract& command,
                              absl::Time /*now*/) {
  return Tick(contract, command.today);
}

namespace {

// The period `k` of a started contract as far as it is held: cut at the end date; nullopt
// when the contract ended before it began.
std::optional<Period> HeldPeriod(const ContractState& c, int k) {
  Period p = PeriodAt(DayOf(c.start_date()), c.cycle(), k);
  if (!c.has_end_date()) return p;
  const absl::CivilDay end = DayOf(c.end_date());
  if (p.first > end) return std::nullopt;
  p.last = std::min(p.last, end);
  return p;
}

}  // namespace

std::vector<DuePeriod> DuePeriods(const ContractState& contract, absl::CivilDay today,
                                  int limit) {
  std::vector<DuePeriod> out;
  if (!contract.started()) return out;
  for (int k = contract.periods_closed(); static_cast<int>(out.size()) < limit; ++k) {
    std::optional<Period> held = HeldPeriod(contract, k);
    if (!held.has_value() || held->last >= today) break;
    const int full_days = PeriodAt(DayOf(contract.start_date()), contract.cycle(), k).days();
    out.push_back({.period = *held,
                   .fee = Prorate(contract.price_minor(), held->days(), full_days),
                   .prorated = held->days() < full_days});
  }
  return out;
}

Event PeriodClosed(const ContractState& c, const DuePeriod& due, std::string invoice_id) {
  Event e;
  v1::ContractPeriodClosed* closed = e.mutable_contract_period_closed();
  closed->set_contract_id(c.contract_id());
  closed->set_customer_id(c.customer_id());
  closed->set_location_id(c.location_id());
  *closed->mutable_period_start() = ToDate(due.period.first);
  *closed->mutable_period_end() = ToDate(due.period.last);
  *closed->mutable_fee() = MoneyOf(due.fee, c.currency());
  closed->set_prorated(due.prorated);
  closed->set_invoice_id(std::move(invoice_id));
  return e;
}

std::optional<absl::CivilDay> NextBoundary(const ContractState& contract) {
  std::optional<absl::CivilDay> next;
  switch (contract.phase()) {
    case ContractState::PENDING:
      next = DayOf(contract.start_date());
      break;
    case ContractState::ACTIVE:
    case ContractState::ENDING:
      if (contract.has_end_date()) next = DayOf(contract.end_date()) + 1;
      break;
    default:
      break;
  }
  if (contract.started()) {
    if (std::optional<Period> held = HeldPeriod(contract, contract.periods_closed())) {
      const absl::CivilDay billing = held->last + 1;
      if (!next.has_value() || billing < *next) next = billing;
    }
  }
  return next;
}

ContractState Apply(ContractState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kContractSigned: {
      const v1::ContractSigned& e = event.contract_signed();
      state.set_operator_id(event.operator_id());
      state.set_contract_id(e.contract_id());
      state.set_customer_id(e.customer_id());
      state.set_plan_id(e.plan_id());
      state.set_location_id(e.location_id());
      *state.mutable_start_date() = e.start_date();
      if (e.has_end_date()) *state.mutable_end_date() = e.end_date();
      state.set_phase(ContractState::PENDING);
      state.set_price_minor(e.price().amount_minor());
      state.set_currency(e.price().currency());
      state.set_cycle(e.cycle());
      state.set_booking_credit_minutes(e.booking_credit_minutes());
      *state.mutable_create_time() = event.occurred_at();
      break;
    }
    case Event::kContractStarted:
      state.set_started(true);
      state.set_phase(state.has_end_date() ? ContractState::ENDING : ContractState::ACTIVE);
      break;
    case Event::kContractCancelled:
      *state.mutable_end_date() = event.contract_cancelled().end_date();
      if (state.phase() == ContractState::ACTIVE) state.set_phase(ContractState::ENDING);
      break;
    case Event::kContractEnded:
      state.set_phase(ContractState::ENDED);
      break;
    case Event::kContractPeriodClosed:
      state.set_periods_closed(state.periods_closed() + 1);
      break;
    default:
      break;
  }
  return state;
}

}  // namespace cowork::contracts::domain
