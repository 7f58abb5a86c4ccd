// ActiveUsersReplay fed with serialized envelopes as they come off the topics: the billing
// service's answer (the same as a billing App fed the way its consumers feed it), each event
// once, the operator found from the location, the temporary store deleted.

#include "tools/replay/active_users.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "cowork/billing/v1/events.pb.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/kafka/kafka.h"
#include "libs/testing/process.h"

namespace cowork::replay {
namespace {

namespace av1 = ::cowork::billing::v1;

absl::Time Madrid(int y, int mo, int d, int h = 12) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), tz);
}

struct Published {
  std::string topic;
  common::v1::EventEnvelope envelope;
  std::unique_ptr<google::protobuf::Message> payload;
};

// A small history of operator op-1 at loc-mad: c-1 holds a plan from June 1st, c-2 books in
// June, c-3 books in July; every customer's home is loc-mad.
class History {
 public:
  History() {
    Add("customers", "operator", "op-1", 1, "", Operator("op-1"), Madrid(2026, 5, 1));
    Add("customers", "location", "loc-mad", 1, "", Location("loc-mad"), Madrid(2026, 5, 1));
    for (const char* id : {"c-1", "c-2", "c-3"}) {
      customers::v1::CustomerAdded added;
      added.set_customer_id(id);
      added.set_home_location_id("loc-mad");
      Add("customers", "customer", id, 1, "loc-mad", added, Madrid(2026, 5, 2));
    }
    contracts::v1::ContractStarted started;
    started.set_contract_id("ct-1");
    started.set_customer_id("c-1");
    started.set_plan_id("pl-1");
    started.set_location_id("loc-mad");
    *started.mutable_start_date() = ToDate(absl::CivilDay(2026, 6, 1));
    plan_event_ = Add("contracts", "contract", "ct-1", 1, "loc-mad", started, Madrid(2026, 6, 1));
    june_booking_ = Add("bookings", "booking", "b-1", 1, "loc-mad", Booking("b-1", "c-2"),
                        Madrid(2026, 6, 10));
    Add("bookings", "booking", "b-2", 1, "loc-mad", Booking("b-2", "c-3"), Madrid(2026, 7, 3));
  }

  const std::vector<Published>& events() const { return events_; }
  const std::string& plan_event() const { return plan_event_; }
  const std::string& june_booking() const { return june_booking_; }

  static customers::v1::OperatorCreated Operator(const std::string& id) {
    customers::v1::OperatorCreated e;
    e.set_operator_id(id);
    e.set_name(id);
    return e;
  }
  static customers::v1::LocationCreated Location(const std::string& id) {
    customers::v1::LocationCreated e;
    e.set_location_id(id);
    e.set_name(id);
    e.set_time_zone("Europe/Madrid");
    e.set_currency("EUR");
    return e;
  }
  static bookings::v1::BookingCreated Booking(const std::string& id, const std::string& customer) {
    bookings::v1::BookingCreated e;
    e.set_booking_id(id);
    e.set_resource_id("rs-1");
    e.set_location_id("loc-mad");
    e.set_customer_id(customer);
    return e;
  }

  // Appends one event; returns its event id.
  template <typename Payload>
  std::string Add(const std::string& service, const std::string& type, const std::string& id,
                  int64_t sequence, const std::string& location, const Payload& payload,
                  absl::Time at, const std::string& op = "op-1") {
    Published p{kafka::TopicFor(service),
                eventstore::MakeEnvelope({.service = service, .operator_id = op, .now = at},
                                         type, id, sequence, location, payload),
                std::make_unique<Payload>(payload)};
    std::string event_id = p.envelope.event_id();
    events_.push_back(std::move(p));
    return event_id;
  }

 private:
  std::vector<Published> events_;
  std::string plan_event_, june_booking_;
};

