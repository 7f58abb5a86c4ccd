#include "tools/loadgen/driver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"

namespace cowork::loadgen {
namespace {

namespace v1 = ::cowork::customers::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace kv1 = ::cowork::checkins::v1;
namespace common = ::cowork::common::v1;
// Latencies on the monotonic clock: a wall-clock step during a run must not show up as a
// slow (or negative) call.
using Steady = std::chrono::steady_clock;

absl::Duration ToAbsl(Steady::duration d) { return absl::FromChrono(d); }

// Letters only: SPEC forbids digits in names.
constexpr const char* kLastNames[] = {"Garcia", "Lopez", "Martin", "Dubois",
                                      "Rossi",  "Novak", "Silva",  "Berg"};

struct Shared;

// One client: at most one call in flight. Its fields are touched by one thread at a time
// (the one issuing the call, then the one running its callback), handed over by gRPC.
struct Slot {
  Shared* shared = nullptr;
  int index = 0;
  v1::CustomersService::Stub* stub = nullptr;
  cv1::ContractsService::Stub* contracts = nullptr;
  cv1::PurchasesService::Stub* purchases = nullptr;
  bv1::BookingsService::Stub* bookings = nullptr;
  kv1::CheckinsService::Stub* checkins = nullptr;
  common::TestClockService::Stub* clock = nullptr;
  std::unique_ptr<grpc::ClientContext> context;
  v1::AddCustomerRequest add;
  v1::UpdateCustomerRequest update;
  v1::GetCustomerRequest get;
  v1::Customer response;
  common::GetTimeRequest get_time;
  common::ClockTime time;
  cv1::CreateContractRequest create_contract;
  cv1::Contract contract;
  cv1::BuyRequest purchase;
  cv1::Purchase purchased;
  bv1::CreateBookingRequest book;
  bv1::Booking booked;
  bv1::GetAvailabilityRequest availability;
  bv1::GetAvailabilityResponse available;
  kv1::CheckInRequest check_in;
  kv1::CheckInRecord checked_in;
  kv1::ListPresentRequest present;
  kv1::ListPresentResponse who;
  bool is_add = true;
  Steady::time_point sent;
  Steady::time_point scheduled;
  uint64_t seq = 0;
  std::mt19937_64 rng;
  // Results.
  Samples latency;
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::array<uint64_t, 17> errors{};
  std::string first_error;
  std::vector<std::string> ids;
};

struct Shared {
  const DriverOptions* options = nullptr;
  std::string bearer;
  Steady::time_point window_from;
  Steady::time_point window_to;
  Steady::time_point end;
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> total_ok{0};
  std::atomic<uint64_t> next_customer{0};  // round robin over the pool (contract, purchase)
  std::atomic<uint64_t> next_booking{0};   // book and check-in modes: the next call's number
  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  std::vector<Slot*> idle ABSL_GUARDED_BY(mu);  // open loop: clients free to take a call
};

void OnDone(Slot& s, const grpc::Status& status);

// Contract and purchase modes take the pool's customers in turn, across all clients.
const std::string& NextCustomer(Shared& sh) {
  const std::vector<std::string>& pool = sh.options->update_ids;
  return pool[sh.next_customer.fetch_add(1, std::memory_order_relaxed) % pool.size()];
}

void Issue(Slot& s, Steady::time_point scheduled) {
  Shared& sh = *s.shared;
  const DriverOptions& o = *sh.options;
  s.context = std::make_unique<grpc::ClientContext>();
  s.context->AddMetadata("authorization", sh.bearer);
  s.context->set_deadline(absl::ToChronoTime(RealClock::Get().Now() + o.call_timeout));
  s.is_add = o.mode == Mode::kAdd ||
             (o.mode == Mode::kMixed && (s.rng() & 1) == 0);
  s.scheduled = scheduled;
  ++s.seq;
  sh.sent.fetch_add(1, std::memory_order_relaxed);
  if (o.mode == Mode::kContract) {
    s.create_contract.set_request_id(crypto::NewUuid());
    s.create_contract.set_customer_id(NextCustomer(sh));
    s.sent = Steady::now();
    s.contracts->async()->CreateContract(s.context.get(), &s.create_contract, &s.contract,
                                         [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kPurchase) {
    s.purchase.set_request_id(crypto::NewUuid());
    s.purchase.set_customer_id(NextCustomer(sh));
    s.sent = Steady::now();
    s.purchases->async()->Buy(s.context.get(), &s.purchase, &s.purchased,
                              [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kBook || o.mode == Mode::kBookHot) {
    absl::Time start;
    std::string resource;
    if (o.mode == Mode::kBook) {
      const uint64_t k = sh.next_booking.fetch_add(1, std::memory_order_relaxed);
      const uint64_t n = k / o.resource_ids.size();
      resource = o.resource_ids[k % o.resource_ids.size()];
      start = o.book_from + absl::Hours(24 * static_cast<int64_t>(n / o.bookings_per_day)) +
              absl::Hours(2 * static_cast<int64_t>(n % o.bookings_per_day));
    } else {
      // Every 4 x (rooms x slots) calls move on to the next day: at most a quarter can win.
      const uint64_t k = sh.next_booking.fetch_add(1, std::memory_order_relaxed);
      const uint64_t day = k / (4 * o.resource_ids.size() * o.hot_slots);
      resource = o.resource_ids[s.rng() % o.resource_ids.size()];
      start = o.book_from + absl::Hours(24 * static_cast<int64_t>(day)) +
              absl::Hours(static_cast<int64_t>(s.rng() % o.hot_slots));
    }
    s.book.set_request_id(crypto::NewUuid());
    s.book.set_resource_id(resource);
    s.book.set_customer_id(NextCustomer(sh));
    *s.book.mutable_start_time() = ToTimestamp(start);
    *s.book.mutable_end_time() = ToTimestamp(start + absl::Hours(1));
    s.sent = Steady::now();
    s.bookings->async()->CreateBooking(s.context.get(), &s.book, &s.booked,
                                       [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kAvailability) {
    const absl::Time from =
        o.book_from + absl::Hours(24 * static_cast<int64_t>(s.rng() % o.availability_days));
    s.availability.set_location_id(o.location_id);
    *s.availability.mutable_from() = ToTimestamp(from);
    *s.availability.mutable_to() = ToTimestamp(from + absl::Hours(24));
    s.sent = Steady::now();
    s.bookings->async()->GetAvailability(s.context.get(), &s.availability, &s.available,
                                         [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kCheckIn) {
    const uint64_t k = sh.next_booking.fetch_add(1, std::memory_order_relaxed);
    const std::vector<std::string>& pool = o.update_ids;
    s.check_in.set_request_id(crypto::NewUuid());
    s.check_in.set_customer_id(pool[k % pool.size()]);
    s.check_in.set_location_id(
        o.location_ids[(k % pool.size() + k / pool.size()) % o.location_ids.size()]);
    s.check_in.set_method(kv1::ACCESS_CARD);
    s.sent = Steady::now();
    s.checkins->async()->CheckIn(s.context.get(), &s.check_in, &s.checked_in,
                                 [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kPresent) {
    s.present.set_location_id(o.location_ids[0]);
    s.sent = Steady::now();
    s.checkins->async()->ListPresent(s.context.get(), &s.present, &s.who,
                                     [&s](grpc::Status status) { OnDone(s, status); });
  } else if (s.is_add) {
    s.add.set_request_id(crypto::NewUuid());
    s.add.set_email(absl::StrCat("lg.", o.run_tag, ".", s.index, ".", s.seq, "@example.com"));
    s.sent = Steady::now();
    s.stub->async()->AddCustomer(s.context.get(), &s.add, &s.response,
                                 [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kClock) {
    s.sent = Steady::now();
    s.clock->async()->GetTime(s.context.get(), &s.get_time, &s.time,
                              [&s](grpc::Status status) { OnDone(s, status); });
  } else if (o.mode == Mode::kGet) {
    s.get.set_customer_id(o.update_ids[s.rng() % o.update_ids.size()]);
    s.sent = Steady::now();
    s.stub->async()->GetCustomer(s.context.get(), &s.get, &s.response,
                                 [&s](grpc::Status status) { OnDone(s, status); });
  } else {
    s.update.set_request_id(crypto::NewUuid());
    v1::Customer* c = s.update.mutable_customer();
    c->set_customer_id(o.update_ids[s.rng() % o.update_ids.size()]);
    c->set_last_name(kLastNames[s.rng() % std::size(kLastNames)]);
    s.sent = Steady::now();
    s.stub->async()->UpdateCustomer(s.context.get(), &s.update, &s.response,
                                    [&s](grpc::Status status) { OnDone(s, status); });
  }
}

void OnDone(Slot& s, const grpc::Status& status) {
  Shared& sh = *s.shared;
  const DriverOptions& o = *sh.options;
  const Steady::time_point done = Steady::now();
  const bool counting =
      o.stop_after_ok > 0 || (done >= sh.window_from && done < sh.window_to);
  if (status.ok()) {
    const uint64_t total = sh.total_ok.fetch_add(1, std::memory_order_relaxed) + 1;
    if (o.collect_ids && s.is_add && (o.stop_after_ok == 0 || total <= o.stop_after_ok)) {
      s.ids.push_back(s.response.customer_id());
    }
    if (counting) {
      ++s.ok;
      s.latency.Add(ToAbsl(done - (o.rate > 0 ? s.scheduled : s.sent)));
    }
  } else if (counting) {
    ++s.failed;
    const int code = std::clamp(static_cast<int>(status.error_code()), 0, 16);
    ++s.errors[code];
    if (s.first_error.empty()) s.first_error = status.error_message();
  }

  if (o.rate > 0) {
    absl::MutexLock lock(&sh.mu);
    sh.idle.push_back(&s);
    --sh.in_flight;
    return;
  }
  const bool more = o.stop_after_ok > 0
                        ? sh.total_ok.load(std::memory_order_relaxed) < o.stop_after_ok &&
                              done < sh.end
                        : done < sh.end;
  if (more) {
    Issue(s, done);
    return;
  }
  absl::MutexLock lock(&sh.mu);
  --sh.in_flight;
}

}  // namespace

absl::StatusOr<Mode> ParseMode(const std::string& text) {
  if (text == "add") return Mode::kAdd;
  if (text == "update") return Mode::kUpdate;
  if (text == "mixed") return Mode::kMixed;
  if (text == "get") return Mode::kGet;
  if (text == "clock") return Mode::kClock;
  if (text == "contract") return Mode::kContract;
  if (text == "purchase") return Mode::kPurchase;
  if (text == "book") return Mode::kBook;
  if (text == "book-hot") return Mode::kBookHot;
  if (text == "availability") return Mode::kAvailability;
  if (text == "checkin") return Mode::kCheckIn;
  if (text == "present") return Mode::kPresent;
  return absl::InvalidArgumentError(absl::StrCat(
      "mode must be add, update, mixed, get, contract, purchase, book, book-hot, "
      "availability, checkin or present: ",
      text));
}

std::string ModeName(Mode mode) {
  switch (mode) {
    case Mode::kAdd:
      return "add";
    case Mode::kUpdate:
      return "update";
    case Mode::kMixed:
      return "mixed";
    case Mode::kGet:
      return "get";
    case Mode::kClock:
      return "clock";
    case Mode::kContract:
      return "contract";
    case Mode::kPurchase:
      return "purchase";
    case Mode::kBook:
      return "book";
    case Mode::kBookHot:
      return "book-hot";
    case Mode::kAvailability:
      return "availability";
    case Mode::kCheckIn:
      return "checkin";
    case Mode::kPresent:
      return "present";
  }
  return "?";
}

absl::StatusOr<DriverResult> RunLoad(const DriverOptions& options,
                                     const WindowCallback& on_window) {
  if (options.target.empty() || options.token.empty() || options.location_id.empty()) {
    return absl::InvalidArgumentError("target, token and location are required");
  }
  if (options.clients < 1 || options.channels < 1 || options.rate < 0) {
    return absl::InvalidArgumentError("clients and channels must be >= 1, rate >= 0");
  }
  if (options.mode != Mode::kAdd && options.mode != Mode::kClock && options.update_ids.empty()) {
    return absl::InvalidArgumentError("every mode but add and clock needs customers to work on");
  }
  if (options.mode == Mode::kContract && options.plan_id.empty()) {
    return absl::InvalidArgumentError("contract mode needs a plan");
  }
  if (options.mode == Mode::kPurchase && options.product_id.empty()) {
    return absl::InvalidArgumentError("purchase mode needs a product");
  }
  if ((options.mode == Mode::kBook || options.mode == Mode::kBookHot) &&
      (options.resource_ids.empty() || options.bookings_per_day < 1 ||
       options.bookings_per_day > 12 || options.hot_slots < 1)) {
    return absl::InvalidArgumentError(
        "book modes need resources, 1..12 bookings per day and at least one hot slot");
  }
  if ((options.mode == Mode::kCheckIn || options.mode == Mode::kPresent) &&
      options.location_ids.empty()) {
    return absl::InvalidArgumentError("check-in modes need locations");
  }
  if (options.mode == Mode::kAvailability && options.availability_days < 1) {
    return absl::InvalidArgumentError("availability mode needs at least one day");
  }
  if (options.stop_after_ok > 0 && options.rate > 0) {
    return absl::InvalidArgumentError("stop_after_ok runs closed loop only");
  }

  Shared sh;
  sh.next_booking = options.first_booking;
  sh.options = &options;
  sh.bearer = absl::StrCat("Bearer ", options.token);
  const std::string tag = options.run_tag.empty() ? crypto::NewId("r") : options.run_tag;
  DriverOptions tagged = options;
  tagged.run_tag = tag;
  sh.options = &tagged;

  // Separate channels, each its own connection: a local subchannel pool stops gRPC from
  // sharing one TCP connection between channels with equal arguments.
  // Every service's stub on each channel: a stub opens no connection of its own.
  std::vector<std::unique_ptr<v1::CustomersService::Stub>> stubs;
  std::vector<std::unique_ptr<cv1::ContractsService::Stub>> contracts_stubs;
  std::vector<std::unique_ptr<cv1::PurchasesService::Stub>> purchases_stubs;
  std::vector<std::unique_ptr<bv1::BookingsService::Stub>> bookings_stubs;
  std::vector<std::unique_ptr<kv1::CheckinsService::Stub>> checkins_stubs;
  std::vector<std::unique_ptr<common::TestClockService::Stub>> clock_stubs;
  for (int i = 0; i < options.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cowork.loadgen.channel", i);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), args);
    stubs.push_back(v1::CustomersService::NewStub(channel));
    contracts_stubs.push_back(cv1::ContractsService::NewStub(channel));
    purchases_stubs.push_back(cv1::PurchasesService::NewStub(channel));
    bookings_stubs.push_back(bv1::BookingsService::NewStub(channel));
    checkins_stubs.push_back(kv1::CheckinsService::NewStub(channel));
    clock_stubs.push_back(common::TestClockService::NewStub(channel));
  }
  std::vector<std::unique_ptr<Slot>> slots;
  std::random_device seed;
  for (int i = 0; i < options.clients; ++i) {
    auto s = std::make_unique<Slot>();
    s->shared = &sh;
    s->index = i;
    s->stub = stubs[i % stubs.size()].get();
    s->contracts = contracts_stubs[i % contracts_stubs.size()].get();
    s->purchases = purchases_stubs[i % purchases_stubs.size()].get();
    s->bookings = bookings_stubs[i % bookings_stubs.size()].get();
    s->checkins = checkins_stubs[i % checkins_stubs.size()].get();
    s->clock = clock_stubs[i % clock_stubs.size()].get();
    s->rng.seed((static_cast<uint64_t>(seed()) << 32) ^ seed() ^ i);
    s->add.set_type(v1::INDIVIDUAL);
    s->add.set_home_location_id(options.location_id);
    s->add.set_first_name("Loadgen");
    s->add.set_last_name("Tester");
    s->update.mutable_update_mask()->add_paths("last_name");
    s->create_contract.set_plan_id(options.plan_id);
    s->purchase.set_product_id(options.product_id);
    s->purchase.set_quantity(1);
    slots.push_back(std::move(s));
  }

  const Steady::time_point start = Steady::now();
  if (options.stop_after_ok > 0) {
    sh.window_from = start;
    sh.window_to = sh.end = start + absl::ToChronoNanoseconds(options.duration);
  } else {
    sh.window_from = start + absl::ToChronoNanoseconds(options.warmup);
    sh.window_to = sh.window_from + absl::ToChronoNanoseconds(options.duration);
    sh.end = sh.window_to;
  }
  if (on_window) {
    const absl::Time now = RealClock::Get().Now();
    on_window(now + ToAbsl(sh.window_from - start), now + ToAbsl(sh.window_to - start));
  }

  uint64_t unsent = 0;
  if (options.rate == 0) {
    {
      absl::MutexLock lock(&sh.mu);
      sh.in_flight = static_cast<int>(slots.size());
    }
    for (auto& s : slots) Issue(*s, Steady::now());
  } else {
    {
      absl::MutexLock lock(&sh.mu);
      for (auto& s : slots) sh.idle.push_back(s.get());
    }
    // The pacer: call k is due at start + k / rate. It sleeps until the next one is due
    // (pacing is its whole job) and waits for a free client when all are busy; that wait
    // counts in the call's latency, which is measured from the due time.
    const auto interval = std::chrono::duration_cast<Steady::duration>(
        std::chrono::duration<double>(1.0 / options.rate));
    Steady::time_point due = start;
    while (due < sh.end) {
      const Steady::time_point now = Steady::now();
      if (now >= sh.end) {
        // Calls still due when the run ends were never sent: the service fell behind the
        // schedule. Counted, not sent late, so a run ends on time.
        unsent = static_cast<uint64_t>((sh.end - due) / interval) + 1;
        break;
      }
      if (due > now) {
        std::this_thread::sleep_until(due);
        continue;
      }
      Slot* s = nullptr;
      {
        absl::MutexLock lock(&sh.mu);
        sh.mu.Await(absl::Condition(
            +[](std::vector<Slot*>* idle) { return !idle->empty(); }, &sh.idle));
        if (Steady::now() >= sh.end) continue;  // the run ended while waiting: see above
        s = sh.idle.back();
        sh.idle.pop_back();
        ++sh.in_flight;
      }
      Issue(*s, due);
      due += interval;
    }
  }

  // Every call has a deadline, so every callback comes; wait for all before the slots go.
  {
    absl::MutexLock lock(&sh.mu);
    sh.mu.Await(absl::Condition(
        +[](int* in_flight) { return *in_flight == 0; }, &sh.in_flight));
  }

  DriverResult result;
  result.window = ToAbsl(sh.window_to - sh.window_from);
  result.sent = sh.sent.load();
  result.unsent = unsent;
  for (auto& s : slots) {
    result.ok += s->ok;
    result.failed += s->failed;
    for (size_t c = 0; c < s->errors.size(); ++c) result.errors_by_code[c] += s->errors[c];
    if (result.first_error.empty()) result.first_error = s->first_error;
    result.latency.Merge(s->latency);
    result.added_ids.insert(result.added_ids.end(), s->ids.begin(), s->ids.end());
  }
  if (options.stop_after_ok > 0) {
    result.window = ToAbsl(Steady::now() - start);
  }
  return result;
}

}  // namespace cowork::loadgen
