// cowork-bookings: the bookings service (resources, bookings, booking credit). Wiring only:
// flags, the runtime, the directory fed by the customers events, plan credit from the
// contracts events, the services.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/kafka/kafka.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "services/bookings/app/app.h"
#include "services/bookings/grpc/services.h"
#include "services/bookings/projection/projection.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return runtime::RunService(
      argc, argv, "cowork-bookings: resources, bookings and booking credit",
      {.service = "bookings", .port = 50053, .metrics_port = 9103}, [](runtime::Runtime& rt) {
    const server::ServiceFlags& flags = rt.flags();
    directory::Directory directory(rt.store());
    auth::TokenVerifier verifier(rt.keys().verifier);
    bookings::app::App app(rt.store(), directory, rt.clock(), verifier);
    if (absl::Status s = rt.Restore(bookings::projection::AggregateFolds()); !s.ok()) {
      return runtime::ExitWith(flags, "cannot restore from the topics", s);
    }
    if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the customers consumer", s);
    }
    if (absl::Status s = rt.RebuildViews(
            {[&rt, &directory] { return bookings::projection::Rebuild(rt.store(), directory); },
             [&rt] {
               return bookings::projection::RestoreSchedules(rt.store(), rt.clock().Now());
             }});
        !s.ok()) {
      return runtime::ExitWith(flags, "cannot rebuild the views", s);
    }

    kafka::ConsumerOptions contracts_options{.name = "bookings.contracts",
                                             .topics = {kafka::TopicFor("contracts")},
                                             .rebuild = flags.rebuild_projections,
                                             .reset = [](eventstore::Store& store) {
                                               return bookings::projection::ResetContracts(store);
                                             }};
    auto contracts = std::make_unique<kafka::EventConsumer>(rt.store(), rt.kafka(),
                                                            contracts_options);
    bookings::projection::SubscribeToContracts(rt.store(), *contracts);
    if (absl::Status s = rt.AddConsumer("bookings.contracts", std::move(contracts)); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the contracts consumer", s);
    }

    bookings::rpc::ResourcesServiceImpl resources_service(app);
    bookings::rpc::BookingsServiceImpl bookings_service(app);
    bookings::rpc::CreditServiceImpl credit_service(app);
    return rt.Serve(app.authenticator(), {&resources_service, &bookings_service, &credit_service});
  });
}
