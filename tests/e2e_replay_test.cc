// End to end: cowork-replay, the analysts' tool, run as a process against the dev broker and
// the customers, contracts, bookings and billing services (real processes on simulated
// clocks). A few customers at two locations, a plan and a contract, a room and a booking; a
// customer more five days later. Then:
//  - the JSON lines hold every event of the topics once, each row the envelope's columns and
//    its typed payload;
//  - CSV has the stable header and the same columns; the filters by type, location and time
//    (and the start at a time or at the tail) select exactly what they name;
//  - following, a new event shows up, and SIGTERM ends the run cleanly;
//  - active-users agrees exactly with the billing service's GetActiveUsers.
// What the tool writes is checked against what a plain reader of the topics sees.

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.grpc.pb.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"
#include "tools/replay/replay.h"
#include "tools/replay/row.pb.h"

namespace cowork::e2e {
namespace {

namespace av1 = ::cowork::billing::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace uv1 = ::cowork::customers::v1;
namespace common = ::cowork::common::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;
using testing::Call;

const std::vector<std::string> kServices = {"customers", "contracts", "bookings",
                                            "checkins",  "helpdesk",  "billing"};

absl::Time Madrid(int month, int day, int hour) {
  absl::TimeZone tz;
  absl::LoadTimeZone("Europe/Madrid", &tz);
  return absl::FromCivil(absl::CivilSecond(2026, month, day, hour, 0, 0), tz);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// The broker and the four services on simulated clocks, the tenant with a second location,
// and what the test made.
struct World {
  std::unique_ptr<Suite> suite;
  testing::Service contracts, bookings, billing;
  std::shared_ptr<grpc::Channel> contracts_channel, bookings_channel, billing_channel;
  Tenant tenant;
  std::string second_location;
  std::vector<std::unique_ptr<common::TestClockService::Stub>> clocks;
  std::map<std::string, std::string> customer_ids;  // first name -> id
  std::string contract_id, booking_id;
};

absl::StatusOr<std::unique_ptr<World>> StartWorld(absl::Time start) {
  auto w = std::make_unique<World>();
  const std::vector<std::string> clock = {"--simulated-clock", Rfc3339(start)};
  absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start({.extra_args = clock});
  if (!suite.ok()) return suite.status();
  w->suite = *std::move(suite);
  for (auto [name, service] : {std::pair{"contracts", &w->contracts},
                               std::pair{"bookings", &w->bookings},
                               std::pair{"billing", &w->billing}}) {
    absl::StatusOr<testing::Service> started = testing::StartService(
        name, {.data_dir = w->suite->dir().Sub(name), .bootstrap = w->suite->bootstrap(),
               .extra_args = clock});
    if (!started.ok()) return started.status();
    *service = *std::move(started);
  }
  w->contracts_channel = testing::Connect(w->contracts.address);
  w->bookings_channel = testing::Connect(w->bookings.address);
  w->billing_channel = testing::Connect(w->billing.address);
  for (const auto& channel : {w->suite->stubs().channel, w->contracts_channel,
                              w->bookings_channel, w->billing_channel}) {
    w->clocks.push_back(common::TestClockService::NewStub(channel));
  }
  absl::StatusOr<Tenant> tenant = CreateTenant(w->suite->stubs(), "Replay Co");
  if (!tenant.ok()) return tenant.status();
  w->tenant = *std::move(tenant);
  absl::StatusOr<uv1::Location> second =
      CreateLocation(w->suite->stubs(), w->tenant.admin_token, "Replay Co North");
  if (!second.ok()) return second.status();
  w->second_location = second->location_id();
  return w;
}

absl::Status MoveClocks(World& w, absl::Time t) {
  common::SetTimeRequest set;
  *set.mutable_time() = ToTimestamp(t);
  for (auto& stub : w.clocks) {
    absl::StatusOr<common::ClockTime> moved =
        Call(*stub, &common::TestClockService::Stub::SetTime, set, w.tenant.admin_token);
    if (!moved.ok()) return moved.status();
  }
  return absl::OkStatus();
}

absl::Status AddPerson(World& w, const std::string& location_id, const std::string& name) {
  absl::StatusOr<uv1::Customer> c =
      AddCustomer(w.suite->stubs(), w.tenant.admin_token,
                  Individual(location_id, name, "Replay", absl::StrCat(name, "@replay.test")));
  if (!c.ok()) return c.status();
  w.customer_ids[name] = c->customer_id();
  return absl::OkStatus();
}

// Ana holds a plan at the first location from today; Ben books a room there.
absl::Status MakeHistory(World& w) {
  for (const auto& [location, name] :
       {std::pair{w.tenant.location_id, "Ana"}, std::pair{w.tenant.location_id, "Ben"},
        std::pair{w.second_location, "Cleo"}}) {
    if (absl::Status s = AddPerson(w, location, name); !s.ok()) return s;
  }
  auto contracts = cv1::PlansService::NewStub(w.contracts_channel);
  cv1::CreatePlanRequest plan;
  plan.set_location_id(w.tenant.location_id);
  plan.set_name("Hot desk");
  plan.set_price_minor(15000);
  absl::StatusOr<cv1::Plan> created = UntilKnown([&] {
    plan.set_request_id(testing::NewRequestId());
    return Call(*contracts, &cv1::PlansService::Stub::CreatePlan, plan, w.tenant.admin_token);
  });
  if (!created.ok()) return created.status();
  auto contract_stub = cv1::ContractsService::NewStub(w.contracts_channel);
  cv1::CreateContractRequest contract;
  contract.set_customer_id(w.customer_ids["Ana"]);
  contract.set_plan_id(created->plan_id());
  absl::StatusOr<cv1::Contract> signed_up = UntilKnown([&] {
    contract.set_request_id(testing::NewRequestId());
    return Call(*contract_stub, &cv1::ContractsService::Stub::CreateContract, contract,
                w.tenant.admin_token);
  });
  if (!signed_up.ok()) return signed_up.status();
  w.contract_id = signed_up->contract_id();

  auto resources = bv1::ResourcesService::NewStub(w.bookings_channel);
  bv1::CreateResourceRequest room;
  room.set_location_id(w.tenant.location_id);
  room.mutable_spec()->set_name("Room \"Blue\", 2nd floor");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(4);
  room.mutable_spec()->set_hourly_price_minor(2500);
  absl::StatusOr<bv1::Resource> resource = UntilKnown([&] {
    room.set_request_id(testing::NewRequestId());
    return Call(*resources, &bv1::ResourcesService::Stub::CreateResource, room,
                w.tenant.admin_token);
  });
  if (!resource.ok()) return resource.status();
  auto bookings = bv1::BookingsService::NewStub(w.bookings_channel);
  bv1::CreateBookingRequest booking;
  booking.set_resource_id(resource->resource_id());
  booking.set_customer_id(w.customer_ids["Ben"]);
  *booking.mutable_start_time() = ToTimestamp(Madrid(6, 12, 10));
  *booking.mutable_end_time() = ToTimestamp(Madrid(6, 12, 11));
  absl::StatusOr<bv1::Booking> booked = UntilKnown([&] {
    booking.set_request_id(testing::NewRequestId());
    return Call(*bookings, &bv1::BookingsService::Stub::CreateBooking, booking,
                w.tenant.admin_token);
  });
  if (!booked.ok()) return booked.status();
  w.booking_id = booked->booking_id();
  return absl::OkStatus();
}

// Every event of the six topics, by event id.
absl::StatusOr<std::map<std::string, Event>> AllEvents(World& w) {
  std::map<std::string, Event> out;
  for (const std::string& service : kServices) {
    absl::StatusOr<std::vector<Event>> events =
        ReadEvents(w.suite->bootstrap(), absl::StrCat("cowork.", service, ".events"));
    if (!events.ok()) return events.status();
    for (Event& e : *events) out.emplace(e.envelope.event_id(), std::move(e));
  }
  return out;
}

// Runs build/bin/cowork-replay with `args` to its end; its stdout and stderr go to `log`.
absl::StatusOr<testing::ExitStatus> RunReplay(World& w, std::vector<std::string> args,
                                              const std::string& log) {
  args.insert(args.end(), {"--brokers", w.suite->bootstrap()});
  absl::StatusOr<std::unique_ptr<testing::Subprocess>> replay = testing::Subprocess::Start(
      {.program = testing::BinDir() + "/cowork-replay", .args = args, .log_path = log});
  if (!replay.ok()) return replay.status();
  return (*replay)->WaitExit(absl::Seconds(60));
}

std::vector<std::string> Lines(const std::string& path) {
  return absl::StrSplit(testing::ReadFileOrEmpty(path), '\n', absl::SkipEmpty());
}

// The rows of a JSON lines file, parsed back into Row messages.
std::vector<replay::Row> JsonRows(const std::string& path) {
  std::vector<replay::Row> rows;
  for (const std::string& line : Lines(path)) {
    replay::Row row;
    const auto parsed = google::protobuf::util::JsonStringToMessage(line, &row);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString() << ": " << line;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> EventIdsOf(const std::vector<replay::Row>& rows) {
  std::vector<std::string> ids;
  for (const replay::Row& row : rows) ids.push_back(row.event_id());
  return ids;
}

std::vector<std::string> EventIds(const std::map<std::string, Event>& events,
                                  const std::function<bool(const Event&)>& keep) {
  std::vector<std::string> ids;
  for (const auto& [id, e] : events) {
    if (keep(e)) ids.push_back(id);
  }
  return ids;
}

class ReplayEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<World>> world = StartWorld(Madrid(6, 10, 10));
    ASSERT_TRUE(world.ok()) << world.status();
    w_ = world->release();
    ASSERT_TRUE(MakeHistory(*w_).ok());
    // Five days later, a customer more at the second location.
    ASSERT_TRUE(MoveClocks(*w_, Madrid(6, 15, 10)).ok());
    ASSERT_TRUE(AddPerson(*w_, w_->second_location, "Dora").ok());
    // Everything on the topics: the booking and Dora's arrival are the last of their kinds,
    // and what the services decide from them last: Ana a member (customers, from her
    // contract) and the charges of Ben's booking invoiced (the contracts invoice run of the
    // 15th, invoice book of the location).
    const std::string& ana = w_->customer_ids["Ana"];
    const std::string ben_account =
        absl::StrCat(w_->tenant.location_id, ":", w_->customer_ids["Ben"]);
    for (const auto& [topic, id, type] :
         {std::tuple{std::string(testing::kBookingsTopic), w_->booking_id, ""},
          std::tuple{std::string(testing::kContractsTopic), w_->contract_id, ""},
          std::tuple{std::string(testing::kContractsTopic), ben_account, "ChargesInvoiced"},
          std::tuple{std::string(testing::kCustomersTopic), w_->customer_ids["Dora"], ""},
          std::tuple{std::string(testing::kCustomersTopic), ana, "CustomerBecameMember"}}) {
      absl::StatusOr<std::vector<Event>> seen = WaitForEvents(
          w_->suite->bootstrap(), topic,
          [&](const std::vector<Event>& events) {
            return *type == '\0' ? !EventsOf(events, id).empty() : CountOf(events, id, type) > 0;
          },
          absl::Seconds(30), absl::StrCat(id, " ", type));
      ASSERT_TRUE(seen.ok()) << seen.status();
    }
  }
  static void TearDownTestSuite() {
    delete w_;
    w_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(w_, nullptr) << "the suite did not start"; }

  std::string Path(absl::string_view name) const { return w_->suite->dir().Sub(name); }

  static World* w_;
};
World* ReplayEndToEnd::w_ = nullptr;

TEST_F(ReplayEndToEnd, JsonLinesHoldEveryEventOnceWithTheEnvelopeColumns) {
  COWORK_ASSERT_OK_AND_ASSIGN(auto events, AllEvents(*w_));
  COWORK_ASSERT_OK_AND_ASSIGN(testing::ExitStatus exit,
                              RunReplay(*w_, {"--output", Path("all.jsonl")}, Path("all.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0)
      << exit.ToString() << "\n" << testing::ReadFileOrEmpty(Path("all.log"));
  const std::vector<replay::Row> rows = JsonRows(Path("all.jsonl"));
  EXPECT_THAT(EventIdsOf(rows),
              UnorderedElementsAreArray(EventIds(events, [](const Event&) { return true; })));
  ASSERT_GT(rows.size(), 10u);
  for (const replay::Row& row : rows) {
    auto found = events.find(row.event_id());
    ASSERT_NE(found, events.end()) << row.ShortDebugString();
    const common::EventEnvelope& e = found->second.envelope;
    EXPECT_EQ(row.time(), google::protobuf::util::TimeUtil::ToString(e.occurred_at()));
    EXPECT_EQ(row.service(), e.service());
    EXPECT_EQ(absl::StrCat("cowork.", row.service(), ".v1.", row.type()), found->second.type);
    EXPECT_EQ(row.operator_(), w_->tenant.operator_id);
    EXPECT_EQ(row.location(), e.location_id());
    EXPECT_EQ(row.aggregate_type(), e.aggregate_type());
    EXPECT_EQ(row.aggregate(), e.aggregate_id());
    EXPECT_EQ(row.sequence(), e.sequence());
    // The payload is the event itself: the same message after its trip through JSON.
    ASSERT_TRUE(row.has_payload()) << row.ShortDebugString();
    common::EventEnvelope replayed = e;
    *replayed.mutable_payload() = row.payload();
    auto published = replay::DecodePayload(e);
    auto from_row = replay::DecodePayload(replayed);
    ASSERT_TRUE(published != nullptr && from_row != nullptr) << row.type();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*published, *from_row))
        << row.type();
  }
  // Sealed personal data stays sealed: no email address shows (base64 has no '@').
  EXPECT_FALSE(absl::StrContains(testing::ReadFileOrEmpty(Path("all.jsonl")), "@replay.test"));
  EXPECT_THAT(testing::ReadFileOrEmpty(Path("all.log")),
              ::testing::HasSubstr(absl::StrCat(rows.size(), " rows")));
}

TEST_F(ReplayEndToEnd, CsvHasTheHeaderAndFiltersByType) {
  COWORK_ASSERT_OK_AND_ASSIGN(auto events, AllEvents(*w_));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::ExitStatus exit,
      RunReplay(*w_, {"--format", "csv", "--type", "BookingCreated", "--output", Path("b.csv")},
                Path("b.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("b.log"));
  const std::vector<std::string> lines = Lines(Path("b.csv"));
  ASSERT_EQ(lines.size(), 2u) << testing::ReadFileOrEmpty(Path("b.csv"));
  EXPECT_EQ(lines[0],
            "time,service,type,operator,location,aggregate_type,aggregate,sequence,event_id,"
            "payload");
  const std::vector<std::string> booked = EventIds(events, [](const Event& e) {
    return e.type == "cowork.bookings.v1.BookingCreated";
  });
  ASSERT_EQ(booked.size(), 1u);
  const common::EventEnvelope& e = events.at(booked[0]).envelope;
  EXPECT_TRUE(absl::StartsWith(
      lines[1], absl::StrCat(google::protobuf::util::TimeUtil::ToString(e.occurred_at()),
                             ",bookings,BookingCreated,", w_->tenant.operator_id, ",",
                             w_->tenant.location_id, ",booking,", w_->booking_id, ",1,",
                             e.event_id(), ",\"{\"\"@type\"\":")))
      << lines[1];
  // The room's name, with its quotes and comma, inside the quoted JSON cell.
  EXPECT_THAT(lines[1], ::testing::HasSubstr(R"(""resource_name"":""Room \""Blue\"", 2nd floor"")"));
}

TEST_F(ReplayEndToEnd, FiltersByLocationAndTime) {
  COWORK_ASSERT_OK_AND_ASSIGN(auto events, AllEvents(*w_));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::ExitStatus exit,
      RunReplay(*w_, {"--location", w_->second_location, "--output", Path("north.jsonl")},
                Path("north.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("north.log"));
  const std::vector<replay::Row> north = JsonRows(Path("north.jsonl"));
  EXPECT_THAT(EventIdsOf(north),
              UnorderedElementsAreArray(EventIds(events, [&](const Event& e) {
                return e.envelope.location_id() == w_->second_location;
              })));
  EXPECT_FALSE(north.empty());

  // CustomerAdded since June 14th: Dora only; before it: Ana, Ben, Cleo.
  auto added_by = [&](const std::vector<replay::Row>& rows) {
    std::vector<std::string> customers;
    for (const replay::Row& row : rows) customers.push_back(row.aggregate());
    return customers;
  };
  COWORK_ASSERT_OK_AND_ASSIGN(
      exit, RunReplay(*w_,
                      {"--topic", "customers", "--type", "CustomerAdded", "--since",
                       "2026-06-14", "--output", Path("since.jsonl")},
                      Path("since.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("since.log"));
  EXPECT_THAT(added_by(JsonRows(Path("since.jsonl"))), ElementsAre(w_->customer_ids["Dora"]));
  COWORK_ASSERT_OK_AND_ASSIGN(
      exit, RunReplay(*w_,
                      {"--topic", "customers", "--type", "cowork.customers.v1.CustomerAdded",
                       "--until", "2026-06-14T00:00:00+02:00", "--output",
                       Path("until.jsonl")},
                      Path("until.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("until.log"));
  EXPECT_THAT(added_by(JsonRows(Path("until.jsonl"))),
              UnorderedElementsAreArray({w_->customer_ids["Ana"], w_->customer_ids["Ben"],
                                         w_->customer_ids["Cleo"]}));
}

TEST_F(ReplayEndToEnd, StartsAtATimeOrAtTheTail) {
  // From now on (the broker's clock is the real one) nothing is on the topics: asked again a
  // little later while a service still publishes what the world's set-up made it decide.
  testing::ExitStatus exit;
  for (int attempt = 0; attempt < 20; ++attempt) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        exit,
        RunReplay(*w_, {"--from-time", Rfc3339(absl::Now()), "--output", Path("late.jsonl")},
                  Path("late.log")));
    ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("late.log"));
    if (Lines(Path("late.jsonl")).empty()) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_THAT(Lines(Path("late.jsonl")), IsEmpty());
  COWORK_ASSERT_OK_AND_ASSIGN(
      exit, RunReplay(*w_,
                      {"--from-time", Rfc3339(absl::Now() - absl::Hours(1)), "--topic",
                       "bookings", "--output", Path("hour.jsonl")},
                      Path("hour.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("hour.log"));
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<Event> bookings,
                              ReadEvents(w_->suite->bootstrap(), testing::kBookingsTopic));
  EXPECT_EQ(JsonRows(Path("hour.jsonl")).size(), bookings.size());

  // The last message of every partition of the bookings topic.
  std::map<int32_t, std::string> last;
  for (const Event& e : bookings) last[e.raw.partition] = e.envelope.event_id();
  std::vector<std::string> expected;
  for (const auto& [partition, id] : last) expected.push_back(id);
  COWORK_ASSERT_OK_AND_ASSIGN(
      exit, RunReplay(*w_, {"--topic", "bookings", "--from-offset", "-1", "--output",
                            Path("tail.jsonl")},
                      Path("tail.log")));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(Path("tail.log"));
  EXPECT_THAT(EventIdsOf(JsonRows(Path("tail.jsonl"))), UnorderedElementsAreArray(expected));
}

TEST_F(ReplayEndToEnd, FollowingShowsNewEventsUntilStopped) {
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<testing::Subprocess> follow,
      testing::Subprocess::Start(
          {.program = testing::BinDir() + "/cowork-replay",
           .args = {"--brokers", w_->suite->bootstrap(), "--topic", "customers", "--type",
                    "CustomerAdded", "--follow", "--output", Path("follow.jsonl")},
           .log_path = Path("follow.log")}));
  const auto rows_in_file = [&] { return Lines(Path("follow.jsonl")).size(); };
  COWORK_ASSERT_OK(testing::PollUntil([&] { return rows_in_file() == 4; }, absl::Seconds(30),
                                      "the four customers so far"));
  ASSERT_TRUE(AddPerson(*w_, w_->tenant.location_id, "Eve").ok());
  COWORK_ASSERT_OK(testing::PollUntil(
      [&] {
        return absl::StrContains(testing::ReadFileOrEmpty(Path("follow.jsonl")),
                                 w_->customer_ids["Eve"]);
      },
      absl::Seconds(30), "Eve's arrival in the followed rows"));
  COWORK_ASSERT_OK_AND_ASSIGN(testing::ExitStatus exit, follow->Terminate(absl::Seconds(10)));
  EXPECT_TRUE(exit.exited && exit.code == 0) << exit.ToString();
  EXPECT_EQ(rows_in_file(), 5u);
}

// The active users of the location in June, as the billing service answers and as
// `cowork-replay active-users --format json` recomputes them, once both are stable.
void ExpectReplayAgrees(World& w, const std::string& location, const std::string& dir,
                        size_t users) {
  SCOPED_TRACE(location);
  auto active = av1::ActiveUsersService::NewStub(w.billing_channel);
  av1::GetActiveUsersRequest request;
  request.set_location_id(location);
  request.set_month("2026-06");
  auto ask = [&] {
    return Call(*active, &av1::ActiveUsersService::Stub::GetActiveUsers, request,
                w.tenant.admin_token);
  };
  // The billing service has read the plan and the booking once it counts Ana and Ben.
  absl::StatusOr<av1::ActiveUsers> service = Until(ask, [&](const auto& r) {
    return r.ok() && static_cast<size_t>(r->users_size()) == users;
  });
  ASSERT_TRUE(service.ok()) << service.status();
  ASSERT_EQ(service->users_size(), static_cast<int>(users)) << service->ShortDebugString();
  // An answer is compared once the service gives the same before and after the replay (an
  // invoice or another late event may still change it).
  for (int attempt = 1;; ++attempt) {
    const std::string log = absl::StrCat(dir, "/active-", location, "-", attempt, ".log");
    COWORK_ASSERT_OK_AND_ASSIGN(
        testing::ExitStatus exit,
        RunReplay(w, {"active-users", "--location", location, "--month", "2026-06", "--format",
                      "json"},
                  log));
    ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(log);
    absl::StatusOr<av1::ActiveUsers> after = ask();
    ASSERT_TRUE(after.ok()) << after.status();
    if (!google::protobuf::util::MessageDifferencer::Equals(*service, *after) && attempt < 5) {
      service = after;
      continue;
    }
    av1::ActiveUsers replayed;
    bool found = false;
    for (const std::string& line : Lines(log)) {
      if (!absl::StartsWith(line, "{\"location_id\"")) continue;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &replayed).ok()) << line;
      found = true;
    }
    ASSERT_TRUE(found) << testing::ReadFileOrEmpty(log);
    EXPECT_EQ(replayed.location_id(), location);
    EXPECT_EQ(replayed.month(), "2026-06");
    EXPECT_EQ(replayed.count(), after->count());
    ASSERT_EQ(replayed.users_size(), after->users_size()) << replayed.ShortDebugString();
    for (int i = 0; i < replayed.users_size(); ++i) {
      // Who, for which criteria, proven by which events: all of it the same.
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(replayed.users(i),
                                                                     after->users(i)))
          << "replay:  " << replayed.users(i).ShortDebugString()
          << "\nservice: " << after->users(i).ShortDebugString();
    }
    return;
  }
}

TEST_F(ReplayEndToEnd, ActiveUsersAgreeExactlyWithTheBillingService) {
  ASSERT_NO_FATAL_FAILURE(ExpectReplayAgrees(*w_, w_->tenant.location_id, w_->suite->dir().path(), 2));
  ASSERT_NO_FATAL_FAILURE(ExpectReplayAgrees(*w_, w_->second_location, w_->suite->dir().path(), 0));

  // The text form: the count, then one line per customer with its criteria.
  const std::string log = Path("active-text.log");
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::ExitStatus exit,
      RunReplay(*w_, {"active-users", "--location", w_->tenant.location_id, "--month", "2026-06"},
                log));
  ASSERT_TRUE(exit.exited && exit.code == 0) << testing::ReadFileOrEmpty(log);
  const std::string text = testing::ReadFileOrEmpty(log);
  EXPECT_THAT(text, ::testing::HasSubstr(
                        absl::StrCat(w_->tenant.location_id, " 2026-06: 2 active users\n")));
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        absl::StrCat("\n", w_->customer_ids["Ana"], "  [A-Z_ ]*ACTIVE_PLAN")));
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        absl::StrCat("\n", w_->customer_ids["Ben"], "  [A-Z_ ]*BOOKING_MADE")));

  // A location nobody created: an error, exit code 1.
  COWORK_ASSERT_OK_AND_ASSIGN(
      exit, RunReplay(*w_, {"active-users", "--location", "loc-nowhere", "--month", "2026-06"},
                      Path("active-nowhere.log")));
  EXPECT_TRUE(exit.exited && exit.code == 1) << exit.ToString();
  EXPECT_THAT(testing::ReadFileOrEmpty(Path("active-nowhere.log")),
              ::testing::HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace cowork::e2e
