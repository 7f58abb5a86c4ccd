// cowork-checkins: the checkins service (check-ins, who is in, automatic check-outs,
// visitors). Wiring only: flags, the runtime, the directory fed by the customers events, the
// scheduler, the services.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "libs/runtime/scheduler.h"
#include "services/checkins/api/app.h"
#include "services/checkins/api/services.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return runtime::RunService(
      argc, argv, "cowork-checkins: check-ins and who is in",
      {.service = "checkins", .port = 50054, .metrics_port = 9104}, [](runtime::Runtime& rt) {
    const server::ServiceFlags& flags = rt.flags();
    directory::Directory directory(rt.store());
    auth::TokenVerifier verifier(rt.keys().verifier);
    checkins::api::App app(rt.store(), directory, rt.clock(), verifier);
    checkins::api::VisitorsApp visitors(rt.store(), directory, rt.clock(), verifier);
    if (absl::Status s = rt.RebuildViews({[&app] { return app.Rebuild(); },
                                           [&visitors] { return visitors.Rebuild(); }});
        !s.ok()) {
      return runtime::ExitWith(flags, "cannot rebuild the views", s);
    }
    if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
      return runtime::ExitWith(flags, "cannot start the customers consumer", s);
    }

    runtime::Scheduler scheduler("check-ins", [&app] { return app.RunDue(); }, absl::Seconds(1));
    checkins::api::CheckinsServiceImpl checkins_service(app);
    checkins::api::VisitorsServiceImpl visitors_service(visitors);
    return rt.Serve(app.authenticator(), {&checkins_service, &visitors_service});
  });
}
