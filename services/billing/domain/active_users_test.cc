// Active users: reference 003's scenarios, each criterion at the edges of a month in the
// location's time zone, contracts and teams changing mid-month, and delivery in any order.

#include "services/billing/domain/active_users.h"

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar.h"

namespace cowork::billing::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}
const absl::TimeZone kMadrid = Zone("Europe/Madrid");

absl::Time At(int y, int m, int d, int h = 12, int mi = 0, absl::TimeZone tz = kMadrid) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, h, mi, 0), tz);
}
// The first instant of a local day (contracts start on days).
absl::Time Day(int y, int m, int d, absl::TimeZone tz = kMadrid) {
  return calendar::StartOfDay(absl::CivilDay(y, m, d), tz);
}
Span Month(int y, int m, absl::TimeZone tz = kMadrid) { return MonthIn(absl::CivilMonth(y, m), tz); }

// The events of a scenario, fed in order, or shuffled and twice.
class Scenario {
 public:
  void Add(std::function<void(Activity&)> feed) { feeds_.push_back(std::move(feed)); }
  Activity InOrder() const {
    Activity a;
    for (const auto& f : feeds_) f(a);
    return a;
  }
  Activity ShuffledTwice(unsigned seed) const {
    std::vector<std::function<void(Activity&)>> all = feeds_;
    all.insert(all.end(), feeds_.begin(), feeds_.end());
    std::shuffle(all.begin(), all.end(), std::mt19937(seed));
    Activity a;
    for (const auto& f : all) f(a);
    return a;
  }

 private:
  std::vector<std::function<void(Activity&)>> feeds_;
};

std::vector<std::string> Ids(const std::vector<ActiveUser>& users) {
  std::vector<std::string> out;
  for (const ActiveUser& u : users) out.push_back(u.customer_id);
  return out;
}
std::vector<Criterion> CriteriaOf(const std::vector<ActiveUser>& users, const std::string& id) {
  std::vector<Criterion> out;
  for (const ActiveUser& u : users) {
    if (u.customer_id != id) continue;
    for (const Reason& r : u.reasons) out.push_back(r.criterion);
  }
  return out;
}
std::vector<std::string> ProofOf(const std::vector<ActiveUser>& users, const std::string& id,
                                 Criterion c) {
  for (const ActiveUser& u : users) {
    if (u.customer_id != id) continue;
    for (const Reason& r : u.reasons) {
      if (r.criterion == c) return r.event_ids;
    }
  }
  return {};
}

// ---------------------------------------------------------------- reference 003

TEST(Reference003, InvoicedInMayThenSuspendedCountsInMay) {
  // Suspension is not an input at all: only the invoice decides.
  Activity a;
  a.Invoiced("inv-1", "c-1", "loc-a", Day(2026, 5, 31), "e-inv");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 5))), ElementsAre("c-1"));
  EXPECT_THAT(ProofOf(a.ActiveUsers("loc-a", Month(2026, 5)), "c-1", Criterion::kInvoiced),
              ElementsAre("e-inv"));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 6)), IsEmpty());
}

TEST(Reference003, AFreePlanWithoutBookingsCountsEveryMonthItHolds) {
  Activity a;
  a.ContractStarted("ct-1", "c-1", "loc-a", Day(2026, 3, 1), "e-start");
  for (int m = 3; m <= 12; ++m) {
    EXPECT_THAT(CriteriaOf(a.ActiveUsers("loc-a", Month(2026, m)), "c-1"),
                ElementsAre(Criterion::kActivePlan))
        << m;
  }
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 2)), IsEmpty());
}

TEST(Reference003, AContactInATeamWhosePayingMemberHasAPlanCounts) {
  Activity a;
  a.ContractStarted("ct-p", "c-payer", "loc-a", Day(2026, 1, 1), "e-plan");
  a.TeamMemberAdded("t-1", "c-payer", 2, At(2026, 1, 1), "e-add-payer");
  a.TeamPayingMemberSet("t-1", "c-payer", 3, At(2026, 1, 1), "e-paying");
  a.TeamMemberAdded("t-1", "c-contact", 4, At(2026, 2, 1), "e-add-contact");
  const std::vector<ActiveUser> october = a.ActiveUsers("loc-a", Month(2026, 10));
  EXPECT_THAT(Ids(october), ElementsAre("c-contact", "c-payer"));
  EXPECT_THAT(CriteriaOf(october, "c-contact"), ElementsAre(Criterion::kTeamWithPlanHolder));
  EXPECT_THAT(ProofOf(october, "c-contact", Criterion::kTeamWithPlanHolder),
              ElementsAre("e-add-contact", "e-paying", "e-plan"));
  // The team counts where the paying member's plan is, not elsewhere.
  EXPECT_THAT(a.ActiveUsers("loc-b", Month(2026, 10)), IsEmpty());
}

