// End to end: the dev broker, the customers service and the checkins service as real
// processes. A customer registered in the portal checks in with their session; a password
// change ends that session in the checkins service too; a suspended customer's check-in is
// refused and the attempt is on the topic; customer A never sees B's presence or history.

#include <string>

#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace kv1 = ::cowork::checkins::v1;
namespace cv1 = ::cowork::customers::v1;
using testing::Call;

constexpr char kPassword[] = "Correct-Horse-42";

// Polls `fn` until `done(result)` holds (bounded); returns the last result.
template <typename Fn, typename Done>
auto Until(Fn fn, Done done) -> decltype(fn()) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    auto result = fn();
    if (done(result) || absl::Now() > deadline) return result;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

TEST(CheckinsEndToEnd, SessionsSuspensionAndPrivacy) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Checkins Co"));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service checkins,
      testing::StartService("checkins", {.data_dir = suite->dir().Sub("checkins"),
                                         .bootstrap = suite->bootstrap()}));
  auto stub = kv1::CheckinsService::NewStub(testing::Connect(checkins.address));

  auto register_customer = [&](const std::string& first, const std::string& email) {
    cv1::RegisterRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_operator_id(tenant.operator_id);
    r.set_location_id(tenant.location_id);
    r.set_first_name(first);
    r.set_last_name("Portal");
    r.set_email(email);
    r.set_password(kPassword);
    return Call(*suite->stubs().accounts, &cv1::AccountsService::Stub::Register, r, "");
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
            [](const absl::StatusOr<kv1::CheckInRecord>& r) {
              return r.status().code() != absl::StatusCode::kNotFound &&
                     r.status().code() != absl::StatusCode::kUnauthenticated;
            }));
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

  // A password change ends Ana's session here too.
  cv1::ChangePasswordRequest change;
  change.set_request_id(testing::NewRequestId());
  change.set_current_password(kPassword);
  change.set_new_password("Battery-Staple-77");
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Session renewed,
      Call(*suite->stubs().accounts, &cv1::AccountsService::Stub::ChangePassword, change,
           ana.token()));
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
            return CountOf(all, ben.customer().customer_id(), "CheckInRefused") >= 1;
          },
          absl::Seconds(30), "Ben's refused check-in"));
  const ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  EXPECT_EQ(CountOf(events, ana.customer().customer_id(), "CheckedIn"), 1);
}

}  // namespace
}  // namespace cowork::e2e
