// DevBroker: a reachable cluster whose brokers go down and come back with their data.

#include "libs/kafka/dev_broker.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/kafka/kafka.h"

namespace cowork::kafka {
namespace {

TEST(DevBroker, RejectsBadOptions) {
  EXPECT_TRUE(absl::IsInvalidArgument(DevBroker::Start({.brokers = 0}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(DevBroker::Start({.partitions = 0}).status()));
}

TEST(DevBroker, ListsEveryBrokerOnLoopback) {
  auto broker = DevBroker::Start({.brokers = 3, .topics = {"t.a"}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string& bootstrap = (*broker)->bootstrap();
  EXPECT_TRUE(absl::StartsWith(bootstrap, "127.0.0.1:")) << bootstrap;
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 2) << bootstrap;
  EXPECT_EQ((*broker)->brokers(), 3);
}

TEST(DevBroker, OutageRefusesClientsAndKeepsData) {
  auto broker = DevBroker::Start({.topics = {"t.outage"}, .partitions = 2});
  ASSERT_TRUE(broker.ok()) << broker.status();
  KafkaOptions kafka{.brokers = (*broker)->bootstrap()};
  ASSERT_TRUE(ProduceAll(kafka, "t.outage", {{"a", "before"}}).ok());

  ASSERT_TRUE((*broker)->SetDown().ok());
  absl::Status during = ProduceAll(kafka, "t.outage", {{"a", "during"}}, absl::Seconds(1));
  EXPECT_FALSE(during.ok());
  EXPECT_FALSE(ReadAll(kafka, "t.outage", absl::Seconds(1)).ok());

  ASSERT_TRUE((*broker)->SetUp().ok());
  ASSERT_TRUE(ProduceAll(kafka, "t.outage", {{"a", "after"}}).ok());
  auto messages = ReadAll(kafka, "t.outage");
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].value, "before");
  EXPECT_EQ((*messages)[1].value, "after");
}

TEST(DevBroker, CreatesTopicsOnDemand) {
  auto broker = DevBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  KafkaOptions kafka{.brokers = (*broker)->bootstrap()};
  EXPECT_TRUE(absl::IsNotFound(ReadAll(kafka, "t.later", absl::Seconds(5)).status()));
  ASSERT_TRUE((*broker)->CreateTopic("t.later", 4).ok());
  auto messages = ReadAll(kafka, "t.later", absl::Seconds(5));
  ASSERT_TRUE(messages.ok()) << messages.status();
  EXPECT_TRUE(messages->empty());
}

}  // namespace
}  // namespace cowork::kafka
