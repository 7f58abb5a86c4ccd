#ifndef COWORK_TOOLS_COWORKCTL_BOOKINGS_COMMANDS_H_
#define COWORK_TOOLS_COWORKCTL_BOOKINGS_COMMANDS_H_

// coworkctl's commands for the bookings service (proto/cowork/bookings/v1/bookings.proto):
//   resources create|get|list|update
//   bookings  create|get|list|cancel|move|availability
//   credit    grant|get
// plus the global --bookings-addr (env COWORK_BOOKINGS_ADDR, default 127.0.0.1:50053).
// Instants are RFC 3339 (--start 2026-06-01T10:00:00+02:00); days are YYYY-MM-DD in the
// location's time zone; enums take their lowercase names (--kind meeting-room).
//
// Not thread-safe (built and run on main's thread).

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"

namespace cowork::ctl {

void AddBookingsCommands(CLI::App& app, Context& ctx);

}  // namespace cowork::ctl

#endif  // COWORK_TOOLS_COWORKCTL_BOOKINGS_COMMANDS_H_
