#ifndef COWORK_TOOLS_COWORKCTL_CONTRACTS_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_CONTRACTS_COMMANDS_H_

// coworkctl's commands for the contracts service (proto/cowork/contracts/v1/contracts.proto):
//   plans     create|get|list|update-price
//   contracts create|get|list|cancel
//   products  create|get|list
//   purchases buy|get|list|cancel
//   invoices  get|list|pay|void|account|set-tax-rate|get-tax-rate|set-preference
// plus the global --contracts-addr (env COWORK_CONTRACTS_ADDR, default 127.0.0.1:50052).
// Each command maps its flags onto the request and goes through Context::Call. The id of the
// resource a group is named after is positional (`contracts cancel k-1`); other ids are flags
// (--customer, --location, --plan, --product). Dates are YYYY-MM-DD (calendar days in the
// location's time zone); enums take their lowercase names (--cycle weekly, --kind one-off).
// A malformed date or enum is a usage error naming the flag; nothing is sent.
//
// Not thread-safe (built and run on main's thread).
//
//   AddCustomersCommands(app, ctx);
//   AddContractsCommands(app, ctx);

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddContractsCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_CONTRACTS_COMMANDS_H_
