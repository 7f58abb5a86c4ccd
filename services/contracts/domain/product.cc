#include "services/contracts/domain/product.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"
#include "libs/status/field_errors.h"
#include "libs/validation/validation.h"

namespace cowork::contracts::domain {
namespace {

bool Recurring(const PurchaseState& p) { return p.kind() == v1::RECURRING; }

// The period `k` of a recurring purchase if it starts on or before its last day.
std::optional<Period> Renewal(const PurchaseState& p, int k) {
  const Period period = PeriodAt(*FromDate(p.start_date()), p.cycle(), k);
  if (p.has_end_date() && period.first > *FromDate(p.end_date())) return std::nullopt;
  return period;
}

}  // namespace

absl::StatusOr<Events> Decide(const ProductState& /*state*/, const CreateProduct& product,
                              absl::Time /*now*/) {
  FieldErrors errors;
  validation::CheckLabel(product.name, "name", kMaxPlanNameLength, errors);
  if (product.price_minor < 0 || product.price_minor > kMaxPriceMinor) {
    errors.Add("price_minor", absl::StrCat("must be 0 to ", kMaxPriceMinor,
                                           " minor units of the location's currency"));
  }
  if (product.kind != v1::ONE_OFF && product.kind != v1::RECURRING) {
    errors.Add("kind", "must be ONE_OFF or RECURRING");
  }
  if (!v1::BillingCycle_IsValid(product.cycle)) {
    errors.Add("cycle", "must be MONTHLY, WEEKLY or YEARLY");
  } else if (product.kind == v1::ONE_OFF && product.cycle != v1::BILLING_CYCLE_UNSPECIFIED) {
    errors.Add("cycle", "only recurring products have a billing cycle");
  }
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;

  Event e;
  v1::ProductCreated* created = e.mutable_product_created();
  created->set_product_id(product.product_id);
  created->set_location_id(product.location_id);
  created->set_name(std::string(validation::TrimSpaces(product.name)));
  *created->mutable_price() = MoneyOf(product.price_minor, product.currency);
  created->set_kind(product.kind);
  if (product.kind == v1::RECURRING) created->set_cycle(EffectiveCycle(product.cycle));
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const PurchaseState& /*purchase*/, const BuyProduct& p,
                              absl::Time /*now*/) {
  const ProductState& product = *p.product;
  const int32_t quantity = p.quantity == 0 ? 1 : p.quantity;
  FieldErrors errors;
  if (quantity < 1 || quantity > kMaxQuantity) {
    errors.Add("quantity", absl::StrCat("must be 1 to ", kMaxQuantity));
  } else if (product.kind() == v1::RECURRING && quantity != 1) {
    errors.Add("quantity", "a recurring product is bought one at a time");
  }
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;
  if (!p.customer.known) {
    return absl::NotFoundError(absl::StrCat("customer ", p.customer_id, " not found"));
  }
  if (p.customer.erased) {
    return absl::FailedPreconditionError(absl::StrCat("customer ", p.customer_id, " was erased"));
  }
  if (p.customer.suspended) {
    return absl::FailedPreconditionError(
        absl::StrCat("customer ", p.customer_id, " is suspended and cannot buy"));
  }
  Event e;
  v1::PurchaseMade* made = e.mutable_purchase_made();
  made->set_purchase_id(p.purchase_id);
  made->set_customer_id(p.customer_id);
  made->set_product_id(product.product_id());
  made->set_location_id(product.location_id());
  made->set_name(product.name());
  *made->mutable_unit_price() = MoneyOf(product.price_minor(), product.currency());
  made->set_quantity(quantity);
  made->set_kind(product.kind());
  made->set_cycle(product.cycle());
  *made->mutable_start_date() = ToDate(p.today);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const PurchaseState& purchase, const CancelPurchase& command,
                              absl::Time /*now*/) {
  const absl::CivilDay today = command.today;
  if (!Recurring(purchase)) {
    return absl::FailedPreconditionError("only recurring purchases can be cancelled");
  }
  if (purchase.has_end_date()) {
    return absl::FailedPreconditionError(
        absl::StrCat("purchase ", purchase.purchase_id(), " is already cancelled"));
  }
  absl::CivilDay end = today;
  if (command.end_date != nullptr) {
    std::optional<absl::CivilDay> day = FromDate(*command.end_date);
    if (!day.has_value()) return InvalidField("end_date", "must be a valid calendar date");
    if (*day < today) return InvalidField("end_date", "must not be before today");
    end = *day;
  }
  Event e;
  v1::PurchaseCancelled* cancelled = e.mutable_purchase_cancelled();
  cancelled->set_purchase_id(purchase.purchase_id());
  cancelled->set_customer_id(purchase.customer_id());
  cancelled->set_product_id(purchase.product_id());
  cancelled->set_location_id(purchase.location_id());
  *cancelled->mutable_end_date() = ToDate(end);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const PurchaseState& purchase, const RenewPurchase& command,
                              absl::Time /*now*/) {
  Events out;
  if (!Recurring(purchase)) return out;
  for (int k = purchase.periods_charged(); static_cast<int>(out.size()) < command.limit; ++k) {
    std::optional<Period> period = Renewal(purchase, k);
    if (!period.has_value() || period->first > command.today) break;
    Event e;
    v1::PurchaseRenewed* renewed = e.mutable_purchase_renewed();
    renewed->set_purchase_id(purchase.purchase_id());
    renewed->set_customer_id(purchase.customer_id());
    renewed->set_location_id(purchase.location_id());
    *renewed->mutable_period_start() = ToDate(period->first);
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<absl::CivilDay> NextRenewal(const PurchaseState& purchase) {
  if (!Recurring(purchase)) return std::nullopt;
  std::optional<Period> period = Renewal(purchase, purchase.periods_charged());
  if (!period.has_value()) return std::nullopt;
  return period->first;
}

v1::Charge PurchaseCharge(const PurchaseState& purchase, absl::CivilDay day) {
  v1::Charge charge;
  if (Recurring(purchase)) {
    charge.set_charge_id(absl::StrCat(purchase.purchase_id(), "/", absl::FormatCivilTime(day)));
    charge.set_description(absl::StrCat(purchase.name(), " from ", absl::FormatCivilTime(day)));
  } else {
    charge.set_charge_id(purchase.purchase_id());
    charge.set_description(purchase.quantity() == 1
                               ? purchase.name()
                               : absl::StrCat(purchase.quantity(), " x ", purchase.name()));
  }
  charge.set_customer_id(purchase.customer_id());
  // Both factors are bounded (kMaxPriceMinor, kMaxQuantity): no overflow.
  *charge.mutable_amount() =
      MoneyOf(purchase.unit_price_minor() * purchase.quantity(), purchase.currency());
  *charge.mutable_day() = ToDate(day);
  return charge;
}

ProductState Apply(ProductState state, const Event& event) {
  if (event.payload_case() != Event::kProductCreated) return state;
  const v1::ProductCreated& e = event.product_created();
  state.set_operator_id(event.operator_id());
  state.set_product_id(e.product_id());
  state.set_location_id(e.location_id());
  state.set_name(e.name());
  state.set_price_minor(e.price().amount_minor());
  state.set_currency(e.price().currency());
  state.set_kind(e.kind());
  state.set_cycle(e.cycle());
  *state.mutable_create_time() = event.occurred_at();
  return state;
}

PurchaseState Apply(PurchaseState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kPurchaseMade: {
      const v1::PurchaseMade& e = event.purchase_made();
      state.set_operator_id(event.operator_id());
      state.set_purchase_id(e.purchase_id());
      state.set_customer_id(e.customer_id());
      state.set_product_id(e.product_id());
      state.set_location_id(e.location_id());
      state.set_name(e.name());
      state.set_unit_price_minor(e.unit_price().amount_minor());
      state.set_currency(e.unit_price().currency());
      state.set_quantity(e.quantity());
      state.set_kind(e.kind());
      state.set_cycle(e.cycle());
      *state.mutable_start_date() = e.start_date();
      state.set_periods_charged(e.kind() == v1::RECURRING ? 1 : 0);
      *state.mutable_create_time() = event.occurred_at();
      break;
    }
    case Event::kPurchaseRenewed:
      state.set_periods_charged(state.periods_charged() + 1);
      break;
    case Event::kPurchaseCancelled:
      *state.mutable_end_date() = event.purchase_cancelled().end_date();
      break;
    default:
      break;
  }
  return state;
}

}  // namespace cowork::contracts::domain
