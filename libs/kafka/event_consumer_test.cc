// EventConsumer against a real Store in a temp dir and the dev broker over TCP. Events are
// put on the topic with ProduceAll, the way another service's relay would.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/test_util.h"

namespace cowork::kafka {
namespace {

using customers::v1::LocationCreated;
using customers::v1::OperatorCreated;
using testing::Envelope;
using testing::Eventually;
using testing::OpenStore;
using testing::TempDir;

// The consumer takes only the owner's events from a topic: the customers events of these tests.
constexpr char kTopic[] = "cowork.customers.events";

class EventConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartBroker(3);
    store_ = OpenStore(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  // A fresh dev broker whose topic has `partitions` partitions (one: a single, known order).
  void StartBroker(int partitions) {
    broker_.reset();
    auto broker = DevBroker::Start({.topics = {kTopic}, .partitions = partitions});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    kafka_ = {.brokers = broker_->bootstrap(), .client_id = "consumer-test"};
  }

  static std::string Serialized(const common::v1::EventEnvelope& e) {
    return e.SerializeAsString();
  }

  static common::v1::EventEnvelope OperatorEvent(const std::string& id, int64_t sequence) {
    OperatorCreated payload;
    payload.set_operator_id(id);
    payload.set_name(absl::StrCat(id, "@", sequence));
    return Envelope("operator", id, sequence, payload);
  }

  void Produce(const std::vector<common::v1::EventEnvelope>& events,
               const std::string& topic = kTopic) {
    std::vector<std::pair<std::string, std::string>> kv;
    for (const auto& e : events) kv.emplace_back(e.aggregate_id(), Serialized(e));
    ASSERT_TRUE(ProduceAll(kafka_, topic, kv).ok());
  }

  std::string View(const std::string& key) {
    auto value = store_->Get(eventstore::Space::kViews, key);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() && value->has_value() ? **value : "";
  }

  int64_t Count() {
    int64_t n = 0;
    std::string v = View("count");
    if (!v.empty()) {
      EXPECT_TRUE(absl::SimpleAtoi(v, &n));
    }
    return n;
  }

  // Sum over partitions of the stored next offsets of consumer `name`.
  int64_t StoredOffsets(const std::string& name) {
    int64_t sum = 0;
    EXPECT_TRUE(store_
                    ->Scan(eventstore::Space::kMeta, absl::StrCat("consumer/", name, "/offset/"),
                           "",
                           [&](absl::string_view, absl::string_view value) {
                             int64_t n = 0;
                             EXPECT_TRUE(absl::SimpleAtoi(value, &n));
                             sum += n;
                             return true;
                           })
                    .ok());
    return sum;
  }

  // A projection: the operator's latest name, and a count that the handler reads and
  // increments, so it only adds up if each message sees the previous message's commit.
  std::unique_ptr<EventConsumer> MakeConsumer(ConsumerOptions options) {
    if (options.name.empty()) options.name = "test.projection";
    if (options.topics.empty()) options.topics = {kTopic};
    auto consumer = std::make_unique<EventConsumer>(*store_, kafka_, std::move(options));
    consumer->On<OperatorCreated>([this](const common::v1::EventEnvelope& e,
                                         const OperatorCreated& op,
                                         eventstore::WriteSet& writes) -> absl::Status {
      ++calls_;
      if (fail_with_.has_value()) {
        absl::Status s = (*fail_with_)(e);
        if (!s.ok()) return s;
      }
      writes.Put(eventstore::Space::kViews, absl::StrCat("operator/", op.operator_id()), op.name());
      writes.Put(eventstore::Space::kViews, "count", absl::StrCat(Count() + 1));
      return absl::OkStatus();
    });
    return consumer;
  }

  // A write-only projection, as ConsumerOptions::write_only asks: the operator's latest name
  // and one key per event applied, nothing read. The handler writes before it may fail, so a
  // rejected event's writes would show if they were kept.
  std::unique_ptr<EventConsumer> MakeWriteOnlyConsumer(ConsumerOptions options) {
    options.write_only = true;
    if (options.name.empty()) options.name = "test.batched";
    if (options.topics.empty()) options.topics = {kTopic};
    auto consumer = std::make_unique<EventConsumer>(*store_, kafka_, std::move(options));
    consumer->On<OperatorCreated>([this](const common::v1::EventEnvelope& e,
                                         const OperatorCreated& op,
                                         eventstore::WriteSet& writes) -> absl::Status {
      ++calls_;
      writes.Put(eventstore::Space::kViews, absl::StrCat("operator/", op.operator_id()), op.name());
      writes.Put(eventstore::Space::kViews, absl::StrCat("seen/", e.event_id()), "");
      if (fail_with_.has_value()) return (*fail_with_)(e);
      return absl::OkStatus();
    });
    return consumer;
  }

  // Events the write-only projection applied.
  int64_t Seen() {
    int64_t n = 0;
    EXPECT_TRUE(store_
                    ->Scan(eventstore::Space::kViews, "seen/", "",
                           [&](absl::string_view, absl::string_view) {
                             ++n;
                             return true;
                           })
                    .ok());
    return n;
  }

  TempDir dir_;
  std::unique_ptr<DevBroker> broker_;
  KafkaOptions kafka_;
  std::unique_ptr<eventstore::Store> store_;
  std::atomic<int> calls_{0};
  std::optional<std::function<absl::Status(const common::v1::EventEnvelope&)>> fail_with_;
};

TEST_F(EventConsumerTest, RejectsBadOptions) {
  EventConsumer unnamed(*store_, kafka_, {.topics = {kTopic}});
  EXPECT_TRUE(absl::IsInvalidArgument(unnamed.Start()));
  EventConsumer no_topics(*store_, kafka_, {.name = "x"});
  EXPECT_TRUE(absl::IsInvalidArgument(no_topics.Start()));
  auto twice = MakeConsumer({});
  ASSERT_TRUE(twice->Start().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(twice->Start()));
}

TEST_F(EventConsumerTest, AppliesEventsWithOffsetsAndSequencesInTheSameCommit) {
  Produce(
      {OperatorEvent("a", 1), OperatorEvent("b", 1), OperatorEvent("a", 2), OperatorEvent("c", 1)});
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 4; }));
  EXPECT_EQ(consumer->skipped(), 0u);
  EXPECT_EQ(View("operator/a"), "a@2");
  EXPECT_EQ(View("operator/b"), "b@1");
  EXPECT_EQ(Count(), 4);
  ASSERT_TRUE(Eventually([&] { return StoredOffsets("test.projection") == 4; }));
  auto applied =
      store_->Get(eventstore::Space::kMeta, "consumer/test.projection/applied/operator/a");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->value_or(""), "2");
  ASSERT_TRUE(Eventually([&] { return consumer->Lag() == 0; }));
}

