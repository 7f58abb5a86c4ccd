#include "services/contracts/domain/plan.h"

#include "absl/strings/str_cat.h"
#include "libs/money/money.h"
#include "libs/status/field_errors.h"
#include "libs/validation/validation.h"

namespace cowork::contracts::domain {
namespace {

void CheckPrice(int64_t price_minor, FieldErrors& errors) {
  if (price_minor < 0 || price_minor > kMaxPriceMinor) {
    errors.Add("price_minor", absl::StrCat("must be 0 to ", kMaxPriceMinor,
                                           " minor units of the location's currency"));
  }
}

}  // namespace

v1::BillingCycle EffectiveCycle(v1::BillingCycle cycle) {
  return cycle == v1::BILLING_CYCLE_UNSPECIFIED ? v1::MONTHLY : cycle;
}

absl::StatusOr<Events> Decide(const PlanState& /*plan*/, const CreatePlan& command,
                              absl::Time /*now*/) {
  FieldErrors errors;
  validation::CheckLabel(command.name, "name", kMaxPlanNameLength, errors);
  CheckPrice(command.price_minor, errors);
  if (!v1::BillingCycle_IsValid(command.cycle)) {
    errors.Add("cycle", "must be MONTHLY, WEEKLY or YEARLY");
  }
  if (command.booking_credit_minutes < 0 || command.booking_credit_minutes > kMaxCreditMinutes) {
    errors.Add("booking_credit_minutes", absl::StrCat("must be 0 to ", kMaxCreditMinutes));
  }
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;

  Event e;
  v1::PlanCreated* created = e.mutable_plan_created();
  created->set_plan_id(command.plan_id);
  created->set_location_id(command.location_id);
  created->set_name(std::string(validation::TrimSpaces(command.name)));
  *created->mutable_price() = MoneyOf(command.price_minor, command.currency);
  created->set_cycle(EffectiveCycle(command.cycle));
  created->set_booking_credit_minutes(command.booking_credit_minutes);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const PlanState& plan, const ChangePlanPrice& command,
                              absl::Time /*now*/) {
  const int64_t price_minor = command.price_minor;
  FieldErrors errors;
  CheckPrice(price_minor, errors);
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;
  if (price_minor == plan.price_minor()) return Events{};
  Event e;
  v1::PlanPriceChanged* changed = e.mutable_plan_price_changed();
  changed->set_plan_id(plan.plan_id());
  changed->set_location_id(plan.location_id());
  *changed->mutable_price() = MoneyOf(price_minor, plan.currency());
  return Events{std::move(e)};
}

PlanState Apply(PlanState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kPlanCreated: {
      const v1::PlanCreated& e = event.plan_created();
      state.set_operator_id(event.operator_id());
      state.set_plan_id(e.plan_id());
      state.set_location_id(e.location_id());
      state.set_name(e.name());
      state.set_price_minor(e.price().amount_minor());
      state.set_currency(e.price().currency());
      state.set_cycle(e.cycle());
      state.set_booking_credit_minutes(e.booking_credit_minutes());
      *state.mutable_create_time() = event.occurred_at();
      break;
    }
    case Event::kPlanPriceChanged:
      state.set_price_minor(event.plan_price_changed().price().amount_minor());
      break;
    default:
      break;
  }
  return state;
}

}  // namespace cowork::contracts::domain
