// The generator makes what the services publish: envelopes whose sequences run 1, 2, 3, ...
// per aggregate in time order, on the services' topics, with the payloads the billing
// projection reads; the same seed makes the same events.

#include "tools/billinggen/generator.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "tools/billinggen/event_file.h"

namespace cowork::billinggen {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace ev1 = ::cowork::customers::v1;

GeneratorOptions Small() {
  return {.seed = 7,
          .locations = 5,
          .customers = 400,
          .months = 4,
          .bookings_per_month = 3,
          .team_share = 0.2};
}

std::vector<common::v1::EventEnvelope> All(const GeneratorOptions& options,
                                           GeneratedSummary* summary = nullptr) {
  std::vector<common::v1::EventEnvelope> out;
  GeneratedSummary s =
      Generator(options).Run([&](const common::v1::EventEnvelope& e) { out.push_back(e); });
  if (summary != nullptr) *summary = std::move(s);
  return out;
}

TEST(Generator, SequencesRunFromOnePerAggregateInTimeOrder) {
  GeneratedSummary summary;
  const std::vector<common::v1::EventEnvelope> events = All(Small(), &summary);
  ASSERT_EQ(summary.events, events.size());
  absl::flat_hash_map<std::string, std::pair<int64_t, int64_t>> last;  // sequence, seconds
  for (const common::v1::EventEnvelope& e : events) {
    const std::string aggregate = e.aggregate_type() + "/" + e.aggregate_id();
    auto& [sequence, seconds] = last[aggregate];
    EXPECT_EQ(e.sequence(), sequence + 1) << aggregate;
    EXPECT_GE(e.occurred_at().seconds(), seconds) << aggregate;
    sequence = e.sequence();
    seconds = e.occurred_at().seconds();
    EXPECT_EQ(e.operator_id(), "op-bench");
    EXPECT_EQ(e.event_id().size(), 36u);
    EXPECT_TRUE(e.service() == "customers" || e.service() == "contracts" ||
                e.service() == "bookings")
        << e.service();
  }
}

TEST(Generator, TheSameSeedMakesTheSameEventsAnotherSeedOthers) {
  const std::vector<common::v1::EventEnvelope> a = All(Small());
  const std::vector<common::v1::EventEnvelope> b = All(Small());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].SerializeAsString(), b[i].SerializeAsString()) << i;
  }
  GeneratorOptions other = Small();
  other.seed = 8;
  const std::vector<common::v1::EventEnvelope> c = All(other);
  EXPECT_NE(a.front().event_id(), c.front().event_id());
}

TEST(Generator, MakesEveryKindOfActivityTheBillingProjectionReads) {
  GeneratedSummary summary;
  All(Small(), &summary);
  for (const char* type :
       {"cowork.customers.v1.OperatorCreated", "cowork.customers.v1.LocationCreated",
        "cowork.customers.v1.CustomerAdded", "cowork.contracts.v1.ContractStarted",
        "cowork.contracts.v1.ContractEnded", "cowork.contracts.v1.PurchaseMade",
        "cowork.contracts.v1.PurchaseCancelled", "cowork.contracts.v1.InvoiceIssued",
        "cowork.bookings.v1.BookingCreated", "cowork.bookings.v1.BookingCancelled",
        "cowork.customers.v1.TeamMemberAdded", "cowork.customers.v1.TeamPayingMemberSet"}) {
    EXPECT_GT(summary.by_type[type], 0u) << type;
  }
  EXPECT_EQ(summary.by_type["cowork.customers.v1.CustomerAdded"], 400u);
  EXPECT_EQ(summary.by_type["cowork.customers.v1.LocationCreated"], 5u);
  ASSERT_EQ(summary.location_ids.size(), 5u);
  // Sizes fall with rank.
  EXPECT_GT(summary.customers_at[summary.location_ids.front()],
            summary.customers_at[summary.location_ids.back()]);
  EXPECT_EQ(absl::FormatCivilTime(summary.last_month), "2025-04");
}

TEST(Generator, InvoiceNumbersFollowEachBooksSequence) {
  for (const common::v1::EventEnvelope& e : All(Small())) {
    cv1::InvoiceIssued invoice;
    if (!e.payload().UnpackTo(&invoice)) continue;
    EXPECT_EQ(e.aggregate_type(), "invoicebook");
    EXPECT_EQ(e.aggregate_id(), invoice.location_id());
    EXPECT_EQ(invoice.number(), e.sequence());
    EXPECT_GT(invoice.total().amount_minor(), 0);
  }
}

TEST(Generator, RejectsOptionsOutOfRange) {
  EXPECT_TRUE(Validate(Small()).ok());
  GeneratorOptions bad = Small();
  bad.locations = kMaxLocations + 1;
  EXPECT_TRUE(absl::IsInvalidArgument(Validate(bad)));
  bad = Small();
  bad.churn = 1.5;
  EXPECT_TRUE(absl::IsInvalidArgument(Validate(bad)));
}

TEST(EventFile, ReadsBackWhatWasWritten) {
  cowork::testing::TempDir dir;
  const std::string path = dir.Sub("events.bin");
  const std::vector<common::v1::EventEnvelope> events = All(Small());
  {
    absl::StatusOr<std::unique_ptr<EventFileWriter>> writer = EventFileWriter::Open(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const common::v1::EventEnvelope& e : events) ASSERT_TRUE((*writer)->Write(e).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  size_t n = 0;
  ASSERT_TRUE(ReadEventFile(path, [&](const common::v1::EventEnvelope& e) {
                ASSERT_LT(n, events.size());
                EXPECT_EQ(e.SerializeAsString(), events[n].SerializeAsString());
                ++n;
              }).ok());
  EXPECT_EQ(n, events.size());
  EXPECT_FALSE(ReadEventFile(dir.Sub("missing.bin"), [](const auto&) {}).ok());
}

}  // namespace
}  // namespace cowork::billinggen
