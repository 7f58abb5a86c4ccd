#ifndef COWORK_TOOLS_COWORKCTL_HELPDESK_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_HELPDESK_COMMANDS_H_

// coworkctl's commands for the helpdesk service (proto/cowork/helpdesk/v1/helpdesk.proto):
//   tickets open|get|list|reply|note|close|reopen|set-priority
// plus the global --helpdesk-addr (env COWORK_HELPDESK_ADDR, default 127.0.0.1:50055).
// Texts come from --message, or from standard input with --message-stdin (several lines);
// priorities and statuses take their lowercase names (--priority high, --status
// awaiting-customer).
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddHelpdeskCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_HELPDESK_COMMANDS_H_
