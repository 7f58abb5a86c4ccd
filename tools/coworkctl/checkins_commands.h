#ifndef COWORK_TOOLS_COWORKCTL_CHECKINS_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_CHECKINS_COMMANDS_H_

// coworkctl's commands for the checkins service (proto/cowork/checkins/v1/checkins.proto):
//   checkins in|out|where|present|list|set-policy|get-policy
// plus the global --checkins-addr (env COWORK_CHECKINS_ADDR, default 127.0.0.1:50054).
// Days are YYYY-MM-DD in the location's time zone; methods take their lowercase names
// (--method access-card).
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddCheckinsCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_CHECKINS_COMMANDS_H_