TEST_F(EventConsumerTest, ADuplicatedEventIsAppliedOnce) {
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  Produce(
      {OperatorEvent("a", 1), OperatorEvent("a", 1), OperatorEvent("a", 2), OperatorEvent("a", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->skipped() == 4; }));
  EXPECT_EQ(consumer->applied(), 2u);
  EXPECT_EQ(consumer->skipped(), 2u);
  EXPECT_EQ(calls_.load(), 2);
  EXPECT_EQ(View("operator/a"), "a@2");
  EXPECT_EQ(Count(), 2);
}

// What a relay sends after a failed delivery: 3 arrived before 2, then 2 and 3 again.
TEST_F(EventConsumerTest, AnEventAheadOfItsPredecessorWaitsForItsTurn) {
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 3), OperatorEvent("a", 2),
           OperatorEvent("a", 3)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->skipped() == 4; }));
  EXPECT_EQ(consumer->applied(), 3u);
  EXPECT_EQ(consumer->skipped(), 1u);
  EXPECT_EQ(View("operator/a"), "a@3");
  EXPECT_EQ(Count(), 3);
}

TEST_F(EventConsumerTest, SkipsUnknownTypesQuarantinesGarbageAndStoresTheirOffsets) {
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  LocationCreated location;
  location.set_location_id("l1");
  Produce({Envelope("location", "l1", 1, location)});
  ASSERT_TRUE(ProduceAll(kafka_, kTopic, {{"junk", "\xff\xff not a protobuf"}}).ok());
  Produce({OperatorEvent("a", 1)});
  ASSERT_TRUE(Eventually(
      [&] { return consumer->applied() + consumer->skipped() + consumer->quarantined() == 3; }));
  EXPECT_EQ(consumer->applied(), 1u);
  EXPECT_EQ(consumer->skipped(), 1u);
  EXPECT_EQ(consumer->quarantined(), 1);
  EXPECT_EQ(calls_.load(), 1);
  ASSERT_TRUE(Eventually([&] { return StoredOffsets("test.projection") == 3; }));
  auto applied =
      store_->Get(eventstore::Space::kMeta, "consumer/test.projection/applied/location/l1");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->value_or(""), "1");
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key(), "junk");
  EXPECT_EQ((*listed)[0].value(), "\xff\xff not a protobuf");
  EXPECT_EQ((*listed)[0].reason(), "not an event envelope");
  EXPECT_EQ((*listed)[0].topic(), kTopic);
  EXPECT_TRUE((*listed)[0].aggregate_type().empty());
}

