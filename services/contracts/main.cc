// cowork-contracts: the contracts service (plans, contracts, products, purchases, charges and
// invoices). Wiring only: flags, the runtime, the directory fed by the customers events, the
// bookings events' charges, the scheduler, the services.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/kafka/kafka.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "libs/runtime/scheduler.h"
#include "services/contracts/app/app.h"
#include "services/contracts/grpc/services.h"
#include "services/contracts/projection/projection.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return runtime::RunService(
      argc, argv, "cowork-contracts: plans and contracts",
      {.service = "contracts", .port = 50052, .metrics_port = 9102}, [](runtime::Runtime& rt) {
    const server::ServiceFlags& flags = rt.flags();
    directory::Directory directory(rt.store());
    auth::TokenVerifier verifier(rt.keys().verifier);
    contracts::app::App app(rt.store(), directory, rt.clock(), verifier);
    if (absl::Status s = rt.Restore(contracts::projection::AggregateFolds()); !s.ok()) {
      return runtime::ExitWith(flags, "cannot restore from the topics", s);
    }
    if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the customers consumer", s);
    }
    if (absl::Status s = rt.RebuildViews(
            {[&rt, &directory] { return contracts::projection::Rebuild(rt.store(), directory); }});
        !s.ok()) {
      return runtime::ExitWith(flags, "cannot rebuild the views", s);
    }

    // Charges from bookings are this service's own events: never re-read the bookings topic
    // from zero (projection::Rebuild rewrites the views from the log; re-reading would charge
    // again).
    kafka::ConsumerOptions bookings_options{.name = "contracts.bookings",
                                            .topics = {kafka::TopicFor("bookings")}};
    auto bookings = std::make_unique<kafka::EventConsumer>(rt.store(), rt.kafka(), bookings_options);
    bookings->On<bookings::v1::BookingCreated>(
        [&app](const common::v1::EventEnvelope& envelope, const bookings::v1::BookingCreated& e,
               eventstore::WriteSet& writes) { return app.OnBookingCreated(envelope, e, writes); });
    bookings->On<bookings::v1::BookingCancelled>(
        [&app](const common::v1::EventEnvelope& envelope, const bookings::v1::BookingCancelled& e,
               eventstore::WriteSet& writes) { return app.OnBookingCancelled(envelope, e, writes); });
    if (absl::Status s = rt.AddConsumer("contracts.bookings", std::move(bookings)); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the bookings consumer", s);
    }

    runtime::Scheduler scheduler("contracts", [&app] { return app.RunDue(); }, absl::Seconds(1),
                                 &rt.metrics());
    contracts::rpc::PlansServiceImpl plans_service(app);
    contracts::rpc::ContractsServiceImpl contracts_service(app);
    contracts::rpc::ProductsServiceImpl products_service(app);
    contracts::rpc::PurchasesServiceImpl purchases_service(app);
    contracts::rpc::InvoicesServiceImpl invoices_service(app);
    return rt.Serve(app.authenticator(), {&plans_service, &contracts_service, &products_service,
                                          &purchases_service, &invoices_service});
  });
}