TEST(Reference003, BookingMadeInJuneForJulyAndAWeeklyPassBoughtInAugustUsedInSeptember) {
  Activity a;
  a.BookingMade("b-1", "c-1", "loc-a", At(2026, 6, 20), "e-booking");  // takes place 10 July
  // A contact is invoiced for the pass the day they buy it; they use it in September.
  a.Invoiced("inv-pass", "c-1", "loc-a", Day(2026, 8, 28), "e-pass-invoice");
  EXPECT_THAT(CriteriaOf(a.ActiveUsers("loc-a", Month(2026, 6)), "c-1"),
              ElementsAre(Criterion::kBookingMade));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 7)), IsEmpty());
  EXPECT_THAT(CriteriaOf(a.ActiveUsers("loc-a", Month(2026, 8)), "c-1"),
              ElementsAre(Criterion::kInvoiced));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 9)), IsEmpty());
}

TEST(Reference003, MemberAtABooksAtBVisitsCCountsAtAAndBOnly) {
  Activity a;
  a.ContractStarted("ct-1", "c-1", "loc-a", Day(2026, 1, 1), "e-plan");
  a.BookingMade("b-1", "c-1", "loc-b", At(2026, 4, 3), "e-booking-b");
  // Visiting C with passes from A's plan leaves no event at C that counts.
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 4))), ElementsAre("c-1"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-b", Month(2026, 4))), ElementsAre("c-1"));
  EXPECT_THAT(a.ActiveUsers("loc-c", Month(2026, 4)), IsEmpty());
}

TEST(Reference003, FreeCreditInJanuaryForAFebruaryBookingCountsInJanuary) {
  Activity a;
  a.BookingMade("b-1", "c-1", "loc-a", At(2026, 1, 25), "e-booking");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 1))), ElementsAre("c-1"));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 2)), IsEmpty());
}

// ---------------------------------------------------------------- month edges

TEST(MonthEdges, TheLocationsMidnightSeparatesMonths) {
  Activity a;
  a.BookingMade("b-late", "c-late", "loc-a", At(2026, 1, 31, 23, 59), "e-1");
  a.BookingMade("b-early", "c-early", "loc-a", At(2026, 2, 1, 0, 0), "e-2");
  a.Invoiced("inv-late", "c-inv", "loc-a", At(2026, 1, 31, 23, 59), "e-3");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 1))), ElementsAre("c-inv", "c-late"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 2))), ElementsAre("c-early"));
  // 23:30 UTC on 31 January is already February in Madrid.
  EXPECT_TRUE(Month(2026, 2).Contains(absl::FromCivil(absl::CivilSecond(2026, 1, 31, 23, 30, 0),
                                                      absl::UTCTimeZone())));
}

TEST(MonthEdges, DaylightSavingChangesMoveTheBoundsWithTheLocalClock) {
  // Madrid moves to summer time on 29 March 2026; New York on 8 March.
  const absl::TimeZone ny = Zone("America/New_York");
  Activity a;
  a.BookingMade("b-1", "c-march", "loc-a", At(2026, 3, 31, 23, 59), "e-1");
  a.BookingMade("b-2", "c-april", "loc-a", At(2026, 4, 1, 0, 0), "e-2");
  a.BookingMade("b-3", "c-ny", "loc-ny", At(2026, 4, 1, 0, 30, ny), "e-3");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-march"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 4))), ElementsAre("c-april"));
  EXPECT_THAT(a.ActiveUsers("loc-ny", Month(2026, 3, ny)), IsEmpty());
  EXPECT_THAT(Ids(a.ActiveUsers("loc-ny", Month(2026, 4, ny))), ElementsAre("c-ny"));
  EXPECT_EQ(Month(2026, 3).to - Month(2026, 3).from, absl::Hours(31 * 24 - 1));
  EXPECT_EQ(Month(2026, 11, ny).to - Month(2026, 11, ny).from, absl::Hours(30 * 24 + 1));
}

TEST(MonthEdges, ContractsStartingAndEndingMidMonthCountThatMonthOnly) {
  Activity a;
  a.ContractStarted("ct-1", "c-1", "loc-a", Day(2026, 3, 15), "e-start");
  a.ContractEnded("ct-1", Day(2026, 5, 11), "e-end");  // last day 10 May
  // Ended on the last day of a month: not the next one.
  a.ContractStarted("ct-2", "c-2", "loc-a", Day(2026, 1, 1), "e-start-2");
  a.ContractEnded("ct-2", Day(2026, 4, 1), "e-end-2");  // last day 31 March
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 2))), ElementsAre("c-2"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-1", "c-2"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 4))), ElementsAre("c-1"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 5))), ElementsAre("c-1"));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 6)), IsEmpty());
  EXPECT_THAT(ProofOf(a.ActiveUsers("loc-a", Month(2026, 5)), "c-1", Criterion::kActivePlan),
              ElementsAre("e-start", "e-end"));
}

