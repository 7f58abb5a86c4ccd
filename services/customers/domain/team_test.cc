#include "services/customers/domain/team.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"

namespace cowork::customers::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'780'000'000);

CreateTeam Acme() {
  CreateTeam c;
  c.team_id = "t-1";
  c.operator_id = "op-1";
  c.location_id = "loc-1";
  c.location_exists = true;
  c.name = "Acme";
  c.member_ids = {"c-1", "c-2"};
  c.members = {{"c-1", CustomerCheck::kOk}, {"c-2", CustomerCheck::kOk}};
  return c;
}

std::vector<Event::PayloadCase> Cases(const Events& events) {
  std::vector<Event::PayloadCase> out;
  for (const Event& e : events) out.push_back(e.payload_case());
  return out;
}

TeamState Given(const CreateTeam& c) {
  absl::StatusOr<Events> events = Decide(TeamState{}, c, kT0);
  EXPECT_TRUE(events.ok()) << events.status();
  return ApplyAll(TeamState{}, *events);
}

template <typename Command>
TeamState Then(TeamState s, const Command& c) {
  absl::StatusOr<Events> events = Decide(s, c, kT0);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? ApplyAll(std::move(s), *events) : s;
}

TEST(CreateTeamDecide, CreatesWithInitialMembersAndSharing) {
  CreateTeam c = Acme();
  c.share_booking_credit = true;
  absl::StatusOr<Events> events = Decide(TeamState{}, c, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_THAT(Cases(*events),
              ElementsAre(Event::kTeamCreated, Event::kTeamMemberAdded, Event::kTeamMemberAdded,
                          Event::kTeamSharingChanged));
  TeamState s = ApplyAll(TeamState{}, *events);
  EXPECT_EQ(s.team_id(), "t-1");
  EXPECT_EQ(s.operator_id(), "op-1");
  EXPECT_THAT(s.member_ids(), ElementsAre("c-1", "c-2"));
  EXPECT_TRUE(s.share_booking_credit());
  EXPECT_FALSE(s.share_access());
  EXPECT_EQ(s.paying_member_id(), "");
}

TEST(CreateTeamDecide, ReportsEveryBadFieldAndMember) {
  CreateTeam c = Acme();
  c.name = "";
  c.location_exists = false;
  c.member_ids = {"c-1", "c-404", "c-erased"};
  c.members = {{"c-1", CustomerCheck::kOk},
               {"c-404", CustomerCheck::kNotFound},
               {"c-erased", CustomerCheck::kErased}};
  absl::Status status = Decide(TeamState{}, c, kT0).status();
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(status)) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAre("name", "location_id", "member_ids[1]",
                                           "member_ids[2]"));
}

TEST(CreateTeamDecide, RepeatedMemberIdsCountOnce) {
  CreateTeam c = Acme();
  c.member_ids = {"c-1", "c-1", "c-2"};
  EXPECT_THAT(Given(c).member_ids(), ElementsAre("c-1", "c-2"));
}

TEST(AddTeamMemberDecide, CustomersMustExistAndNotBeErased) {
  TeamState s = Given(Acme());
  EXPECT_EQ(Decide(s, AddTeamMember{"c-3", CustomerCheck::kNotFound}, kT0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Decide(s, AddTeamMember{"c-3", CustomerCheck::kErased}, kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s = Then(s, AddTeamMember{"c-3", CustomerCheck::kOk});
  EXPECT_THAT(s.member_ids(), ElementsAre("c-1", "c-2", "c-3"));
  absl::StatusOr<Events> again = Decide(s, AddTeamMember{"c-3", CustomerCheck::kOk}, kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, IsEmpty());
}

TEST(PayingMemberDecide, MustBeAMemberOfTheTeam) {
  TeamState s = Given(Acme());
  EXPECT_EQ(Decide(s, SetPayingMember{"c-9"}, kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  s = Then(s, SetPayingMember{"c-2"});
  EXPECT_EQ(s.paying_member_id(), "c-2");
  s = Then(s, SetPayingMember{""});
  EXPECT_EQ(s.paying_member_id(), "");
}

TEST(PayingMemberDecide, RemovingThePayingMemberClearsIt) {
  TeamState s = Then(Given(Acme()), SetPayingMember{"c-2"});
  absl::StatusOr<Events> events = Decide(s, RemoveTeamMember{"c-2"}, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kTeamPayingMemberSet, Event::kTeamMemberRemoved));
  EXPECT_EQ(events->front().team_paying_member_set().customer_id(), "");
  s = ApplyAll(s, *events);
  EXPECT_EQ(s.paying_member_id(), "");
  EXPECT_THAT(s.member_ids(), ElementsAre("c-1"));
}

TEST(RemoveTeamMemberDecide, OtherMembersLeaveThePayingMemberAlone) {
  TeamState s = Then(Given(Acme()), SetPayingMember{"c-2"});
  absl::StatusOr<Events> events = Decide(s, RemoveTeamMember{"c-1"}, kT0);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(Cases(*events), ElementsAre(Event::kTeamMemberRemoved));
  EXPECT_EQ(ApplyAll(s, *events).paying_member_id(), "c-2");
  EXPECT_EQ(Decide(s, RemoveTeamMember{"c-7"}, kT0).status().code(), absl::StatusCode::kNotFound);
}

TEST(TeamsDecide, ACustomerCanBeInSeveralTeams) {
  CreateTeam second = Acme();
  second.team_id = "t-2";
  second.name = "Acme Labs";
  second.member_ids = {"c-1"};
  TeamState a = Given(Acme());
  TeamState b = Given(second);
  EXPECT_THAT(a.member_ids(), testing::Contains("c-1"));
  EXPECT_THAT(b.member_ids(), testing::Contains("c-1"));
  a = Then(a, SetPayingMember{"c-1"});
  b = Then(b, SetPayingMember{"c-1"});
  EXPECT_EQ(a.paying_member_id(), "c-1");
  EXPECT_EQ(b.paying_member_id(), "c-1");
}

TEST(TeamSharingDecide, ThreeSwitchesRecordedOnChangeOnly) {
  TeamState s = Given(Acme());
  absl::StatusOr<Events> same = Decide(s, UpdateTeamSharing{}, kT0);
  ASSERT_TRUE(same.ok());
  EXPECT_THAT(*same, IsEmpty());
  s = Then(s, UpdateTeamSharing{true, true, false});
  EXPECT_TRUE(s.share_booking_credit());
  EXPECT_TRUE(s.share_printing_credit());
  EXPECT_FALSE(s.share_access());
  s = Then(s, UpdateTeamSharing{false, false, true});
  EXPECT_FALSE(s.share_booking_credit());
  EXPECT_TRUE(s.share_access());
}

TEST(TeamDecide, UnknownTeamIsNotFound) {
  EXPECT_EQ(Decide(TeamState{}, SetPayingMember{""}, kT0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Decide(TeamState{}, UpdateTeamSharing{}, kT0).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cowork::customers::domain
