#ifndef COWORK_TOOLS_BILLINGGEN_FLAGS_H_
#define COWORK_TOOLS_BILLINGGEN_FLAGS_H_

// The generator's options as command-line flags (CLI11), shared by cowork-billing-gen and
// cowork-billing-bench so both make the same events from the same flags.

#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "tools/billinggen/generator.h"

namespace cowork::billinggen {

inline void AddGeneratorFlags(CLI::App& app, GeneratorOptions& o) {
  app.add_option("--seed", o.seed, "Seed of every random choice")->capture_default_str();
  app.add_option("--operator", o.operator_id, "Operator id")->capture_default_str();
  app.add_option("--locations", o.locations, "Locations, each in its own time zone")
      ->check(CLI::Range(1, kMaxLocations))
      ->capture_default_str();
  app.add_option("--customers", o.customers, "Customers in the network")->capture_default_str();
  app.add_option_function<std::string>(
      "--start",
      [&o](const std::string& text) {
        if (!absl::ParseCivilTime(text, &o.start)) {
          throw CLI::ValidationError("--start", "must be a date, YYYY-MM-DD");
        }
      },
      "First day (YYYY-MM-DD), default 2025-01-01");
  app.add_option("--months", o.months, "Months of activity")->capture_default_str();
  app.add_option("--skew", o.skew,
                 "Location r (1 = largest) has customers in proportion to 1/r^skew")
      ->capture_default_str();
  app.add_option("--early-share", o.early_share, "Share of customers joining in the first month")
      ->capture_default_str();
  app.add_option("--member-share", o.member_share, "Share of customers on a monthly plan")
      ->capture_default_str();
  app.add_option("--churn", o.churn, "Share of members whose contract ends in the period")
      ->capture_default_str();
  app.add_option("--bookings-per-month", o.bookings_per_month,
                 "Bookings per customer and month, on average")
      ->capture_default_str();
  app.add_option("--members-charged", o.members_charged,
                 "Share of members' bookings not covered by their plan's credit")
      ->capture_default_str();
  app.add_option("--network-bookings", o.network_bookings,
                 "Share of bookings made at another location than the customer's home")
      ->capture_default_str();
  app.add_option("--cancelled-bookings", o.cancelled_bookings, "Share of bookings cancelled later")
      ->capture_default_str();
  app.add_option("--recurring-share", o.recurring_share,
                 "Share of members who buy a recurring product")
      ->capture_default_str();
  app.add_option("--team-share", o.team_share, "Share of members who pay for a team")
      ->capture_default_str();
}

}  // namespace cowork::billinggen

#endif  // COWORK_TOOLS_BILLINGGEN_FLAGS_H_
