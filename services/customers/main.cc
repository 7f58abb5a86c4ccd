// cowork-customers: the customers service (customers, accounts, teams, and the directory of
// operators and locations, and the notification emails of the suite). Wiring only: flags, the
// real clock, the runtime, the notifier, the services.

#include <memory>

#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "services/customers/app/app.h"
#include "services/customers/app/contracts_consumer.h"
#include "services/customers/grpc/services.h"
#include "services/customers/notifier/notifier.h"

int main(int argc, char** argv) {
  using namespace cowork;
  customers::notifier::SmtpOptions smtp;
  customers::app::AppOptions options;
  return runtime::RunService(
      argc, argv, "cowork-customers: customers, accounts, teams, operators and locations",
      {.service = "customers",
       .port = 50051,
       .metrics_port = 9101,
       .signs_sessions = true,
       .keeps_keys = true,
       .more_flags =
           [&smtp, &options](CLI::App& cli) {
             customers::notifier::AddSmtpFlags(cli, smtp);
             cli.add_option("--password-hash-concurrency", options.password_gate.concurrency,
                            "argon2id hashes at once (64 MiB each); 0: the cores")
                 ->envname("COWORK_PASSWORD_HASH_CONCURRENCY")
                 ->check(CLI::Range(0, 256))
                 ->capture_default_str();
             cli.add_option("--password-hash-queue", options.password_gate.queue,
                            "callers waiting for a hash at most; more are refused "
                            "(RESOURCE_EXHAUSTED)")
                 ->envname("COWORK_PASSWORD_HASH_QUEUE")
                 ->check(CLI::Range(0, 4096))
                 ->capture_default_str();
             cli.add_option("--client-address-header", options.client_address_header,
                            "metadata header with the client's address, set by trusted "
                            "frontends (e.g. x-forwarded-for); empty: the connection's")
                 ->envname("COWORK_CLIENT_ADDRESS_HEADER");
           }},
      [&smtp, &options](runtime::Runtime& rt) {
        const server::ServiceFlags& flags = rt.flags();
        directory::Directory directory(rt.store());
        auth::TokenVerifier verifier(rt.keys().verifier);
        customers::app::App app(rt.store(), directory, rt.clock(), verifier,
                                rt.keys().session_private_key_pem, options);
        rt.metrics().Gauge("cowork_password_gate_refusals",
                           "Password hashes and checks refused since start: too many at once",
                           [&app] { return static_cast<double>(app.password_gate_refusals()); });
        eventstore::Folds folds = customers::projection::AggregateFolds();
        customers::notifier::AddFold(folds);
        if (absl::Status s = rt.Restore(folds); !s.ok()) {
          return runtime::ExitWith(flags, "cannot restore from the topics", s);
        }
        if (absl::Status s = rt.RebuildViews({[&app] { return app.projection().Rebuild(); }});
            !s.ok()) {
          return runtime::ExitWith(flags, "cannot rebuild the views", s);
        }
        if (absl::Status s =
                rt.AddConsumer(customers::app::kContractsConsumerName,
                               customers::app::NewContractsConsumer(rt.store(), rt.kafka(), app,
                                                                    flags.rebuild_projections));
            !s.ok()) {
          return runtime::ExitWith(flags, "cannot start the contracts consumer", s);
        }
        customers::notifier::SmtpSecretsFromEnv(smtp);
        absl::StatusOr<std::unique_ptr<customers::notifier::Notifier>> notifier =
            customers::notifier::StartNotifier(rt, app.projection(), smtp);
        if (!notifier.ok()) {
          return runtime::ExitWith(flags, "cannot start the notifier", notifier.status());
        }

        customers::rpc::DirectoryServiceImpl directory_service(app);
        customers::rpc::CustomersServiceImpl customers_service(app);
        customers::rpc::AccountsServiceImpl accounts_service(app);
        customers::rpc::TeamsServiceImpl teams_service(app);
        return rt.Serve(app.authenticator(), {&directory_service, &customers_service,
                                              &accounts_service, &teams_service});
      });
}