TEST_F(EventConsumerTest, ARestartResumesFromTheStoredOffsets) {
  Produce({OperatorEvent("a", 1), OperatorEvent("b", 1), OperatorEvent("c", 1)});
  {
    auto first = MakeConsumer({});
    ASSERT_TRUE(first->Start().ok());
    ASSERT_TRUE(Eventually([&] { return first->applied() == 3; }));
  }
  Produce({OperatorEvent("a", 2), OperatorEvent("d", 1)});
  auto second = MakeConsumer({});
  ASSERT_TRUE(second->Start().ok());
  // Once every partition's offset is at its end, a consumer that had started from zero would
  // have met the three old events first and counted them as skipped duplicates.
  ASSERT_TRUE(Eventually([&] { return StoredOffsets("test.projection") == 5; }));
  EXPECT_EQ(second->applied(), 2u);
  EXPECT_EQ(second->skipped(), 0u);
  EXPECT_EQ(calls_.load(), 5);
  EXPECT_EQ(Count(), 5);
}

TEST_F(EventConsumerTest, RebuildResetsTheProjectionAndReappliesFromZero) {
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 2), OperatorEvent("b", 1)});
  {
    auto first = MakeConsumer({});
    ASSERT_TRUE(first->Start().ok());
    ASSERT_TRUE(Eventually([&] { return first->applied() == 3; }));
  }
  EXPECT_EQ(Count(), 3);
  int resets = 0;
  auto rebuilt = MakeConsumer({.rebuild = true, .reset = [&](eventstore::Store& store) {
                                 ++resets;
                                 absl::Status s =
                                     store.DeletePrefix(eventstore::Space::kViews, "operator/");
                                 if (!s.ok()) return s;
                                 return store.DeletePrefix(eventstore::Space::kViews, "count");
                               }});
  ASSERT_TRUE(rebuilt->Start().ok());
  EXPECT_EQ(resets, 1);
  ASSERT_TRUE(Eventually([&] { return rebuilt->applied() == 3; }));
  EXPECT_EQ(rebuilt->skipped(), 0u);
  EXPECT_EQ(Count(), 3);  // from zero again, not 6
  EXPECT_EQ(View("operator/a"), "a@2");
}

TEST_F(EventConsumerTest, AbortedHandlersAreRetriedRejectedEventsQuarantined) {
  std::atomic<int> aborts_left{3};
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() == "retry" && aborts_left > 0) {
      --aborts_left;
      return absl::AbortedError("lost a race");
    }
    if (e.aggregate_id() == "bad") return absl::FailedPreconditionError("rule says no");
    return absl::OkStatus();
  };
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  Produce({OperatorEvent("retry", 1), OperatorEvent("bad", 1), OperatorEvent("ok", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->quarantined() == 3; }));
  EXPECT_EQ(consumer->applied(), 2u);
  EXPECT_EQ(consumer->skipped(), 0u);
  EXPECT_EQ(consumer->quarantined(), 1);
  EXPECT_EQ(aborts_left.load(), 0);
  EXPECT_EQ(calls_.load(), 3 + 3);  // three aborted attempts, then one call per event
  EXPECT_EQ(View("operator/retry"), "retry@1");
  EXPECT_EQ(View("operator/bad"), "");
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].aggregate_id(), "bad");
  EXPECT_EQ((*listed)[0].type(), "cowork.customers.v1.OperatorCreated");
  EXPECT_EQ((*listed)[0].reason(), "rejected by its handler: FAILED_PRECONDITION: rule says no");
}

