// cowork-contracts: the contracts service (plans and contracts). Wiring only: flags, the
// runtime, the directory fed by the customers events, the scheduler, the services.

#include <memory>

#include "CLI/CLI.hpp"
#include "libs/directory/directory.h"
#include "libs/kafka/kafka.h"
#include "libs/server/server.h"
#include "libs/service/runtime.h"
#include "services/contracts/api/app.h"
#include "services/contracts/api/scheduler.h"
#include "services/contracts/api/services.h"

int main(int argc, char** argv) {
  using namespace cowork;
  server::BlockTerminationSignals();
  CLI::App cli{"cowork-contracts: plans and contracts"};
  server::ServiceFlags flags;
  server::AddStandardFlags(cli, flags, {.service = "contracts", .port = 50052, .metrics_port = 9102});
  CLI11_PARSE(cli, argc, argv);

  absl::StatusOr<std::unique_ptr<service::Runtime>> runtime = service::Runtime::Start(flags);
  if (!runtime.ok()) return service::ExitWith(flags, "start-up", runtime.status());
  service::Runtime& rt = **runtime;

  directory::Directory directory(rt.store());
  auth::TokenVerifier verifier(rt.secrets());
  contracts::api::App app(rt.store(), directory, rt.clock(), verifier);
  if (flags.rebuild_projections) {
    if (absl::Status s = app.Rebuild(); !s.ok()) {
      return service::ExitWith(flags, "cannot rebuild the views", s);
    }
    server::LogJson("info", "views rebuilt from the event log");
  }

  kafka::ConsumerOptions customers_options{
      .name = "contracts.customers",
      .topics = {kafka::TopicFor("customers")},
      .rebuild = flags.rebuild_projections,
      .reset = [&directory](eventstore::Store&) { return directory.Reset(); }};
  auto customers = std::make_unique<kafka::EventConsumer>(rt.store(), rt.kafka(),
                                                          customers_options);
  directory.Subscribe(*customers);
  if (absl::Status s = rt.AddConsumer("contracts.customers", std::move(customers)); !s.ok()) {
    return service::ExitWith(flags, "cannot start the customers consumer", s);
  }

  contracts::api::Scheduler scheduler(app, absl::Seconds(1));
  contracts::api::PlansServiceImpl plans_service(app);
  contracts::api::ContractsServiceImpl contracts_service(app);
  return rt.Serve(app.authenticator(), {&plans_service, &contracts_service});
}
