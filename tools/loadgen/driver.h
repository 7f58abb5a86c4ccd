#ifndef COWORK_TOOLS_LOADGEN_DRIVER_H_
#define COWORK_TOOLS_LOADGEN_DRIVER_H_

// The load driver: N concurrent clients calling one service's command on gRPC's callback API,
// spread over several channels (each its own TCP connection), on loopback: AddCustomer /
// UpdateCustomer / GetCustomer on the customers service, or CreateContract / Buy on the
// contracts service (Mode says which).
//
// Two ways to pace:
//  - closed loop (rate 0): each client sends its next call as soon as the previous one
//    answers: the most the service can do at N clients. Latency = answer - send.
//  - open loop (rate R): a pacer schedules calls at R per second in total and hands each to a
//    free client (at most N in flight). Latency = answer - scheduled time, so time spent
//    waiting for a free client counts (no coordinated omission). When the service falls
//    behind, calls still due at the end are not sent; DriverResult::unsent counts them.
// Only calls answered inside the measurement window [start + warmup, + duration) are counted.
//
// Thread-safety: Run blocks the calling thread; callbacks run on gRPC's threads, each client
// touched by one call at a time.
//
//   DriverOptions o{.target = "127.0.0.1:50051", .token = token, .location_id = loc};
//   DriverResult r = RunLoad(o, nullptr);

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/loadgen/stats.h"

namespace cowork::loadgen {

// kGet reads customers of the update pool: the cost of an authorized call that writes nothing,
// the floor under every command. kClock asks the customers service's TestClockService for the
// time: a call through the server kit (gRPC, the interceptor, the token check, the worker
// pool) that reads nothing at all, the floor under every call. On the contracts service, kContract signs pool customers up
// to `plan_id` (CreateContract) and kPurchase buys one `product_id` for them (Buy), taking the
// customers round robin.
//
// On the bookings service, kBook books `resource_ids` without ever colliding: booking k takes
// resource k % R on day (k / R) / bookings_per_day from `book_from`, in the next free two-hour
// step, for an hour; kBookHot makes every client fight for `hot_slots` one-hour slots of one
// day on `resource_ids`, moving to the next day every 4 x rooms x slots calls (so three calls
// in four lose with FAILED_PRECONDITION, counted as failed); kAvailability
// asks GetAvailability of `location_id` for a random day of the `availability_days` from
// `book_from`.
//
// On the checkins service, kCheckIn checks pool customers in round robin: call k checks
// customer k % P in at location (k % P + k / P) % L of `location_ids` (the first round
// arrives, spread over the locations; every later one moves each customer to the next
// location); kPresent asks ListPresent of the first location (a page of 50 and the count).
enum class Mode {
  kAdd, kUpdate, kMixed, kGet, kClock, kContract, kPurchase, kBook, kBookHot, kAvailability,
  kCheckIn, kPresent
};

struct DriverOptions {
  // gRPC address of the service the mode calls: the customers service (add, update, mixed,
  // get, clock), the contracts service (contract, purchase), the bookings service (book, book-hot,
  // availability) or the checkins service (checkin, present). Required.
  std::string target;
  // Bearer token of an admin of the operator, covering `location_id`. Required.
  std::string token;
  // Home location of the customers added. Required.
  std::string location_id;
  // Calls in flight at most (one per client). Default 64.
  int clients = 64;
  // gRPC channels (TCP connections) the clients are spread over. Default 4.
  int channels = 4;
  Mode mode = Mode::kAdd;
  // Calls per second in total; 0 = closed loop (as fast as answers come). Default 0.
  double rate = 0;
  absl::Duration warmup = absl::Seconds(3);
  absl::Duration duration = absl::Seconds(20);
  // Deadline of each call. Default 10 s.
  absl::Duration call_timeout = absl::Seconds(10);
  // The customer pool every mode but add and clock works on (required for them): update, mixed and get
  // pick from it at random, contract and purchase round robin.
  std::vector<std::string> update_ids;
  // The plan contracts are signed on (contract mode; required for it).
  std::string plan_id;
  // The product bought, one unit per call (purchase mode; required for it).
  std::string product_id;
  // The resources booked (book and book-hot modes; required for them).
  std::vector<std::string> resource_ids;
  // The first instant bookings and availability queries use: a UTC midnight in the future.
  absl::Time book_from;
  int bookings_per_day = 4;
  int hot_slots = 8;
  int availability_days = 365;
  // Book and check-in modes: the number of the first call (a run after a prefill goes on
  // from it).
  uint64_t first_booking = 0;
  // The locations check-ins go to (checkin and present modes; required for them).
  std::vector<std::string> location_ids;
  // Makes emails unique across runs against the same data. Default: a random tag.
  std::string run_tag;
  // Stop once this many calls succeeded (0 = run for warmup + duration). With it, no warmup
  // and no window: every call counts. For preparing the update pool.
  uint64_t stop_after_ok = 0;
  // Keep the ids of the customers added (for the update pool).
  bool collect_ids = false;
};

struct DriverResult {
  uint64_t ok = 0;      // answered OK in the window
  uint64_t failed = 0;  // answered with an error in the window
  std::array<uint64_t, 17> errors_by_code{};  // grpc::StatusCode -> count (in the window)
  std::string first_error;                    // message of the first error seen
  Samples latency;                            // of the calls counted in ok
  absl::Duration window;                      // how long the window actually was
  uint64_t sent = 0;                          // every call sent, warmup included
  // Open loop: calls that fell due before the end but were never sent, because every client
  // was still waiting for an answer (the service could not keep up with the rate).
  uint64_t unsent = 0;
  std::vector<std::string> added_ids;         // with collect_ids
};

// Called once, just before the first call, with the window on the wall clock.
using WindowCallback = std::function<void(absl::Time from, absl::Time to)>;

// INVALID_ARGUMENT for bad options; otherwise the result (errors of calls are in it).
absl::StatusOr<DriverResult> RunLoad(const DriverOptions& options,
                                     const WindowCallback& on_window);

absl::StatusOr<Mode> ParseMode(const std::string& text);
std::string ModeName(Mode mode);

}  // namespace cowork::loadgen

#endif  // COWORK_TOOLS_LOADGEN_DRIVER_H_