TEST_F(EventConsumerTest, LagCountsWhatIsBehindTheHighWatermark) {
  StartBroker(1);
  std::atomic<bool> release{false};
  fail_with_ = [&](const common::v1::EventEnvelope&) -> absl::Status {
    return release.load() ? absl::OkStatus() : absl::UnavailableError("not yet");
  };
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 2), OperatorEvent("a", 3)});
  auto consumer = MakeConsumer({.name = "lagging", .topics = {kTopic}});
  ASSERT_TRUE(consumer->Start().ok());
  // Stuck on the first message: all three are behind.
  ASSERT_TRUE(Eventually([&] { return consumer->Lag() == 3; }));
  release = true;
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 3 && consumer->Lag() == 0; }));
}

TEST_F(EventConsumerTest, CaughtUpOnlyOnceEverythingOnTheBrokersIsCommitted) {
  StartBroker(1);
  std::atomic<bool> release{false};
  fail_with_ = [&](const common::v1::EventEnvelope&) -> absl::Status {
    return release.load() ? absl::OkStatus() : absl::UnavailableError("not yet");
  };
  auto consumer = MakeConsumer({.name = "held", .topics = {kTopic}});
  EXPECT_FALSE(*consumer->CaughtUp(absl::Seconds(5)));  // not started
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return *consumer->CaughtUp(absl::Seconds(5)); }));  // empty
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 2)});
  // Held on the first message: the brokers hold two messages it has not committed.
  absl::StatusOr<bool> held = consumer->CaughtUp(absl::Seconds(5));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(*held);
  release = true;
  ASSERT_TRUE(Eventually([&] { return *consumer->CaughtUp(absl::Seconds(5)); }));
  EXPECT_EQ(consumer->applied(), 2u);
}

TEST_F(EventConsumerTest, ATopicMissingAtStartIsAssignedWhenItAppears) {
  auto consumer = MakeConsumer({.topics = {kTopic, "cowork.late.events"}});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(broker_->CreateTopic("cowork.late.events", 2).ok());
  // Read once assigned: refused, as a customers event has no business on the late topic.
  Produce({OperatorEvent("late", 1)}, "cowork.late.events");
  Produce({OperatorEvent("early", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 1 && consumer->refused() == 1; }));
  EXPECT_EQ(View("operator/early"), "early@1");
}

TEST_F(EventConsumerTest, RefusesEventsOfAnotherServiceThanTheTopicsOwner) {
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  // A customers event that says the bookings service wrote it, and an envelope of the
  // customers service carrying a payload of no customers event.
  common::v1::EventEnvelope forged_service = OperatorEvent("a", 1);
  forged_service.set_service("bookings");
  common::v1::EventEnvelope foreign_payload = OperatorEvent("a", 1);
  google::protobuf::StringValue other;
  other.set_value("not a customers event");
  foreign_payload.mutable_payload()->PackFrom(other);
  Produce({forged_service, foreign_payload});
  ASSERT_TRUE(Eventually([&] { return consumer->refused() == 2; }));
  EXPECT_EQ(View("operator/a"), "");
  EXPECT_EQ(calls_.load(), 0);
  // They took no sequence: the real first event of "a" applies.
  Produce({OperatorEvent("a", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 1; }));
  EXPECT_EQ(View("operator/a"), "a@1");
  EXPECT_EQ(consumer->refused(), 2u);
}

TEST_F(EventConsumerTest, KeepsConsumingAcrossABrokerOutage) {
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  Produce({OperatorEvent("a", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 1; }));
  ASSERT_TRUE(broker_->SetDown().ok());
  ASSERT_TRUE(broker_->SetUp().ok());
  Produce({OperatorEvent("a", 2)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 2; }));
  EXPECT_EQ(View("operator/a"), "a@2");
}

TEST_F(EventConsumerTest, StartsDuringAnOutageAndCatchesUpAfterIt) {
  Produce({OperatorEvent("a", 1)});
  ASSERT_TRUE(broker_->SetDown().ok());
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());  // not an error: the service starts, the thread retries
  ASSERT_TRUE(broker_->SetUp().ok());
  Produce({OperatorEvent("a", 2)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 2; }));
  EXPECT_EQ(View("operator/a"), "a@2");
}

// ---------------------------------------------------------------- write_only: rounds

