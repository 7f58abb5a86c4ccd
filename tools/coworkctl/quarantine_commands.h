#ifndef COWORK_TOOLS_COWORKCTL_QUARANTINE_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_QUARANTINE_COMMANDS_H_

// coworkctl's commands for the consumers' quarantine every service serves
// (proto/cowork/common/v1/quarantine.proto):
//   quarantine list|show|retry|discard --service customers|contracts|...
// sent to that service's address (--<service>-addr). They need a platform token carrying
// platform.quarantine (cowork-token platform --permission platform.quarantine).
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddQuarantineCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_QUARANTINE_COMMANDS_H_
