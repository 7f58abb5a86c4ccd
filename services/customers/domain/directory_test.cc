#include "services/customers/domain/directory.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"

namespace cowork::customers::domain {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'780'000'000);

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

CreateLocation Madrid() {
  return CreateLocation{.operator_id = "op-1",
                        .operator_exists = true,
                        .location_id = "mad",
                        .name = "Madrid Centro",
                        .time_zone = "Europe/Madrid",
                        .currency = "EUR"};
}

TEST(OperatorDecide, CreatesOnce) {
  absl::StatusOr<Events> events = Decide(OperatorState{}, CreateOperator{"op-1", "Acme Spaces"}, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  OperatorState s = ApplyAll(OperatorState{}, *events);
  EXPECT_EQ(s.operator_id(), "op-1");
  EXPECT_EQ(s.name(), "Acme Spaces");
  EXPECT_EQ(Decide(s, CreateOperator{"op-1", "Again"}, kT0).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Fields(Decide(OperatorState{}, CreateOperator{"a/b", ""}, kT0).status()),
              UnorderedElementsAre("operator_id", "name"));
}

TEST(LocationDecide, CreatesWithTimeZoneAndCurrency) {
  absl::StatusOr<Events> events = Decide(LocationState{}, Madrid(), kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  LocationState s = ApplyAll(LocationState{}, *events);
  EXPECT_EQ(s.location_id(), "mad");
  EXPECT_EQ(s.operator_id(), "op-1");
  EXPECT_EQ(s.time_zone(), "Europe/Madrid");
  EXPECT_EQ(s.currency(), "EUR");
  EXPECT_EQ(Decide(s, Madrid(), kT0).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(LocationDecide, ReportsEveryBadField) {
  CreateLocation c = Madrid();
  c.location_id = "../x";
  c.name = "";
  c.time_zone = "Europe/Atlantis";
  c.currency = "EURO";
  EXPECT_THAT(Fields(Decide(LocationState{}, c, kT0).status()),
              UnorderedElementsAre("location_id", "name", "time_zone", "currency"));
}

TEST(LocationDecide, TheOperatorMustExist) {
  CreateLocation c = Madrid();
  c.operator_exists = false;
  EXPECT_EQ(Decide(LocationState{}, c, kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(LocationDecide, UpdatesMaskedFields) {
  LocationState s = ApplyAll(LocationState{}, *Decide(LocationState{}, Madrid(), kT0));
  UpdateLocation u{.paths = {"time_zone"}, .name = "ignored", .time_zone = "Atlantic/Canary"};
  absl::StatusOr<Events> events = Decide(s, u, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().location_updated().name(), "Madrid Centro");
  s = ApplyAll(s, *events);
  EXPECT_EQ(s.time_zone(), "Atlantic/Canary");

  absl::StatusOr<Events> same = Decide(s, UpdateLocation{.paths = {"currency"}, .currency = "EUR"}, kT0);
  ASSERT_TRUE(same.ok());
  EXPECT_THAT(*same, IsEmpty());
  EXPECT_THAT(
      Fields(Decide(s, UpdateLocation{.paths = {"currency", "operator_id"}, .currency = "E"}, kT0)
                 .status()),
      UnorderedElementsAre("location.currency", "update_mask"));
  EXPECT_EQ(Decide(LocationState{}, u, kT0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cowork::customers::domain