TEST_F(EventConsumerTest, WriteOnlyCommitsARoundWithItsOffsetsAndSequences) {
  StartBroker(1);
  std::vector<common::v1::EventEnvelope> events;
  for (int i = 0; i < 100; ++i) events.push_back(OperatorEvent(absl::StrCat("op", i), 1));
  events.push_back(OperatorEvent("op7", 2));
  Produce(events);
  auto consumer = MakeWriteOnlyConsumer({.topics = {kTopic}});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 101; }));
  EXPECT_EQ(consumer->skipped(), 0u);
  EXPECT_LT(consumer->commits(), 101u);  // rounds, not one commit per event
  EXPECT_EQ(Seen(), 101);
  EXPECT_EQ(View("operator/op7"), "op7@2");
  EXPECT_EQ(StoredOffsets("test.batched"), 101);
  auto applied =
      store_->Get(eventstore::Space::kMeta, "consumer/test.batched/applied/operator/op7");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->value_or(""), "2");
  ASSERT_TRUE(Eventually([&] { return consumer->Lag() == 0; }));
}

TEST_F(EventConsumerTest, WriteOnlyRoundsHoldAtMostBatchSizeMessages) {
  StartBroker(1);
  std::vector<common::v1::EventEnvelope> events;
  for (int i = 0; i < 10; ++i) events.push_back(OperatorEvent(absl::StrCat("op", i), 1));
  Produce(events);
  auto consumer = MakeWriteOnlyConsumer({.topics = {kTopic}, .batch_size = 3});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 10; }));
  EXPECT_GE(consumer->commits(), 4u);
  EXPECT_EQ(StoredOffsets("test.batched"), 10);
}

TEST_F(EventConsumerTest, WriteOnlyAppliesACopyWithinARoundOnce) {
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 1), OperatorEvent("a", 2),
           OperatorEvent("a", 1), OperatorEvent("b", 1)});
  auto consumer = MakeWriteOnlyConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->skipped() == 5; }));
  EXPECT_EQ(consumer->applied(), 3u);
  EXPECT_EQ(consumer->skipped(), 2u);
  EXPECT_EQ(calls_.load(), 3);
  EXPECT_EQ(Seen(), 3);
  EXPECT_EQ(View("operator/a"), "a@2");
  EXPECT_EQ(StoredOffsets("test.batched"), 5);
}

TEST_F(EventConsumerTest, WriteOnlyHoldsAnEventAheadOfItsPredecessor) {
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 3), OperatorEvent("a", 2),
           OperatorEvent("a", 3)});
  auto consumer = MakeWriteOnlyConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->skipped() == 4; }));
  EXPECT_EQ(consumer->applied(), 3u);
  EXPECT_EQ(consumer->skipped(), 1u);
  EXPECT_EQ(View("operator/a"), "a@3");
  EXPECT_EQ(Seen(), 3);
}

TEST_F(EventConsumerTest, WriteOnlySkipsUnknownTypesQuarantinesGarbageAndStoresTheirOffsets) {
  LocationCreated location;
  location.set_location_id("l1");
  Produce({Envelope("location", "l1", 1, location)});
  ASSERT_TRUE(ProduceAll(kafka_, kTopic, {{"junk", "\xff\xff not a protobuf"}}).ok());
  Produce({OperatorEvent("a", 1)});
  auto consumer = MakeWriteOnlyConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually(
      [&] { return consumer->applied() + consumer->skipped() + consumer->quarantined() == 3; }));
  EXPECT_EQ(consumer->applied(), 1u);
  EXPECT_EQ(consumer->skipped(), 1u);
  EXPECT_EQ(consumer->quarantined(), 1);
  EXPECT_EQ(StoredOffsets("test.batched"), 3);
  auto applied = store_->Get(eventstore::Space::kMeta, "consumer/test.batched/applied/location/l1");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->value_or(""), "1");
}

TEST_F(EventConsumerTest,
       WriteOnlyRetriesAbortedHandlersAndQuarantinesRejectedEventsWithoutTheirWrites) {
  std::atomic<int> aborts_left{3};
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() == "retry" && aborts_left > 0) {
      --aborts_left;
      return absl::AbortedError("lost a race");
    }
    if (e.aggregate_id() == "bad") return absl::FailedPreconditionError("rule says no");
    return absl::OkStatus();
  };
  Produce({OperatorEvent("first", 1), OperatorEvent("retry", 1), OperatorEvent("bad", 1),
           OperatorEvent("ok", 1)});
  auto consumer = MakeWriteOnlyConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->quarantined() == 4; }));
  EXPECT_EQ(consumer->applied(), 3u);
  EXPECT_EQ(consumer->quarantined(), 1);
  EXPECT_EQ(aborts_left.load(), 0);
  // Three aborted attempts, one call per event, and the rejected one decided again on its own.
  EXPECT_EQ(calls_.load(), 4 + 3 + 1);
  EXPECT_EQ(View("operator/retry"), "retry@1");
  EXPECT_EQ(View("operator/bad"), "");
  EXPECT_EQ(Seen(), 3);
  EXPECT_EQ(StoredOffsets("test.batched"), 4);
}

