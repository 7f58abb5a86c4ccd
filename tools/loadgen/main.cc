// cowork-loadgen: drives AddCustomer / UpdateCustomer / GetCustomer against the customers
// service, CreateContract / Buy against the contracts service (--mode contract|purchase),
// CreateBooking / GetAvailability against the bookings service (--mode
// book|book-hot|availability), or CheckIn / ListPresent against the checkins service (--mode
// checkin|present); the operator, locations and customers are always made through the
// customers service. With --kafka-brokers it also watches the loaded service's events topic
// for publish rate and commit-to-broker latency. Prints one block of results and a RESULT
// line for scripts (tools/bench/).
//
//   cowork-loadgen --target 127.0.0.1:50051 --dev --clients 64 --duration 20s --label durable
//   cowork-loadgen --dev --mode contract --contracts-target 127.0.0.1:50052

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/server/grpc_status.h"
#include "tools/loadgen/driver.h"
#include "tools/loadgen/event_watch.h"
#include "tools/loadgen/unary.h"

namespace cowork::loadgen {
namespace {

namespace v1 = ::cowork::customers::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace kv1 = ::cowork::checkins::v1;

struct Flags {
  std::string target = "127.0.0.1:50051";
  std::string contracts_target = "127.0.0.1:50052";
  std::string bookings_target = "127.0.0.1:50053";
  std::string checkins_target = "127.0.0.1:50054";
  int locations = 4;
  std::string token;
  bool dev = false;
  std::string operator_id;
  std::string location_id;
  int clients = 64;
  int channels = 4;
  std::string duration = "20s";
  std::string warmup = "3s";
  std::string mode = "add";
  double rate = 0;
  std::string kafka_brokers;
  std::string label;
  int update_pool = 1000;
  std::string call_timeout = "10s";
  int resources = 500;
  int bookings_per_day = 4;
  int hot_slots = 8;
  uint64_t prefill = 0;
};

absl::Duration ParseDurationFlag(const std::string& name, const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    std::cerr << "error: --" << name << ": not a duration: " << text << " (e.g. 20s)\n";
    std::exit(2);
  }
  return d;
}

// With --dev: whatever is missing of operator, location and token is made here, with dev
// tokens signed by the dev keys (the service must run with --dev).
absl::Status PrepareIdentity(Flags& flags) {
  auto channel = grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials());
  auto directory = v1::DirectoryService::NewStub(channel);
  const absl::Time now = RealClock::Get().Now();
  const std::string tag = crypto::NewId("lg");
  if (flags.token.empty()) {
    if (!flags.dev) return absl::InvalidArgumentError("give --token or --dev");
    if (flags.operator_id.empty()) {
      const std::string platform =
          auth::MintPlatformToken(auth::DevPlatformKeys().private_pem, "loadgen@example.com", now);
      v1::CreateOperatorRequest req;
      req.set_request_id(crypto::NewUuid());
      req.set_name("Loadgen operator");
      auto op = Unary(*directory, &v1::DirectoryService::Stub::CreateOperator, req, platform);
      if (!op.ok()) return op.status();
      flags.operator_id = op->operator_id();
    }
    flags.token = auth::MintAdminToken(
        auth::DevAdminKeys().private_pem,
        {.subject = "loadgen@example.com",
         .operator_id = flags.operator_id,
         .locations = {"*"},
         .permissions = auth::AllPermissions()},
        now);
  }
  if (flags.location_id.empty()) {
    v1::CreateLocationRequest req;
    req.set_request_id(crypto::NewUuid());
    req.set_name("Loadgen location");
    req.set_time_zone("Europe/Madrid");
    req.set_currency("EUR");
    auto loc = Unary(*directory, &v1::DirectoryService::Stub::CreateLocation, req, flags.token);
    if (!loc.ok()) return loc.status();
    flags.location_id = loc->location_id();
  }
  return absl::OkStatus();
}

bool LoadsContracts(Mode mode) { return mode == Mode::kContract || mode == Mode::kPurchase; }
bool LoadsCheckins(Mode mode) { return mode == Mode::kCheckIn || mode == Mode::kPresent; }
bool LoadsBookings(Mode mode) {
  return mode == Mode::kBook || mode == Mode::kBookHot || mode == Mode::kAvailability;
}

