// Resources, booking times, places, busy stretches, prices and booking credit.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "services/bookings/domain/booking.h"
#include "services/bookings/domain/credit.h"
#include "services/bookings/domain/resource.h"

namespace cowork::bookings::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

absl::Time At(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}
int64_t Unix(int h, int mi) { return absl::ToUnixSeconds(At(2026, 6, 1, h, mi)); }

SlotTaken Slot(const std::string& id, int64_t start, int64_t end) {
  SlotTaken s;
  s.set_booking_id(id);
  s.set_start_unix(start);
  s.set_end_unix(end);
  return s;
}

std::vector<std::string> FieldsOf(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(s)) out.push_back(v.field);
  return out;
}

v1::ResourceSpec Room(int capacity = 1) {
  v1::ResourceSpec spec;
  spec.set_name("Room 1");
  spec.set_kind(v1::MEETING_ROOM);
  spec.set_capacity(capacity);
  spec.set_hourly_price_minor(2000);
  spec.set_portal_bookable(true);
  return spec;
}

TEST(ResourceSettings, DefaultsAndEveryBadField) {
  absl::StatusOr<v1::ResourceSettings> ok = SettingsOf(Room(), "EUR");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->min_minutes(), 15);
  EXPECT_EQ(ok->max_minutes(), 480);
  EXPECT_EQ(ok->hourly_price().currency(), "EUR");

  v1::ResourceSpec bad;
  bad.set_capacity(0);
  bad.set_hourly_price_minor(-1);
  bad.set_min_minutes(20);
  bad.set_max_minutes(7 * 24 * 60 + 15);
  EXPECT_THAT(FieldsOf(SettingsOf(bad, "EUR").status()),
              UnorderedElementsAre("spec.name", "spec.kind", "spec.capacity",
                                   "spec.hourly_price_minor", "spec.min_minutes",
                                   "spec.max_minutes"));
  v1::ResourceSpec inverted = Room();
  inverted.set_min_minutes(120);
  inverted.set_max_minutes(60);
  EXPECT_THAT(FieldsOf(SettingsOf(inverted, "EUR").status()), ElementsAre("spec.max_minutes"));
}

// A resource as created from `spec` at loc-1, priced in EUR.
ResourceState Created(const v1::ResourceSpec& spec) {
  ResourceState r;
  absl::StatusOr<Events> created = Decide(
      r, CreateResource{.resource_id = "rs-1", .location_id = "loc-1", .currency = "EUR",
                        .spec = spec},
      absl::Now());
  for (const Event& e : *created) r = Apply(r, e);
  return r;
}

TEST(ResourceDecide, CreateRefusesEveryBadFieldAndChangesNothing) {
  v1::ResourceSpec bad = Room();
  bad.set_capacity(0);
  absl::StatusOr<Events> refused =
      Decide(ResourceState(), CreateResource{.resource_id = "rs-1", .spec = bad}, absl::Now());
  EXPECT_THAT(FieldsOf(refused.status()), ElementsAre("spec.capacity"));
}

TEST(ResourceDecide, UpdateRecordsOnlyAChange) {
  ResourceState r = Created(Room());
  EXPECT_EQ(r.location_id(), "loc-1");
  EXPECT_TRUE(Decide(r, UpdateResource{Room()}, absl::Now())->empty());
  v1::ResourceSpec bigger = Room(4);
  absl::StatusOr<Events> update = Decide(r, UpdateResource{bigger}, absl::Now());
  ASSERT_EQ(update->size(), 1u);
  r = Apply(r, (*update)[0]);
  EXPECT_EQ(r.settings().capacity(), 4);
  EXPECT_EQ(r.settings().hourly_price().currency(), "EUR");
}

TEST(BookingTimes, QuarterHoursWithinTheResourcesLengthsNotInThePast) {
  const v1::ResourceSettings room = *SettingsOf(Room(), "EUR");
  const absl::Time now = At(2026, 6, 1, 9, 7);
  EXPECT_TRUE(CheckTimes(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 10, 0), room, now).ok())
      << "the current quarter hour may still be booked";
  EXPECT_THAT(FieldsOf(CheckTimes(At(2026, 6, 1, 8, 45), At(2026, 6, 1, 10, 0), room, now)),
              ElementsAre("start_time"));
  EXPECT_THAT(FieldsOf(CheckTimes(At(2026, 6, 1, 10, 1), At(2026, 6, 1, 10, 50), room, now)),
              ElementsAre("start_time", "end_time"));
  EXPECT_THAT(FieldsOf(CheckTimes(At(2026, 6, 1, 11, 0), At(2026, 6, 1, 10, 0), room, now)),
              ElementsAre("end_time"));
  EXPECT_THAT(FieldsOf(CheckTimes(At(2026, 6, 1, 10, 0), At(2026, 6, 1, 18, 15), room, now)),
              ElementsAre("end_time"));  // longer than 8 hours
  EXPECT_THAT(FieldsOf(CheckTimes(std::nullopt, std::nullopt, room, now)),
              ElementsAre("start_time", "end_time"));
}

