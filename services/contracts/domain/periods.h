#ifndef COWORK_SERVICES_CONTRACTS_DOMAIN_PERIODS_H_
#define COWORK_SERVICES_CONTRACTS_DOMAIN_PERIODS_H_

// Billing periods and money arithmetic (SPEC "Plans, contracts and products"; the rules are
// written down in docs/DECISIONS.md "Charges and invoices").
//
//  - Periods are anchored at the first day (a contract's start date, a recurring purchase's
//    start date), as libs/calendar computes them.
//  - Proration: a period cut short (a contract's end date inside it) costs
//    fee * days held / days in the period, rounded half up.
//  - Tax: once per invoice, subtotal * rate_ppm / 10^6 rounded half away from zero.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>

#include "absl/time/civil_time.h"
#include "cowork/contracts/v1/events.pb.h"
#include "libs/calendar/calendar.h"

namespace cowork::contracts::domain {

inline constexpr int64_t kMaxTaxRatePpm = 1'000'000;  // 100%

using calendar::Period;

// The calendar's cycle for a plan's or product's billing cycle (UNSPECIFIED is MONTHLY).
calendar::Cycle CycleOf(v1::BillingCycle cycle);

// The period with index `k` (0 = the one starting on `anchor`) of `cycle`.
inline Period PeriodAt(absl::CivilDay anchor, v1::BillingCycle cycle, int k) {
  return calendar::PeriodAt(anchor, CycleOf(cycle), k);
}

// fee * days_held / days_in_period, half up; the fee itself when the period is held whole.
int64_t Prorate(int64_t fee, int days_held, int days_in_period);

// subtotal * rate_ppm / 10^6, half away from zero.
int64_t TaxOf(int64_t subtotal, int64_t rate_ppm);

// a + b, or nullopt when the sum leaves int64.
std::optional<int64_t> CheckedAdd(int64_t a, int64_t b);

}  // namespace cowork::contracts::domain

#endif  // COWORK_SERVICES_CONTRACTS_DOMAIN_PERIODS_H_
