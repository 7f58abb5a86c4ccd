// Check-in, check-out, moving between locations, refusals and automatic check-out times.

#include "services/checkins/domain/presence.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"

namespace cowork::checkins::domain {
namespace {

absl::TimeZone Madrid() {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &tz));
  return tz;
}
absl::Time Local(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Madrid());
}

CheckIn At(const std::string& location, const PolicyState* policy = nullptr) {
  return {.checkin_id = "ci-" + location,
          .customer_id = "c-1",
          .location_id = location,
          .method = v1::QR_CODE,
          .recorded_by = "c-1",
          .policy = policy,
          .tz = Madrid()};
}

PresenceState Applied(PresenceState s, const Events& events) {
  for (const Event& e : events) s = Apply(std::move(s), e);
  return s;
}

PolicyState Policy(const std::string& closing, int max_hours) {
  PolicyState p;
  const Events set =
      *Decide(PolicyState(), SetCheckoutPolicy{"loc-1", closing, max_hours}, absl::Now());
  for (const Event& e : set) p = Apply(p, e);
  return p;
}

TEST(PresenceDecide, InThenOutAndNotTwiceInOnePlace) {
  PresenceState s;
  absl::StatusOr<Events> in = Decide(s, At("loc-1"), Local(2026, 6, 1, 9));
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->size(), 1u);
  s = Applied(s, *in);
  EXPECT_EQ(s.current().location_id(), "loc-1");
  EXPECT_EQ(Decide(s, At("loc-1"), Local(2026, 6, 1, 10)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<Events> out = Decide(s, CheckOut{}, Local(2026, 6, 1, 17));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].checked_out().reason(), v1::LEFT);
  EXPECT_EQ(FromTimestamp((*out)[0].checked_out().in_time()), Local(2026, 6, 1, 9));
  s = Applied(s, *out);
  EXPECT_FALSE(s.has_current());
  EXPECT_EQ(Decide(s, CheckOut{}, Local(2026, 6, 1, 18)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PresenceDecide, CheckingInElsewhereChecksOutFirst) {
  PresenceState s =
      Applied(PresenceState(), *Decide(PresenceState(), At("loc-1"), Local(2026, 6, 1, 9)));
  absl::StatusOr<Events> moved = Decide(s, At("loc-2"), Local(2026, 6, 1, 13));
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved->size(), 2u);
  EXPECT_EQ((*moved)[0].checked_out().reason(), v1::MOVED);
  EXPECT_EQ((*moved)[0].checked_out().location_id(), "loc-1");
  EXPECT_EQ((*moved)[1].checked_in().location_id(), "loc-2");
  EXPECT_EQ(Applied(s, *moved).current().location_id(), "loc-2");
}

TEST(PresenceDecide, ASuspendedCustomersAttemptIsRecordedNotLetIn) {
  CheckIn a = At("loc-1");
  a.suspended = true;
  absl::StatusOr<Events> refused = Decide(PresenceState(), a, Local(2026, 6, 1, 9));
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->size(), 1u);
  ASSERT_TRUE((*refused)[0].has_check_in_refused());
  EXPECT_FALSE(Applied(PresenceState(), *refused).has_current());
  a.suspended = false;
  a.method = v1::CHECK_IN_METHOD_UNSPECIFIED;
  EXPECT_EQ(Decide(PresenceState(), a, Local(2026, 6, 1, 9)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PresenceDecide, ClosingTimeOrHoursLimitWhicheverFirst) {
  // Default: 12 hours.
  EXPECT_EQ(AutoCheckOutOf(nullptr, Local(2026, 6, 1, 9), Madrid())->at, Local(2026, 6, 1, 21));
  const PolicyState closing = Policy("20:00", 0);
  std::optional<AutoCheckOut> at = AutoCheckOutOf(&closing, Local(2026, 6, 1, 9), Madrid());
  EXPECT_EQ(at->at, Local(2026, 6, 1, 20));
  EXPECT_EQ(at->reason, v1::CLOSING_TIME);
  // Arriving after closing: the next day's closing time.
  EXPECT_EQ(AutoCheckOutOf(&closing, Local(2026, 6, 1, 21), Madrid())->at,
            Local(2026, 6, 2, 20));
  const PolicyState both = Policy("20:00", 4);
  at = AutoCheckOutOf(&both, Local(2026, 6, 1, 9), Madrid());
  EXPECT_EQ(at->at, Local(2026, 6, 1, 13));
  EXPECT_EQ(at->reason, v1::TIME_LIMIT);
  const PolicyState never = Policy("", 0);
  EXPECT_FALSE(AutoCheckOutOf(&never, Local(2026, 6, 1, 9), Madrid()).has_value());
  // Closing time on the night clocks go back (25-hour day): still 20:00 local.
  EXPECT_EQ(AutoCheckOutOf(&closing, Local(2026, 10, 25, 1), Madrid())->at,
            Local(2026, 10, 25, 20));
}

TEST(PresenceDecide, TheCheckOutFallsDueAndIsTimedAtItsDueTime) {
  const PolicyState closing = Policy("20:00", 0);
  PresenceState s = Applied(
      PresenceState(), *Decide(PresenceState(), At("loc-1", &closing), Local(2026, 6, 1, 9)));
  EXPECT_TRUE(Decide(s, CheckOutWhenDue{}, Local(2026, 6, 1, 19, 59)).value().empty());
  // The service was down past closing: the check-out is timed at closing.
  Events out = Decide(s, CheckOutWhenDue{}, Local(2026, 6, 2, 8)).value();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].checked_out().reason(), v1::CLOSING_TIME);
  EXPECT_EQ(FromTimestamp(out[0].checked_out().out_time()), Local(2026, 6, 1, 20));
}

TEST(PolicyDecide, BadValuesNameTheirFields) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(
           Decide(PolicyState(), SetCheckoutPolicy{"loc-1", "25:00", 100}, absl::Now()).status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ::testing::ElementsAre("closing_time", "max_hours"));
  EXPECT_FALSE(Decide(PolicyState(), SetCheckoutPolicy{"loc-1", "9:00", 1}, absl::Now()).ok());
  EXPECT_TRUE(Decide(PolicyState(), SetCheckoutPolicy{"loc-1", "09:00", 72}, absl::Now()).ok());
}

}  // namespace
}  // namespace cowork::checkins::domain
