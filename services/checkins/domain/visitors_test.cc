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

Registration Valid() {
  return {.visitor_id = "v-1",
          .location_id = "loc-1",
          .host_customer_id = "c-1",
          .name = "Ana María López",
          .email = "ana@example.test",
          .sealed_personal = "sealed",
          .expected_arrival = kNow + absl::Hours(2),
          .registered_by = "c-1",
          .now = kNow};
}

VisitorState Applied(VisitorState s, const Events& events) {
  for (Event e : events) {
    *e.mutable_occurred_at() = ToTimestamp(kNow);
    e.set_operator_id("op-1");
    s = Apply(std::move(s), e);
  }
  return s;
}

VisitorState Registered() { return Applied({}, DecideRegisterVisitor(Valid()).value()); }

std::vector<std::string> FieldsOf(const absl::Status& s) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(s)) fields.push_back(v.field);
  return fields;
}

TEST(Visitors, RegistrationKeepsTheVisitWithThePersonalDataSealed) {
  const VisitorState v = Registered();
  EXPECT_EQ(v.visitor_id(), "v-1");
  EXPECT_EQ(v.operator_id(), "op-1");
  EXPECT_EQ(v.host_customer_id(), "c-1");
  EXPECT_EQ(v.sealed_personal(), "sealed");
  EXPECT_EQ(FromTimestamp(v.expected_arrival()), kNow + absl::Hours(2));
  EXPECT_EQ(StatusOf(v), v1::VISITOR_EXPECTED);
  const Events events = DecideRegisterVisitor(Valid()).value();
  ASSERT_EQ(events.size(), 1u);
  // The clear name and email never reach the event.
  EXPECT_EQ(events[0].visitor_registered().SerializeAsString().find("example.test"),
            std::string::npos);
}

TEST(Visitors, BadDetailsNameEachField) {
  Registration r = Valid();
  r.name = "R2-D2";
  r.email = "ana@";
  r.expected_arrival.reset();
  EXPECT_THAT(FieldsOf(DecideRegisterVisitor(r).status()),
              ::testing::ElementsAre("name", "email", "expected_arrival"));
  r = Valid();
  r.expected_arrival = kNow - absl::Hours(25);
  EXPECT_THAT(FieldsOf(DecideRegisterVisitor(r).status()),
              ::testing::ElementsAre("expected_arrival"));
  r.expected_arrival = kNow + absl::Hours(24 * 367);
  EXPECT_THAT(FieldsOf(DecideRegisterVisitor(r).status()),
              ::testing::ElementsAre("expected_arrival"));
  r.expected_arrival = kNow - absl::Hours(23);  // a walk-in, registered late
  EXPECT_TRUE(DecideRegisterVisitor(r).ok());
}

TEST(Visitors, ASuspendedHostReceivesNoVisitors) {
  Registration r = Valid();
  r.host_suspended = true;
  EXPECT_EQ(DecideRegisterVisitor(r).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Visitors, ArrivalNotifiesTheHostThenDepartureEndsTheVisit) {
  VisitorState v = Registered();
  const Events arrived = DecideVisitorArrival(v, kNow + absl::Hours(1), "admin-1").value();
  ASSERT_EQ(arrived.size(), 2u);
  EXPECT_EQ(arrived[0].visitor_arrived().recorded_by(), "admin-1");
  const v1::VisitorArrivalNotificationRequested& n =
      arrived[1].visitor_arrival_notification_requested();
  EXPECT_EQ(n.host_customer_id(), "c-1");
  EXPECT_EQ(n.visitor_id(), "v-1");
  EXPECT_EQ(FromTimestamp(n.arrived_at()), kNow + absl::Hours(1));
  v = Applied(v, arrived);
  EXPECT_EQ(StatusOf(v), v1::VISITOR_ARRIVED);
  EXPECT_EQ(DecideVisitorArrival(v, kNow, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideCancelVisitor(v, "c-1").status().code(), absl::StatusCode::kFailedPrecondition);
  v = Applied(v, DecideVisitorDeparture(v, kNow + absl::Hours(3), "admin-1").value());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_LEFT);
  EXPECT_EQ(DecideVisitorDeparture(v, kNow, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Visitors, DepartureNeedsAnArrival) {
  EXPECT_EQ(DecideVisitorDeparture(Registered(), kNow, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Visitors, ACancelledVisitorCannotArrive) {
  VisitorState v = Applied(Registered(), DecideCancelVisitor(Registered(), "c-1").value());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_CANCELLED);
  EXPECT_EQ(DecideVisitorArrival(v, kNow, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecideCancelVisitor(v, "c-1").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Visitors, ErasureDropsThePersonalDataOnceAndKeepsTheVisit) {
  VisitorState v = Registered();
  v = Applied(v, DecideVisitorArrival(v, kNow, "admin-1").value());
  v = Applied(v, DecideEraseVisitor(v, "admin-1").value());
  EXPECT_TRUE(v.erased());
  EXPECT_TRUE(v.sealed_personal().empty());
  EXPECT_EQ(StatusOf(v), v1::VISITOR_ARRIVED);
  EXPECT_EQ(v.host_customer_id(), "c-1");
  EXPECT_EQ(DecideEraseVisitor(v, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A visitor erased before arriving does not arrive.
  VisitorState early = Applied(Registered(), DecideEraseVisitor(Registered(), "admin-1").value());
  EXPECT_EQ(DecideVisitorArrival(early, kNow, "admin-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cowork::checkins::domain
