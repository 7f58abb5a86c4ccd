// coworkctl: the operator CLI. Wiring only; see ctl.h and customers_commands.h.
#include <iostream>

#include "CLI/CLI.hpp"
#include "tools/coworkctl/ctl.h"
#include "tools/coworkctl/customers_commands.h"

int main(int argc, char** argv) {
  cowork::ctl::Context ctx(std::cout, std::cerr, std::cin);
  CLI::App app{"coworkctl: call the cowork services' APIs"};
  app.require_subcommand(1);
  ctx.AddGlobalOptions(app);
  cowork::ctl::AddCustomersCommands(app, ctx);
  return ctx.Run(app, argc, argv, cowork::ctl::MakeGrpcTransport);
}
