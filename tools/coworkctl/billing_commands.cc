#include "tools/coworkctl/billing_commands.h"

#include <string>

#include "cowork/billing/v1/billing.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::billing::v1;

const std::string kActiveUsers = "cowork.billing.v1.ActiveUsersService/";

}  // namespace

void AddBillingCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "billing", "cowork.billing.v1", "127.0.0.1:50056");
  CLI::App* group =
      app.add_subcommand("active-users", "Active users per location per month, and why");
  group->require_subcommand(1);

  AddCall<v1::GetActiveUsersRequest, v1::ActiveUsers>(
      *group, ctx, "get", "The active users of a location in a month, with their criteria",
      kActiveUsers + "GetActiveUsers", [](CLI::App& cmd, v1::GetActiveUsersRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--month", *r.mutable_month(), "YYYY-MM")->required();
        return nullptr;
      });

  AddCall<v1::ListActiveUserCountsRequest, v1::ListActiveUserCountsResponse>(
      *group, ctx, "counts", "Counts per month of a location, or of every location",
      kActiveUsers + "ListActiveUserCounts",
      [](CLI::App& cmd, v1::ListActiveUserCountsRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id (default: all)");
        cmd.add_option("--from", *r.mutable_from_month(), "First month, YYYY-MM")->required();
        cmd.add_option("--to", *r.mutable_to_month(), "Last month, YYYY-MM")->required();
        return nullptr;
      });
}

}  // namespace cowork::ctl
