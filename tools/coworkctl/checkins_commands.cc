#include "tools/coworkctl/checkins_commands.h"

#include <string>

#include "absl/status/status.h"
#include "cowork/checkins/v1/checkins.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::checkins::v1;

const std::string kCheckins = "cowork.checkins.v1.CheckinsService/";

const std::string kVisitors = "cowork.checkins.v1.VisitorsService/";

const OutputSpec kVisitorList{"visitors",
                              {"visitor_id", "name", "host_customer_id", "location_id",
                               "expected_arrival", "arrival_time", "departure_time", "status"}};

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

  CLI::App* visitors = app.add_subcommand("visitors", "Visitors: pre-registration and the log");
  visitors->require_subcommand(1);

  AddCall<v1::RegisterVisitorRequest, v1::Visitor>(
      *visitors, ctx, "register", "Pre-register a visitor for a host customer",
      kVisitors + "RegisterVisitor", [](CLI::App& cmd, v1::RegisterVisitorRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--host", *r.mutable_host_customer_id(),
                       "Host customer id (a customer's own token: themself)");
        cmd.add_option("--name", *r.mutable_name(), "Visitor's full name")->required();
        cmd.add_option("--email", *r.mutable_email(), "Visitor's email")->required();
        InstantOption(cmd, "--expected", [&r] { return r.mutable_expected_arrival(); },
                      "Expected arrival (RFC 3339)", true);
        return nullptr;
      });

  AddCall<v1::GetVisitorRequest, v1::Visitor>(
      *visitors, ctx, "get", "One visitor", kVisitors + "GetVisitor",
      [](CLI::App& cmd, v1::GetVisitorRequest& r) -> Prepare {
        RequiredId(cmd, "visitor_id", r.mutable_visitor_id(), "Visitor id");
        return nullptr;
      });

  AddListCall<v1::ListVisitorsRequest, v1::ListVisitorsResponse>(
      *visitors, ctx, "list", "The visitor log of a location on a day, or a host's visitors",
      kVisitors + "ListVisitors",
      [](CLI::App& cmd, v1::ListVisitorsRequest& r) -> Prepare {
        CLI::Option* host = cmd.add_option("--host", *r.mutable_host_customer_id(), "Host id");
        CLI::Option* location =
            cmd.add_option("--location", *r.mutable_location_id(), "Location id (with --day)");
        DateOption(cmd, "--day", [&r] { return r.mutable_day(); }, "Local day");
        host->excludes(location);
        return [host, location, &r] {
          if (host->count() == 0 && (location->count() == 0 || !r.has_day())) {
            return absl::InvalidArgumentError("give --host, or --location and --day");
          }
          return absl::OkStatus();
        };
      },
      kVisitorList);

  AddCall<v1::RecordVisitorArrivalRequest, v1::Visitor>(
      *visitors, ctx, "arrive", "Log a visitor's arrival (notifies the host)",
      kVisitors + "RecordVisitorArrival",
      [](CLI::App& cmd, v1::RecordVisitorArrivalRequest& r) -> Prepare {
        RequiredId(cmd, "visitor_id", r.mutable_visitor_id(), "Visitor id");
        return nullptr;
      });

  AddCall<v1::RecordVisitorDepartureRequest, v1::Visitor>(
      *visitors, ctx, "leave", "Log a visitor's departure", kVisitors + "RecordVisitorDeparture",
      [](CLI::App& cmd, v1::RecordVisitorDepartureRequest& r) -> Prepare {
        RequiredId(cmd, "visitor_id", r.mutable_visitor_id(), "Visitor id");
        return nullptr;
      });

  AddCall<v1::CancelVisitorRequest, v1::Visitor>(
      *visitors, ctx, "cancel", "Cancel a visit before arrival", kVisitors + "CancelVisitor",
      [](CLI::App& cmd, v1::CancelVisitorRequest& r) -> Prepare {
        RequiredId(cmd, "visitor_id", r.mutable_visitor_id(), "Visitor id");
        return nullptr;
      });

  AddCall<v1::EraseVisitorRequest, v1::Visitor>(
      *visitors, ctx, "erase", "Erase a visitor's name and email for good",
      kVisitors + "EraseVisitor", [](CLI::App& cmd, v1::EraseVisitorRequest& r) -> Prepare {
        RequiredId(cmd, "visitor_id", r.mutable_visitor_id(), "Visitor id");
        return nullptr;
      });
}

}  // namespace cowork::ctl