TEST_F(EventConsumerTest, WriteOnlyResumesFromTheStoredOffsetsAndRebuildsFromZero) {
  Produce({OperatorEvent("a", 1), OperatorEvent("b", 1), OperatorEvent("c", 1)});
  {
    auto first = MakeWriteOnlyConsumer({});
    ASSERT_TRUE(first->Start().ok());
    ASSERT_TRUE(Eventually([&] { return first->applied() == 3; }));
  }
  Produce({OperatorEvent("a", 2), OperatorEvent("d", 1)});
  {
    auto second = MakeWriteOnlyConsumer({});
    ASSERT_TRUE(second->Start().ok());
    ASSERT_TRUE(Eventually([&] { return StoredOffsets("test.batched") == 5; }));
    EXPECT_EQ(second->applied(), 2u);
    EXPECT_EQ(second->skipped(), 0u);
  }
  EXPECT_EQ(calls_.load(), 5);
  EXPECT_EQ(Seen(), 5);
  auto rebuilt = MakeWriteOnlyConsumer(
      {.rebuild = true, .reset = [](eventstore::Store& store) {
         return store.DeletePrefix(eventstore::Space::kViews, "seen/");
       }});
  ASSERT_TRUE(rebuilt->Start().ok());
  ASSERT_TRUE(Eventually([&] { return rebuilt->applied() == 5; }));
  EXPECT_EQ(Seen(), 5);
  EXPECT_EQ(View("operator/a"), "a@2");
}

// ---------------------------------------------------------------- never past an event

TEST_F(EventConsumerTest, ARejectedEventHoldsTheLaterEventsOfItsAggregateOthersGoOn) {
  std::atomic<bool> broken{true};
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (broken && e.aggregate_id() == "a" && e.sequence() == 1) {
      return absl::InvalidArgumentError("name: too long");
    }
    return absl::OkStatus();
  };
  Produce(
      {OperatorEvent("a", 1), OperatorEvent("a", 2), OperatorEvent("b", 1), OperatorEvent("a", 3)});
  {
    auto consumer = MakeConsumer({});
    ASSERT_TRUE(consumer->Start().ok());
    ASSERT_TRUE(Eventually([&] { return consumer->applied() + consumer->quarantined() == 4; }));
    EXPECT_EQ(consumer->applied(), 1u);  // b
    EXPECT_EQ(View("operator/a"), "");
    EXPECT_EQ(View("operator/b"), "b@1");
  }
  // After a restart the aggregate is still held: a later event waits too.
  Produce({OperatorEvent("a", 4)});
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->quarantined() == 4; }));
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 4u);
  std::string head;
  for (const common::v1::QuarantinedEvent& q : *listed) {
    if (q.sequence() == 1) head = q.id();
  }
  ASSERT_FALSE(head.empty());
  for (const common::v1::QuarantinedEvent& q : *listed) {
    EXPECT_EQ(q.aggregate_id(), "a");
    EXPECT_EQ(q.waiting_behind(), q.sequence() == 1 ? "" : head) << q.id();
  }
  auto paged = consumer->ListQuarantined((*listed)[1].id(), 10);
  ASSERT_TRUE(paged.ok()) << paged.status();
  EXPECT_EQ(paged->size(), 2u);

  // Only the first can be retried; while it still fails nothing moves.
  EXPECT_TRUE(absl::IsFailedPrecondition(consumer->Retry((*listed)[3].id()).status()));
  auto still = consumer->Retry(head);
  EXPECT_TRUE(absl::IsFailedPrecondition(still.status())) << still.status();
  EXPECT_EQ(View("operator/a"), "");

  broken = false;  // the fix
  auto released = consumer->Retry(head);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->applied, 4);
  EXPECT_EQ(released->still_held, 0);
  EXPECT_EQ(View("operator/a"), "a@4");
  EXPECT_EQ(consumer->quarantined(), 0);
  EXPECT_TRUE(absl::IsNotFound(consumer->GetQuarantined(head).status()));
  // The aggregate goes on normally.
  Produce({OperatorEvent("a", 5)});
  ASSERT_TRUE(Eventually([&] { return View("operator/a") == "a@5"; }));
  EXPECT_EQ(consumer->quarantined(), 0);
}