absl::Status ApplyAll(ActiveUsersReplay& replay, const History& history) {
  for (const Published& p : history.events()) {
    if (absl::Status s = replay.Apply(p.topic, p.envelope.SerializeAsString()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(ActiveUsersReplay, AnswersWhatTheBillingServiceAnswers) {
  History history;
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(ApplyAll(**replay, history).ok());
  EXPECT_EQ((*replay)->counts().applied, static_cast<int64_t>(history.events().size()));

  absl::StatusOr<av1::ActiveUsers> june = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(june.ok()) << june.status();
  EXPECT_EQ(june->location_id(), "loc-mad");
  EXPECT_EQ(june->month(), "2026-06");
  ASSERT_EQ(june->count(), 2);
  ASSERT_EQ(june->users_size(), 2);
  EXPECT_EQ(june->users(0).customer_id(), "c-1");
  ASSERT_EQ(june->users(0).reasons_size(), 1);
  EXPECT_EQ(june->users(0).reasons(0).criterion(), av1::ACTIVE_PLAN);
  EXPECT_EQ(june->users(0).reasons(0).event_ids(0), history.plan_event());
  EXPECT_EQ(june->users(1).customer_id(), "c-2");
  EXPECT_EQ(june->users(1).reasons(0).criterion(), av1::BOOKING_MADE);
  EXPECT_EQ(june->users(1).reasons(0).event_ids(0), history.june_booking());

  // A billing App fed the way the service's two consumers feed it agrees to the last event id.
  cowork::testing::TempDir dir;
  auto store = eventstore::Store::Open({.path = dir.Sub("store"), .durable = false});
  ASSERT_TRUE(store.ok());
  directory::Directory directory(**store);
  auth::TokenVerifier verifier({});
  billing::app::App app(**store, directory, RealClock::Get(), verifier);
  for (const Published& p : history.events()) {
    eventstore::WriteSet writes;
    if (p.topic == kafka::TopicFor("customers")) {
      ASSERT_TRUE(directory.Apply(p.envelope, *p.payload, writes).ok());
      ASSERT_TRUE((*store)->Commit(std::move(writes)).ok());
      writes = eventstore::WriteSet();
    }
    ASSERT_TRUE(app.activity().Apply(p.envelope, *p.payload, writes).ok());
    ASSERT_TRUE((*store)->Commit(std::move(writes)).ok());
  }
  auth::Principal admin;
  admin.role = auth::Role::kAdmin;
  admin.operator_id = "op-1";
  admin.locations = {"*"};
  admin.permissions.insert(std::string(auth::kPlatformInvoices));
  for (const char* month : {"2026-05", "2026-06", "2026-07"}) {
    av1::GetActiveUsersRequest request;
    request.set_location_id("loc-mad");
    request.set_month(month);
    absl::StatusOr<av1::ActiveUsers> service = app.GetActiveUsers(admin, request);
    absl::StatusOr<av1::ActiveUsers> replayed = (*replay)->Get("loc-mad", month);
    ASSERT_TRUE(service.ok() && replayed.ok()) << service.status() << replayed.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*service, *replayed))
        << month << "\nservice: " << service->ShortDebugString()
        << "\nreplay:  " << replayed->ShortDebugString();
  }
}

TEST(ActiveUsersReplay, EachEventAppliesOnce) {
  History history;
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(ApplyAll(**replay, history).ok());
  ASSERT_TRUE(ApplyAll(**replay, history).ok());  // every message again, as after a republish
  EXPECT_EQ((*replay)->counts().duplicates, static_cast<int64_t>(history.events().size()));
  absl::StatusOr<av1::ActiveUsers> june = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(june.ok()) << june.status();
  EXPECT_EQ(june->count(), 2);
  EXPECT_EQ(june->users(1).reasons(0).event_ids_size(), 1);
}

// An invoice dated June 30th but recorded on July 3rd counts for June until billing closes June
// with counted_until July 1st 00:15; from the MonthClosed on cowork.billing.events on, the
// replay counts June as the service does.
TEST(ActiveUsersReplay, AClosedMonthCountsWhatWasRecordedBeforeItsClose) {
  History history;
  contracts::v1::InvoiceIssued late;
  late.set_invoice_id("in-1");
  late.set_location_id("loc-mad");
  late.set_customer_id("c-3");
  late.set_number(1);
  *late.mutable_issue_date() = ToDate(absl::CivilDay(2026, 6, 30));
  history.Add("contracts", "invoice_book", "loc-mad", 1, "loc-mad", late, Madrid(2026, 7, 3));
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(ApplyAll(**replay, history).ok());
  absl::StatusOr<av1::ActiveUsers> open = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->count(), 3);
  EXPECT_FALSE(open->closed());

  av1::MonthClosed closed;
  closed.set_location_id("loc-mad");
  closed.set_month("2026-06");
  closed.set_active_users(2);
  *closed.mutable_counted_until() = ToTimestamp(Madrid(2026, 7, 1, 0) + absl::Minutes(15));
  History billing;
  billing.Add("billing", "account", "op-1", 1, "", closed, Madrid(2026, 7, 1, 1));
  ASSERT_TRUE((*replay)->Apply(billing.events().back().topic,
                               billing.events().back().envelope.SerializeAsString())
                  .ok());
  absl::StatusOr<av1::ActiveUsers> june = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(june.ok()) << june.status();
  EXPECT_EQ(june->count(), 2);
  EXPECT_TRUE(june->closed());
  EXPECT_EQ(FromTimestamp(june->counted_until()), Madrid(2026, 7, 1, 0) + absl::Minutes(15));
  ASSERT_EQ(june->users_size(), 2);
  EXPECT_EQ(june->users(1).customer_id(), "c-2");
}

// Every page in one answer: more active users than a page of GetActiveUsers holds.
TEST(ActiveUsersReplay, GivesEveryPage) {
  History history;
  const int extra = eventstore::kMaxPageSize + 7;
  for (int i = 0; i < extra; ++i) {
    const std::string id = absl::StrFormat("c-x%04d", i);
    history.Add("bookings", "booking", "bx-" + id, 1, "loc-mad",
                History::Booking("bx-" + id, id), Madrid(2026, 6, 11));
  }
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(ApplyAll(**replay, history).ok());
  absl::StatusOr<av1::ActiveUsers> june = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(june.ok()) << june.status();
  EXPECT_EQ(june->count(), extra + 2);
  ASSERT_EQ(june->users_size(), extra + 2);
  EXPECT_EQ(june->users(extra + 1).customer_id(), "c-x" + absl::StrFormat("%04d", extra - 1));
  EXPECT_TRUE(june->next_page_token().empty());
}

TEST(ActiveUsersReplay, SkipsWhatIsNotAnEvent) {
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE((*replay)->Apply(kafka::TopicFor("bookings"), "garbage").ok());
  common::v1::EventEnvelope unknown = eventstore::MakeEnvelope(
      {.service = "bookings", .operator_id = "op-1", .now = Madrid(2026, 6, 1)}, "booking", "b-9",
      1, "loc-mad", History::Booking("b-9", "c-1"));
  unknown.mutable_payload()->set_type_url("type.googleapis.com/cowork.future.v1.Unheard");
  ASSERT_TRUE((*replay)->Apply(kafka::TopicFor("bookings"), unknown.SerializeAsString()).ok());
  EXPECT_EQ((*replay)->counts().not_events, 2);
  EXPECT_EQ((*replay)->counts().applied, 0);
}

TEST(ActiveUsersReplay, AsksAsTheOperatorOfTheLocation) {
  History history;
  history.Add("customers", "operator", "op-2", 1, "", History::Operator("op-2"),
              Madrid(2026, 5, 1), "op-2");
  history.Add("customers", "location", "loc-bcn", 1, "", History::Location("loc-bcn"),
              Madrid(2026, 5, 1), "op-2");
  customers::v1::CustomerAdded added;
  added.set_customer_id("c-9");
  added.set_home_location_id("loc-bcn");
  history.Add("customers", "customer", "c-9", 1, "loc-bcn", added, Madrid(2026, 5, 2), "op-2");
  bookings::v1::BookingCreated booking = History::Booking("b-9", "c-9");
  booking.set_location_id("loc-bcn");
  history.Add("bookings", "booking", "b-9", 1, "loc-bcn", booking, Madrid(2026, 6, 5), "op-2");
  auto replay = ActiveUsersReplay::Create();
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(ApplyAll(**replay, history).ok());

  absl::StatusOr<av1::ActiveUsers> barcelona = (*replay)->Get("loc-bcn", "2026-06");
  ASSERT_TRUE(barcelona.ok()) << barcelona.status();
  ASSERT_EQ(barcelona->count(), 1);
  EXPECT_EQ(barcelona->users(0).customer_id(), "c-9");
  absl::StatusOr<av1::ActiveUsers> madrid = (*replay)->Get("loc-mad", "2026-06");
  ASSERT_TRUE(madrid.ok()) << madrid.status();
  EXPECT_EQ(madrid->count(), 2);
  EXPECT_TRUE(absl::IsNotFound((*replay)->Get("loc-nowhere", "2026-06").status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*replay)->Get("loc-mad", "June").status()));
}

TEST(ActiveUsersReplay, DeletesItsStoreAtTheEnd) {
  cowork::testing::TempDir parent;
  std::string dir;
  {
    auto replay = ActiveUsersReplay::Create(parent.path());
    ASSERT_TRUE(replay.ok()) << replay.status();
    dir = (*replay)->dir();
    EXPECT_TRUE(dir.starts_with(parent.path() + "/cowork-replay."));
    ASSERT_TRUE(ApplyAll(**replay, History()).ok());
    EXPECT_TRUE(std::filesystem::exists(dir));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(ActiveUsersReplay::Create(parent.Sub("missing")).ok());
}

}  // namespace
}  // namespace cowork::replay
