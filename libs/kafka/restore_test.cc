// RestoreFromTopics: a store written by commits and published by the relay to the dev broker,
// then restored into an empty store from the topics alone.

#include "libs/kafka/restore.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/events.pb.h"
#include "gtest/gtest.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/key_vault.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/kafka.h"
#include "libs/kafka/test_util.h"

namespace cowork::kafka {
namespace {

using testing::Envelope;
using testing::Eventually;
using testing::TempDir;

constexpr char kEvents[] = "cowork.test.events";
constexpr char kKeys[] = "cowork.test.keys";

// The test's aggregates: the state is the names of its events, joined.
eventstore::Folds NameFolds() {
  eventstore::Folds folds;
  folds.Add("operator",
            [](const std::string& state,
               const common::v1::EventEnvelope& e) -> absl::StatusOr<std::string> {
              customers::v1::OperatorCreated payload;
              if (!e.payload().UnpackTo(&payload))
                return absl::DataLossError("not an OperatorCreated");
              return absl::StrCat(state, state.empty() ? "" : "|", payload.name());
            });
  return folds;
}

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = DevBroker::Start({.topics = {kEvents, kKeys}, .partitions = 4});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    kafka_ = {.brokers = broker_->bootstrap(), .client_id = "restore-test"};
    source_ = Open("source");
    ASSERT_NE(source_, nullptr);
  }

  std::unique_ptr<eventstore::Store> Open(const std::string& name) {
    auto store = eventstore::Store::Open({.path = dir_.Sub(name),
                                          .durable = false,
                                          .keys_topic = kKeys,
                                          .key_wrapping_key = wrapping_key_});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // One commit: aggregate `id` gets its next event, named `name`, occurring `tick` seconds in.
  void Commit(const std::string& id, const std::string& name) {
    const int64_t version = versions_[id]++;
    customers::v1::OperatorCreated payload;
    payload.set_name(name);
    common::v1::EventEnvelope e = Envelope("operator", id, version + 1, payload);
    e.mutable_occurred_at()->set_seconds(1'800'000'000 + ++tick_);
    std::string& state = states_[id];
    state = absl::StrCat(state, state.empty() ? "" : "|", name);
    eventstore::WriteSet writes;
    writes.Append("operator", id, version, {e}, state, kEvents);
    ASSERT_TRUE(source_->Commit(std::move(writes)).ok());
  }

  // Publishes everything the source committed.
  void Publish() {
    auto relay = OutboxRelay::Start(*source_, kafka_);
    ASSERT_TRUE(relay.ok()) << relay.status();
    ASSERT_TRUE(Eventually([&] { return source_->OutboxDepth() == 0; }));
  }

  // The store's log as "<id>#<sequence>", in commit order.
  static std::vector<std::string> Log(const eventstore::Store& store) {
    std::vector<std::string> out;
    EXPECT_TRUE(store
                    .ForEachEvent([&](const common::v1::EventEnvelope& e) {
                      out.push_back(absl::StrCat(e.aggregate_id(), "#", e.sequence()));
                      return true;
                    })
                    .ok());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DevBroker> broker_;
  KafkaOptions kafka_;
  const std::string wrapping_key_ = crypto::NewSealKey();
  std::unique_ptr<eventstore::Store> source_;
  std::map<std::string, int64_t> versions_;
  std::map<std::string, std::string> states_;
  int64_t tick_ = 0;
  const eventstore::Folds folds_ = NameFolds();
};

TEST_F(RestoreTest, EventsStatesAndKeysComeBackAsTheSourceHadThem) {
  for (int round = 0; round < 5; ++round) {
    for (int a = 0; a < 7; ++a) Commit(absl::StrCat("agg-", a), absl::StrCat("n", round, a));
  }
  eventstore::KeyVault vault(*source_);
  const std::string kept = vault.Ensure("op-1", "c-1").value();
  vault.Ensure("op-1", "c-2").value();
  eventstore::WriteSet erase;
  vault.Erase("op-1", "c-2", erase);
  ASSERT_TRUE(source_->Commit(std::move(erase)).ok());
  Publish();

  std::unique_ptr<eventstore::Store> restored = Open("restored");
  ASSERT_NE(restored, nullptr);
  auto stats = RestoreFromTopics(
      *restored, kafka_,
      {.events_topic = kEvents, .keys_topic = kKeys, .folds = &folds_, .batch = 4});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->events, 35);
  EXPECT_EQ(stats->aggregates, 7);
  EXPECT_EQ(stats->copies, 0);
  EXPECT_EQ(stats->keys, 1);

  // The log in the order the events occurred, across partitions.
  EXPECT_EQ(Log(*restored), Log(*source_));
  for (const auto& [id, state] : states_) {
    auto record = restored->Load("operator", id);
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->version, 5) << id;
    EXPECT_EQ(record->state, state) << id;
  }
  eventstore::KeyVault restored_vault(*restored);
  EXPECT_EQ(restored_vault.Get("op-1", "c-1")->value_or(""), kept);
  EXPECT_FALSE(restored_vault.Get("op-1", "c-2")->has_value()) << "erased stays erased";
  EXPECT_EQ(restored->OutboxDepth(), 0u) << "a restore publishes nothing";
  bool staged_left = false;
  ASSERT_TRUE(restored
                  ->Scan(eventstore::Space::kMeta, "restore/", "",
                         [&](absl::string_view, absl::string_view) {
                           staged_left = true;
                           return false;
                         })
                  .ok());
  EXPECT_FALSE(staged_left);
}

TEST_F(RestoreTest, CopiesOfEventsAreSkippedAndCounted) {
  for (int n = 0; n < 3; ++n) Commit("agg-1", absl::StrCat("n", n));
  auto rows = source_->ReadOutbox(10);
  ASSERT_TRUE(rows.ok());
  Publish();
  // What a relay without the tail check left after a crash: the first two again.
  ASSERT_TRUE(ProduceAll(kafka_, kEvents,
                         {{(*rows)[0].key, (*rows)[0].value}, {(*rows)[1].key, (*rows)[1].value}})
                  .ok());
  std::unique_ptr<eventstore::Store> restored = Open("restored");
  auto stats = RestoreFromTopics(*restored, kafka_, {.events_topic = kEvents, .folds = &folds_});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->events, 3);
  EXPECT_EQ(stats->copies, 2);
  EXPECT_EQ(restored->Load("operator", "agg-1")->state, "n0|n1|n2");
}

