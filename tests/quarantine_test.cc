// The quarantine through real processes: events forged on the customers topic reach the
// helpdesk service's directory consumer. An event that cannot be decoded is set aside, counted
// by its metric and worked on through QuarantineService (platform tokens with
// platform.quarantine only); a security event that cannot be applied stalls the consumer and
// turns the service NOT_SERVING, while it stays live.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cowork/common/v1/quarantine.grpc.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/eventstore/command.h"
#include "libs/kafka/kafka.h"
#include "libs/status/field_errors.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace qv1 = ::cowork::common::v1;
using testing::Call;
using ::testing::HasSubstr;

constexpr char kConsumer[] = "helpdesk.customers";

class QuarantineEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    COWORK_ASSERT_OK_AND_ASSIGN(suite_, Suite::Start());
    COWORK_ASSERT_OK_AND_ASSIGN(tenant_, CreateTenant(suite_->stubs(), "Quarantine Co"));
    COWORK_ASSERT_OK_AND_ASSIGN(
        helpdesk_, testing::StartService("helpdesk", {.data_dir = suite_->dir().Sub("helpdesk"),
                                                      .bootstrap = suite_->bootstrap()}));
    stub_ = qv1::QuarantineService::NewStub(testing::Connect(helpdesk_.address));
    ops_token_ = testing::MintDevPlatformToken("ops@platform.test", absl::Hours(1),
                                               {std::string(auth::kPlatformQuarantine)});
  }

  // Puts an envelope of the customers service on its topic whose payload claims `payload`'s
  // type but holds bytes that do not parse as it.
  void ForgeUnreadable(const google::protobuf::Message& payload, const std::string& customer_id) {
    const eventstore::EnvelopeContext context{
        .service = "customers", .operator_id = tenant_.operator_id, .now = absl::Now()};
    common::v1::EventEnvelope envelope =
        eventstore::MakeEnvelope(context, "customer", customer_id, 1, tenant_.location_id, payload);
    envelope.mutable_payload()->set_value("\xff\xff\xff");
    COWORK_ASSERT_OK(kafka::ProduceAll({.brokers = suite_->bootstrap(), .client_id = "forger"},
                                       "cowork.customers.events",
                                       {{customer_id, envelope.SerializeAsString()}}));
  }

  absl::Status WaitForMetric(const std::string& series, double value) {
    return testing::PollUntil(
        [&] {
          absl::StatusOr<double> now = testing::MetricValue(helpdesk_, series);
          return now.ok() && *now == value;
        },
        absl::Seconds(30), absl::StrCat(series, " == ", value));
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
  testing::Service helpdesk_;
  std::unique_ptr<qv1::QuarantineService::Stub> stub_;
  std::string ops_token_;
};

TEST_F(QuarantineEndToEnd, AnUnreadableEventIsSetAsideAndDiscardedByTheOperationsTeam) {
  customers::v1::CustomerUpdated updated;
  ForgeUnreadable(updated, "c-forged");
  const std::string series =
      absl::StrCat("cowork_consumer_quarantined_events{consumer=\"", kConsumer, "\"}");
  COWORK_ASSERT_OK(WaitForMetric(series, 1));

  // Operator admins, even of every location, and platform tokens without the permission see
  // nothing: the quarantine holds every operator's events.
  qv1::ListQuarantinedRequest list;
  list.set_consumer(kConsumer);
  EXPECT_EQ(Call(*stub_, &qv1::QuarantineService::Stub::ListQuarantined, list, tenant_.admin_token)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(*stub_, &qv1::QuarantineService::Stub::ListQuarantined, list,
                 testing::MintDevPlatformToken())
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  COWORK_ASSERT_OK_AND_ASSIGN(
      qv1::ListQuarantinedResponse listed,
      Call(*stub_, &qv1::QuarantineService::Stub::ListQuarantined, list, ops_token_));
  ASSERT_EQ(listed.events_size(), 1);
  const qv1::QuarantinedEvent& event = listed.events(0);
  EXPECT_EQ(event.consumer(), kConsumer);
  EXPECT_EQ(event.aggregate_id(), "c-forged");
  EXPECT_EQ(event.type(), "cowork.customers.v1.CustomerUpdated");
  EXPECT_THAT(event.reason(), HasSubstr("payload does not parse"));
  EXPECT_EQ(event.key(), "c-forged");

  // Retrying cannot help; a discard needs a note.
  qv1::RetryQuarantinedRequest retry;
  retry.set_consumer(kConsumer);
  retry.set_id(event.id());
  EXPECT_EQ(Call(*stub_, &qv1::QuarantineService::Stub::RetryQuarantined, retry, ops_token_)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  qv1::DiscardQuarantinedRequest discard;
  discard.set_consumer(kConsumer);
  discard.set_id(event.id());
  absl::Status no_note =
      Call(*stub_, &qv1::QuarantineService::Stub::DiscardQuarantined, discard, ops_token_).status();
  EXPECT_EQ(no_note.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(no_note).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(no_note)[0].field, "note");
  discard.set_note("forged in a test");
  COWORK_ASSERT_OK(
      Call(*stub_, &qv1::QuarantineService::Stub::DiscardQuarantined, discard, ops_token_)
          .status());
  COWORK_ASSERT_OK(WaitForMetric(series, 0));
  COWORK_ASSERT_OK_AND_ASSIGN(
      listed, Call(*stub_, &qv1::QuarantineService::Stub::ListQuarantined, list, ops_token_));
  EXPECT_EQ(listed.events_size(), 0);
}

TEST_F(QuarantineEndToEnd, AnUnreadableSuspensionStallsTheConsumerAndTheServiceStopsServing) {
  COWORK_ASSERT_OK_AND_ASSIGN(int healthy, testing::MetricsPortStatus(helpdesk_, "/healthz"));
  EXPECT_EQ(healthy, 200);
  customers::v1::CustomerSuspended suspended;
  ForgeUnreadable(suspended, "c-suspended");
  COWORK_ASSERT_OK(
      WaitForMetric(absl::StrCat("cowork_consumer_stalled{consumer=\"", kConsumer, "\"}"), 1));
  COWORK_ASSERT_OK(testing::PollUntil(
      [&] {
        absl::StatusOr<int> status = testing::MetricsPortStatus(helpdesk_, "/healthz");
        return status.ok() && *status == 503;
      },
      absl::Seconds(30), "/healthz answers 503"));
  // Live all the same: restarting would not help, and the quarantine stays reachable.
  COWORK_ASSERT_OK_AND_ASSIGN(int live, testing::MetricsPortStatus(helpdesk_, "/livez"));
  EXPECT_EQ(live, 200);
  COWORK_ASSERT_OK_AND_ASSIGN(
      double quarantined,
      testing::MetricValue(helpdesk_, absl::StrCat("cowork_consumer_quarantined_events{consumer=\"",
                                                   kConsumer, "\"}")));
  EXPECT_EQ(quarantined, 0);
}

}  // namespace
}  // namespace cowork::e2e
