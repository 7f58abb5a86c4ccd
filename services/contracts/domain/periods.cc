#include "services/contracts/domain/periods.h"

#include <algorithm>

namespace cowork::contracts::domain {
namespace {

// a / b rounded half away from zero (b > 0).
__int128 DivideRounded(__int128 a, __int128 b) {
  const __int128 magnitude = ((a < 0 ? -a : a) * 2 + b) / (2 * b);
  return a < 0 ? -magnitude : magnitude;
}

}  // namespace

calendar::Cycle CycleOf(v1::BillingCycle cycle) {
  switch (cycle) {
    case v1::WEEKLY: return calendar::Cycle::kWeekly;
    case v1::YEARLY: return calendar::Cycle::kYearly;
    default: return calendar::Cycle::kMonthly;
  }
}

int64_t Prorate(int64_t fee, int days_held, int days_in_period) {
  if (days_held >= days_in_period || days_in_period <= 0) return fee;
  return static_cast<int64_t>(
      DivideRounded(static_cast<__int128>(fee) * days_held, days_in_period));
}

int64_t TaxOf(int64_t subtotal, int64_t rate_ppm) {
  return static_cast<int64_t>(DivideRounded(static_cast<__int128>(subtotal) * rate_ppm, 1'000'000));
}

std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

}  // namespace cowork::contracts::domain
