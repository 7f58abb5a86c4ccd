// The bookings application layer over a real Store (RocksDB in a temp dir), a simulated
// clock, a directory fed with customers events and plan credit fed with contracts events, as
// the consumers would feed them.

#include "services/bookings/app/app.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "libs/testing/process.h"
#include "services/bookings/projection/projection.h"

namespace cowork::bookings::app {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kOp[] = "op-1";  // AppTest's operator

auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}
auth::Principal Customer(std::string id) { return cowork::testing::CustomerOf(kOp, std::move(id)); }

absl::TimeZone Madrid() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return tz;
}

// A Madrid local time.
absl::Time Local(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Madrid());
}

std::vector<std::string> FieldsOf(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(s)) out.push_back(v.field);
  return out;
}

class BookingsAppTest : public cowork::testing::AppTest<App> {
 protected:
  // 2026-06-01 08:00 in Madrid.
  BookingsAppTest() : AppTest(Local(2026, 6, 1, 8, 0)) {}

  // A contracts event as the contracts consumer applies it.
  void FeedContract(const google::protobuf::Message& payload) {
    const common::v1::EventEnvelope envelope = eventstore::MakeEnvelope(
        {.service = "contracts", .operator_id = kOp, .now = clock_.Now()}, "contract", "ct",
        1, "loc-mad", payload);
    eventstore::WriteSet writes;
    ASSERT_TRUE(projection::OnContractEvent(*store_, envelope, payload, writes).ok());
    ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  }

  void SignPlan(const std::string& contract, const std::string& customer, int64_t minutes,
                absl::CivilDay start = absl::CivilDay(2026, 5, 20)) {
    contracts::v1::ContractSigned e;
    e.set_contract_id(contract);
    e.set_customer_id(customer);
    e.set_location_id("loc-mad");
    *e.mutable_start_date() = ToDate(start);
    e.set_booking_credit_minutes(minutes);
    FeedContract(e);
  }

