// Visitors over a real Store (RocksDB in a temp dir), a simulated clock and a directory fed
// with customers events: who may register, read and change a visit; the host's notification;
// the day's log; bad input; personal data sealed and erasable; rebuild.

#include "services/checkins/app/visitors.h"

#include <string>
#include <vector>

#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/key_vault.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "services/checkins/projection/projection.h"

namespace cowork::checkins::app {
namespace {

namespace events = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

google::type::Date Day(int y, int m, int d) {
  google::type::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

class VisitorsAppTest : public cowork::testing::AppTest<VisitorsApp> {
 protected:
  // 2026-06-01 09:00 in Madrid.
  VisitorsAppTest() : AppTest(Local(2026, 6, 1, 9)) {}

  v1::RegisterVisitorRequest Request(const std::string& host = "c-1") {
    v1::RegisterVisitorRequest r;
    r.set_location_id("loc-mad");
    r.set_host_customer_id(host);
    r.set_name("Lucía Fernández");
    r.set_email("lucia@example.test");
    *r.mutable_expected_arrival() = ToTimestamp(Local(2026, 6, 1, 16));
    return r;
  }

  absl::StatusOr<v1::Visitor> Register(const auth::Principal& as = Admin(),
                                       const std::string& host = "c-1") {
    return app_.RegisterVisitor(as, Request(host));
  }

  absl::StatusOr<v1::Visitor> Get(const std::string& id, const auth::Principal& as = Admin()) {
    v1::GetVisitorRequest r;
    r.set_visitor_id(id);
    return app_.GetVisitor(as, r);
  }

  absl::StatusOr<v1::Visitor> Arrive(const std::string& id, const auth::Principal& as = Admin()) {
    v1::RecordVisitorArrivalRequest r;
    r.set_visitor_id(id);
    return app_.RecordVisitorArrival(as, r);
  }

  absl::StatusOr<v1::Visitor> Leave(const std::string& id, const auth::Principal& as = Admin()) {
    v1::RecordVisitorDepartureRequest r;
    r.set_visitor_id(id);
    return app_.RecordVisitorDeparture(as, r);
  }

  absl::StatusOr<v1::Visitor> Erase(const std::string& id, const auth::Principal& as = Admin()) {
    v1::EraseVisitorRequest r;
    r.set_visitor_id(id);
    return app_.EraseVisitor(as, r);
  }

  // Visitor ids of the location's log on a day.
  std::vector<std::string> Log(const google::type::Date& day,
                               const auth::Principal& as = Admin()) {
    v1::ListVisitorsRequest r;
    r.set_location_id("loc-mad");
    *r.mutable_day() = day;
    absl::StatusOr<v1::ListVisitorsResponse> got = app_.ListVisitors(as, r);
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> out;
    if (got.ok()) {
      for (const v1::Visitor& v : got->visitors()) out.push_back(v.visitor_id());
    }
    return out;
  }

  absl::StatusOr<v1::ListVisitorsResponse> OfHost(const std::string& host,
                                                  const auth::Principal& as) {
    v1::ListVisitorsRequest r;
    r.set_host_customer_id(host);
    return app_.ListVisitors(as, r);
  }

  // Every byte the service wrote: events, views, stored answers.
  std::string Everything() {
    std::string all;
    EXPECT_TRUE(store_
                    ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                      all += e.SerializeAsString();
                      return true;
                    })
                    .ok());
    for (const auto& [k, v] : AllViews()) all += k + v;
    return all;
  }
};

TEST_F(VisitorsAppTest, AnAdminRegistersAVisitorWhosePersonalDataIsSealedEverywhere) {
  absl::StatusOr<v1::Visitor> v = Register();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(v->visitor_id(), HasSubstr("v-"));
  EXPECT_EQ(v->name(), "Lucía Fernández");
  EXPECT_EQ(v->email(), "lucia@example.test");
  EXPECT_EQ(v->host_customer_id(), "c-1");
  EXPECT_EQ(v->status(), v1::VISITOR_EXPECTED);
  EXPECT_EQ(v->registered_by(), "admin-1");
  EXPECT_EQ(Get(v->visitor_id())->email(), "lucia@example.test");
  EXPECT_THAT(EventTypes(), ElementsAre("VisitorRegistered"));
  const std::string all = Everything();
  EXPECT_EQ(all.find("lucia@example.test"), std::string::npos);
  EXPECT_EQ(all.find("Fern"), std::string::npos);
}

TEST_F(VisitorsAppTest, CustomersRegisterAndSeeOnlyTheirOwnVisitors) {
  absl::StatusOr<v1::Visitor> mine = Register(Customer("c-1"), "");
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->host_customer_id(), "c-1");
  EXPECT_EQ(mine->registered_by(), "c-1");
  EXPECT_EQ(Register(Customer("c-1"), "c-2").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Another customer sees neither the visitor nor the host's list nor the day's log.
  EXPECT_EQ(Get(mine->visitor_id(), Customer("c-2")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OfHost("c-1", Customer("c-2")).status().code(), absl::StatusCode::kPermissionDenied);
  v1::ListVisitorsRequest log;
  log.set_location_id("loc-mad");
  *log.mutable_day() = Day(2026, 6, 1);
  EXPECT_EQ(app_.ListVisitors(Customer("c-1"), log).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The host sees them.
  absl::StatusOr<v1::ListVisitorsResponse> own = OfHost("c-1", Customer("c-1"));
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_EQ(own->visitors_size(), 1);
  EXPECT_EQ(own->visitors(0).name(), "Lucía Fernández");
  EXPECT_EQ(Get(mine->visitor_id(), Customer("c-1"))->visitor_id(), mine->visitor_id());
  // Only the front desk logs arrivals; the host may cancel before.
  EXPECT_EQ(Arrive(mine->visitor_id(), Customer("c-1")).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::CancelVisitorRequest cancel;
  cancel.set_visitor_id(mine->visitor_id());
  EXPECT_EQ(app_.CancelVisitor(Customer("c-2"), cancel).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Visitor> cancelled = app_.CancelVisitor(Customer("c-1"), cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::VISITOR_CANCELLED);
  EXPECT_EQ(Arrive(mine->visitor_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(EventTypes(), ElementsAre("VisitorRegistered", "VisitorCancelled"));
}

TEST_F(VisitorsAppTest, HostsMustBeCustomersInGoodStandingAndAdminsHoldTheLocation) {
  events::CustomerSuspended suspended;
  suspended.set_customer_id("c-2");
  Feed("customer", "c-2", 2, suspended);
  EXPECT_EQ(Register(Admin(), "c-2").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Register(Customer("c-2"), "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Register(Admin(), "c-404").status().code(), absl::StatusCode::kNotFound);
  v1::RegisterVisitorRequest elsewhere = Request();
  elsewhere.set_location_id("loc-404");
  EXPECT_EQ(app_.RegisterVisitor(Admin(), elsewhere).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Register(Admin({"loc-nyc"})).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(EventTypes().empty());

  absl::StatusOr<v1::Visitor> v = Register();
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Arrive(v->visitor_id(), Admin({"loc-nyc"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Get(v->visitor_id(), Admin({"loc-nyc"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Log(Day(2026, 6, 1), Admin({"loc-nyc", "loc-mad"})), ElementsAre(v->visitor_id()));
  // Another operator's admin does not find it.
  EXPECT_EQ(Get(v->visitor_id(), Admin({"*"}, "op-2")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Arrive(v->visitor_id(), Admin({"*"}, "op-2")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(VisitorsAppTest, BadInputNamesEveryFieldAndWritesNothing) {
  v1::RegisterVisitorRequest r;
  r.set_request_id(std::string(200, 'x'));
  r.set_location_id("loc/mad");
  r.set_host_customer_id("c 1");
  r.set_name("R2-D2");
  r.set_email("lucia@");
  const absl::Status s = app_.RegisterVisitor(Admin(), r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(s)) fields.push_back(v.field);
  EXPECT_THAT(fields, ElementsAre("request_id", "location_id", "host_customer_id", "name",
                                  "email", "expected_arrival"));
  r = Request();
  *r.mutable_expected_arrival() = ToTimestamp(Local(2028, 1, 1, 9));
  EXPECT_EQ(app_.RegisterVisitor(Admin(), r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Arrive("v/1").status().code(), absl::StatusCode::kInvalidArgument);
  v1::ListVisitorsRequest log;
  log.set_location_id("loc-mad");
  EXPECT_EQ(app_.ListVisitors(Admin(), log).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EventTypes().empty());
  EXPECT_TRUE(store_->ReadEvents("visitor", "v-1").value().empty());
}

TEST_F(VisitorsAppTest, ArrivalNotifiesTheHostAndTheLogShowsBothDays) {
  // Expected on 1 June at 16:00, arrives on 2 June at 10:00 (Madrid), leaves at 12:00.
  absl::StatusOr<v1::Visitor> v = Register();
  ASSERT_TRUE(v.ok()) << v.status();
  clock_.Set(Local(2026, 6, 2, 10));
  absl::StatusOr<v1::Visitor> arrived = Arrive(v->visitor_id());
  ASSERT_TRUE(arrived.ok()) << arrived.status();
  EXPECT_EQ(arrived->status(), v1::VISITOR_ARRIVED);
  EXPECT_EQ(FromTimestamp(arrived->arrival_time()), Local(2026, 6, 2, 10));
  EXPECT_EQ(Arrive(v->visitor_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(EventTypes(), ElementsAre("VisitorRegistered", "VisitorArrived",
                                        "VisitorArrivalNotificationRequested"));
  EXPECT_THAT(Log(Day(2026, 6, 1)), ElementsAre(v->visitor_id()));
  EXPECT_THAT(Log(Day(2026, 6, 2)), ElementsAre(v->visitor_id()));
  EXPECT_THAT(Log(Day(2026, 6, 3)), IsEmpty());
  clock_.Set(Local(2026, 6, 2, 12));
  absl::StatusOr<v1::Visitor> left = Leave(v->visitor_id());
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(left->status(), v1::VISITOR_LEFT);
  EXPECT_EQ(FromTimestamp(left->departure_time()), Local(2026, 6, 2, 12));
  EXPECT_EQ(Leave(v->visitor_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  // The log's entries follow the visit.
  v1::ListVisitorsRequest log;
  log.set_location_id("loc-mad");
  *log.mutable_day() = Day(2026, 6, 1);
  EXPECT_EQ(app_.ListVisitors(Admin(), log)->visitors(0).status(), v1::VISITOR_LEFT);
}

TEST_F(VisitorsAppTest, ARetriedRegistrationRegistersOnce) {
  v1::RegisterVisitorRequest r = Request();
  r.set_request_id("reg-1");
  absl::StatusOr<v1::Visitor> first = app_.RegisterVisitor(Admin(), r);
  absl::StatusOr<v1::Visitor> again = app_.RegisterVisitor(Admin(), r);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->visitor_id(), again->visitor_id());
  EXPECT_EQ(again->name(), "Lucía Fernández");
  EXPECT_THAT(EventTypes(), ElementsAre("VisitorRegistered"));
}

TEST_F(VisitorsAppTest, ErasureMakesTheNameAndEmailUnreadableAndKeepsTheVisit) {
  absl::StatusOr<v1::Visitor> v = Register();
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(Arrive(v->visitor_id()).ok());
  std::string sealed;
  ASSERT_TRUE(store_
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    v1::VisitorRegistered registered;
                    if (e.payload().UnpackTo(&registered)) sealed = registered.sealed_personal();
                    return true;
                  })
                  .ok());
  ASSERT_FALSE(sealed.empty());
  const std::string key =
      eventstore::KeyVault(*store_).Get(kOp, v->visitor_id()).value().value_or("");
  ASSERT_TRUE(crypto::Open(key, v->visitor_id(), sealed).ok());

  EXPECT_EQ(Erase(v->visitor_id(), Customer("c-1")).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Visitor> erased = Erase(v->visitor_id());
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_TRUE(erased->erased());
  EXPECT_TRUE(erased->name().empty());
  EXPECT_TRUE(erased->email().empty());
  EXPECT_EQ(erased->status(), v1::VISITOR_ARRIVED);
  EXPECT_EQ(erased->host_customer_id(), "c-1");
  EXPECT_EQ(Erase(v->visitor_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Get(v->visitor_id())->erased());
  EXPECT_FALSE(eventstore::KeyVault(*store_).Get(kOp, v->visitor_id()).value().has_value());
  // The event log still holds the sealed bytes; nothing left here opens them, and no view
  // keeps them.
  const std::string all = Everything();
  EXPECT_NE(all.find(sealed), std::string::npos) << "the log is kept as it was";
  for (const auto& [k, value] : AllViews()) EXPECT_EQ(value.find(sealed), std::string::npos) << k;
  EXPECT_THAT(EventTypes(), ElementsAre("VisitorRegistered", "VisitorArrived",
                                        "VisitorArrivalNotificationRequested", "VisitorErased"));
}

TEST_F(VisitorsAppTest, RebuildingTheViewsFromTheLogGivesIdenticalViews) {
  absl::StatusOr<v1::Visitor> a = Register();
  absl::StatusOr<v1::Visitor> b = Register(Customer("c-3"), "");
  ASSERT_TRUE(a.ok() && b.ok());
  clock_.Set(Local(2026, 6, 2, 10));
  ASSERT_TRUE(Arrive(a->visitor_id()).ok());
  ASSERT_TRUE(Erase(b->visitor_id()).ok());
  const auto before = AllViews();
  ASSERT_TRUE(projection::RebuildVisitors(*store_, directory_).ok());
  EXPECT_EQ(AllViews(), before);
}

}  // namespace
}  // namespace cowork::checkins::app