TEST_F(EventConsumerTest, ADiscardIsRecordedAndReleasesTheAggregate) {
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() == "a" && e.sequence() == 1) return absl::NotFoundError("no such plan");
    return absl::OkStatus();
  };
  Produce({OperatorEvent("a", 1), OperatorEvent("a", 2)});
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->quarantined() == 2; }));
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  auto released = consumer->Discard((*listed)[0].id(), "platform:ops", "plan deleted by hand");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->applied, 1);
  EXPECT_EQ(View("operator/a"), "a@2");
  EXPECT_EQ(consumer->quarantined(), 0);
  auto recorded = store_->ReadEvents("quarantine", "test.projection");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  ASSERT_EQ(recorded->size(), 1u);
  common::v1::QuarantinedEventDiscarded discarded;
  ASSERT_TRUE((*recorded)[0].payload().UnpackTo(&discarded));
  EXPECT_EQ(discarded.by(), "platform:ops");
  EXPECT_EQ(discarded.note(), "plan deleted by hand");
  EXPECT_EQ(discarded.event().id(), (*listed)[0].id());
  EXPECT_EQ(discarded.event().value(), (*listed)[0].value());
  EXPECT_TRUE(store_->ReadOutbox(10)->empty());  // recorded, never published
  EXPECT_TRUE(absl::IsNotFound(consumer->Discard((*listed)[0].id(), "x", "y").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(consumer->Retry("not an id").status()));
}

TEST_F(EventConsumerTest, AStorageErrorStallsTheConsumerUntilItPasses) {
  StartBroker(1);
  std::atomic<bool> full{true};
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (full && e.aggregate_id() == "a") return absl::ResourceExhaustedError("disk full");
    return absl::OkStatus();
  };
  Produce({OperatorEvent("a", 1), OperatorEvent("b", 1)});
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->stalled(); }));
  ASSERT_TRUE(Eventually([&] { return calls_.load() >= 3; }));  // retried, not skipped
  EXPECT_EQ(StoredOffsets("test.projection"), 0);
  EXPECT_EQ(View("operator/b"), "");  // nothing goes past it
  EXPECT_EQ(consumer->quarantined(), 0);
  full = false;
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 2; }));
  EXPECT_FALSE(consumer->stalled());
  EXPECT_EQ(View("operator/a"), "a@1");
  EXPECT_EQ(StoredOffsets("test.projection"), 2);
}

// Security events: a lost suspension would leave access open, so the consumer stalls instead
// of setting one aside, even behind a quarantined event of the same aggregate.
TEST_F(EventConsumerTest, AnEventRegisteredToStallIsNeverSetAside) {
  StartBroker(1);
  std::atomic<bool> broken{true};
  fail_with_ = [&](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() == "a" && e.sequence() == 1) return absl::InvalidArgumentError("bad");
    return absl::OkStatus();
  };
  auto consumer = MakeConsumer({});
  consumer->On<customers::v1::CustomerSuspended>(
      [&](const common::v1::EventEnvelope&, const customers::v1::CustomerSuspended& s,
          eventstore::WriteSet& writes) -> absl::Status {
        if (broken) return absl::InvalidArgumentError("cannot read the reason");
        writes.Put(eventstore::Space::kViews, absl::StrCat("suspended/", s.customer_id()), "yes");
        return absl::OkStatus();
      },
      OnFailure::kStall);
  ASSERT_TRUE(consumer->Start().ok());
  customers::v1::CustomerSuspended suspended;
  suspended.set_customer_id("c1");
  Produce({Envelope("customer", "c1", 1, suspended), OperatorEvent("b", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->stalled(); }));
  EXPECT_EQ(consumer->quarantined(), 0);
  EXPECT_EQ(View("operator/b"), "");
  broken = false;
  ASSERT_TRUE(Eventually([&] { return View("operator/b") == "b@1"; }));
  EXPECT_EQ(View("suspended/c1"), "yes");
  EXPECT_FALSE(consumer->stalled());

  // Behind a quarantined event of its aggregate it stalls too, until that one is released.
  Produce({OperatorEvent("a", 1), Envelope("operator", "a", 2, suspended)});
  ASSERT_TRUE(Eventually([&] { return consumer->quarantined() == 1 && consumer->stalled(); }));
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE(consumer->Discard((*listed)[0].id(), "platform:ops", "bad").ok());
  ASSERT_TRUE(Eventually([&] { return !consumer->stalled() && consumer->quarantined() == 0; }));
  ASSERT_TRUE(Eventually([&] { return StoredOffsets("test.projection") == 4; }));
}

