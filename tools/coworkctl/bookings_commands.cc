#include "tools/coworkctl/bookings_commands.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cowork/bookings/v1/bookings.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::bookings::v1;

const std::string kResources = "cowork.bookings.v1.ResourcesService/";
const std::string kBookings = "cowork.bookings.v1.BookingsService/";
const std::string kCredit = "cowork.bookings.v1.CreditService/";

const OutputSpec kResourceList{"resources",
                               {"resource_id", "location_id", "name", "kind", "capacity",
                                "hourly_price.amount_minor", "hourly_price.currency",
                                "portal_bookable"}};
const OutputSpec kBookingList{"bookings",
                              {"booking_id", "resource_id", "customer_id", "start_time",
                               "end_time", "state", "credit_minutes", "charge.amount_minor"}};

// The flags of a resource's settings (create and update replace them all).
Prepare SpecFlags(CLI::App& cmd, v1::ResourceSpec& spec) {
  cmd.add_option("--name", *spec.mutable_name(), "Resource's name")->required();
  auto kind = AddEnumOption(cmd, "--kind", v1::ResourceKind_descriptor(),
                            "meeting-room, hot-desk, dedicated-desk, office or equipment");
  cmd.get_option("--kind")->required();
  cmd.add_option_function<int32_t>(
      "--capacity", [&spec](const int32_t& v) { spec.set_capacity(v); },
      "Bookings it holds at once (default 1)");
  cmd.add_option_function<int64_t>(
      "--hourly-price-minor", [&spec](const int64_t& v) { spec.set_hourly_price_minor(v); },
      "Price per hour in minor units of the location's currency (0 = free)");
  cmd.add_flag_function(
      "--portal", [&spec](std::int64_t n) { spec.set_portal_bookable(n > 0); },
      "Customers may book it from the portal");
  cmd.add_option_function<int32_t>(
      "--min-minutes", [&spec](const int32_t& v) { spec.set_min_minutes(v); },
      "Shortest booking (multiple of 15, default 15)");
  cmd.add_option_function<int32_t>(
      "--max-minutes", [&spec](const int32_t& v) { spec.set_max_minutes(v); },
      "Longest booking (multiple of 15, default 480)");
  return [kind, &spec] {
    spec.set_kind(static_cast<v1::ResourceKind>(kind()));
    if (spec.capacity() == 0) spec.set_capacity(1);
    return absl::OkStatus();
  };
}

// Exactly one of the flags named (each bound to its field).
Prepare ExactlyOne(CLI::App& cmd, const std::vector<std::pair<std::string, std::string*>>& flags,
                   const std::string& what) {
  std::vector<CLI::Option*> options;
  for (const auto& [flag, field] : flags) {
    options.push_back(cmd.add_option(flag, *field, what + " (one of them)"));
  }
  return [options, flags] {
    int given = 0;
    for (CLI::Option* o : options) given += o->count() > 0;
    if (given == 1) return absl::OkStatus();
    std::string names;
    for (const auto& [flag, field] : flags) names += (names.empty() ? "" : ", ") + flag;
    return absl::InvalidArgumentError("give exactly one of " + names);
  };
}

void AddResources(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("resources", "Rooms, desks, offices and equipment");
  group->require_subcommand(1);

  AddCall<v1::CreateResourceRequest, v1::Resource>(
      *group, ctx, "create", "Create a resource at a location", kResources + "CreateResource",
      [](CLI::App& cmd, v1::CreateResourceRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return SpecFlags(cmd, *r.mutable_spec());
      });

  AddCall<v1::UpdateResourceRequest, v1::Resource>(
      *group, ctx, "update", "Replace a resource's settings (future bookings)",
      kResources + "UpdateResource", [](CLI::App& cmd, v1::UpdateResourceRequest& r) -> Prepare {
        RequiredId(cmd, "resource_id", r.mutable_resource_id(), "Resource id");
        return SpecFlags(cmd, *r.mutable_spec());
      });

  AddCall<v1::GetResourceRequest, v1::Resource>(
      *group, ctx, "get", "Show a resource", kResources + "GetResource",
      [](CLI::App& cmd, v1::GetResourceRequest& r) -> Prepare {
        RequiredId(cmd, "resource_id", r.mutable_resource_id(), "Resource id");
        return nullptr;
      });

  AddListCall<v1::ListResourcesRequest, v1::ListResourcesResponse>(
      *group, ctx, "list", "List a location's resources", kResources + "ListResources",
      [](CLI::App& cmd, v1::ListResourcesRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      },
      kResourceList);
}

