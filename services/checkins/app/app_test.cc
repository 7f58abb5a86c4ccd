// The checkins application layer over a real Store (RocksDB in a temp dir), a simulated clock
// and a directory fed with customers events as the customers consumer would feed it.

#include "services/checkins/app/app.h"

#include <string>
#include <vector>

#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "services/checkins/projection/projection.h"

namespace cowork::checkins::app {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;

constexpr char kOp[] = "op-1";  // AppTest's operator

auth::Principal Admin(std::vector<std::string> locations = {"*"}, std::string op = kOp) {
  return cowork::testing::AdminOf(std::move(op), std::move(locations));
}
auth::Principal Customer(std::string id) { return cowork::testing::CustomerOf(kOp, std::move(id)); }

absl::Time Local(int y, int mo, int d, int h, int mi = 0) {
  absl::TimeZone madrid;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &madrid));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), madrid);
}

class CheckinsAppTest : public cowork::testing::AppTest<App> {
 protected:
  // 2026-06-01 09:00 in Madrid.
  CheckinsAppTest() : AppTest(Local(2026, 6, 1, 9)) {}

  absl::StatusOr<v1::CheckInRecord> In(const std::string& customer, const std::string& location,
                                 const auth::Principal& as = Admin(),
                                 v1::CheckInMethod method = v1::MANUAL,
                                 const std::string& request_id = "") {
    v1::CheckInRequest r;
    r.set_request_id(request_id);
    r.set_customer_id(customer);
    r.set_location_id(location);
    r.set_method(method);
    return app_.CheckIn(as, r);
  }

  absl::StatusOr<v1::CheckInRecord> Out(const std::string& customer,
                                  const auth::Principal& as = Admin()) {
    v1::CheckOutRequest r;
    r.set_customer_id(customer);
    return app_.CheckOut(as, r);
  }

