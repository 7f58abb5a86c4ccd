#ifndef COWORK_TOOLS_COWORKCTL_BILLING_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_BILLING_COMMANDS_H_

// coworkctl's commands for the billing service (proto/cowork/billing/v1/billing.proto):
//   active-users get|counts
// plus the global --billing-addr (env COWORK_BILLING_ADDR, default 127.0.0.1:50056). Months
// are YYYY-MM.
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddBillingCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_BILLING_COMMANDS_H_
