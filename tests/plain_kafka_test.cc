// The plain Kafka reader and producer the other suites rely on (tests/support), against the
// dev broker as a process: they see the suite's topics, keep each partition's order, fail
// while the brokers are down (SIGUSR1) and find every message again once they are up (SIGUSR2).

#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/kafka/kafka.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> ValuesOf(const std::vector<RawMessage>& messages) {
  std::vector<std::string> values;
  for (const RawMessage& m : messages) values.push_back(m.value);
  return values;
}

TEST(PlainKafka, ReadsWhatWasWrittenInOrderAndThroughAnOutage) {
  testing::TempDir dir;
  auto broker = testing::StartDevBroker(dir.path());
  ASSERT_TRUE(broker.ok()) << broker.status();
  testing::Subprocess& process = *broker->process;

  // The address file holds what was printed.
  std::string from_file(absl::StripAsciiWhitespace(
      testing::ReadFileOrEmpty(dir.Sub("devbroker.address"))));
  EXPECT_EQ(from_file, broker->bootstrap);

  // The suite's topics exist, empty.
  COWORK_ASSERT_OK_AND_ASSIGN(auto empty,
                              ReadTopicFromZero(broker->bootstrap, testing::kCustomersTopic));
  EXPECT_THAT(empty, IsEmpty());

  // Messages come back per partition in the order they were written.
  COWORK_ASSERT_OK(ProduceToPartition(broker->bootstrap, testing::kContractsTopic, 1,
                                      {{"k", "one"}, {"k", "two"}, {"other", "three"}}));
  kafka::KafkaOptions kafka;
  kafka.brokers = broker->bootstrap;
  kafka.client_id = "devbroker-test";
  COWORK_ASSERT_OK(kafka::ProduceAll(kafka, std::string(testing::kContractsTopic),
                                     {{"k", "four"}}));
  COWORK_ASSERT_OK_AND_ASSIGN(auto messages,
                              ReadTopicFromZero(broker->bootstrap, testing::kContractsTopic));
  ASSERT_EQ(messages.size(), 4u);
  std::vector<RawMessage> in_one;
  for (const RawMessage& m : messages) {
    if (m.partition == 1) in_one.push_back(m);
  }
  ASSERT_GE(in_one.size(), 3u);
  std::vector<std::string> first_three = ValuesOf(in_one);
  first_three.resize(3);
  EXPECT_THAT(first_three, ElementsAre("one", "two", "three"));
  EXPECT_EQ(in_one[0].key, "k");
  EXPECT_EQ(in_one[2].key, "other");

  // Down: nobody reads. Up: everything is still there.
  size_t offset = process.LogSize();
  COWORK_ASSERT_OK(process.Signal(SIGUSR1));
  COWORK_ASSERT_OK(process.WaitForLine("^brokers: down$", absl::Seconds(10), offset));
  EXPECT_FALSE(
      ReadTopicFromZero(broker->bootstrap, testing::kContractsTopic, absl::Seconds(2)).ok());
  offset = process.LogSize();
  COWORK_ASSERT_OK(process.Signal(SIGUSR2));
  COWORK_ASSERT_OK(process.WaitForLine("^brokers: up$", absl::Seconds(10), offset));
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto again, ReadTopicFromZero(broker->bootstrap, testing::kContractsTopic,
                                    absl::Seconds(30)));
  EXPECT_EQ(ValuesOf(again), ValuesOf(messages));

  auto exit = process.Terminate(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited && exit->code == 0) << exit->ToString();
}

Event MakeEvent(int32_t partition, int64_t offset, const std::string& aggregate, int64_t sequence,
               const std::string& event_id, const std::string& key = "") {
  Event e;
  e.raw.partition = partition;
  e.raw.offset = offset;
  e.raw.key = key.empty() ? aggregate : key;
  e.envelope.set_aggregate_id(aggregate);
  e.envelope.set_sequence(sequence);
  e.envelope.set_event_id(event_id);
  e.type = "cowork.customers.v1.CustomerAdded";
  return e;
}

TEST(ApplyOnce, AppliesEachSequenceOnceAndSkipsIdenticalCopies) {
  ApplyOnceResult r = ApplyOnce({MakeEvent(0, 0, "a", 1, "e1"), MakeEvent(1, 0, "b", 1, "f1"),
                                 MakeEvent(0, 1, "a", 2, "e2"), MakeEvent(0, 2, "a", 1, "e1"),
                                 MakeEvent(0, 3, "a", 3, "e3")});
  EXPECT_THAT(r.problems, IsEmpty());
  EXPECT_EQ(r.duplicates, 1);
  ASSERT_EQ(r.applied["a"].size(), 3u);
  EXPECT_EQ(r.applied["a"][2].envelope.event_id(), "e3");
  EXPECT_EQ(r.applied["b"].size(), 1u);
}

TEST(ApplyOnce, ReportsGapsStepsBackConflictsWrongKeysAndSplitAggregates) {
  EXPECT_EQ(ApplyOnce({MakeEvent(0, 0, "a", 1, "e1"), MakeEvent(0, 1, "a", 3, "e3")})
                .problems.size(),
            1u);  // gap
  EXPECT_EQ(ApplyOnce({MakeEvent(0, 0, "a", 2, "e2")}).problems.size(), 1u);  // no start
  EXPECT_EQ(ApplyOnce({MakeEvent(0, 0, "a", 1, "e1"), MakeEvent(0, 1, "a", 1, "other")})
                .problems.size(),
            1u);  // conflicting copy
  EXPECT_EQ(ApplyOnce({MakeEvent(0, 0, "a", 1, "e1", "not-a")}).problems.size(), 1u);  // key
  EXPECT_EQ(ApplyOnce({MakeEvent(0, 0, "a", 1, "e1"), MakeEvent(1, 0, "a", 2, "e2")})
                .problems.size(),
            1u);  // one aggregate in two partitions
  // Order is partition order, not the order given.
  EXPECT_THAT(ApplyOnce({MakeEvent(0, 1, "a", 2, "e2"), MakeEvent(0, 0, "a", 1, "e1")}).problems,
              IsEmpty());
}

}  // namespace
}  // namespace cowork::e2e
