#include "services/contracts/domain/contract.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"

namespace cowork::contracts::domain {
namespace {

using ::testing::ElementsAre;

const absl::CivilDay kToday(2026, 5, 20);
const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 5, 20, 9, 0, 0),
                                        absl::UTCTimeZone());

PlanState Plan() {
  PlanState p;
  p.set_operator_id("op-1");
  p.set_plan_id("pl-1");
  p.set_location_id("loc-1");
  p.set_price_minor(15000);
  p.set_currency("EUR");
  p.set_cycle(v1::MONTHLY);
  p.set_booking_credit_minutes(240);
  return p;
}

const PlanState kPlan = Plan();

SignContract Sign(const google::type::Date* start = nullptr,
                  const google::type::Date* end = nullptr) {
  return {.contract_id = "ct-1",
          .customer_id = "c-1",
          .customer = {.known = true},
          .plan = &kPlan,
          .start_date = start,
          .end_date = end,
          .today = kToday};
}

std::vector<Event::PayloadCase> Kinds(const Events& events) {
  std::vector<Event::PayloadCase> out;
  for (const Event& e : events) out.push_back(e.payload_case());
  return out;
}

ContractState Fold(ContractState s, const Events& events) {
  for (const Event& e : events) s = Apply(std::move(s), e);
  return s;
}

TEST(ContractDecide, StartingTodayStartsAtOnce) {
  absl::StatusOr<Events> events = Decide(ContractState{}, Sign(), kNow);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_THAT(Kinds(*events), ElementsAre(Event::kContractSigned, Event::kContractStarted));
  const ContractState s = Fold({}, *events);
  EXPECT_EQ(s.phase(), ContractState::ACTIVE);
  EXPECT_EQ(FromDate(s.start_date()), kToday);
  EXPECT_EQ(s.price_minor(), 15000);  // the plan's price when signed
  // Open-ended: next due when the first monthly period is over (invoiced in arrears).
  EXPECT_EQ(NextBoundary(s), absl::CivilDay(kToday.year(), kToday.month() + 1, kToday.day()));
}

TEST(ContractDecide, FutureStartIsPendingUntilTheDayComes) {
  const google::type::Date start = ToDate(kToday + 10);
  const ContractState s = Fold({}, *Decide(ContractState{}, Sign(&start), kNow));
  EXPECT_EQ(s.phase(), ContractState::PENDING);
  EXPECT_EQ(NextBoundary(s), kToday + 10);
  EXPECT_TRUE(Decide(s, TickContract{kToday + 9}, kNow)->empty());
  const Events started = *Decide(s, TickContract{kToday + 10}, kNow);
  EXPECT_THAT(Kinds(started), ElementsAre(Event::kContractStarted));
  EXPECT_EQ(Fold(s, started).phase(), ContractState::ACTIVE);
}

TEST(ContractDecide, EndDateHoldsThroughThatDayThenEnds) {
  const google::type::Date end = ToDate(kToday + 5);
  const ContractState s = Fold({}, *Decide(ContractState{}, Sign(nullptr, &end), kNow));
  EXPECT_EQ(s.phase(), ContractState::ENDING);
  EXPECT_EQ(NextBoundary(s), kToday + 6);
  EXPECT_TRUE(Decide(s, TickContract{kToday + 5}, kNow)->empty());  // still held on its last day
  const Events ended = *Decide(s, TickContract{kToday + 6}, kNow);
  ASSERT_THAT(Kinds(ended), ElementsAre(Event::kContractEnded));
  EXPECT_TRUE(ended[0].contract_ended().started());
  ContractState after = Fold(s, ended);
  EXPECT_EQ(after.phase(), ContractState::ENDED);
  // Its one (short) billing period is due the day after the end, then nothing is.
  const std::vector<DuePeriod> due = DuePeriods(after, kToday + 6);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].period.first, kToday);
  EXPECT_EQ(due[0].period.last, kToday + 5);
  EXPECT_TRUE(due[0].prorated);
  after = Apply(std::move(after), PeriodClosed(after, due[0], "in-1"));
  EXPECT_FALSE(NextBoundary(after).has_value());
}

TEST(ContractDecide, AnOutageAcrossBothBoundariesRecordsStartThenEnd) {
  const google::type::Date start = ToDate(kToday + 1);
  const google::type::Date end = ToDate(kToday + 3);
  const ContractState s = Fold({}, *Decide(ContractState{}, Sign(&start, &end), kNow));
  EXPECT_THAT(Kinds(*Decide(s, TickContract{kToday + 30}, kNow)),
              ElementsAre(Event::kContractStarted, Event::kContractEnded));
}