  v1::Resource MakeResource(int capacity = 1, int64_t price = 2000, bool portal = true,
                            const std::string& location = "loc-mad") {
    v1::CreateResourceRequest r;
    r.set_location_id(location);
    r.mutable_spec()->set_name("Room " + std::to_string(++resources_));
    r.mutable_spec()->set_kind(v1::MEETING_ROOM);
    r.mutable_spec()->set_capacity(capacity);
    r.mutable_spec()->set_hourly_price_minor(price);
    r.mutable_spec()->set_portal_bookable(portal);
    absl::StatusOr<v1::Resource> out = app_.CreateResource(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.value_or(v1::Resource());
  }

  absl::StatusOr<v1::Booking> Book(const std::string& resource, const std::string& customer,
                                   absl::Time start, absl::Time end,
                                   const auth::Principal& as = Admin()) {
    v1::CreateBookingRequest r;
    r.set_resource_id(resource);
    r.set_customer_id(customer);
    *r.mutable_start_time() = ToTimestamp(start);
    *r.mutable_end_time() = ToTimestamp(end);
    return app_.CreateBooking(as, r);
  }

  absl::StatusOr<v1::Booking> Cancel(const std::string& booking,
                                     const auth::Principal& as = Admin()) {
    v1::CancelBookingRequest r;
    r.set_booking_id(booking);
    return app_.CancelBooking(as, r);
  }

  v1::CreditBalance Credit(const std::string& customer) {
    v1::GetCreditRequest r;
    r.set_customer_id(customer);
    r.set_location_id("loc-mad");
    absl::StatusOr<v1::CreditBalance> out = app_.GetCredit(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.value_or(v1::CreditBalance());
  }

  std::vector<std::string> Listed(v1::ListBookingsRequest r, const auth::Principal& as = Admin()) {
    std::vector<std::string> out;
    r.set_page_size(2);  // several pages
    do {
      absl::StatusOr<v1::ListBookingsResponse> page = app_.ListBookings(as, r);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Booking& b : page->bookings()) out.push_back(b.booking_id());
      r.set_page_token(page->next_page_token());
    } while (!r.page_token().empty());
    return out;
  }

  int resources_ = 0;
};

TEST_F(BookingsAppTest, ResourcesAreCreatedListedAndUpdated) {
  const v1::Resource room = MakeResource(1, 2500);
  EXPECT_EQ(room.hourly_price().currency(), "EUR");
  EXPECT_EQ(room.min_minutes(), 15);
  MakeResource(8, 0);
  MakeResource(1, 100, true, "loc-nyc");

  v1::ListResourcesRequest list;
  list.set_location_id("loc-mad");
  EXPECT_EQ(app_.ListResources(Admin(), list)->resources_size(), 2);
  EXPECT_EQ(app_.ListResources(Customer("c-1"), list)->resources_size(), 2);

  v1::UpdateResourceRequest update;
  update.set_resource_id(room.resource_id());
  update.mutable_spec()->set_name("Big room");
  update.mutable_spec()->set_kind(v1::MEETING_ROOM);
  update.mutable_spec()->set_capacity(2);
  update.mutable_spec()->set_hourly_price_minor(3000);
  absl::StatusOr<v1::Resource> updated = app_.UpdateResource(Admin(), update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->capacity(), 2);
  v1::GetResourceRequest get;
  get.set_resource_id(room.resource_id());
  EXPECT_EQ(app_.GetResource(Admin(), get)->name(), "Big room");
  EXPECT_EQ(app_.GetResource(Admin({"*"}, "op-2"), get).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(app_.UpdateResource(Admin({"loc-nyc"}), update).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(app_.UpdateResource(Customer("c-1"), update).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(BookingsAppTest, BadInputNamesEveryFieldAndChangesNothing) {
  v1::CreateResourceRequest r;
  r.set_location_id("loc-mad");
  r.mutable_spec()->set_capacity(-1);
  r.mutable_spec()->set_hourly_price_minor(-5);
  EXPECT_THAT(FieldsOf(app_.CreateResource(Admin(), r).status()),
              UnorderedElementsAre("spec.name", "spec.kind", "spec.capacity",
                                   "spec.hourly_price_minor"));
  r.set_location_id("loc-unknown");
  r.mutable_spec()->set_name("x");
  r.mutable_spec()->set_kind(v1::HOT_DESK);
  r.mutable_spec()->set_capacity(1);
  r.mutable_spec()->set_hourly_price_minor(0);
  EXPECT_EQ(app_.CreateResource(Admin(), r).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(EventTypes().empty());

  const v1::Resource room = MakeResource();
  const size_t events = EventTypes().size();
  EXPECT_THAT(FieldsOf(Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10, 7),
                            Local(2026, 6, 1, 9, 0))
                           .status()),
              ElementsAre("start_time", "end_time"));
  EXPECT_THAT(FieldsOf(Book(room.resource_id(), "bad/id", Local(2026, 6, 1, 10),
                            Local(2026, 6, 1, 11))
                           .status()),
              ElementsAre("customer_id"));
  EXPECT_EQ(Book("rs-unknown", "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Book(room.resource_id(), "c-unknown", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  v1::GetAvailabilityRequest a;
  a.set_resource_id(room.resource_id());
  *a.mutable_from() = ToTimestamp(Local(2026, 6, 1, 0));
  *a.mutable_to() = ToTimestamp(Local(2026, 8, 1, 0));
  EXPECT_THAT(FieldsOf(app_.GetAvailability(Admin(), a).status()), ElementsAre("to"));
  // Timestamps out of their range are refused, not clamped.
  a.mutable_from()->set_seconds(int64_t{1} << 50);
  a.mutable_to()->set_nanos(-3);
  EXPECT_THAT(FieldsOf(app_.GetAvailability(Admin(), a).status()), ElementsAre("from", "to"));
  v1::CreateBookingRequest wild;
  wild.set_resource_id(room.resource_id());
  wild.set_customer_id("c-1");
  wild.mutable_start_time()->set_seconds(int64_t{1} << 50);
  wild.mutable_end_time()->set_nanos(2'000'000'000);
  EXPECT_THAT(FieldsOf(app_.CreateBooking(Admin(), wild).status()),
              ElementsAre("start_time", "end_time"));
  // Beyond the horizon.
  EXPECT_THAT(FieldsOf(Book(room.resource_id(), "c-1", Local(2030, 6, 1, 10),
                            Local(2030, 6, 1, 11))
                           .status()),
              ElementsAre("start_time"));
  v1::GrantCreditRequest g;
  g.set_customer_id("c-1");
  g.set_location_id("loc-mad");
  g.set_minutes(0);
  EXPECT_THAT(FieldsOf(app_.GrantCredit(Admin(), g).status()), ElementsAre("minutes"));
  EXPECT_EQ(EventTypes().size(), events);
}

TEST_F(BookingsAppTest, CapacityOneIsNeverDoubleBookedAndBackToBackIsFine) {
  const v1::Resource room = MakeResource();
  absl::StatusOr<v1::Booking> first =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), v1::CONFIRMED);
  EXPECT_EQ(FromTimestamp(first->create_time()), clock_.Now());
  EXPECT_EQ(Book(room.resource_id(), "c-2", Local(2026, 6, 1, 10, 45), Local(2026, 6, 1, 11, 15))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Book(room.resource_id(), "c-2", Local(2026, 6, 1, 11), Local(2026, 6, 1, 12)).ok());
  EXPECT_TRUE(Book(room.resource_id(), "c-3", Local(2026, 6, 1, 9), Local(2026, 6, 1, 10)).ok());
  // Cancelling frees the place.
  ASSERT_TRUE(Cancel(first->booking_id()).ok());
  EXPECT_TRUE(Book(room.resource_id(), "c-3", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11)).ok());
  EXPECT_EQ(Cancel(first->booking_id()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BookingsAppTest, CapacityNHoldsExactlyNAlsoAcrossMidnight) {
  const v1::Resource desks = MakeResource(3, 0);
  // A booking over midnight UTC lives in two schedule days; it still counts in both.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Book(desks.resource_id(), "c-1", Local(2026, 6, 1, 23), Local(2026, 6, 2, 4)).ok());
  }
  EXPECT_EQ(Book(desks.resource_id(), "c-2", Local(2026, 6, 2, 3), Local(2026, 6, 2, 5))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Book(desks.resource_id(), "c-2", Local(2026, 6, 2, 4), Local(2026, 6, 2, 5)).ok());

  v1::GetAvailabilityRequest a;
  a.set_resource_id(desks.resource_id());
  *a.mutable_from() = ToTimestamp(Local(2026, 6, 1, 22));
  *a.mutable_to() = ToTimestamp(Local(2026, 6, 2, 6));
  absl::StatusOr<v1::GetAvailabilityResponse> availability = app_.GetAvailability(
      Customer("c-3"), a);
  ASSERT_TRUE(availability.ok()) << availability.status();
  ASSERT_EQ(availability->resources_size(), 1);
  const v1::ResourceAvailability& r = availability->resources(0);
  EXPECT_EQ(r.capacity(), 3);
  ASSERT_EQ(r.busy_size(), 2);
  EXPECT_EQ(FromTimestamp(r.busy(0).start_time()), Local(2026, 6, 1, 23));
  EXPECT_EQ(FromTimestamp(r.busy(0).end_time()), Local(2026, 6, 2, 4));
  EXPECT_EQ(r.busy(0).taken(), 3);
  EXPECT_EQ(r.busy(1).taken(), 1);
}

TEST_F(BookingsAppTest, RacingBookingsForOneSlotLeaveExactlyCapacityWinners) {
  for (int capacity : {1, 3}) {
    const v1::Resource room = MakeResource(capacity, 0);
    std::atomic<int> won{0}, lost{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 12; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<v1::Booking> b = Book(room.resource_id(), t % 2 ? "c-1" : "c-2",
                                             Local(2026, 6, 3, 10), Local(2026, 6, 3, 11));
        if (b.ok()) {
          ++won;
        } else if (b.status().code() == absl::StatusCode::kFailedPrecondition ||
                   b.status().code() == absl::StatusCode::kAborted) {
          ++lost;
        } else {
          ++other;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(won.load(), capacity);
    EXPECT_EQ(lost.load(), 12 - capacity);
    EXPECT_EQ(other.load(), 0);
    v1::ListBookingsRequest list;
    list.set_resource_id(room.resource_id());
    EXPECT_EQ(Listed(list).size(), static_cast<size_t>(capacity));
  }
}

TEST_F(BookingsAppTest, WhoMayBookWhat) {
  const v1::Resource open = MakeResource();
  const v1::Resource closed = MakeResource(1, 2000, /*portal=*/false);
  EXPECT_TRUE(Book(open.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11),
                   Customer("c-1"))
                  .ok());
  EXPECT_EQ(Book(open.resource_id(), "c-2", Local(2026, 6, 1, 12), Local(2026, 6, 1, 13),
                 Customer("c-1"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Book(closed.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11),
                 Customer("c-1"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Book(closed.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11)).ok());
  EXPECT_EQ(Book(open.resource_id(), "c-1", Local(2026, 6, 1, 14), Local(2026, 6, 1, 15),
                 Admin({"loc-nyc"}))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Book(open.resource_id(), "c-1", Local(2026, 6, 1, 14), Local(2026, 6, 1, 15),
                 Admin({"*"}, "op-2"))
                .status()
                .code(),
            absl::StatusCode::kNotFound);

  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  EXPECT_EQ(Book(open.resource_id(), "c-2", Local(2026, 6, 1, 16), Local(2026, 6, 1, 17))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  // Customers see their own bookings only.
  v1::ListBookingsRequest mine;
  mine.set_customer_id("c-1");
  EXPECT_EQ(Listed(mine, Customer("c-1")).size(), 2u);
  EXPECT_EQ(app_.ListBookings(Customer("c-2"), mine).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::ListBookingsRequest by_location;
  by_location.set_location_id("loc-mad");
  EXPECT_EQ(app_.ListBookings(Customer("c-1"), by_location).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(BookingsAppTest, CreditPaysFromEachSourceAndCancellingReturnsIt) {
  const v1::Resource room = MakeResource(1, 2000);
  SignPlan("ct-1", "c-1", 60);  // an hour per monthly period from 20 May
  v1::GrantCreditRequest grant;
  grant.set_customer_id("c-1");
  grant.set_location_id("loc-mad");
  grant.set_minutes(30);
  grant.set_reason("Welcome");
  absl::StatusOr<v1::CreditBalance> granted = app_.GrantCredit(Admin(), grant);
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ(granted->available_minutes(), 90);
  v1::GetCreditRequest unknown;
  unknown.set_customer_id("c-unknown");
  unknown.set_location_id("loc-mad");
  EXPECT_EQ(app_.GetCredit(Admin(), unknown).status().code(), absl::StatusCode::kNotFound);

  // Two hours: 60 from the plan, 30 granted, 30 minutes charged (1000).
  absl::StatusOr<v1::Booking> b =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 12));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->credit_minutes(), 90);
  EXPECT_EQ(b->charge().amount_minor(), 1000);
  EXPECT_EQ(Credit("c-1").available_minutes(), 0);
  ASSERT_EQ(Credit("c-1").plans_size(), 1);
  EXPECT_EQ(Credit("c-1").plans(0).used_minutes(), 60);

  // The next billing period (from 20 June) has its own hour.
  absl::StatusOr<v1::Booking> later =
      Book(room.resource_id(), "c-1", Local(2026, 6, 22, 10), Local(2026, 6, 22, 11));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->charge().amount_minor(), 0);

  ASSERT_TRUE(Cancel(b->booking_id()).ok());
  EXPECT_EQ(Credit("c-1").available_minutes(), 90);
  EXPECT_EQ(Credit("c-1").granted_minutes_left(), 30);

  // A free resource uses no credit.
  const v1::Resource free = MakeResource(1, 0);
  absl::StatusOr<v1::Booking> free_booking =
      Book(free.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 12));
  ASSERT_TRUE(free_booking.ok());
  EXPECT_EQ(free_booking->credit_minutes(), 0);
  EXPECT_EQ(Credit("c-1").available_minutes(), 90);
}

TEST_F(BookingsAppTest, ATeamThatSharesCreditLetsMatesUseIt) {
  const v1::Resource room = MakeResource(1, 2000);
  SignPlan("ct-9", "c-3", 120);
  events::TeamCreated team;
  team.set_team_id("t-1");
  team.set_name("Acme");
  team.set_location_id("loc-mad");
  Feed("team", "t-1", 1, team);
  int64_t sequence = 1;
  for (const char* c : {"c-1", "c-3"}) {
    events::TeamMemberAdded added;
    added.set_team_id("t-1");
    added.set_customer_id(c);
    Feed("team", "t-1", ++sequence, added);
  }
  // Not shared yet: c-1 pays.
  absl::StatusOr<v1::Booking> paid =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 9), Local(2026, 6, 1, 10));
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->charge().amount_minor(), 2000);
  events::TeamSharingChanged sharing;
  sharing.set_team_id("t-1");
  sharing.set_share_booking_credit(true);
  Feed("team", "t-1", 4, sharing);
  EXPECT_EQ(Credit("c-1").team_minutes_left(), 120);
  absl::StatusOr<v1::Booking> shared =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11, 30));
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->credit_minutes(), 90);
  EXPECT_EQ(shared->charge().amount_minor(), 0);
  EXPECT_EQ(Credit("c-3").plans(0).used_minutes(), 90);  // the mate's plan paid
  ASSERT_TRUE(Cancel(shared->booking_id(), Customer("c-1")).ok());
  EXPECT_EQ(Credit("c-3").plans(0).used_minutes(), 0);
}

TEST_F(BookingsAppTest, DayQueriesUseTheLocationsTimeZoneAcrossDst) {
  const v1::Resource room = MakeResource(1, 0);
  clock_.Set(Local(2026, 10, 24, 8));
  // 23:30 on Saturday 24 October to 00:30 on Sunday 25 (the night clocks go back).
  absl::StatusOr<v1::Booking> late =
      Book(room.resource_id(), "c-1", Local(2026, 10, 24, 23, 30), Local(2026, 10, 25, 0, 30));
  ASSERT_TRUE(late.ok()) << late.status();
  // 02:30 on Sunday 25 happens twice; book the first 2:00-3:00 (CEST): 00:00-01:00 UTC.
  const absl::Time first_two =
      absl::FromCivil(absl::CivilSecond(2026, 10, 25, 0, 0, 0), absl::UTCTimeZone());
  absl::StatusOr<v1::Booking> dst =
      Book(room.resource_id(), "c-2", first_two, first_two + absl::Hours(2));
  ASSERT_TRUE(dst.ok()) << dst.status();
  absl::StatusOr<v1::Booking> monday =
      Book(room.resource_id(), "c-3", Local(2026, 10, 26, 0), Local(2026, 10, 26, 1));
  ASSERT_TRUE(monday.ok());

  v1::ListBookingsRequest r;
  r.set_location_id("loc-mad");
  *r.mutable_day() = ToDate(absl::CivilDay(2026, 10, 24));
  EXPECT_THAT(Listed(r), ElementsAre(late->booking_id()));
  *r.mutable_day() = ToDate(absl::CivilDay(2026, 10, 25));
  EXPECT_THAT(Listed(r), ElementsAre(late->booking_id(), dst->booking_id()));
  r.clear_day();
  EXPECT_THAT(Listed(r), ElementsAre(late->booking_id(), dst->booking_id(), monday->booking_id()));
  v1::ListBookingsRequest by_resource;
  by_resource.set_resource_id(room.resource_id());
  *by_resource.mutable_day() = ToDate(absl::CivilDay(2026, 10, 26));
  EXPECT_THAT(Listed(by_resource), ElementsAre(monday->booking_id()));
  v1::ListBookingsRequest by_customer;
  by_customer.set_customer_id("c-1");
  *by_customer.mutable_day() = ToDate(absl::CivilDay(2026, 10, 25));
  EXPECT_THAT(Listed(by_customer), ElementsAre(late->booking_id()));
  *by_customer.mutable_day() = ToDate(absl::CivilDay(2026, 10, 26));
  EXPECT_TRUE(Listed(by_customer).empty());
}

TEST_F(BookingsAppTest, MovingKeepsTheLengthAndNeedsAFreePlace) {
  const v1::Resource room = MakeResource();
  absl::StatusOr<v1::Booking> a =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11));
  absl::StatusOr<v1::Booking> b =
      Book(room.resource_id(), "c-2", Local(2026, 6, 1, 12), Local(2026, 6, 1, 13));
  ASSERT_TRUE(a.ok() && b.ok());
  v1::MoveBookingRequest move;
  move.set_booking_id(a->booking_id());
  *move.mutable_start_time() = ToTimestamp(Local(2026, 6, 1, 11, 30));
  EXPECT_EQ(app_.MoveBooking(Admin(), move).status().code(),
            absl::StatusCode::kFailedPrecondition);
  *move.mutable_start_time() = ToTimestamp(Local(2026, 6, 1, 10, 30));  // overlaps itself only
  absl::StatusOr<v1::Booking> moved = app_.MoveBooking(Customer("c-1"), move);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(FromTimestamp(moved->end_time()), Local(2026, 6, 1, 11, 30));
  EXPECT_TRUE(Book(room.resource_id(), "c-3", Local(2026, 6, 1, 10), Local(2026, 6, 1, 10, 30)).ok());
  EXPECT_EQ(app_.MoveBooking(Customer("c-2"), move).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(EventTypes("schedule"), ::testing::Contains("BookingMoved"));
}