TEST(BookingTimes, AtMostTwoYearsAhead) {
  const v1::ResourceSettings room = *SettingsOf(Room(), "EUR");
  const absl::Time now = At(2026, 6, 1, 9, 7);
  const absl::Time last = At(2028, 5, 31, 9, 0);  // 730 days later, on a quarter hour
  EXPECT_TRUE(CheckTimes(last, last + absl::Hours(1), room, now).ok());
  const absl::Status too_far =
      CheckTimes(last + absl::Minutes(15), last + absl::Hours(1), room, now);
  EXPECT_THAT(FieldsOf(too_far), ElementsAre("start_time"));
  EXPECT_THAT(std::string(too_far.message()), ::testing::HasSubstr("730 days ahead"));
  // Far beyond: the year 3000 is refused, not stored as the year 2262.
  EXPECT_THAT(FieldsOf(CheckTimes(At(3000, 1, 1, 9, 0), At(3000, 1, 1, 10, 0), room, now)),
              ElementsAre("start_time"));
}

TEST(BookingPlaces, BackToBackFitsAndOneMinuteOfOverlapDoesNot) {
  const std::vector<SlotTaken> held = {Slot("a", Unix(9, 0), Unix(10, 0))};
  EXPECT_TRUE(CheckRoom(held, Unix(10, 0), Unix(11, 0), 1).ok());
  EXPECT_TRUE(CheckRoom(held, Unix(8, 0), Unix(9, 0), 1).ok());
  EXPECT_EQ(CheckRoom(held, Unix(9, 59), Unix(11, 0), 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckRoom(held, Unix(8, 0), Unix(9, 1), 1).code(),
            absl::StatusCode::kFailedPrecondition);
  // A booking does not stand in its own way when it moves.
  EXPECT_TRUE(CheckRoom(held, Unix(9, 30), Unix(10, 30), 1, "a").ok());
}

TEST(BookingPlaces, CapacityNHoldsNAtOnce) {
  const std::vector<SlotTaken> held = {Slot("a", Unix(9, 0), Unix(12, 0)),
                                       Slot("b", Unix(10, 0), Unix(11, 0)),
                                       Slot("c", Unix(11, 0), Unix(12, 0))};
  EXPECT_EQ(PeakHeld(held, Unix(9, 0), Unix(12, 0)), 2);  // b and c never meet
  EXPECT_TRUE(CheckRoom(held, Unix(9, 0), Unix(12, 0), 3).ok());
  EXPECT_FALSE(CheckRoom(held, Unix(10, 30), Unix(11, 30), 2).ok());
  EXPECT_TRUE(CheckRoom(held, Unix(9, 0), Unix(10, 0), 2).ok());
}

TEST(BookingPlaces, BusyStretchesCountWhoHoldsWhen) {
  const std::vector<SlotTaken> held = {Slot("a", Unix(9, 0), Unix(12, 0)),
                                       Slot("b", Unix(10, 0), Unix(11, 0)),
                                       Slot("c", Unix(11, 0), Unix(12, 0))};
  EXPECT_THAT(BusyStretches(held, Unix(8, 0), Unix(13, 0)),
              ElementsAre(Stretch{Unix(9, 0), Unix(10, 0), 1}, Stretch{Unix(10, 0), Unix(12, 0), 2}));
  EXPECT_THAT(BusyStretches(held, Unix(9, 30), Unix(10, 30)),
              ElementsAre(Stretch{Unix(9, 30), Unix(10, 0), 1}, Stretch{Unix(10, 0), Unix(10, 30), 2}));
  EXPECT_TRUE(BusyStretches(held, Unix(12, 0), Unix(13, 0)).empty());
}

TEST(BookingPlaces, ScheduleDaysAreTheUtcDaysTouched) {
  EXPECT_THAT(ScheduleDays(At(2026, 6, 1, 22, 0), At(2026, 6, 2, 0, 0)), ElementsAre("20260601"));
  EXPECT_THAT(ScheduleDays(At(2026, 6, 1, 22, 0), At(2026, 6, 2, 0, 15)),
              ElementsAre("20260601", "20260602"));
}

TEST(BookingPrices, ProratedByMinutesHalfUp) {
  EXPECT_EQ(PriceOf(2000, 60), 2000);
  EXPECT_EQ(PriceOf(2000, 45), 1500);
  EXPECT_EQ(PriceOf(1001, 30), 501);  // 500.5 rounds up
  EXPECT_EQ(PriceOf(0, 120), 0);
}

ContractCredit Contract(const std::string& id, const std::string& customer, int64_t minutes,
                        absl::CivilDay start) {
  ContractCredit c;
  c.set_contract_id(id);
  c.set_customer_id(customer);
  c.set_location_id("loc-1");
  *c.mutable_start_date() = ToDate(start);
  c.set_credit_minutes(minutes);
  return c;
}

TEST(CreditRules, PlanCreditIsPerBillingPeriodOfTheContract) {
  ContractCredit c = Contract("ct-1", "c-1", 240, absl::CivilDay(2026, 1, 31));
  EXPECT_EQ(CreditPeriodOn(c, absl::CivilDay(2026, 3, 1))->first, absl::CivilDay(2026, 2, 28));
  EXPECT_FALSE(CreditPeriodOn(c, absl::CivilDay(2026, 1, 30)).has_value());
  *c.mutable_end_date() = ToDate(absl::CivilDay(2026, 3, 15));
  EXPECT_FALSE(CreditPeriodOn(c, absl::CivilDay(2026, 3, 16)).has_value());
  c.set_never_started(true);
  EXPECT_FALSE(CreditPeriodOn(c, absl::CivilDay(2026, 3, 1)).has_value());
}

TEST(CreditRules, DrawsInOrderAndCancellingGivesItAllBack) {
  const absl::CivilDay day(2026, 6, 10);
  CreditState own;
  Event granted;
  granted.mutable_credit_granted()->set_customer_id("c-1");
  granted.mutable_credit_granted()->set_minutes(60);
  own = Apply(own, granted);
  CreditState mate;

  std::vector<CreditSource> sources =
      PlanSources({Contract("ct-1", "c-1", 60, absl::CivilDay(2026, 6, 1))}, own, day);
  sources.push_back({.owner = "c-1", .source = v1::GRANT, .available = own.granted_left()});
  for (CreditSource& s :
       PlanSources({Contract("ct-9", "c-9", 120, absl::CivilDay(2026, 5, 20))}, mate, day)) {
    sources.push_back(s);
  }
  // 4 hours: 60 of the own plan, 60 granted, 120 of the team mate's plan.
  std::vector<v1::CreditDrawn> draws = Draw(sources, 240, "bk-1", "c-1", "loc-1");
  ASSERT_EQ(draws.size(), 3u);
  EXPECT_EQ(draws[0].source(), v1::PLAN);
  EXPECT_EQ(draws[1].source(), v1::GRANT);
  EXPECT_EQ(draws[2].customer_id(), "c-9");
  EXPECT_EQ(FromDate(draws[2].period_start()), absl::CivilDay(2026, 5, 20));
  // 5 hours: an hour is left to pay.
  int64_t drawn = 0;
  for (const v1::CreditDrawn& d : Draw(sources, 300, "bk-1", "c-1", "loc-1")) drawn += d.minutes();
  EXPECT_EQ(drawn, 240);

  for (const v1::CreditDrawn& d : draws) {
    Event e;
    *e.mutable_credit_drawn() = d;
    (d.customer_id() == "c-1" ? own : mate) = Apply(d.customer_id() == "c-1" ? own : mate, e);
  }
  EXPECT_EQ(own.granted_left(), 0);
  EXPECT_TRUE(PlanSources({Contract("ct-1", "c-1", 60, absl::CivilDay(2026, 6, 1))}, own, day)
                  .empty());
  for (const v1::CreditDrawn& d : draws) {
    Event e;
    *e.mutable_credit_returned() = ReturnOf(d);
    (d.customer_id() == "c-1" ? own : mate) = Apply(d.customer_id() == "c-1" ? own : mate, e);
  }
  EXPECT_EQ(own.granted_left(), 60);
  EXPECT_TRUE(own.plan_used().empty());
  EXPECT_TRUE(mate.plan_used().empty());
}

// ---------------------------------------------------------------- commands

const absl::Time kNow = At(2026, 6, 1, 8, 0);

Place Free(const v1::ResourceSpec& spec = Room()) { return Place{.resource = Created(spec)}; }

CreateBooking Booking(absl::Time start, absl::Time end) {
  return CreateBooking{.booking_id = "bk-1", .customer_id = "c-1", .booked_by = "c-1",
                       .from_portal = true, .start = start, .end = end};
}

template <typename State>
State ApplyAll(State state, const Events& events) {
  for (const Event& e : events) state = Apply(std::move(state), e);
  return state;
}

TEST(BookingDecide, CreatesTheBookingItsSlotsAndAConfirmation) {
  // 23:00 to 01:00 UTC: two schedule days.
  absl::StatusOr<BookingEvents> made =
      Decide(Free(), Booking(At(2026, 6, 1, 23, 0), At(2026, 6, 2, 1, 0)), kNow);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->booking_id, "bk-1");
  EXPECT_EQ(made->location_id, "loc-1");
  ASSERT_EQ(made->booking.size(), 2u);
  const v1::BookingCreated& b = made->booking[0].booking_created();
  EXPECT_EQ(b.resource_name(), "Room 1");
  EXPECT_EQ(b.charge().amount_minor(), 4000);  // two hours at 20.00, no credit
  EXPECT_EQ(b.charge().currency(), "EUR");
  EXPECT_EQ(b.booked_by(), "c-1");
  EXPECT_TRUE(made->booking[1].has_booking_confirmation_requested());
  ASSERT_EQ(made->schedules.size(), 2u);
  EXPECT_EQ(made->schedules["20260602"][0].slot_taken().booking_id(), "bk-1");
  EXPECT_TRUE(made->credit.empty());
}

