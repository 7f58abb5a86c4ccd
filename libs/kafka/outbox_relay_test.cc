// OutboxRelay against a real Store in a temp dir and the dev broker over TCP.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "gtest/gtest.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/test_util.h"

namespace cowork::kafka {
namespace {

using testing::Envelope;
using testing::Eventually;
using testing::OpenStore;
using testing::TempDir;

constexpr char kTopic[] = "cowork.test.events";
constexpr char kKeys[] = "cowork.test.keys";

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = DevBroker::Start({.topics = {kTopic, kKeys}, .partitions = 6});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    kafka_ = {.brokers = broker_->bootstrap(), .client_id = "relay-test"};
    store_ = OpenStore(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  // One commit per event: aggregate `id` gets its next sequence.
  void CommitEvent(const std::string& id) {
    int64_t version = versions_[id]++;
    customers::v1::OperatorCreated payload;
    payload.set_operator_id(id);
    payload.set_name(absl::StrCat("v", version + 1));
    eventstore::WriteSet writes;
    writes.Append("operator", id, version, {Envelope("operator", id, version + 1, payload)},
                  absl::StrCat("state-", version + 1), kTopic);
    ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  }

  // Commits `per_aggregate` events for each of `aggregates` aggregates, interleaved.
  void CommitInterleaved(int aggregates, int per_aggregate) {
    for (int n = 0; n < per_aggregate; ++n) {
      for (int a = 0; a < aggregates; ++a) CommitEvent(absl::StrCat("agg-", a));
    }
  }

  // What the topic holds, per key: the sequences in partition order.
  std::map<std::string, std::vector<int64_t>> SequencesByKey() {
    std::map<std::string, std::vector<int64_t>> out;
    auto messages = ReadAll(kafka_, kTopic, absl::Seconds(20));
    EXPECT_TRUE(messages.ok()) << messages.status();
    if (!messages.ok()) return out;
    for (const Message& m : *messages) {
      common::v1::EventEnvelope e;
      EXPECT_TRUE(e.ParseFromString(m.value));
      EXPECT_EQ(m.key, e.aggregate_id());
      out[m.key].push_back(e.sequence());
    }
    return out;
  }

  // Every aggregate committed so far: sequences 1..n, each once, in order.
  std::map<std::string, std::vector<int64_t>> Expected() {
    std::map<std::string, std::vector<int64_t>> out;
    for (const auto& [id, version] : versions_) {
      for (int64_t s = 1; s <= version; ++s) out[id].push_back(s);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DevBroker> broker_;
  KafkaOptions kafka_;
  std::unique_ptr<eventstore::Store> store_;
  std::map<std::string, int64_t> versions_;
};

TEST_F(OutboxRelayTest, RejectsMissingBrokers) {
  EXPECT_TRUE(absl::IsInvalidArgument(OutboxRelay::Start(*store_, KafkaOptions{}).status()));
}

TEST_F(OutboxRelayTest, PublishesEveryRowInCommitOrderPerKeyAndEmptiesTheOutbox) {
  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  store_->SetOutboxListener([r = relay->get()] { r->Wake(); });

  CommitInterleaved(/*aggregates=*/8, /*per_aggregate=*/25);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ((*relay)->published(), 200u);
  EXPECT_EQ((*relay)->delivery_errors(), 0u);
  auto read = store_->ReadOutbox(10);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
  EXPECT_EQ(SequencesByKey(), Expected());
}

TEST_F(OutboxRelayTest, PlainRecordsGoAsTheyAreAndATombstoneWithoutAValue) {
  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  store_->SetOutboxListener([r = relay->get()] { r->Wake(); });
  eventstore::WriteSet writes;
  writes.Publish(kKeys, "op-1/c-1", "wrapped-1");
  writes.Publish(kKeys, "op-1/c-2", "");  // an empty value is still a value
  ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  eventstore::WriteSet erase;
  erase.Publish(kKeys, "op-1/c-1", std::nullopt);
  ASSERT_TRUE(store_->Commit(std::move(erase)).ok());
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));

  auto messages = ReadAll(kafka_, kKeys, absl::Seconds(20));
  ASSERT_TRUE(messages.ok()) << messages.status();
  std::map<std::string, std::vector<std::string>> by_key;  // "<null>" for a tombstone
  for (const Message& m : *messages) by_key[m.key].push_back(m.tombstone ? "<null>" : m.value);
  EXPECT_EQ(by_key["op-1/c-1"], (std::vector<std::string>{"wrapped-1", "<null>"}));
  EXPECT_EQ(by_key["op-1/c-2"], (std::vector<std::string>{""}));
  eventstore::WriteSet no_topic;
  no_topic.Publish("", "k", "v");
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Commit(std::move(no_topic))));
}

TEST_F(OutboxRelayTest, RowsCommittedDuringAnOutageArePublishedAfterIt) {
  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  store_->SetOutboxListener([r = relay->get()] { r->Wake(); });

  CommitInterleaved(4, 5);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));

  ASSERT_TRUE(broker_->SetDown().ok());
  CommitInterleaved(4, 10);
  EXPECT_GT(store_->OutboxDepth(), 0u);
  ASSERT_TRUE(broker_->SetUp().ok());

  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ((*relay)->published(), 60u);
  EXPECT_EQ(SequencesByKey(), Expected());
}

