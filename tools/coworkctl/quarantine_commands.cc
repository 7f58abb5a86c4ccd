#include "tools/coworkctl/quarantine_commands.h"

#include <memory>
#include <string>

#include "cowork/common/v1/quarantine.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::common::v1;

constexpr char kPackage[] = "cowork.common.v1";
const std::string kQuarantine = "cowork.common.v1.QuarantineService/";

const OutputSpec kEventList{"events",
                            {"consumer", "id", "aggregate_type", "aggregate_id", "sequence", "type",
                             "waiting_behind", "reason", "quarantined_at"}};

// --service (required): where the call goes.
Prepare ServiceOption(CLI::App& cmd, Context& ctx) {
  auto service = std::make_shared<std::string>();
  cmd.add_option("--service", *service,
                 "The service whose quarantine: customers, contracts, bookings, checkins, "
                 "helpdesk or billing")
      ->required();
  return [&ctx, service] { return ctx.RouteToService(kPackage, *service); };
}

// --service, --consumer and the event's id, for the commands on one event.
template <typename Request>
Prepare OneEvent(CLI::App& cmd, Context& ctx, Request& r) {
  cmd.add_option("--consumer", *r.mutable_consumer(),
                 "The consumer (as `quarantine list` shows it)")
      ->required();
  RequiredId(cmd, "id", r.mutable_id(), "The event's id (<topic>/<partition>/<offset>)");
  return ServiceOption(cmd, ctx);
}

}  // namespace

void AddQuarantineCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand(
      "quarantine", "Events a service's consumers set aside (platform.quarantine)");
  group->require_subcommand(1);

  AddListCall<v1::ListQuarantinedRequest, v1::ListQuarantinedResponse>(
      *group, ctx, "list", "The quarantined events, oldest first per consumer",
      kQuarantine + "ListQuarantined",
      [&ctx](CLI::App& cmd, v1::ListQuarantinedRequest& r) -> Prepare {
        cmd.add_option("--consumer", *r.mutable_consumer(), "Only this consumer's");
        return ServiceOption(cmd, ctx);
      },
      kEventList);

  AddCall<v1::GetQuarantinedRequest, v1::QuarantinedEvent>(
      *group, ctx, "show", "One quarantined event, with its raw bytes and why",
      kQuarantine + "GetQuarantined",
      [&ctx](CLI::App& cmd, v1::GetQuarantinedRequest& r) { return OneEvent(cmd, ctx, r); });

  AddCall<v1::RetryQuarantinedRequest, v1::ReleaseResult>(
      *group, ctx, "retry",
      "Apply the event again (after a fix), then those of its aggregate waiting behind it",
      kQuarantine + "RetryQuarantined",
      [&ctx](CLI::App& cmd, v1::RetryQuarantinedRequest& r) { return OneEvent(cmd, ctx, r); });

  AddCall<v1::DiscardQuarantinedRequest, v1::ReleaseResult>(
      *group, ctx, "discard",
      "Give the event up for good (recorded with --note), then apply those waiting behind it",
      kQuarantine + "DiscardQuarantined", [&ctx](CLI::App& cmd, v1::DiscardQuarantinedRequest& r) {
        cmd.add_option("--note", *r.mutable_note(), "Why it is given up (recorded)")->required();
        return OneEvent(cmd, ctx, r);
      });
}

}  // namespace cowork::ctl
