// cowork-billing: the billing service (active users per location per month, the platform
// subscription). Wiring only: flags, the runtime, the directory fed by the customers events,
// the activity consumer of the customers, contracts and bookings topics, the clock's work
// (closing months, expired cards), the services.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "libs/directory/directory.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/runtime.h"
#include "libs/runtime/scheduler.h"
#include "libs/server/flags.h"
#include "services/billing/app/app.h"
#include "services/billing/app/subscription.h"
#include "services/billing/grpc/services.h"
#include "services/billing/projection/account.h"

namespace {

// --price-table: the file's table, or the built-in one without a file.
absl::StatusOr<cowork::billing::domain::PriceTable> PriceTableFrom(const std::string& path) {
  if (path.empty()) return cowork::billing::domain::DefaultPriceTable();
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  std::stringstream json;
  json << in.rdbuf();
  return cowork::billing::domain::ParsePriceTable(json.str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cowork;
  std::string price_table_path;
  int close_delay_minutes = 15;
  return runtime::RunService(
      argc, argv, "cowork-billing: active users per location per month, the subscription",
      {.service = "billing",
       .port = 50056,
       .metrics_port = 9106,
       .more_flags =
           [&](CLI::App& app) {
             app.add_option("--price-table", price_table_path,
                            "JSON price table (base fee, bands, add-ons per currency); empty: "
                            "the built-in one")
                 ->envname("COWORK_PRICE_TABLE");
             app.add_option("--close-delay-minutes", close_delay_minutes,
                            "Minutes after a month's end (location time) before it closes")
                 ->envname("COWORK_CLOSE_DELAY_MINUTES")
                 ->check(CLI::Range(0, 7 * 24 * 60))
                 ->capture_default_str();
           }},
      [&](runtime::Runtime& rt) {
    const server::ServiceFlags& flags = rt.flags();
    absl::StatusOr<billing::domain::PriceTable> prices = PriceTableFrom(price_table_path);
    if (!prices.ok()) return runtime::ExitWith(flags, "--price-table", prices.status());
    directory::Directory directory(rt.store());
    auth::TokenVerifier verifier(rt.keys().verifier);
    billing::app::App app(rt.store(), directory, rt.clock(), verifier);
    // Set once the activity consumer exists; until then no month closes.
    const kafka::EventConsumer* activity_consumer = nullptr;
    billing::app::Subscription subscription(
        rt.store(), directory, rt.clock(), app,
        {.prices = *std::move(prices),
         .close_delay = absl::Minutes(close_delay_minutes),
         .caught_up = [&activity_consumer] {
           if (activity_consumer == nullptr) return false;
           absl::StatusOr<bool> caught_up = activity_consumer->CaughtUp(absl::Seconds(5));
           return caught_up.ok() && *caught_up;
         }});
    if (absl::Status s = rt.Restore(billing::projection::AggregateFolds()); !s.ok()) {
      return runtime::ExitWith(flags, "cannot restore from the topics", s);
    }
    if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the customers consumer", s);
    }
    if (absl::Status s = rt.RebuildViews({[&subscription] { return subscription.Rebuild(); }});
        !s.ok()) {
      return runtime::ExitWith(flags, "cannot rebuild the views", s);
    }
    kafka::ConsumerOptions activity_options{
        .name = "billing.activity",
        .topics = {kafka::TopicFor("customers"), kafka::TopicFor("contracts"),
                   kafka::TopicFor("bookings")},
        .write_only = true,  // App's handlers only write
        .rebuild = flags.rebuild_projections,
        .reset = [&app](eventstore::Store&) { return app.activity().Reset(); }};
    auto activity = std::make_unique<kafka::EventConsumer>(rt.store(), rt.kafka(), activity_options);
    app.activity().Subscribe(*activity);
    activity_consumer = activity.get();
    if (absl::Status s = rt.AddConsumer("billing.activity", std::move(activity)); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the activity consumer", s);
    }
    runtime::Scheduler scheduler(
        "billing", [&subscription] { return subscription.RunDue(); }, absl::Seconds(1),
        &rt.metrics());

    billing::rpc::ActiveUsersServiceImpl active_users_service(app);
    billing::rpc::SubscriptionServiceImpl subscription_service(subscription);
    return rt.Serve(app.authenticator(), {&active_users_service, &subscription_service});
  });
}