TEST(MonthEdges, RecurringProductsCountWhileHeld) {
  Activity a;
  a.RecurringProductStarted("pu-1", "c-1", "loc-a", Day(2026, 2, 20), "e-buy");
  a.RecurringProductEnded("pu-1", Day(2026, 4, 1), "e-cancel");
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 1)), IsEmpty());
  EXPECT_THAT(CriteriaOf(a.ActiveUsers("loc-a", Month(2026, 2)), "c-1"),
              ElementsAre(Criterion::kRecurringProduct));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-1"));
  EXPECT_THAT(a.ActiveUsers("loc-a", Month(2026, 4)), IsEmpty());
}

// ---------------------------------------------------------------- teams

TEST(Teams, APayingMemberChangingMidMonthCountsTheMembersThatMonth) {
  Activity a;
  a.ContractStarted("ct-1", "c-planholder", "loc-a", Day(2026, 1, 1), "e-plan");
  a.TeamMemberAdded("t-1", "c-planholder", 1, At(2026, 1, 1), "e-1");
  a.TeamMemberAdded("t-1", "c-nopayer", 2, At(2026, 1, 1), "e-2");
  a.TeamMemberAdded("t-1", "c-contact", 3, At(2026, 1, 1), "e-3");
  a.TeamPayingMemberSet("t-1", "c-planholder", 4, At(2026, 1, 1), "e-4");
  // From 15 March the paying member is someone without a plan.
  a.TeamPayingMemberSet("t-1", "c-nopayer", 5, At(2026, 3, 15), "e-5");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))),
              ElementsAre("c-contact", "c-nopayer", "c-planholder"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 4))), ElementsAre("c-planholder"));
  // Back to the plan holder in May.
  a.TeamPayingMemberSet("t-1", "c-planholder", 6, At(2026, 5, 20), "e-6");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 5))),
              ElementsAre("c-contact", "c-nopayer", "c-planholder"));
  // No paying member at all from June.
  a.TeamPayingMemberSet("t-1", "", 7, At(2026, 5, 31), "e-7");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 6))), ElementsAre("c-planholder"));
}

TEST(Teams, ACustomerMovingBetweenTeamsCountsWhileInTheOneThatCounts) {
  Activity a;
  a.ContractStarted("ct-1", "c-payer1", "loc-a", Day(2026, 1, 1), "e-plan");
  a.TeamPayingMemberSet("t-1", "c-payer1", 1, At(2026, 1, 1), "e-p1");
  a.TeamPayingMemberSet("t-2", "c-payer2", 1, At(2026, 1, 1), "e-p2");  // payer2 has no plan
  a.TeamMemberAdded("t-1", "c-mover", 2, At(2026, 1, 5), "e-in-1");
  a.TeamMemberRemoved("t-1", "c-mover", 3, At(2026, 3, 10), "e-out-1");
  a.TeamMemberAdded("t-2", "c-mover", 2, At(2026, 3, 10), "e-in-2");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-mover", "c-payer1"));
  EXPECT_THAT(ProofOf(a.ActiveUsers("loc-a", Month(2026, 3)), "c-mover",
                      Criterion::kTeamWithPlanHolder),
              ElementsAre("e-in-1", "e-out-1", "e-p1", "e-plan"));
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 4))), ElementsAre("c-payer1"));
  // Joining back in May counts again.
  a.TeamMemberAdded("t-1", "c-mover", 4, At(2026, 5, 2), "e-in-3");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 5))), ElementsAre("c-mover", "c-payer1"));
}

TEST(Teams, ThePayingMembersPlanMustOverlapTheMembership) {
  // The member left in February; the payer's plan started in March: never both.
  Activity a;
  a.TeamPayingMemberSet("t-1", "c-payer", 1, At(2026, 1, 1), "e-p");
  a.TeamMemberAdded("t-1", "c-1", 2, At(2026, 1, 1), "e-in");
  a.TeamMemberRemoved("t-1", "c-1", 3, At(2026, 2, 10), "e-out");
  a.ContractStarted("ct-1", "c-payer", "loc-a", Day(2026, 3, 1), "e-plan");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 2))), IsEmpty());
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-payer"));
}