void AddBookings(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("bookings", "Bookings of resources");
  group->require_subcommand(1);

  AddCall<v1::CreateBookingRequest, v1::Booking>(
      *group, ctx, "create", "Book a resource for a customer", kBookings + "CreateBooking",
      [](CLI::App& cmd, v1::CreateBookingRequest& r) -> Prepare {
        cmd.add_option("--resource", *r.mutable_resource_id(), "Resource id")->required();
        cmd.add_option("--customer", *r.mutable_customer_id(),
                       "Customer id (a customer's own token: themself)");
        InstantOption(cmd, "--start", [&r] { return r.mutable_start_time(); },
                      "Start, on a quarter hour (RFC 3339)", /*required=*/true);
        InstantOption(cmd, "--end", [&r] { return r.mutable_end_time(); },
                      "End, on a quarter hour (RFC 3339)", /*required=*/true);
        return nullptr;
      });

  AddCall<v1::GetBookingRequest, v1::Booking>(
      *group, ctx, "get", "Show a booking", kBookings + "GetBooking",
      [](CLI::App& cmd, v1::GetBookingRequest& r) -> Prepare {
        RequiredId(cmd, "booking_id", r.mutable_booking_id(), "Booking id");
        return nullptr;
      });

  AddListCall<v1::ListBookingsRequest, v1::ListBookingsResponse>(
      *group, ctx, "list", "List the bookings of a resource, a customer or a location",
      kBookings + "ListBookings",
      [](CLI::App& cmd, v1::ListBookingsRequest& r) -> Prepare {
        DateOption(cmd, "--day", [&r] { return r.mutable_day(); },
                   "Only bookings on this day (location time)");
        return ExactlyOne(cmd,
                          {{"--resource", r.mutable_resource_id()},
                           {"--customer", r.mutable_customer_id()},
                           {"--location", r.mutable_location_id()}},
                          "Whose bookings");
      },
      kBookingList);

  AddCall<v1::CancelBookingRequest, v1::Booking>(
      *group, ctx, "cancel", "Cancel a booking (credit returned, charge voided)",
      kBookings + "CancelBooking", [](CLI::App& cmd, v1::CancelBookingRequest& r) -> Prepare {
        RequiredId(cmd, "booking_id", r.mutable_booking_id(), "Booking id");
        return nullptr;
      });

  AddCall<v1::MoveBookingRequest, v1::Booking>(
      *group, ctx, "move", "Move a booking to another start (same length)",
      kBookings + "MoveBooking", [](CLI::App& cmd, v1::MoveBookingRequest& r) -> Prepare {
        RequiredId(cmd, "booking_id", r.mutable_booking_id(), "Booking id");
        InstantOption(cmd, "--start", [&r] { return r.mutable_start_time(); },
                      "New start (RFC 3339)", /*required=*/true);
        return nullptr;
      });

  AddCall<v1::GetAvailabilityRequest, v1::GetAvailabilityResponse>(
      *group, ctx, "availability", "Who holds a resource (or a location's) between two instants",
      kBookings + "GetAvailability",
      [](CLI::App& cmd, v1::GetAvailabilityRequest& r) -> Prepare {
        InstantOption(cmd, "--from", [&r] { return r.mutable_from(); }, "From (RFC 3339)",
                      /*required=*/true);
        InstantOption(cmd, "--to", [&r] { return r.mutable_to(); },
                      "To (RFC 3339), at most 31 days later", /*required=*/true);
        return ExactlyOne(cmd,
                          {{"--resource", r.mutable_resource_id()},
                           {"--location", r.mutable_location_id()}},
                          "Which resources");
      });
}

void AddCredit(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("credit", "Booking credit");
  group->require_subcommand(1);

  AddCall<v1::GrantCreditRequest, v1::CreditBalance>(
      *group, ctx, "grant", "Give a customer free booking credit at a location",
      kCredit + "GrantCredit", [](CLI::App& cmd, v1::GrantCreditRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option_function<int64_t>(
               "--minutes", [&r](const int64_t& v) { r.set_minutes(v); }, "Minutes granted")
            ->required();
        cmd.add_option("--reason", *r.mutable_reason(), "Why (shown with the grant)");
        return nullptr;
      });

  AddCall<v1::GetCreditRequest, v1::CreditBalance>(
      *group, ctx, "get", "What a customer may book with at a location", kCredit + "GetCredit",
      [](CLI::App& cmd, v1::GetCreditRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        DateOption(cmd, "--day", [&r] { return r.mutable_day(); }, "On this day (default today)");
        return nullptr;
      });
}

}  // namespace

void AddBookingsCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "bookings", "cowork.bookings.v1", "127.0.0.1:50053");
  AddResources(app, ctx);
  AddBookings(app, ctx);
  AddCredit(app, ctx);
}

}  // namespace cowork::ctl
