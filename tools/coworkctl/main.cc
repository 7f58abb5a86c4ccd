// coworkctl: the operator CLI. Wiring only; see ctl.h and the *_commands.h files.
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/coworkctl/billing_commands.h"
#include "tools/coworkctl/bookings_commands.h"
#include "tools/coworkctl/checkins_commands.h"
#include "tools/coworkctl/contracts_commands.h"
#include "tools/coworkctl/ctl.h"
#include "tools/coworkctl/customers_commands.h"
#include "tools/coworkctl/helpdesk_commands.h"
#include "tools/coworkctl/quarantine_commands.h"

int main(int argc, char** argv) {
  cowork::ctl::Context ctx(std::cout, std::cerr, std::cin);
  CLI::App app{"coworkctl: call the cowork services' APIs"};
  app.require_subcommand(1);
  ctx.AddGlobalOptions(app);
  cowork::ctl::AddCustomersCommands(app, ctx);
  cowork::ctl::AddContractsCommands(app, ctx);
  cowork::ctl::AddBookingsCommands(app, ctx);
  cowork::ctl::AddCheckinsCommands(app, ctx);
  cowork::ctl::AddHelpdeskCommands(app, ctx);
  cowork::ctl::AddBillingCommands(app, ctx);
  cowork::ctl::AddQuarantineCommands(app, ctx);
  return ctx.Run(app, argc, argv, cowork::ctl::MakeGrpcTransport);
}