TEST(ContractDecide, BackdatedStartIsAllowedEndInThePastIsNot) {
  const google::type::Date start = ToDate(kToday - 40);
  EXPECT_THAT(Kinds(*Decide(ContractState{}, Sign(&start), kNow)),
              ElementsAre(Event::kContractSigned, Event::kContractStarted));
  const google::type::Date end = ToDate(kToday - 1);
  absl::StatusOr<Events> refused = Decide(ContractState{}, Sign(&start, &end), kNow);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(refused.status()).at(0).field, "end_date");
}

TEST(ContractDecide, BadDatesAreNamed) {
  google::type::Date bad;
  bad.set_year(2026);
  bad.set_month(2);
  bad.set_day(30);
  const google::type::Date before = ToDate(kToday + 1);
  const google::type::Date start = ToDate(kToday + 5);
  absl::StatusOr<Events> r1 = Decide(ContractState{}, Sign(&bad, &bad), kNow);
  ASSERT_EQ(r1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(r1.status()).size(), 2u);
  absl::StatusOr<Events> r2 = Decide(ContractState{}, Sign(&start, &before), kNow);
  ASSERT_EQ(r2.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(r2.status()).at(0).field, "end_date");
}

TEST(ContractDecide, UnknownSuspendedAndErasedCustomersAreRefused) {
  SignContract s = Sign();
  s.customer = {.known = false};
  EXPECT_EQ(Decide(ContractState{}, s, kNow).status().code(), absl::StatusCode::kNotFound);
  s.customer = {.known = true, .suspended = true};
  EXPECT_EQ(Decide(ContractState{}, s, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s.customer = {.known = true, .erased = true};
  EXPECT_EQ(Decide(ContractState{}, s, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ContractDecide, CancelSetsTheEndDateDefaultToday) {
  const ContractState active = Fold({}, *Decide(ContractState{}, Sign(), kNow));
  absl::StatusOr<Events> cancelled = Decide(active, CancelContract{.today = kToday}, kNow);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_THAT(Kinds(*cancelled), ElementsAre(Event::kContractCancelled));
  const ContractState ending = Fold(active, *cancelled);
  EXPECT_EQ(ending.phase(), ContractState::ENDING);
  EXPECT_EQ(FromDate(ending.end_date()), kToday);
  EXPECT_THAT(Kinds(*Decide(ending, TickContract{kToday + 1}, kNow)),
              ElementsAre(Event::kContractEnded));
  // An end date in the past is refused; moving it later is fine while it is ending.
  const google::type::Date yesterday = ToDate(kToday - 1);
  EXPECT_EQ(Decide(active, CancelContract{.end_date = &yesterday, .today = kToday}, kNow)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  const google::type::Date later = ToDate(kToday + 30);
  const CancelContract later_end{.end_date = &later, .today = kToday};
  EXPECT_EQ(FromDate(Fold(ending, *Decide(ending, later_end, kNow)).end_date()),
            kToday + 30);
}

TEST(ContractDecide, PendingCancelledBeforeItsStartEndsWithoutStarting) {
  const google::type::Date start = ToDate(kToday + 10);
  const ContractState pending = Fold({}, *Decide(ContractState{}, Sign(&start), kNow));
  absl::StatusOr<Events> cancelled = Decide(pending, CancelContract{.today = kToday}, kNow);
  ASSERT_THAT(Kinds(*cancelled), ElementsAre(Event::kContractCancelled, Event::kContractEnded));
  EXPECT_FALSE((*cancelled)[1].contract_ended().started());
  const ContractState ended = Fold(pending, *cancelled);
  EXPECT_EQ(ended.phase(), ContractState::ENDED);
  EXPECT_TRUE(Decide(ended, TickContract{kToday + 20}, kNow)->empty());  // never starts afterwards
}

TEST(ContractDecide, EndedContractsCannotBeCancelled) {
  const google::type::Date end = ToDate(kToday);
  ContractState s = Fold({}, *Decide(ContractState{}, Sign(nullptr, &end), kNow));
  s = Fold(s, *Decide(s, TickContract{kToday + 1}, kNow));
  ASSERT_EQ(s.phase(), ContractState::ENDED);
  EXPECT_EQ(Decide(s, CancelContract{.today = kToday + 1}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cowork::contracts::domain
