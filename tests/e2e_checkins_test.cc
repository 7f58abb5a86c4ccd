// End to end: the dev broker, the customers service and the checkins service as real
// processes. A customer registered in the portal checks in with their session; a password
// change ends that session in the checkins service too; a suspended customer's check-in is
// refused and the attempt is on the topic; customer A never sees B's presence, history or
// visitors; a visitor's arrival notifies the host, and their name and email travel sealed; a
// restart that rebuilds the views from the log answers the same; erasing the visitor leaves
// their key in no file of the service's store.

#include <string>

#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace kv1 = ::cowork::checkins::v1;
namespace cv1 = ::cowork::customers::v1;
using testing::Call;

constexpr char kPassword[] = "Correct-Horse-42";


TEST(CheckinsEndToEnd, SessionsSuspensionAndPrivacy) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Checkins Co"));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service checkins,
      testing::StartService("checkins", {.data_dir = suite->dir().Sub("checkins"),
                                         .bootstrap = suite->bootstrap()}));
  auto stub = kv1::CheckinsService::NewStub(testing::Connect(checkins.address));

  auto register_customer = [&](const std::string& first, const std::string& email) {
    return RegisterPortalCustomer(suite->stubs(), tenant, first, email, kPassword);
  };
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Session ana, register_customer("Ana", "ana@example.test"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Session ben, register_customer("Ben", "ben@example.test"));

  // Ana checks herself in by app, once the checkins service knows her.
  kv1::CheckInRequest in;
  in.set_location_id(tenant.location_id);
  in.set_method(kv1::APP);
  COWORK_ASSERT_OK_AND_ASSIGN(
      kv1::CheckInRecord checked_in,
      Until([&] {
              in.set_request_id(testing::NewRequestId());
              return Call(*stub, &kv1::CheckinsService::Stub::CheckIn, in, ana.token());
            },
            Known<kv1::CheckInRecord>));
  EXPECT_EQ(checked_in.customer_id(), ana.customer().customer_id());
  kv1::ListPresentRequest present;
  present.set_location_id(tenant.location_id);
  COWORK_ASSERT_OK_AND_ASSIGN(
      kv1::ListPresentResponse who,
      Call(*stub, &kv1::CheckinsService::Stub::ListPresent, present, tenant.admin_token));
  EXPECT_EQ(who.count(), 1);

  // Ben (once his session is known here) sees neither Ana's presence nor her history.
  kv1::GetPresenceRequest where;
  where.set_customer_id(ana.customer().customer_id());
  kv1::GetPresenceRequest bens;
  bens.set_customer_id(ben.customer().customer_id());
  COWORK_ASSERT_OK(Until(
      [&] { return Call(*stub, &kv1::CheckinsService::Stub::GetPresence, bens, ben.token()); },
      [](const auto& r) { return r.ok(); }));
  EXPECT_EQ(Call(*stub, &kv1::CheckinsService::Stub::GetPresence, where, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  kv1::ListCheckinsRequest history;
  history.set_customer_id(ana.customer().customer_id());
  EXPECT_EQ(Call(*stub, &kv1::CheckinsService::Stub::ListCheckins, history, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(*stub, &kv1::CheckinsService::Stub::ListPresent, present, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  // Ana pre-registers a visitor for herself; Ben cannot see it; the front desk logs the arrival,
  // which notifies Ana.
  kv1::RegisterVisitorRequest visit;
  visit.set_request_id(testing::NewRequestId());
  visit.set_location_id(tenant.location_id);
  visit.set_name("Olga Kuznetsova");
  visit.set_email("olga@visitor.example");
  *visit.mutable_expected_arrival() = ToTimestamp(absl::Now() + absl::Hours(1));
  auto visitors = kv1::VisitorsService::NewStub(testing::Connect(checkins.address));
  COWORK_ASSERT_OK_AND_ASSIGN(
      kv1::Visitor olga,
      Call(*visitors, &kv1::VisitorsService::Stub::RegisterVisitor, visit, ana.token()));
  EXPECT_EQ(olga.host_customer_id(), ana.customer().customer_id());
  kv1::GetVisitorRequest get_olga;
  get_olga.set_visitor_id(olga.visitor_id());
  EXPECT_EQ(Call(*visitors, &kv1::VisitorsService::Stub::GetVisitor, get_olga, ben.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  kv1::RecordVisitorArrivalRequest arrival;
  arrival.set_request_id(testing::NewRequestId());
  arrival.set_visitor_id(olga.visitor_id());
  EXPECT_EQ(Call(*visitors, &kv1::VisitorsService::Stub::RecordVisitorArrival, arrival,
                 ana.token())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  COWORK_ASSERT_OK_AND_ASSIGN(
      kv1::Visitor here, Call(*visitors, &kv1::VisitorsService::Stub::RecordVisitorArrival,
                              arrival, tenant.admin_token));
  EXPECT_EQ(here.status(), kv1::VISITOR_ARRIVED);
  EXPECT_EQ(here.name(), "Olga Kuznetsova");

  // A password change ends Ana's session here too.
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Session renewed,
      ChangePortalPassword(suite->stubs(), ana, kPassword, "Battery-Staple-77"));
  absl::StatusOr<kv1::Presence> dead = Until(
      [&] { return Call(*stub, &kv1::CheckinsService::Stub::GetPresence, where, ana.token()); },
      [](const auto& r) { return r.status().code() == absl::StatusCode::kUnauthenticated; });
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnauthenticated);
  COWORK_ASSERT_OK(Until(
      [&] { return Call(*stub, &kv1::CheckinsService::Stub::GetPresence, where, renewed.token()); },
      [](const auto& r) { return r.ok(); }));

  // Ben, suspended, is refused at the door; the attempt is recorded.
  cv1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(ben.customer().customer_id());
  COWORK_ASSERT_OK(Call(*suite->stubs().customers, &cv1::CustomersService::Stub::SuspendCustomer,
                        suspend, tenant.admin_token));
  kv1::CheckInRequest card;
  card.set_customer_id(ben.customer().customer_id());
  card.set_location_id(tenant.location_id);
  card.set_method(kv1::ACCESS_CARD);
  absl::StatusOr<kv1::CheckInRecord> refused = Until(
      [&] {
        card.set_request_id(testing::NewRequestId());
        return Call(*stub, &kv1::CheckinsService::Stub::CheckIn, card, tenant.admin_token);
      },
      [](const auto& r) { return r.status().code() == absl::StatusCode::kFailedPrecondition; });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite->bootstrap(), "cowork.checkins.events",
          [&](const std::vector<Event>& all) {
            return CountOf(all, ben.customer().customer_id(), "CheckInRefused") >= 1 &&
                   CountOf(all, olga.visitor_id(), "VisitorArrivalNotificationRequested") >= 1;
          },
          absl::Seconds(30), "Ben's refused check-in and Olga's arrival"));
  const ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  EXPECT_EQ(CountOf(events, ana.customer().customer_id(), "CheckedIn"), 1);
  // The visitor's name and email never travel in clear.
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<RawMessage> raw,
                              ReadTopicFromZero(suite->bootstrap(), "cowork.checkins.events"));
  for (const char* personal : {"Olga", "Kuznetsova", "olga@visitor.example"}) {
    EXPECT_EQ(FindBytes(raw, personal), -1) << "\"" << personal << "\" found in clear";
  }
  EXPECT_GE(FindBytes(raw, olga.visitor_id()), 0);

  // Replay: restarted with --rebuild-projections on the same store, the service answers the
  // same from views rebuilt out of its event log.
  kv1::ListVisitorsRequest hosted;
  hosted.set_host_customer_id(ana.customer().customer_id());
  const auto answers = [&](auto& checkins_stub, auto& visitors_stub) {
    absl::StatusOr<kv1::ListCheckinsResponse> ana_history = Call(
        *checkins_stub, &kv1::CheckinsService::Stub::ListCheckins, history, tenant.admin_token);
    absl::StatusOr<kv1::ListVisitorsResponse> ana_visitors = Call(
        *visitors_stub, &kv1::VisitorsService::Stub::ListVisitors, hosted, tenant.admin_token);
    EXPECT_TRUE(ana_history.ok()) << ana_history.status();
    EXPECT_TRUE(ana_visitors.ok()) << ana_visitors.status();
    return std::make_pair(ana_history.value_or(kv1::ListCheckinsResponse()).SerializeAsString(),
                          ana_visitors.value_or(kv1::ListVisitorsResponse()).SerializeAsString());
  };
  const auto before = answers(stub, visitors);
  EXPECT_FALSE(before.first.empty());
  COWORK_ASSERT_OK(checkins.process->Terminate().status());
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service replayed,
      testing::StartService("checkins", {.data_dir = suite->dir().Sub("checkins"),
                                         .bootstrap = suite->bootstrap(),
                                         .extra_args = {"--rebuild-projections"}}));
  auto replayed_stub = kv1::CheckinsService::NewStub(testing::Connect(replayed.address));
  auto replayed_visitors = kv1::VisitorsService::NewStub(testing::Connect(replayed.address));
  EXPECT_EQ(answers(replayed_stub, replayed_visitors), before);

  // Erasing Olga leaves her seal key in no file of the store, write-ahead log included.
  const std::string data_dir = suite->dir().Sub("checkins");
  COWORK_ASSERT_OK(replayed.process->Terminate().status());
  COWORK_ASSERT_OK_AND_ASSIGN(const std::string key,
                              SealKeyIn(data_dir, tenant.operator_id, olga.visitor_id()));
  ASSERT_THAT(testing::FilesContaining(data_dir, key), ::testing::Not(::testing::IsEmpty()));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service again,
      testing::StartService("checkins", {.data_dir = data_dir, .bootstrap = suite->bootstrap()}));
  kv1::EraseVisitorRequest erase;
  erase.set_request_id(testing::NewRequestId());
  erase.set_visitor_id(olga.visitor_id());
  COWORK_ASSERT_OK(Call(*kv1::VisitorsService::NewStub(testing::Connect(again.address)),
                        &kv1::VisitorsService::Stub::EraseVisitor, erase, tenant.admin_token));
  COWORK_ASSERT_OK(again.process->Terminate().status());
  EXPECT_THAT(testing::FilesContaining(data_dir, key), ::testing::IsEmpty());
}

}  // namespace
}  // namespace cowork::e2e