TEST(Teams, OnlyThePayersPlansHeldHereDuringTheMembershipProveIt) {
  Activity a;
  a.ContractStarted("ct-1", "c-payer", "loc-a", Day(2026, 1, 1), "e-plan-1");
  a.ContractEnded("ct-1", Day(2026, 2, 1), "e-end-1");  // January only
  a.ContractStarted("ct-2", "c-payer", "loc-b", Day(2026, 1, 1), "e-plan-b");
  a.ContractStarted("ct-3", "c-payer", "loc-a", Day(2026, 3, 10), "e-plan-3");
  a.TeamPayingMemberSet("t-1", "c-payer", 1, At(2026, 1, 1), "e-p");
  a.TeamMemberAdded("t-1", "c-1", 2, At(2026, 2, 15), "e-in");
  a.BookingMade("b-1", "c-1", "loc-a", At(2026, 3, 2), "e-book");
  EXPECT_THAT(Ids(a.ActiveUsers("loc-a", Month(2026, 2))), IsEmpty());
  EXPECT_THAT(ProofOf(a.ActiveUsers("loc-b", Month(2026, 2)), "c-1",
                      Criterion::kTeamWithPlanHolder),
              ElementsAre("e-in", "e-p", "e-plan-b"));
  const std::vector<ActiveUser> march = a.ActiveUsers("loc-a", Month(2026, 3));
  EXPECT_THAT(Ids(march), ElementsAre("c-1", "c-payer"));
  EXPECT_THAT(CriteriaOf(march, "c-1"),
              ElementsAre(Criterion::kBookingMade, Criterion::kTeamWithPlanHolder));
  EXPECT_THAT(ProofOf(march, "c-1", Criterion::kTeamWithPlanHolder),
              ElementsAre("e-in", "e-p", "e-plan-3"));
}

// ---------------------------------------------------------------- delivery

TEST(Delivery, DuplicatedOrReorderedDeliveryChangesNoCount) {
  Scenario s;
  s.Add([](Activity& a) { a.ContractStarted("ct-1", "c-1", "loc-a", Day(2026, 1, 1), "e-1"); });
  s.Add([](Activity& a) { a.ContractEnded("ct-1", Day(2026, 3, 16), "e-2"); });
  s.Add([](Activity& a) { a.TeamPayingMemberSet("t-1", "c-1", 1, At(2026, 1, 1), "e-3"); });
  s.Add([](Activity& a) { a.TeamMemberAdded("t-1", "c-2", 2, At(2026, 1, 2), "e-4"); });
  s.Add([](Activity& a) { a.TeamMemberRemoved("t-1", "c-2", 3, At(2026, 2, 2), "e-5"); });
  s.Add([](Activity& a) { a.TeamMemberAdded("t-1", "c-2", 4, At(2026, 3, 2), "e-6"); });
  s.Add([](Activity& a) { a.TeamPayingMemberSet("t-1", "c-3", 5, At(2026, 3, 10), "e-7"); });
  s.Add([](Activity& a) { a.BookingMade("b-1", "c-4", "loc-a", At(2026, 2, 28, 23, 59), "e-8"); });
  s.Add([](Activity& a) { a.Invoiced("inv-1", "c-5", "loc-b", Day(2026, 3, 1), "e-9"); });
  s.Add([](Activity& a) {
    a.RecurringProductStarted("pu-1", "c-6", "loc-a", Day(2026, 2, 1), "e-10");
  });
  s.Add([](Activity& a) { a.RecurringProductEnded("pu-1", Day(2026, 3, 1), "e-11"); });
  const Activity in_order = s.InOrder();
  auto answers = [](const Activity& a) {
    std::vector<std::vector<std::string>> out;
    for (const char* loc : {"loc-a", "loc-b"}) {
      for (int m = 1; m <= 5; ++m) {
        std::vector<std::string> row;
        for (const ActiveUser& u : a.ActiveUsers(loc, Month(2026, m))) {
          row.push_back(u.customer_id);
          for (const Reason& r : u.reasons) {
            row.push_back(std::to_string(static_cast<int>(r.criterion)));
            std::vector<std::string> ids = r.event_ids;
            std::sort(ids.begin(), ids.end());
            row.insert(row.end(), ids.begin(), ids.end());
          }
        }
        out.push_back(std::move(row));
      }
    }
    return out;
  };
  const auto expected = answers(in_order);
  EXPECT_THAT(Ids(in_order.ActiveUsers("loc-a", Month(2026, 3))), ElementsAre("c-1", "c-2"));
  // c-2 was in the team on 1 February, until the 2nd.
  EXPECT_THAT(Ids(in_order.ActiveUsers("loc-a", Month(2026, 2))),
              ElementsAre("c-1", "c-2", "c-4", "c-6"));
  EXPECT_THAT(Ids(in_order.ActiveUsers("loc-b", Month(2026, 3))), ElementsAre("c-5"));
  for (unsigned seed = 1; seed <= 20; ++seed) {
    EXPECT_EQ(answers(s.ShuffledTwice(seed)), expected) << "seed " << seed;
  }
}

}  // namespace
}  // namespace cowork::billing::domain
