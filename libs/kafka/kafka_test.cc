// TopicFor, ProduceAll and ReadAll against the in-process dev broker over TCP.

#include "libs/kafka/kafka.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/kafka/dev_broker.h"

namespace cowork::kafka {
namespace {

TEST(TopicFor, NamesTheServiceTopic) {
  EXPECT_EQ(TopicFor("customers"), "cowork.customers.events");
  EXPECT_EQ(TopicFor("billing"), "cowork.billing.events");
}

TEST(ProduceAndReadAll, RoundTripKeepsEveryMessageAndPerKeyOrder) {
  auto broker = DevBroker::Start({.topics = {"t.round"}, .partitions = 3});
  ASSERT_TRUE(broker.ok()) << broker.status();
  KafkaOptions kafka{.brokers = (*broker)->bootstrap(), .client_id = "test"};

  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < 30; ++i) kv.emplace_back(absl::StrCat("k", i % 7), absl::StrCat("v", i));
  ASSERT_TRUE(ProduceAll(kafka, "t.round", kv).ok());

  auto messages = ReadAll(kafka, "t.round", absl::Seconds(20));
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), kv.size());

  std::map<std::string, std::vector<std::string>> sent, read;
  std::map<std::string, int32_t> partition_of;
  for (const auto& [k, v] : kv) sent[k].push_back(v);
  for (const Message& m : *messages) {
    EXPECT_EQ(m.topic, "t.round");
    EXPECT_NE(m.timestamp, absl::InfinitePast());
    read[m.key].push_back(m.value);
    // Keyed messages of one key always land on one partition.
    auto [it, inserted] = partition_of.try_emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << m.key;
  }
  EXPECT_EQ(read, sent);  // every key's values, in the order produced
}

TEST(ProduceAndReadAll, EmptyTopicReadsNothingAndMissingTopicIsNotFound) {
  auto broker = DevBroker::Start({.topics = {"t.empty"}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  KafkaOptions kafka{.brokers = (*broker)->bootstrap()};
  auto empty = ReadAll(kafka, "t.empty", absl::Seconds(10));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  auto missing = ReadAll(kafka, "t.nowhere", absl::Seconds(10));
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
}

}  // namespace
}  // namespace cowork::kafka