TEST_F(BookingsAppTest, EventsCarryTheChargeAndAConfirmation) {
  const v1::Resource room = MakeResource(1, 2000);
  absl::StatusOr<v1::Booking> b =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 10), Local(2026, 6, 1, 10, 45));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->charge().amount_minor(), 1500);
  ASSERT_TRUE(Cancel(b->booking_id()).ok());
  EXPECT_THAT(EventTypes("schedule"),
              ElementsAre("ResourceCreated", "BookingCreated", "BookingConfirmationRequested",
                          "BookingCancelled"));
}

TEST_F(BookingsAppTest, ARetriedRequestBooksOnce) {
  const v1::Resource room = MakeResource(5, 0);
  v1::CreateBookingRequest r;
  r.set_request_id("req-1");
  r.set_resource_id(room.resource_id());
  r.set_customer_id("c-1");
  *r.mutable_start_time() = ToTimestamp(Local(2026, 6, 1, 10));
  *r.mutable_end_time() = ToTimestamp(Local(2026, 6, 1, 11));
  absl::StatusOr<v1::Booking> first = app_.CreateBooking(Admin(), r);
  absl::StatusOr<v1::Booking> again = app_.CreateBooking(Admin(), r);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->booking_id(), again->booking_id());
  v1::ListBookingsRequest list;
  list.set_resource_id(room.resource_id());
  EXPECT_EQ(Listed(list).size(), 1u);
}

TEST_F(BookingsAppTest, RebuildingTheViewsFromTheLogGivesIdenticalViews) {
  const v1::Resource room = MakeResource(2, 2000);
  SignPlan("ct-1", "c-1", 60);
  absl::StatusOr<v1::Booking> a =
      Book(room.resource_id(), "c-1", Local(2026, 6, 1, 23), Local(2026, 6, 2, 1));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(Book(room.resource_id(), "c-2", Local(2026, 6, 1, 10), Local(2026, 6, 1, 11)).ok());
  v1::MoveBookingRequest move;
  move.set_booking_id(a->booking_id());
  *move.mutable_start_time() = ToTimestamp(Local(2026, 6, 3, 23));
  ASSERT_TRUE(app_.MoveBooking(Admin(), move).ok());
  absl::StatusOr<v1::Booking> c =
      Book(room.resource_id(), "c-3", Local(2026, 6, 4, 10), Local(2026, 6, 4, 11));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(Cancel(c->booking_id()).ok());
  const std::map<std::string, std::string> before = AllViews();
  ASSERT_TRUE(projection::Rebuild(*store_, directory_).ok());
  EXPECT_EQ(AllViews(), before);
}

}  // namespace
}  // namespace cowork::bookings::app
