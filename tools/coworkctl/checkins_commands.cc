#include "tools/coworkctl/checkins_commands.h"

#include <string>

#include "absl/status/status.h"
#include "cowork/checkins/v1/checkins.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::checkins::v1;

const std::string kCheckins = "cowork.checkins.v1.CheckinsService/";

const OutputSpec kCheckInList{"checkins",
                              {"checkin_id", "customer_id", "location_id", "method", "in_time",
                               "out_time", "out_reason", "refused"}};

}  // namespace

void AddCheckinsCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "checkins", "cowork.checkins.v1", "127.0.0.1:50054");
  CLI::App* group = app.add_subcommand("checkins", "Check-ins and who is in");
  group->require_subcommand(1);

  AddCall<v1::CheckInRequest, v1::CheckInRecord>(
      *group, ctx, "in", "Check a customer in at a location", kCheckins + "CheckIn",
      [](CLI::App& cmd, v1::CheckInRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(),
                       "Customer id (a customer's own token: themself)");
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        auto method = AddEnumOption(cmd, "--method", v1::CheckInMethod_descriptor(),
                                    "qr-code, access-card, app or manual (default manual)",
                                    v1::MANUAL);
        return [method, &r] {
          r.set_method(static_cast<v1::CheckInMethod>(method()));
          return absl::OkStatus();
        };
      });

  AddCall<v1::CheckOutRequest, v1::CheckInRecord>(
      *group, ctx, "out", "Check a customer out", kCheckins + "CheckOut",
      [](CLI::App& cmd, v1::CheckOutRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(),
                       "Customer id (a customer's own token: themself)");
        return nullptr;
      });

  AddCall<v1::GetPresenceRequest, v1::Presence>(
      *group, ctx, "where", "Where a customer is now", kCheckins + "GetPresence",
      [](CLI::App& cmd, v1::GetPresenceRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddListCall<v1::ListPresentRequest, v1::ListPresentResponse>(
      *group, ctx, "present", "Who is in a location now", kCheckins + "ListPresent",
      [](CLI::App& cmd, v1::ListPresentRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      },
      kCheckInList);

  AddListCall<v1::ListCheckinsRequest, v1::ListCheckinsResponse>(
      *group, ctx, "list", "Check-ins of a location on a day, or of a customer",
      kCheckins + "ListCheckins",
      [](CLI::App& cmd, v1::ListCheckinsRequest& r) -> Prepare {
        CLI::Option* customer =
            cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id");
        CLI::Option* location =
            cmd.add_option("--location", *r.mutable_location_id(), "Location id (with --day)");
        DateOption(cmd, "--day", [&r] { return r.mutable_day(); }, "Day of arrival");
        customer->excludes(location);
        return [customer, location, &r] {
          if (customer->count() == 0 && (location->count() == 0 || !r.has_day())) {
            return absl::InvalidArgumentError("give --customer, or --location and --day");
          }
          return absl::OkStatus();
        };
      },
      kCheckInList);

  AddCall<v1::SetCheckoutPolicyRequest, v1::CheckoutPolicy>(
      *group, ctx, "set-policy", "When people still in are checked out automatically",
      kCheckins + "SetCheckoutPolicy", [](CLI::App& cmd, v1::SetCheckoutPolicyRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--closing-time", *r.mutable_closing_time(),
                       "Local HH:MM (empty: none)");
        cmd.add_option_function<int32_t>(
            "--max-hours", [&r](const int32_t& v) { r.set_max_hours(v); },
            "Hours after arrival (0: no limit)");
        return nullptr;
      });

  AddCall<v1::GetCheckoutPolicyRequest, v1::CheckoutPolicy>(
      *group, ctx, "get-policy", "A location's automatic check-out", kCheckins + "GetCheckoutPolicy",
      [](CLI::App& cmd, v1::GetCheckoutPolicyRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      });
}

}  // namespace cowork::ctl
