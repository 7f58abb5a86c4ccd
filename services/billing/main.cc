// cowork-billing: the billing service (active users per location per month). Wiring only:
// flags, the runtime, the directory fed by the customers events, the activity consumer of the
// customers, contracts and bookings topics, the service.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/kafka/kafka.h"
#include "libs/server/server.h"
#include "libs/service/runtime.h"
#include "services/billing/api/app.h"
#include "services/billing/api/services.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return service::RunService(
      argc, argv, "cowork-billing: active users per location per month",
      {.service = "billing", .port = 50056, .metrics_port = 9106}, [](service::Runtime& rt) {
    const server::ServiceFlags& flags = rt.flags();
    directory::Directory directory(rt.store());
    auth::TokenVerifier verifier(rt.secrets());
    billing::api::App app(rt.store(), directory, rt.clock(), verifier);
    if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
      return service::ExitWith(flags, "cannot start the customers consumer", s);
    }
    kafka::ConsumerOptions activity_options{
        .name = "billing.activity",
        .topics = {kafka::TopicFor("customers"), kafka::TopicFor("contracts"),
                   kafka::TopicFor("bookings")},
        .rebuild = flags.rebuild_projections,
        .reset = [&app](eventstore::Store&) { return app.Reset(); }};
    auto activity = std::make_unique<kafka::EventConsumer>(rt.store(), rt.kafka(), activity_options);
    app.Subscribe(*activity);
    if (absl::Status s = rt.AddConsumer("billing.activity", std::move(activity)); !s.ok()) {
      return service::ExitWith(flags, "cannot start the activity consumer", s);
    }

    billing::api::ActiveUsersServiceImpl active_users_service(app);
    return rt.Serve(app.authenticator(), {&active_users_service});
  });
}