TEST_F(OutboxRelayTest, StopsPromptlyDuringAnOutageAndARestartResumes) {
  {
    auto relay = OutboxRelay::Start(*store_, kafka_);
    ASSERT_TRUE(relay.ok()) << relay.status();
    store_->SetOutboxListener([r = relay->get()] { r->Wake(); });
    CommitInterleaved(3, 4);
    ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));

    ASSERT_TRUE(broker_->SetDown().ok());
    CommitInterleaved(3, 4);
    store_->SetOutboxListener(nullptr);
    // The relay is stuck waiting for delivery reports that cannot come; its destructor must
    // still return (purging what is in flight) and leave the rows in the outbox.
  }
  EXPECT_EQ(store_->OutboxDepth(), 12u);

  // A new process: the store reopened from disk, the broker back.
  store_.reset();
  store_ = OpenStore(dir_.path());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->OutboxDepth(), 12u);
  ASSERT_TRUE(broker_->SetUp().ok());
  CommitInterleaved(3, 2);

  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ((*relay)->published(), 18u);
  EXPECT_EQ(SequencesByKey(), Expected());
}

TEST_F(OutboxRelayTest, PublishesWithoutWakeWithinTheIdleWait) {
  auto relay = OutboxRelay::Start(*store_, kafka_, {.idle_wait = absl::Milliseconds(20)});
  ASSERT_TRUE(relay.ok()) << relay.status();
  CommitInterleaved(2, 3);  // no listener: only the idle wait brings the relay back
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ(SequencesByKey(), Expected());
}

TEST_F(OutboxRelayTest, AFailedDeliveryKeepsItsRowAndEverythingAfterItForTheNextRound) {
  auto relay = OutboxRelay::Start(*store_, kafka_, {.linger = absl::ZeroDuration()});
  ASSERT_TRUE(relay.ok()) << relay.status();
  store_->SetOutboxListener([r = relay->get()] { r->Wake(); });
  CommitInterleaved(4, 3);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));

  ASSERT_TRUE(broker_->FailProduceRequests(2).ok());
  CommitInterleaved(4, 5);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_GT((*relay)->delivery_errors(), 0u);

  // Nothing lost for a reader that applies an aggregate's events strictly in sequence (as
  // EventConsumer does): rows after a failed one may have been delivered in the failed round
  // and arrive again after it, so a key may show an early copy or a repeated run, but the
  // republished tail always brings every event again in order.
  std::map<std::string, std::vector<int64_t>> got = SequencesByKey();
  std::map<std::string, std::vector<int64_t>> expected = Expected();
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [key, sequences] : got) {
    std::vector<int64_t> applied;
    for (int64_t s : sequences) {
      const int64_t last = applied.empty() ? 0 : applied.back();
      if (s == last + 1) applied.push_back(s);
    }
    EXPECT_EQ(applied, expected[key]) << key;
  }
}

// A relay that delivered rows and died before removing them (kill -9 between the delivery
// reports and the outbox delete): the next one finds them on the topic and does not send them
// again, so a plain reader sees every event once.
TEST_F(OutboxRelayTest, RowsDeliveredBeforeACrashAreNotSentAgain) {
  CommitInterleaved(5, 4);
  auto rows = store_->ReadOutbox(100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 20u);
  std::vector<std::pair<std::string, std::string>> delivered;
  for (size_t i = 0; i < 13; ++i) delivered.emplace_back((*rows)[i].key, (*rows)[i].value);
  ASSERT_TRUE(ProduceAll(kafka_, kTopic, delivered).ok());

  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ(SequencesByKey(), Expected());  // each event once, in order
  EXPECT_EQ((*relay)->published(), 20u);
}

// The disk fills while the relay works: what it delivered cannot be removed from the outbox.
// Nothing is lost, and once the store takes writes again (reopened, as a restarted service
// does) the rows already on the topic are removed without being sent again.
TEST_F(OutboxRelayTest, AFullDiskLosesNoRowAndSendsNoneTwice) {
  eventstore::DiskFaults disk;
  TempDir dir;
  const eventstore::StoreOptions options{.path = dir.path(), .durable = true, .disk_faults = &disk};
  auto opened = eventstore::Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
  CommitInterleaved(4, 3);
  {
    disk.SetFull(true);
    auto relay = OutboxRelay::Start(*store_, kafka_);
    ASSERT_TRUE(relay.ok()) << relay.status();
    // Delivered, but the outbox keeps them: the delete cannot be written.
    ASSERT_TRUE(Eventually([&] {
      auto on_topic = ReadAll(kafka_, kTopic, absl::Seconds(5));
      return on_topic.ok() && on_topic->size() >= 12;
    }));
    EXPECT_EQ(store_->OutboxDepth(), 12u);
  }
  store_.reset();
  disk.SetFull(false);
  opened = eventstore::Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
  EXPECT_EQ(store_->OutboxDepth(), 12u);
  auto relay = OutboxRelay::Start(*store_, kafka_);
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  CommitInterleaved(4, 1);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ(SequencesByKey(), Expected());  // each event once, in order
}

TEST_F(OutboxRelayTest, SmallBatchesKeepOrderAcrossRounds) {
  auto relay = OutboxRelay::Start(*store_, kafka_, {.batch_size = 3});
  ASSERT_TRUE(relay.ok()) << relay.status();
  store_->SetOutboxListener([r = relay->get()] { r->Wake(); });
  CommitInterleaved(5, 7);
  ASSERT_TRUE(Eventually([&] { return store_->OutboxDepth() == 0; }));
  EXPECT_EQ(SequencesByKey(), Expected());
}

}  // namespace
}  // namespace cowork::kafka
