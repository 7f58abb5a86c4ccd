#ifndef COWORK_LIBS_MONEY_MONEY_H_
#define COWORK_LIBS_MONEY_MONEY_H_

// cowork.common.v1.Money values: an amount in the currency's minor units (cents) and the ISO
// 4217 code. The one way every service and tool builds one.
//
//   *invoice.mutable_total() = MoneyOf(12500, "EUR");  // EUR 125.00

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "cowork/common/v1/money.pb.h"

namespace cowork {

inline common::v1::Money MoneyOf(int64_t amount_minor, absl::string_view currency) {
  common::v1::Money out;
  out.set_amount_minor(amount_minor);
  out.set_currency(std::string(currency));
  return out;
}

}  // namespace cowork

#endif  // COWORK_LIBS_MONEY_MONEY_H_
