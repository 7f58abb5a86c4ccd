// cowork-helpdesk: the helpdesk service (tickets, replies, internal notes). Wiring only:
// flags, the runtime, the directory fed by the customers events, the service.

#include <memory>

#include "libs/directory/directory.h"
#include "libs/server/flags.h"
#include "libs/runtime/runtime.h"
#include "services/helpdesk/app/app.h"
#include "services/helpdesk/grpc/services.h"
#include "services/helpdesk/projection/projection.h"

int main(int argc, char** argv) {
  using namespace cowork;
  return runtime::RunService(
      argc, argv, "cowork-helpdesk: tickets between customers and staff",
      {.service = "helpdesk", .port = 50055, .metrics_port = 9105, .keeps_keys = true},
      [](runtime::Runtime& rt) {
        const server::ServiceFlags& flags = rt.flags();
        directory::Directory directory(rt.store());
        auth::TokenVerifier verifier(rt.keys().verifier);
        helpdesk::app::App app(rt.store(), directory, rt.clock(), verifier);
        if (absl::Status s = rt.Restore(helpdesk::projection::AggregateFolds()); !s.ok()) {
          return runtime::ExitWith(flags, "cannot restore from the topics", s);
        }
        if (absl::Status s = rt.FollowCustomers(directory); !s.ok()) {
          return runtime::ExitWith(flags, "cannot start the customers consumer", s);
        }
        if (absl::Status s =
                rt.RebuildViews({[&rt] { return helpdesk::projection::Rebuild(rt.store()); }});
            !s.ok()) {
          return runtime::ExitWith(flags, "cannot rebuild the views", s);
        }

        helpdesk::rpc::HelpdeskServiceImpl helpdesk_service(app);
        return rt.Serve(app.authenticator(), {&helpdesk_service});
      });
}