TEST(BookingDecide, FromThePortalOnlyPortalBookableResources) {
  v1::ResourceSpec office = Room();
  office.set_portal_bookable(false);
  CreateBooking create = Booking(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 10, 0));
  EXPECT_EQ(Decide(Free(office), create, kNow).status().code(),
            absl::StatusCode::kPermissionDenied);
  create.from_portal = false;  // an admin books it for the customer
  EXPECT_TRUE(Decide(Free(office), create, kNow).ok());
}

TEST(BookingDecide, ASuspendedCustomerCannotBook) {
  CreateBooking create = Booking(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 10, 0));
  create.customer_suspended = true;
  EXPECT_EQ(Decide(Free(), create, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(BookingDecide, BadTimesNameTheirFields) {
  EXPECT_THAT(FieldsOf(Decide(Free(), Booking(At(2026, 6, 1, 9, 5), At(2026, 6, 1, 9, 0)), kNow)
                           .status()),
              ElementsAre("start_time", "end_time"));
  EXPECT_THAT(FieldsOf(Decide(Free(), CreateBooking{.booking_id = "bk-1"}, kNow).status()),
              ElementsAre("start_time", "end_time"));
}

TEST(BookingDecide, AFullResourceIsRefusedAndBackToBackIsFine) {
  Place place = Free();
  place.slots = {Slot("bk-0", Unix(9, 0), Unix(10, 0))};
  EXPECT_EQ(Decide(place, Booking(At(2026, 6, 1, 9, 45), At(2026, 6, 1, 10, 45)), kNow)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Decide(place, Booking(At(2026, 6, 1, 10, 0), At(2026, 6, 1, 11, 0)), kNow).ok());
}

TEST(BookingDecide, CreditPaysFirstTheRestIsChargedAndAFreeResourceUsesNone) {
  CreateBooking create = Booking(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 11, 0));
  create.credit = {{.owner = "c-1", .source = v1::GRANT, .available = 30},
                   {.owner = "c-9", .source = v1::PLAN, .contract_id = "ct-9",
                    .period_start = absl::CivilDay(2026, 5, 20), .available = 60}};
  absl::StatusOr<BookingEvents> made = Decide(Free(), create, kNow);
  ASSERT_TRUE(made.ok()) << made.status();
  const v1::BookingCreated& b = made->booking[0].booking_created();
  EXPECT_EQ(b.credit_minutes(), 90);
  EXPECT_EQ(b.charge().amount_minor(), 1000);  // 30 minutes at 20.00 an hour
  ASSERT_EQ(b.draws_size(), 2);
  EXPECT_EQ(made->credit["c-1"][0].credit_drawn().minutes(), 30);
  EXPECT_EQ(made->credit["c-9"][0].credit_drawn().minutes(), 60);
  EXPECT_EQ(made->credit["c-9"][0].credit_drawn().for_customer_id(), "c-1");

  v1::ResourceSpec free_desk = Room();
  free_desk.set_hourly_price_minor(0);
  absl::StatusOr<BookingEvents> free = Decide(Free(free_desk), create, kNow);
  ASSERT_TRUE(free.ok()) << free.status();
  EXPECT_EQ(free->booking[0].booking_created().credit_minutes(), 0);
  EXPECT_TRUE(free->credit.empty());
}

TEST(BookingDecide, CancellingFreesTheSlotsAndReturnsEveryMinuteOnlyOnceAndNotWhenOver) {
  CreateBooking create = Booking(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 10, 0));
  create.credit = {{.owner = "c-9", .source = v1::GRANT, .available = 45}};
  const BookingState booking = ApplyAll(BookingState(), Decide(Free(), create, kNow)->booking);
  absl::StatusOr<BookingEvents> cancel = Decide(booking, CancelBooking{}, kNow);
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  EXPECT_TRUE(cancel->booking[0].has_booking_cancelled());
  EXPECT_EQ(cancel->schedules["20260601"][0].slot_freed().booking_id(), "bk-1");
  EXPECT_EQ(cancel->credit["c-9"][0].credit_returned().minutes(), 45);

  const BookingState cancelled = ApplyAll(booking, cancel->booking);
  EXPECT_EQ(Decide(cancelled, CancelBooking{}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(booking, CancelBooking{}, At(2026, 6, 1, 10, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // over
}

TEST(BookingDecide, MovingKeepsTheLengthNeedsAFreePlaceAndNotOnceStarted) {
  const BookingState booking = ApplyAll(
      BookingState(),
      Decide(Free(), Booking(At(2026, 6, 1, 9, 0), At(2026, 6, 1, 10, 30)), kNow)->booking);
  Place place = Free();
  place.slots = {Slot("bk-1", Unix(9, 0), Unix(10, 30)), Slot("bk-0", Unix(14, 0), Unix(15, 0))};
  absl::StatusOr<BookingEvents> moved =
      Decide(booking, place, MoveBooking{At(2026, 6, 2, 9, 0)}, kNow);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(FromTimestamp(moved->booking[0].booking_moved().end_time()), At(2026, 6, 2, 10, 30));
  EXPECT_TRUE(moved->schedules["20260601"][0].has_slot_freed());
  EXPECT_TRUE(moved->schedules["20260602"][0].has_slot_taken());
  EXPECT_TRUE(moved->booking[1].has_booking_confirmation_requested());
  // Into its own old place: it does not stand in its own way; onto another booking: full.
  EXPECT_TRUE(Decide(booking, place, MoveBooking{At(2026, 6, 1, 9, 30)}, kNow).ok());
  EXPECT_EQ(Decide(booking, place, MoveBooking{At(2026, 6, 1, 13, 30)}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(FieldsOf(Decide(booking, place, MoveBooking{}, kNow).status()),
              ElementsAre("start_time"));
  EXPECT_EQ(Decide(booking, place, MoveBooking{At(2026, 6, 2, 9, 0)}, At(2026, 6, 1, 9, 0))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);  // started
}

TEST(CreditDecide, AGrantNamesEveryBadFieldAndAddsToWhatIsLeft) {
  absl::StatusOr<Events> bad = Decide(
      CreditState(), GrantCredit{.minutes = 0, .reason = std::string(501, 'x')}, kNow);
  EXPECT_THAT(FieldsOf(bad.status()), ElementsAre("minutes", "reason"));
  GrantCredit grant{.customer_id = "c-1", .location_id = "loc-1", .minutes = 90,
                    .reason = "  welcome  "};
  absl::StatusOr<Events> granted = Decide(CreditState(), grant, kNow);
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ((*granted)[0].credit_granted().reason(), "welcome");
  const CreditState once = ApplyAll(CreditState(), *granted);
  EXPECT_EQ(ApplyAll(once, *Decide(once, grant, kNow)).granted_left(), 180);
}

}  // namespace
}  // namespace cowork::bookings::domain
