// cowork-checkins: the checkins service (check-ins, who is in, automatic check-outs,
// visitors). Wiring only: flags, the runtime, the directory fed by the customers events, the
// scheduler, the services.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "libs/runtime/scheduler.h"
#include "services/checkins/app/app.h"
#include "services/checkins/app/visitors.h"
#include "services/checkins/grpc/services.h"
#include "services/checkins/projection/projection.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return runtime::RunService(
      argc, argv, "cowork-checkins: check-ins and who is in",
      {.service = "checkins", .port = 50054, .metrics_port = 9104, .keeps_keys = true},
      [](runtime::Runtime& rt) {
        const server::ServiceFlags& flags = rt.flags();
        directory::Directory directory(rt.store());
        auth::TokenVerifier verifier(rt.keys().verifier);
        checkins::app::App app(rt.store(), directory, rt.clock(), verifier);
        checkins::app::VisitorsApp visitors(rt.store(), directory, rt.clock(), verifier);
        if (absl::Status s = rt.Restore(checkins::projection::AggregateFolds()); !s.ok()) {
          return runtime::ExitWith(flags, "cannot restore from the topics", s);
        }
        if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
          return runtime::ExitWith(flags, "cannot start the customers consumer", s);
        }
        if (absl::Status s = rt.RebuildViews(
                {[&rt, &directory] {
                   return checkins::projection::RebuildCheckins(rt.store(), directory);
                 },
                 [&rt, &directory] {
                   return checkins::projection::RebuildVisitors(rt.store(), directory);
                 }});
            !s.ok()) {
          return runtime::ExitWith(flags, "cannot rebuild the views", s);
        }

        runtime::Scheduler scheduler(
            "check-ins", [&app] { return app.RunDue(); }, absl::Seconds(1), &rt.metrics());
        checkins::rpc::CheckinsServiceImpl checkins_service(app);
        checkins::rpc::VisitorsServiceImpl visitors_service(visitors);
        return rt.Serve(app.authenticator(), {&checkins_service, &visitors_service});
      });
}