TEST_F(RestoreTest, AMissingEventOrAForeignMessageStopsTheRestore) {
  Commit("agg-1", "n0");
  Commit("agg-1", "n1");
  Commit("agg-1", "n2");
  auto rows = source_->ReadOutbox(10);
  ASSERT_TRUE(rows.ok());
  // The topic lost event 2 of agg-1.
  ASSERT_TRUE(ProduceAll(kafka_, kEvents,
                         {{(*rows)[0].key, (*rows)[0].value}, {(*rows)[2].key, (*rows)[2].value}})
                  .ok());
  std::unique_ptr<eventstore::Store> gap = Open("gap");
  auto stats = RestoreFromTopics(*gap, kafka_, {.events_topic = kEvents, .folds = &folds_});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss) << stats.status();
  EXPECT_NE(stats.status().message().find("event 3 of operator/agg-1 follows event 1"),
            std::string::npos)
      << stats.status();

  const eventstore::Folds none;
  std::unique_ptr<eventstore::Store> unknown = Open("unknown");
  stats = RestoreFromTopics(*unknown, kafka_, {.events_topic = kEvents, .folds = &none});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kFailedPrecondition) << stats.status();

  ASSERT_TRUE(ProduceAll(kafka_, kEvents, {{"agg-1", "not an envelope"}}).ok());
  std::unique_ptr<eventstore::Store> foreign = Open("foreign");
  stats = RestoreFromTopics(*foreign, kafka_, {.events_topic = kEvents, .folds = &folds_});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss) << stats.status();
  EXPECT_NE(stats.status().message().find("does not hold an event envelope"), std::string::npos)
      << stats.status();
}

}  // namespace
}  // namespace cowork::kafka
