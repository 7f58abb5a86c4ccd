// cowork-customers: the customers service (customers, accounts, teams, and the directory of
// operators and locations). Wiring only: flags, the real clock, the store, Kafka, the server.

#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "libs/server/server.h"
#include "services/customers/api/app.h"
#include "services/customers/api/contracts_consumer.h"
#include "services/customers/api/services.h"

namespace {

using namespace cowork;

int Fail(absl::string_view what, const absl::Status& status, int code) {
  server::LogJson("error", what, {{"error", std::string(status.message())}});
  std::cerr << "cowork-customers: " << what << ": " << status.message() << std::endl;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  server::BlockTerminationSignals();
  CLI::App cli{"cowork-customers: customers, accounts, teams, operators and locations"};
  server::ServiceFlags flags;
  server::AddStandardFlags(cli, flags, {.service = "customers", .port = 50051, .metrics_port = 9101});
  CLI11_PARSE(cli, argc, argv);
  server::SetLogService("customers");

  // A missing secret outside --dev stops the service here.
  absl::StatusOr<auth::VerifierOptions> secrets = auth::VerifierOptionsFromEnv(flags.dev);
  if (!secrets.ok()) return Fail("configuration", secrets.status(), 2);
  absl::StatusOr<std::map<std::string, std::string>> properties = server::KafkaProperties(flags);
  if (!properties.ok()) return Fail("configuration", properties.status(), 2);

  absl::StatusOr<std::unique_ptr<eventstore::Store>> store =
      eventstore::Store::Open({.path = flags.data_dir, .durable = flags.durable});
  if (!store.ok()) return Fail("cannot open the store", store.status(), 1);
  directory::Directory directory(**store);
  auth::TokenVerifier verifier(*secrets);
  customers::api::App app(**store, directory, RealClock::Get(), verifier,
                          secrets->session_secret);
  if (flags.rebuild_projections) {
    if (absl::Status s = app.projection().Rebuild(); !s.ok()) {
      return Fail("cannot rebuild the views", s, 1);
    }
    server::LogJson("info", "views rebuilt from the event log");
  }

  const kafka::KafkaOptions kafka{
      .brokers = flags.kafka_brokers, .client_id = "customers", .properties = *properties};
  absl::StatusOr<std::unique_ptr<kafka::OutboxRelay>> relay =
      kafka::OutboxRelay::Start(**store, kafka);
  if (!relay.ok()) return Fail("cannot start the outbox relay", relay.status(), 1);
  (*store)->SetOutboxListener([r = relay->get()] { r->Wake(); });

  std::unique_ptr<kafka::EventConsumer> consumer =
      customers::api::NewContractsConsumer(**store, kafka, app, flags.rebuild_projections);
  if (absl::Status s = consumer->Start(); !s.ok()) {
    return Fail("cannot start the contracts consumer", s, 1);
  }

  server::Metrics metrics;
  eventstore::Store* raw_store = store->get();
  kafka::EventConsumer* raw_consumer = consumer.get();
  metrics.Gauge("cowork_outbox_depth", "Events committed and not yet delivered to Kafka",
                [raw_store] { return static_cast<double>(raw_store->OutboxDepth()); });
  metrics.Gauge("cowork_consumer_lag", "Messages of a consumed topic not yet applied",
                {{"consumer", "customers.contracts"}},
                [raw_consumer] { return static_cast<double>(raw_consumer->Lag()); });
  std::unique_ptr<server::MetricsHttpServer> http;
  if (!flags.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<server::MetricsHttpServer>> started =
        server::MetricsHttpServer::Start(flags.metrics_listen, metrics);
    if (!started.ok()) return Fail("cannot serve metrics", started.status(), 1);
    http = *std::move(started);
    const std::string metrics_host =
        flags.metrics_listen.substr(0, flags.metrics_listen.rfind(':'));
    server::LogJson("info", "metrics listening",
                    {{"address", absl::StrCat(metrics_host, ":", http->port())}});
  }

  customers::api::DirectoryServiceImpl directory_service(app);
  customers::api::CustomersServiceImpl customers_service(app);
  customers::api::AccountsServiceImpl accounts_service(app);
  customers::api::TeamsServiceImpl teams_service(app);
  absl::StatusOr<std::unique_ptr<server::Server>> grpc_server = server::Server::Start(
      {.service = "customers",
       .listen = flags.listen,
       .workers = flags.workers,
       .log_requests = flags.log_requests,
       .drain = absl::Seconds(flags.drain_seconds)},
      {&directory_service, &customers_service, &accounts_service, &teams_service}, metrics);
  if (!grpc_server.ok()) return Fail("cannot start the gRPC server", grpc_server.status(), 1);

  // Tests and the launcher find the bound port (--listen 127.0.0.1:0) in this line.
  const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  std::cout << "customers listening on " << host << ":" << (*grpc_server)->port() << std::endl;

  const int signal = server::WaitForTerminationSignal();
  server::LogJson("info", "shutting down", {{"signal", std::to_string(signal)}});
  (*grpc_server)->Shutdown();
  grpc_server->reset();
  consumer.reset();
  relay->reset();
  http.reset();
  store->reset();
  return 0;
}
