// Visitors: registration checks, the visit's course (expected, arrived, left, cancelled), the
// host's notification and erasure.

#include "services/checkins/domain/visitors.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"

namespace cowork::checkins::domain {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

RegisterVisitor Valid() {
  return {.visitor_id = "v-1",
          .location_id = "loc-1",
          .host_customer_id = "c-1",
          .name = "Ana María López",
          .email = "ana@example.test",
          .expected_arrival = kNow + absl::Hours(2),
          .registered_by = "c-1"};
}

VisitorState Applied(VisitorState s, const Events& events) {
  for (Event e : events) {
    *e.mutable_occurred_at() = ToTimestamp(kNow);
    e.set_operator_id("op-1");
    s = Apply(std::move(s), e);
  }
  return s;
}

VisitorState Registered() { return Applied({}, Decide(VisitorState(), Valid(), kNow).value()); }

std::vector<std::string> FieldsOf(const absl::Status& s) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(s)) fields.push_back(v.field);
  return fields;
}

TEST(VisitorDecide, RegistrationKeepsTheVisitWithThePersonalDataSealed) {
  const VisitorState v = Registered();
  EXPECT_EQ(v.visitor_id(), "v-1");
  EXPECT_EQ(v.operator_id(), "op-1");
  EXPECT_EQ(v.host_customer_id(), "c-1");
  EXPECT_EQ(FromTimestamp(v.expected_arrival()), kNow + absl::Hours(2));
  EXPECT_EQ(StatusOf(v), v1::VISITOR_EXPECTED);
  const Events events = Decide(VisitorState(), Valid(), kNow).value();
  ASSERT_EQ(events.size(), 1u);
  // The name and email are decided in clear beside the payload, for staging to seal; the
  // payload itself never holds them.
  EXPECT_EQ(events[0].personal().name(), "Ana María López");
  EXPECT_EQ(events[0].personal().email(), "ana@example.test");
  EXPECT_EQ(events[0].visitor_registered().SerializeAsString().find("example.test"),
            std::string::npos);
}

TEST(VisitorDecide, BadDetailsNameEachField) {
  RegisterVisitor r = Valid();
  r.name = "R2-D2";
  r.email = "ana@";
  r.expected_arrival.reset();
  EXPECT_THAT(FieldsOf(Decide(VisitorState(), r, kNow).status()),
              ::testing::ElementsAre("name", "email", "expected_arrival"));
  r = Valid();
  r.expected_arrival = kNow - absl::Hours(25);
  EXPECT_THAT(FieldsOf(Decide(VisitorState(), r, kNow).status()),
              ::testing::ElementsAre("expected_arrival"));
  r.expected_arrival = kNow + absl::Hours(24 * 367);
  EXPECT_THAT(FieldsOf(Decide(VisitorState(), r, kNow).status()),
              ::testing::ElementsAre("expected_arrival"));
  r.expected_arrival = kNow - absl::Hours(23);  // a walk-in, registered late
  EXPECT_TRUE(Decide(VisitorState(), r, kNow).ok());
}

TEST(VisitorDecide, ASuspendedHostReceivesNoVisitors) {
  RegisterVisitor r = Valid();
  r.host_suspended = true;
  EXPECT_EQ(Decide(VisitorState(), r, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(VisitorDecide, ArrivalNotifiesTheHostThenDepartureEndsTheVisit) {
  VisitorState v = Registered();
  const Events arrived = Decide(v, RecordVisitorArrival{"admin-1"}, kNow + absl::Hours(1)).value();
  ASSERT_EQ(arrived.size(), 2u);
  EXPECT_EQ(arrived[0].visitor_arrived().recorded_by(), "admin-1");
  const v1::VisitorArrivalNotificationRequested& n =
      arrived[1].visitor_arrival_notification_requested();
  EXPECT_EQ(n.host_customer_id(), "c-1");
  EXPECT_EQ(n.visitor_id(), "v-1");
  EXPECT_EQ(FromTimestamp(n.arrived_at()), kNow + absl::Hours(1));
  v = Applied(v, arrived);
  EXPECT_EQ(StatusOf(v), v1::VISITOR_ARRIVED);
  EXPECT_EQ(Decide(v, RecordVisitorArrival{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(v, CancelVisitor{"c-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  v = Applied(v, Decide(v, RecordVisitorDeparture{"admin-1"}, kNow + absl::Hours(3)).value());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_LEFT);
  EXPECT_EQ(Decide(v, RecordVisitorDeparture{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(VisitorDecide, DepartureNeedsAnArrival) {
  EXPECT_EQ(Decide(Registered(), RecordVisitorDeparture{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(VisitorDecide, ACancelledVisitorCannotArrive) {
  VisitorState v = Applied(Registered(), Decide(Registered(), CancelVisitor{"c-1"}, kNow).value());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_CANCELLED);
  EXPECT_EQ(Decide(v, RecordVisitorArrival{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(v, CancelVisitor{"c-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(VisitorDecide, ErasureDropsThePersonalDataOnceAndKeepsTheVisit) {
  VisitorState v = Registered();
  v = Applied(v, Decide(v, RecordVisitorArrival{"admin-1"}, kNow).value());
  v = Applied(v, Decide(v, EraseVisitor{"admin-1"}, kNow).value());
  EXPECT_TRUE(v.erased());
  EXPECT_TRUE(v.sealed_personal().empty());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_ARRIVED);
  EXPECT_EQ(v.host_customer_id(), "c-1");
  EXPECT_EQ(Decide(v, EraseVisitor{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A visitor erased before arriving does not arrive.
  VisitorState early =
      Applied(Registered(), Decide(Registered(), EraseVisitor{"admin-1"}, kNow).value());
  EXPECT_EQ(Decide(early, RecordVisitorArrival{"admin-1"}, kNow).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cowork::checkins::domain
