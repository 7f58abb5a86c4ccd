#ifndef COWORK_TOOLS_COWORKCTL_CUSTOMERS_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_CUSTOMERS_COMMANDS_H_

// coworkctl's commands for the customers service (proto/cowork/customers/v1/customers.proto):
//   operators create
//   locations create|get|list|update
//   customers add|get|list|update|change-type|suspend|reactivate|create-account|import|erase
//   teams     create|get|list|add-member|remove-member|set-paying-member|sharing
//   accounts  register|sign-in|change-password|sign-out
// Each command maps its flags onto the request and goes through Context::Call.
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddCustomersCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_CUSTOMERS_COMMANDS_H_