// The contracts service learns locations and customers from the customers events, a moment
// after the customers service made them: `call` is retried while it answers NOT_FOUND (not
// known yet there), for at most a minute. Each try is a new command with a new request id (a
// NOT_FOUND one did nothing).
template <typename Call>
auto RetryUntilKnown(const Call& call) -> decltype(call()) {
  const absl::Time give_up = RealClock::Get().Now() + absl::Minutes(1);
  while (true) {
    auto result = call();
    if (result.ok() || result.status().code() != absl::StatusCode::kNotFound ||
        RealClock::Get().Now() >= give_up) {
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Contract and purchase modes: makes the plan (monthly, 50.00) or the one-off product (15.00)
// the calls use, then sends one call of the mode for every pool customer, so the measured run
// starts only once the contracts service knows them all.
absl::Status PrepareContracts(const Flags& flags, DriverOptions& o) {
  auto channel = grpc::CreateChannel(flags.contracts_target, grpc::InsecureChannelCredentials());
  auto contracts = cv1::ContractsService::NewStub(channel);
  auto purchases = cv1::PurchasesService::NewStub(channel);
  if (o.mode == Mode::kContract) {
    auto plans = cv1::PlansService::NewStub(channel);
    cv1::CreatePlanRequest req;
    req.set_location_id(o.location_id);
    req.set_name("Loadgen plan");
    req.set_price_minor(5000);
    req.set_cycle(cv1::MONTHLY);
    auto plan = RetryUntilKnown([&] {
      req.set_request_id(crypto::NewUuid());
      return Unary(*plans, &cv1::PlansService::Stub::CreatePlan, req, o.token);
    });
    if (!plan.ok()) return plan.status();
    o.plan_id = plan->plan_id();
  } else {
    auto products = cv1::ProductsService::NewStub(channel);
    cv1::CreateProductRequest req;
    req.set_location_id(o.location_id);
    req.set_name("Loadgen day pass");
    req.set_price_minor(1500);
    req.set_kind(cv1::ONE_OFF);
    auto product = RetryUntilKnown([&] {
      req.set_request_id(crypto::NewUuid());
      return Unary(*products, &cv1::ProductsService::Stub::CreateProduct, req, o.token);
    });
    if (!product.ok()) return product.status();
    o.product_id = product->product_id();
  }
  for (const std::string& customer_id : o.update_ids) {
    absl::Status known;
    if (o.mode == Mode::kContract) {
      cv1::CreateContractRequest req;
      req.set_customer_id(customer_id);
      req.set_plan_id(o.plan_id);
      known = RetryUntilKnown([&] {
                req.set_request_id(crypto::NewUuid());
                return Unary(*contracts, &cv1::ContractsService::Stub::CreateContract, req,
                             o.token);
              }).status();
    } else {
      cv1::BuyRequest req;
      req.set_customer_id(customer_id);
      req.set_product_id(o.product_id);
      req.set_quantity(1);
      known = RetryUntilKnown([&] {
                req.set_request_id(crypto::NewUuid());
                return Unary(*purchases, &cv1::PurchasesService::Stub::Buy, req, o.token);
              }).status();
    }
    if (!known.ok()) {
      return absl::Status(known.code(), absl::StrCat("customer ", customer_id, ": ",
                                                     known.message()));
    }
  }
  return absl::OkStatus();
}

// Book, book-hot and availability modes: makes --resources meeting rooms (capacity 1, 20.00
// an hour, so every booking is charged) at the location, books one free far-future slot of a
// spare room for every pool customer (so the measured run starts only once the bookings
// service knows them all), then, with --prefill N, makes N bookings the way book mode does
// (a year of bookings for the availability queries). The bookings start tomorrow, 00:00 UTC.
absl::Status PrepareBookings(const Flags& flags, DriverOptions& o) {
  auto channel = grpc::CreateChannel(flags.bookings_target, grpc::InsecureChannelCredentials());
  auto resources = bv1::ResourcesService::NewStub(channel);
  auto bookings = bv1::BookingsService::NewStub(channel);
  auto create = [&](const std::string& name, int capacity, int64_t price) {
    bv1::CreateResourceRequest req;
    req.set_location_id(o.location_id);
    req.mutable_spec()->set_name(name);
    req.mutable_spec()->set_kind(bv1::MEETING_ROOM);
    req.mutable_spec()->set_capacity(capacity);
    req.mutable_spec()->set_hourly_price_minor(price);
    return RetryUntilKnown([&] {
      req.set_request_id(crypto::NewUuid());
      return Unary(*resources, &bv1::ResourcesService::Stub::CreateResource, req, o.token);
    });
  };
  for (int i = 0; i < flags.resources; ++i) {
    auto room = create(absl::StrCat("Room ", i + 1), 1, 2000);
    if (!room.ok()) return room.status();
    o.resource_ids.push_back(room->resource_id());
  }
  auto spare = create("Spare room", 10000, 0);
  if (!spare.ok()) return spare.status();
  const absl::CivilDay tomorrow = absl::ToCivilDay(RealClock::Get().Now(), absl::UTCTimeZone()) + 1;
  o.book_from = absl::FromCivil(tomorrow, absl::UTCTimeZone());
  o.bookings_per_day = flags.bookings_per_day;
  o.hot_slots = flags.hot_slots;
  for (const std::string& customer_id : o.update_ids) {
    bv1::CreateBookingRequest req;
    req.set_resource_id(spare->resource_id());
    req.set_customer_id(customer_id);
    *req.mutable_start_time() = ToTimestamp(o.book_from + absl::Hours(24 * 400));
    *req.mutable_end_time() = ToTimestamp(o.book_from + absl::Hours(24 * 400 + 1));
    auto known = RetryUntilKnown([&] {
      req.set_request_id(crypto::NewUuid());
      return Unary(*bookings, &bv1::BookingsService::Stub::CreateBooking, req, o.token);
    });
    if (!known.ok()) {
      return absl::Status(known.status().code(), absl::StrCat("customer ", customer_id, ": ",
                                                              known.status().message()));
    }
  }
  if (flags.prefill > 0) {
    DriverOptions fill = o;
    fill.target = flags.bookings_target;
    fill.mode = Mode::kBook;
    fill.rate = 0;
    fill.clients = std::max(o.clients, 64);  // as fast as the service goes
    fill.channels = std::max(o.channels, 4);
    fill.stop_after_ok = flags.prefill;
    fill.duration = absl::Hours(2);  // a cap; it stops after --prefill bookings
    auto filled = RunLoad(fill, nullptr);
    if (!filled.ok()) return filled.status();
    if (filled->ok < flags.prefill) {
      return absl::InternalError(absl::StrCat("prefill made ", filled->ok, " bookings: ",
                                              filled->first_error));
    }
    o.first_booking = filled->sent;
    std::printf("prefill      %llu bookings over %d rooms\n",
                static_cast<unsigned long long>(filled->ok), flags.resources);
  }
  o.availability_days = static_cast<int>(std::max<uint64_t>(
      1, (o.first_booking / o.resource_ids.size() + o.bookings_per_day - 1) / o.bookings_per_day));
  return absl::OkStatus();
}

// Check-in and present modes: makes --locations - 1 more locations (the first is the
// run's) and waits until the checkins service knows the pool (a check-in and out of the last
// customer added: the rest arrived before it). Present mode then checks every pool customer
// in at the first location, so the measured run asks with everyone in.
absl::Status PrepareCheckins(const Flags& flags, DriverOptions& o) {
  auto customers = grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials());
  auto directory = v1::DirectoryService::NewStub(customers);
  o.location_ids = {o.location_id};
  for (int i = 1; i < flags.locations; ++i) {
    v1::CreateLocationRequest req;
    req.set_request_id(crypto::NewUuid());
    req.set_name(absl::StrCat("Loadgen location ", i + 1));
    req.set_time_zone("Europe/Madrid");
    req.set_currency("EUR");
    auto loc = Unary(*directory, &v1::DirectoryService::Stub::CreateLocation, req, o.token);
    if (!loc.ok()) return loc.status();
    o.location_ids.push_back(loc->location_id());
  }
  auto checkins = kv1::CheckinsService::NewStub(
      grpc::CreateChannel(flags.checkins_target, grpc::InsecureChannelCredentials()));
  kv1::CheckInRequest probe;
  probe.set_customer_id(o.update_ids.back());
  probe.set_location_id(o.location_ids.back());
  probe.set_method(kv1::ACCESS_CARD);
  auto known = RetryUntilKnown([&] {
    probe.set_request_id(crypto::NewUuid());
    return Unary(*checkins, &kv1::CheckinsService::Stub::CheckIn, probe, o.token);
  });
  if (!known.ok()) return known.status();
  kv1::CheckOutRequest out;
  out.set_request_id(crypto::NewUuid());
  out.set_customer_id(o.update_ids.back());
  if (auto left = Unary(*checkins, &kv1::CheckinsService::Stub::CheckOut, out, o.token);
      !left.ok()) {
    return left.status();
  }
  if (o.mode != Mode::kPresent) return absl::OkStatus();
  DriverOptions fill = o;
  fill.target = flags.checkins_target;
  fill.mode = Mode::kCheckIn;
  fill.rate = 0;
  fill.clients = std::max(o.clients, 64);  // as fast as the service goes
  fill.channels = std::max(o.channels, 4);
  fill.location_ids = {o.location_ids[0]};
  fill.stop_after_ok = fill.update_ids.size();
  fill.duration = absl::Hours(1);  // a cap
  auto filled = RunLoad(fill, nullptr);
  if (!filled.ok()) return filled.status();
  std::printf("prefill      %llu customers checked in (%llu failed%s%s)\n",
              static_cast<unsigned long long>(filled->ok),
              static_cast<unsigned long long>(filled->failed),
              filled->first_error.empty() ? "" : ": ", filled->first_error.c_str());
  return absl::OkStatus();
}

// CPU seconds (user + system) this process used so far: the client shares the cores with the
// service, so its share matters when reading the numbers.
std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int Main(int argc, char** argv) {
  // As in the running services (libs/runtime/runtime.cc): no Mutex deadlock detector, which
  // took about 3% of the load generator's CPU, on the cores it shares with the service.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Flags flags;
  CLI::App app{"cowork-loadgen: load the customers or contracts service and measure it"};
  app.add_option("--target", flags.target, "Customers service address")->capture_default_str();
  app.add_option("--contracts-target", flags.contracts_target,
                 "Contracts service address (contract and purchase modes)")
      ->capture_default_str();
  app.add_option("--bookings-target", flags.bookings_target,
                 "Bookings service address (book, book-hot and availability modes)")
      ->capture_default_str();
  app.add_option("--checkins-target", flags.checkins_target,
                 "Checkins service address (checkin and present modes)")
      ->capture_default_str();
  app.add_option("--locations", flags.locations,
                 "Checkin mode: locations customers move between (the first is --location)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--resources", flags.resources,
                 "Rooms booked (book modes) or in the location (availability)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--bookings-per-day", flags.bookings_per_day,
                 "Book mode: one-hour bookings per room and day, two hours apart")
      ->check(CLI::Range(1, 12))
      ->capture_default_str();
  app.add_option("--hot-slots", flags.hot_slots,
                 "Book-hot mode: the one-hour slots every client fights for")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--prefill", flags.prefill,
                 "Book modes and availability: bookings made before the measured run")
      ->capture_default_str();
  app.add_option("--token", flags.token, "Admin bearer token")->envname("COWORK_TOKEN");
  app.add_flag("--dev", flags.dev,
               "Mint dev tokens (service in --dev) and create the operator/location needed");
  app.add_option("--operator", flags.operator_id, "Operator id (with --dev: for the token)");
  app.add_option("--location", flags.location_id,
                 "Home location of the customers added (and of the plan or product)");
  app.add_option("--clients", flags.clients, "Concurrent calls")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--channels", flags.channels, "gRPC channels (TCP connections)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--duration", flags.duration, "Measured time")->capture_default_str();
  app.add_option("--warmup", flags.warmup, "Unmeasured time first")->capture_default_str();
  app.add_option("--mode", flags.mode,
                 "Calls: add, update, mixed, get, clock (customers service; clock: "
                 "TestClockService.GetTime, the server kit's floor); contract, purchase "
                 "(contracts service: CreateContract on a monthly plan, Buy of a one-off "
                 "product, for pool customers round robin); book, book-hot, availability "
                 "(bookings service: CreateBooking spread over --resources rooms, or fighting "
                 "for --hot-slots; GetAvailability of the location for one day); checkin, "
                 "present (checkins service: CheckIn of pool customers round the locations; "
                 "ListPresent with everyone in)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            absl::StatusOr<Mode> mode = ParseMode(text);
            return mode.ok() ? "" : std::string(mode.status().message());
          },
          "MODE"))
      ->capture_default_str();
  app.add_option("--rate", flags.rate,
                 "Calls per second in total (open loop, latency from the due time); "
                 "0 = closed loop, as fast as answers come")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  app.add_option("--kafka-brokers", flags.kafka_brokers,
                 "Also watch the loaded service's events topic (cowork.customers.events, "
                 "cowork.contracts.events or cowork.bookings.events): publish rate and event "
                 "latency");
  app.add_option("--label", flags.label, "Printed with the results, e.g. durable=true");
  app.add_option("--update-pool", flags.update_pool,
                 "Customers added first for every mode but add")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--call-timeout", flags.call_timeout, "Deadline of each call")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  DriverOptions o;
  o.target = flags.target;
  o.clients = flags.clients;
  o.channels = std::min(flags.channels, flags.clients);
  o.mode = *ParseMode(flags.mode);
  o.rate = flags.rate;
  o.duration = ParseDurationFlag("duration", flags.duration);
  o.warmup = ParseDurationFlag("warmup", flags.warmup);
  o.call_timeout = ParseDurationFlag("call-timeout", flags.call_timeout);
  if (o.duration <= absl::ZeroDuration()) {
    std::cerr << "error: --duration must be positive\n";
    return 2;
  }

  if (absl::Status s = PrepareIdentity(flags); !s.ok()) {
    std::cerr << "error: setting up operator/location/token: " << s << "\n";
    return 1;
  }
  o.token = flags.token;
  o.location_id = flags.location_id;

  if (o.mode != Mode::kAdd && o.mode != Mode::kClock) {
    DriverOptions pool = o;
    pool.mode = Mode::kAdd;
    pool.rate = 0;
    pool.clients = std::min(o.clients, 32);
    pool.channels = std::min(o.channels, pool.clients);
    pool.stop_after_ok = static_cast<uint64_t>(flags.update_pool);
    pool.collect_ids = true;
    pool.duration = absl::Minutes(10);  // a cap; it stops at update_pool customers
    auto made = RunLoad(pool, nullptr);
    if (!made.ok() || made->added_ids.empty()) {
      std::cerr << "error: adding the update pool: "
                << (made.ok() ? made->first_error : std::string(made.status().message()))
                << "\n";
      return 1;
    }
    o.update_ids = std::move(made->added_ids);
  }
  if (LoadsContracts(o.mode)) {
    if (absl::Status s = PrepareContracts(flags, o); !s.ok()) {
      std::cerr << "error: setting up the " << ModeName(o.mode) << " run: " << s << "\n";
      return 1;
    }
    o.target = flags.contracts_target;
  }
  if (LoadsBookings(o.mode)) {
    if (absl::Status s = PrepareBookings(flags, o); !s.ok()) {
      std::cerr << "error: setting up the " << ModeName(o.mode) << " run: " << s << "\n";
      return 1;
    }
    o.target = flags.bookings_target;
  }
  if (LoadsCheckins(o.mode)) {
    if (absl::Status s = PrepareCheckins(flags, o); !s.ok()) {
      std::cerr << "error: setting up the " << ModeName(o.mode) << " run: " << s << "\n";
      return 1;
    }
    o.target = flags.checkins_target;
  }

  std::unique_ptr<EventWatch> watch;
  if (!flags.kafka_brokers.empty()) {
    EventWatchOptions watch_options{.brokers = flags.kafka_brokers};
    if (LoadsContracts(o.mode)) watch_options.topic = "cowork.contracts.events";
    if (LoadsBookings(o.mode)) watch_options.topic = "cowork.bookings.events";
    if (LoadsCheckins(o.mode)) watch_options.topic = "cowork.checkins.events";
    auto w = EventWatch::Start(watch_options);
    if (!w.ok()) {
      std::cerr << "error: watching events: " << w.status() << "\n";
      return 1;
    }
    watch = std::move(*w);
  }

  const double cpu_before = ProcessCpuSeconds();
  auto result = RunLoad(o, [&](absl::Time from, absl::Time to) {
    if (watch) watch->SetWindow(from, to);
  });
  if (!result.ok()) {
    std::cerr << "error: " << result.status() << "\n";
    return 2;
  }

  const double client_cpu = ProcessCpuSeconds() - cpu_before;
  std::optional<EventWatch::Result> events;
  absl::Duration drain_wait;
  if (watch) {
    // Let the relay catch up: wait until no event has arrived for 2 s (at most 60 s).
    const absl::Time begin = RealClock::Get().Now();
    uint64_t last = watch->received();
    absl::Time last_change = begin;
    while (RealClock::Get().Now() - begin < absl::Seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const uint64_t now_count = watch->received();
      if (now_count != last) {
        last = now_count;
        last_change = RealClock::Get().Now();
      } else if (RealClock::Get().Now() - last_change >= absl::Seconds(2)) {
        break;
      }
    }
    drain_wait = last_change - begin;
    events = watch->Stop();
  }

  DriverResult& r = *result;
  const double secs = absl::ToDoubleSeconds(r.window);
  const double cps = secs > 0 ? r.ok / secs : 0;
  Summary lat = r.latency.Summarize();
  std::vector<std::string> errors;
  for (size_t c = 0; c < r.errors_by_code.size(); ++c) {
    if (r.errors_by_code[c] > 0) errors.push_back(absl::StrCat(CodeName(c), "=", r.errors_by_code[c]));
  }
  const std::string rate_text =
      o.rate > 0 ? absl::StrFormat("%.0f/s (open loop)", o.rate) : "unlimited (closed loop)";

  std::printf("== cowork-loadgen %s\n", flags.label.c_str());
  std::printf("conditions   target=%s mode=%s clients=%d channels=%d rate=%s\n",
              o.target.c_str(), ModeName(o.mode).c_str(), o.clients, o.channels,
              rate_text.c_str());
  std::printf("             warmup=%s duration=%s label=%s update_pool=%zu\n",
              absl::FormatDuration(o.warmup).c_str(), absl::FormatDuration(o.duration).c_str(),
              flags.label.c_str(), o.update_ids.size());
  std::printf("commands     %.1f/s  ok=%llu failed=%llu sent=%llu", cps,
              static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.failed),
              static_cast<unsigned long long>(r.sent));
  if (o.rate > 0) {
    std::printf(" behind_schedule=%llu (due but never sent: all clients busy)",
                static_cast<unsigned long long>(r.unsent));
  }
  std::printf("\n");
  std::printf("latency      p50=%s p90=%s p99=%s p999=%s max=%s mean=%s\n",
              FormatMillis(lat.p50).c_str(), FormatMillis(lat.p90).c_str(),
              FormatMillis(lat.p99).c_str(), FormatMillis(lat.p999).c_str(),
              FormatMillis(lat.max).c_str(), FormatMillis(lat.mean).c_str());
  std::printf("client cpu   %.1f s over the run (%.2f cores, warmup included)\n", client_cpu,
              client_cpu / absl::ToDoubleSeconds(o.warmup + o.duration));
  std::printf("errors       %s%s%s\n", errors.empty() ? "none" : absl::StrJoin(errors, " ").c_str(),
              r.first_error.empty() ? "" : "  first: ", r.first_error.c_str());
  Summary ev;
  double eps = 0;
  if (events) {
    ev = events->latency.Summarize();
    eps = secs > 0 ? events->received_in_window / secs : 0;
    std::printf("events       %.1f/s reached the topic in the window; %zu events of the "
                "window's commands seen (of %llu commands answered OK in it)\n",
                eps, ev.count, static_cast<unsigned long long>(r.ok));
    std::printf("event lat.   p50=%s p90=%s p99=%s p999=%s max=%s  (receive - occurred_at)\n",
                FormatMillis(ev.p50).c_str(), FormatMillis(ev.p90).c_str(),
                FormatMillis(ev.p99).c_str(), FormatMillis(ev.p999).c_str(),
                FormatMillis(ev.max).c_str());
    std::printf("             total received=%llu undecodable=%llu, last event %s after the "
                "load stopped\n",
                static_cast<unsigned long long>(events->received),
                static_cast<unsigned long long>(events->undecodable),
                absl::FormatDuration(drain_wait).c_str());
  }
  std::printf(
      "RESULT label=%s mode=%s clients=%d rate=%.0f ok=%llu failed=%llu cmd_per_s=%.1f "
      "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f events_per_s=%.1f events=%zu "
      "ev_p50_ms=%.3f ev_p99_ms=%.3f ev_p999_ms=%.3f ev_max_ms=%.3f client_cores=%.2f "
      "unsent=%llu errors=%s\n",
      flags.label.empty() ? "-" : flags.label.c_str(), ModeName(o.mode).c_str(), o.clients,
      o.rate, static_cast<unsigned long long>(r.ok), static_cast<unsigned long long>(r.failed),
      cps, absl::ToDoubleMilliseconds(lat.p50), absl::ToDoubleMilliseconds(lat.p99),
      absl::ToDoubleMilliseconds(lat.p999), absl::ToDoubleMilliseconds(lat.max), eps, ev.count,
      absl::ToDoubleMilliseconds(ev.p50), absl::ToDoubleMilliseconds(ev.p99),
      absl::ToDoubleMilliseconds(ev.p999), absl::ToDoubleMilliseconds(ev.max),
      client_cpu / absl::ToDoubleSeconds(o.warmup + o.duration),
      static_cast<unsigned long long>(r.unsent), errors.empty() ? "none" : absl::StrJoin(errors, ",").c_str());
  std::fflush(stdout);
  return r.ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace cowork::loadgen

int main(int argc, char** argv) { return cowork::loadgen::Main(argc, argv); }