  int64_t Count(const std::string& location) {
    v1::ListPresentRequest r;
    r.set_location_id(location);
    absl::StatusOr<v1::ListPresentResponse> out = app_.ListPresent(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->count() : -1;
  }

  std::vector<v1::CheckInRecord> OnDay(const std::string& location, absl::CivilDay day) {
    v1::ListCheckinsRequest r;
    r.set_location_id(location);
    *r.mutable_day() = ToDate(day);
    absl::StatusOr<v1::ListCheckinsResponse> out = app_.ListCheckins(Admin(), r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::vector<v1::CheckInRecord>(out->checkins().begin(), out->checkins().end())
                    : std::vector<v1::CheckInRecord>();
  }

  void SetPolicy(const std::string& closing, int max_hours) {
    v1::SetCheckoutPolicyRequest r;
    r.set_location_id("loc-mad");
    r.set_closing_time(closing);
    r.set_max_hours(max_hours);
    ASSERT_TRUE(app_.SetCheckoutPolicy(Admin(), r).ok());
  }
};

TEST_F(CheckinsAppTest, InOutAndOneLocationAtATime) {
  absl::StatusOr<v1::CheckInRecord> in = In("c-1", "loc-mad");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(FromTimestamp(in->in_time()), Local(2026, 6, 1, 9));
  EXPECT_EQ(FromTimestamp(in->auto_checkout_time()), Local(2026, 6, 1, 21));  // 12 hours
  EXPECT_EQ(Count("loc-mad"), 1);
  EXPECT_EQ(In("c-1", "loc-mad").status().code(), absl::StatusCode::kFailedPrecondition);

  // Checking in at New York checks out of Madrid first.
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(In("c-1", "loc-nyc").ok());
  EXPECT_EQ(Count("loc-mad"), 0);
  EXPECT_EQ(Count("loc-nyc"), 1);
  std::vector<v1::CheckInRecord> madrid = OnDay("loc-mad", absl::CivilDay(2026, 6, 1));
  ASSERT_EQ(madrid.size(), 1u);
  EXPECT_EQ(madrid[0].out_reason(), v1::MOVED);
  EXPECT_EQ(FromTimestamp(madrid[0].out_time()), Local(2026, 6, 1, 11));

  ASSERT_TRUE(Out("c-1").ok());
  EXPECT_EQ(Count("loc-nyc"), 0);
  EXPECT_EQ(Out("c-1").status().code(), absl::StatusCode::kFailedPrecondition);
  v1::GetPresenceRequest where;
  where.set_customer_id("c-1");
  EXPECT_FALSE(app_.GetPresence(Admin(), where)->has_checkin());
  v1::ListCheckinsRequest mine;
  mine.set_customer_id("c-1");
  EXPECT_EQ(app_.ListCheckins(Customer("c-1"), mine)->checkins_size(), 2);
}

TEST_F(CheckinsAppTest, ASuspendedCustomersAttemptIsRefusedAndRecordedOnce) {
  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  for (int i = 0; i < 2; ++i) {  // a retry with the same request id
    absl::StatusOr<v1::CheckInRecord> refused =
        In("c-2", "loc-mad", Admin(), v1::ACCESS_CARD, "req-card-1");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(Count("loc-mad"), 0);
  std::vector<v1::CheckInRecord> day = OnDay("loc-mad", absl::CivilDay(2026, 6, 1));
  ASSERT_EQ(day.size(), 1u);
  EXPECT_TRUE(day[0].refused());
  EXPECT_EQ(day[0].method(), v1::ACCESS_CARD);
  EXPECT_THAT(EventTypes(), ElementsAre("CheckInRefused"));
}

TEST_F(CheckinsAppTest, NobodyCheckedOutIsCheckedOutAtClosingTimeAlsoAfterDowntime) {
  SetPolicy("20:00", 0);
  ASSERT_TRUE(In("c-1", "loc-mad").ok());
  ASSERT_TRUE(In("c-2", "loc-mad").ok());
  ASSERT_TRUE(Out("c-2").ok());
  clock_.Set(Local(2026, 6, 1, 19, 59));
  EXPECT_EQ(*app_.RunDue(), 0);
  EXPECT_EQ(Count("loc-mad"), 1);
  clock_.Set(Local(2026, 6, 2, 8, 0));  // the service was down over the night
  EXPECT_EQ(*app_.RunDue(), 1);
  EXPECT_EQ(Count("loc-mad"), 0);
  std::vector<v1::CheckInRecord> day = OnDay("loc-mad", absl::CivilDay(2026, 6, 1));
  ASSERT_EQ(day.size(), 2u);
  for (const v1::CheckInRecord& c : day) {
    if (c.customer_id() != "c-1") continue;
    EXPECT_EQ(c.out_reason(), v1::CLOSING_TIME);
    EXPECT_EQ(FromTimestamp(c.out_time()), Local(2026, 6, 1, 20));
  }
  EXPECT_EQ(*app_.RunDue(), 0);
}

TEST_F(CheckinsAppTest, HistoryIsByTheLocationsDayOfArrival) {
  clock_.Set(Local(2026, 6, 2, 0, 30));  // 22:30 UTC on 1 June
  ASSERT_TRUE(In("c-1", "loc-mad").ok());
  EXPECT_TRUE(OnDay("loc-mad", absl::CivilDay(2026, 6, 1)).empty());
  EXPECT_EQ(OnDay("loc-mad", absl::CivilDay(2026, 6, 2)).size(), 1u);
}

TEST_F(CheckinsAppTest, WhoMayDoWhat) {
  EXPECT_TRUE(In("c-1", "loc-mad", Customer("c-1"), v1::APP).ok());
  EXPECT_EQ(In("c-2", "loc-mad", Customer("c-1"), v1::APP).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(In("c-2", "loc-mad", Customer("c-2"), v1::MANUAL).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(In("c-2", "loc-mad", Admin({"loc-nyc"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(In("c-2", "loc-mad", Admin({"*"}, "op-2")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Out("c-1", Admin({"loc-nyc"})).status().code(), absl::StatusCode::kPermissionDenied);

  v1::GetPresenceRequest where;
  where.set_customer_id("c-1");
  EXPECT_TRUE(app_.GetPresence(Customer("c-1"), where)->has_checkin());
  EXPECT_EQ(app_.GetPresence(Customer("c-2"), where).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(app_.GetPresence(Admin({"loc-nyc"}), where)->has_checkin());
  v1::ListCheckinsRequest history;
  history.set_customer_id("c-1");
  EXPECT_EQ(app_.ListCheckins(Customer("c-2"), history).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(app_.ListCheckins(Admin({"loc-nyc"}), history)->checkins_size(), 0);
  v1::ListPresentRequest present;
  present.set_location_id("loc-mad");
  EXPECT_EQ(app_.ListPresent(Customer("c-1"), present).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(app_.ListPresent(Admin({"loc-nyc"}), present).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Out("c-1", Customer("c-1")).ok());
}

TEST_F(CheckinsAppTest, BadInputNamesEveryFieldAndChangesNothing) {
  v1::CheckInRequest r;
  r.set_customer_id("c/1");
  r.set_location_id("");
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(app_.CheckIn(Admin(), r).status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("customer_id", "location_id"));
  EXPECT_EQ(In("c-1", "loc-mad", Admin(), v1::CHECK_IN_METHOD_UNSPECIFIED).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(In("c-unknown", "loc-mad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(In("c-1", "loc-unknown").status().code(), absl::StatusCode::kNotFound);
  v1::SetCheckoutPolicyRequest policy;
  policy.set_location_id("loc-mad");
  policy.set_closing_time("8pm");
  policy.set_max_hours(-1);
  fields.clear();
  for (const FieldViolation& v :
       FieldViolationsOf(app_.SetCheckoutPolicy(Admin(), policy).status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("closing_time", "max_hours"));
  v1::ListCheckinsRequest no_day;
  no_day.set_location_id("loc-mad");
  EXPECT_EQ(app_.ListCheckins(Admin(), no_day).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EventTypes().empty());
}

TEST_F(CheckinsAppTest, CountsEveryoneIn) {
  for (int i = 0; i < 40; ++i) {
    const std::string id = "p-" + std::to_string(i);
    events::CustomerAdded added;
    added.set_customer_id(id);
    added.set_home_location_id("loc-mad");
    Feed("customer", id, 1, added);
    ASSERT_TRUE(In(id, "loc-mad").ok());
  }
  v1::ListPresentRequest r;
  r.set_location_id("loc-mad");
  r.set_page_size(10);
  absl::StatusOr<v1::ListPresentResponse> page = app_.ListPresent(Admin(), r);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->count(), 40);
  EXPECT_EQ(page->checkins_size(), 10);
  EXPECT_FALSE(page->next_page_token().empty());
}

TEST_F(CheckinsAppTest, RebuildingTheViewsFromTheLogGivesIdenticalViews) {
  SetPolicy("20:00", 8);
  ASSERT_TRUE(In("c-1", "loc-mad").ok());
  ASSERT_TRUE(In("c-2", "loc-mad").ok());
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(In("c-2", "loc-nyc").ok());
  ASSERT_TRUE(In("c-3", "loc-mad").ok());
  ASSERT_TRUE(Out("c-3").ok());
  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-3");
  Feed("customer", "c-3", 2, suspended);
  EXPECT_FALSE(In("c-3", "loc-mad").ok());
  clock_.Advance(absl::Hours(9));
  ASSERT_GT(*app_.RunDue(), 0);
  ASSERT_TRUE(In("c-1", "loc-mad").ok());
  const auto before = AllViews();
  ASSERT_TRUE(projection::RebuildCheckins(*store_, directory_).ok());
  EXPECT_EQ(AllViews(), before);
}

}  // namespace
}  // namespace cowork::checkins::app
