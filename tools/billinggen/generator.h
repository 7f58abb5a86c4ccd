#ifndef COWORK_TOOLS_BILLINGGEN_GENERATOR_H_
#define COWORK_TOOLS_BILLINGGEN_GENERATOR_H_

// A period of a coworking network's activity as the events the customers, contracts and
// bookings services publish, for the billing benchmark (tools/bench/billing.sh,
// docs/PERFORMANCE.md). One operator with `locations` locations, each in its own time zone and
// of a size that falls with its rank (the first is the largest); `customers` customers joining
// through the period (many in its first month), a share of them members on a monthly plan
// (signed and started when they join, one period closed and one invoice issued every month
// on the day the contract started, some contracts cancelled and ended), the others contacts
// invoiced at once for what they book; bookings made every day (members' paid from their
// plan's credit or charged and invoiced with the next period), some cancelled later;
// recurring products (lockers) renewed with the plan; teams paid for by members.
//
// Every event is a real envelope: the payload types, aggregate types and ids, sequences
// (1, 2, ... per aggregate, in time order), operator and location ids the services use. It
// belongs on the topic of the service that publishes it, cowork.<envelope.service()>.events,
// keyed by its aggregate id. Deterministic: the same options give the same events, event ids
// included.
//
// Not thread-safe; Run may be called more than once (each run starts from the seed again).
//
//   Generator generator({.seed = 7, .customers = 1000});
//   GeneratedSummary summary = generator.Run([&](const common::v1::EventEnvelope& e) {
//     produce(kafka::TopicFor(e.service()), e.aggregate_id(), e.SerializeAsString());
//   });

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "cowork/common/v1/envelope.pb.h"

namespace cowork::billinggen {

struct GeneratorOptions {
  // Seeds every random choice (and the event ids). Default 1.
  uint64_t seed = 1;
  std::string operator_id = "op-bench";
  // Locations, each in a different time zone; at most kMaxLocations. Default 50.
  int locations = 50;
  // Customers over the whole network. Default 200,000.
  int customers = 200000;
  // The first day and the number of months generated. Default 2025-01-01, 12.
  absl::CivilDay start = absl::CivilDay(2025, 1, 1);
  int months = 12;
  // Location sizes: the location of rank r (1 = largest) gets customers in proportion to
  // 1 / r^skew. Default 0.5 (with 50 locations the largest has 8% of the customers).
  double skew = 0.5;
  // Share of the customers who join in the first month; the others join evenly over the
  // period. Default 0.4.
  double early_share = 0.4;
  // Share of the customers who are members (on a monthly plan from the day they join).
  // Default 0.6.
  double member_share = 0.6;
  // Share of the members whose contract ends within the period. Default 0.25.
  double churn = 0.25;
  // Bookings a customer makes per month on average, once joined (fewer at weekends).
  // Default 1.1 (about 10 million events in all with the other defaults).
  double bookings_per_month = 1.1;
  // Share of the members' bookings not covered by their plan's credit (charged). Default 0.3.
  double members_charged = 0.3;
  // Share of the bookings made at another location than the customer's home (charged and
  // invoiced there at once). Default 0.05.
  double network_bookings = 0.05;
  // Share of the bookings cancelled later (they were still made). Default 0.08.
  double cancelled_bookings = 0.08;
  // Share of the members who buy a recurring product (a locker). Default 0.15.
  double recurring_share = 0.15;
  // Share of the members who create and pay for a team of 2 to 6 other customers. Default 0.05.
  double team_share = 0.05;
};

inline constexpr int kMaxLocations = 60;

struct GeneratedSummary {
  uint64_t events = 0;
  std::map<std::string, uint64_t> by_service;  // "customers" -> events
  std::map<std::string, uint64_t> by_type;     // payload type name -> events
  std::vector<std::string> location_ids;       // by rank: the first is the largest
  std::map<std::string, int> customers_at;     // location id -> customers at home there
  absl::CivilMonth first_month;
  absl::CivilMonth last_month;
};

// INVALID_ARGUMENT naming the first option out of range.
absl::Status Validate(const GeneratorOptions& options);

// A few lines for people: events by service and by type, the largest location, the months.
std::string FormatSummary(const GeneratedSummary& summary);

class Generator {
 public:
  explicit Generator(GeneratorOptions options) : options_(std::move(options)) {}

  // Calls `sink` with every event, in an order that keeps each aggregate's sequence (events
  // are grouped by the day they happen on, in time order within it). The options must be
  // valid (Validate).
  GeneratedSummary Run(const std::function<void(const common::v1::EventEnvelope&)>& sink);

 private:
  GeneratorOptions options_;
};

}  // namespace cowork::billinggen

#endif  // COWORK_TOOLS_BILLINGGEN_GENERATOR_H_