// A full quarantine still lets an operator work: releasing re-decides records it already
// holds, so one that fails again takes the head of its aggregate without needing room.
TEST_F(EventConsumerTest, AFullQuarantineCanStillBeReleased) {
  StartBroker(1);
  fail_with_ = [](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() != "ok") return absl::InvalidArgumentError("bad");
    return absl::OkStatus();
  };
  Produce({OperatorEvent("y", 1), OperatorEvent("y", 2), OperatorEvent("z", 1)});
  auto consumer = MakeConsumer({.max_quarantined = 3});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->quarantined() == 3; }));
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  const std::string y1 = (*listed)[0].id(), y2 = (*listed)[1].id();
  ASSERT_EQ((*listed)[1].waiting_behind(), y1);
  EXPECT_TRUE(absl::IsFailedPrecondition(consumer->Retry(y1).status()));  // still fails
  auto released = consumer->Discard(y1, "platform:ops", "bad");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->applied, 0);
  EXPECT_EQ(released->still_held, 1);  // y@2 failed too and heads y now
  EXPECT_EQ(consumer->quarantined(), 2);
  auto head = consumer->GetQuarantined(y2);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(head->waiting_behind().empty());
}

TEST_F(EventConsumerTest, AFullQuarantineStallsTheConsumer) {
  StartBroker(1);
  fail_with_ = [](const common::v1::EventEnvelope& e) -> absl::Status {
    if (e.aggregate_id() != "ok") return absl::InvalidArgumentError("bad");
    return absl::OkStatus();
  };
  Produce({OperatorEvent("x", 1), OperatorEvent("y", 1), OperatorEvent("z", 1),
           OperatorEvent("ok", 1)});
  auto consumer = MakeConsumer({.max_quarantined = 2});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->quarantined() == 2 && consumer->stalled(); }));
  EXPECT_EQ(View("operator/ok"), "");
  auto listed = consumer->ListQuarantined("", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(consumer->Discard((*listed)[0].id(), "platform:ops", "bad").ok());
  ASSERT_TRUE(Eventually([&] { return View("operator/ok") == "ok@1"; }));
  EXPECT_EQ(consumer->quarantined(), 2);
}

// The disk fills while events arrive: every commit fails and nothing is skipped. RocksDB may
// refuse writes until the store is opened again (a failed flush), which in a service the
// liveness probe does by restarting it: the events are then applied once, in order.
TEST_F(EventConsumerTest, ACommitThatFailsIsRetriedAndNothingIsSkipped) {
  StartBroker(1);
  eventstore::DiskFaults disk;
  TempDir dir;
  const eventstore::StoreOptions options{.path = dir.path(), .durable = true, .disk_faults = &disk};
  auto opened = eventstore::Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);  // the projection's handlers read and write this one
  auto consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  Produce({OperatorEvent("a", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 1; }));

  disk.SetFull(true);
  Produce({OperatorEvent("a", 2), OperatorEvent("b", 1)});
  ASSERT_TRUE(Eventually([&] { return consumer->stalled() && calls_.load() >= 4; }));
  EXPECT_EQ(consumer->applied(), 1u);
  EXPECT_EQ(consumer->skipped(), 0u);
  EXPECT_EQ(consumer->quarantined(), 0);

  consumer.reset();
  store_.reset();
  disk.SetFull(false);
  opened = eventstore::Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
  consumer = MakeConsumer({});
  ASSERT_TRUE(consumer->Start().ok());
  ASSERT_TRUE(Eventually([&] { return consumer->applied() == 2; }));
  EXPECT_EQ(consumer->skipped(), 0u);
  EXPECT_EQ(View("operator/a"), "a@2");
  EXPECT_EQ(View("operator/b"), "b@1");
  EXPECT_EQ(Count(), 3);
  EXPECT_EQ(StoredOffsets("test.projection"), 3);
  consumer.reset();
  store_.reset();
}

}  // namespace
}  // namespace cowork::kafka
