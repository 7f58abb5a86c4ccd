// TopicStream against the in-process dev broker over TCP: where partitions start, where a run
// ends, following.

#include "libs/kafka/topic_stream.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/test_util.h"

namespace cowork::kafka {
namespace {

std::vector<std::pair<std::string, std::string>> Batch(absl::string_view name, int n) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (int i = 0; i < n; ++i) kv.emplace_back(absl::StrCat("k", i % 7), absl::StrCat(name, i));
  return kv;
}

// Every message a run that does not follow reads, by value.
absl::StatusOr<std::vector<Message>> ReadThrough(const KafkaOptions& kafka,
                                                 const StreamOptions& options) {
  absl::StatusOr<std::unique_ptr<TopicStream>> stream = TopicStream::Open(kafka, options);
  if (!stream.ok()) return stream.status();
  std::vector<Message> out;
  absl::Status run = (*stream)->Run([&](const Message& m) {
    out.push_back(m);
    return absl::OkStatus();
  });
  if (!run.ok()) return run;
  EXPECT_TRUE((*stream)->caught_up());
  EXPECT_EQ((*stream)->consumed(), options.start.kind == StreamStart::Kind::kTime
                                       ? (*stream)->backlog()  // dropped ones too
                                       : static_cast<int64_t>(out.size()));
  return out;
}

class TopicStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = DevBroker::Start({.topics = {"t.a", "t.b"}, .partitions = 3});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    kafka_ = {.brokers = broker_->bootstrap(), .client_id = "test"};
  }

  std::unique_ptr<DevBroker> broker_;
  KafkaOptions kafka_;
};

TEST_F(TopicStreamTest, ReadsEveryTopicToTheEndSeenAtOpenInPartitionOrder) {
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("a", 30)).ok());
  ASSERT_TRUE(ProduceAll(kafka_, "t.b", Batch("b", 5)).ok());
  auto stream = TopicStream::Open(kafka_, {.topics = {"t.a", "t.b"}});
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ((*stream)->backlog(), 35);
  // Published after Open: beyond the end of this run.
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("late", 4)).ok());

  std::map<std::string, std::vector<std::string>> by_key;
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  ASSERT_TRUE((*stream)
                  ->Run([&](const Message& m) {
                    int64_t& expected = next[std::make_pair(m.topic, m.partition)];
                    EXPECT_EQ(m.offset, expected++) << m.topic;
                    EXPECT_NE(m.timestamp, absl::InfinitePast());
                    by_key[absl::StrCat(m.topic, "/", m.key)].push_back(m.value);
                    return absl::OkStatus();
                  })
                  .ok());
  std::map<std::string, std::vector<std::string>> sent;
  for (const auto& [k, v] : Batch("a", 30)) sent[absl::StrCat("t.a/", k)].push_back(v);
  for (const auto& [k, v] : Batch("b", 5)) sent[absl::StrCat("t.b/", k)].push_back(v);
  EXPECT_EQ(by_key, sent);
  EXPECT_TRUE((*stream)->caught_up());
  EXPECT_EQ((*stream)->consumed(), 35);
}

TEST_F(TopicStreamTest, EmptyTopicsEndAtOnceAndMissingTopicIsNotFound) {
  auto empty = ReadThrough(kafka_, {.topics = {"t.a", "t.b"}});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  auto missing = TopicStream::Open(kafka_, {.topics = {"t.a", "t.nowhere"}});
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
}

TEST_F(TopicStreamTest, StartsAtAnOffsetOrTheTailOfEveryPartition) {
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("a", 40)).ok());
  auto all = ReadThrough(kafka_, {.topics = {"t.a"}});
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<int32_t, int64_t> held;
  for (const Message& m : *all) ++held[m.partition];
  ASSERT_EQ(held.size(), 3u) << "the keys spread over every partition";

  auto from_offset = ReadThrough(
      kafka_, {.topics = {"t.a"}, .start = {.kind = StreamStart::Kind::kOffset, .offset = 5}});
  ASSERT_TRUE(from_offset.ok()) << from_offset.status();
  auto tail = ReadThrough(
      kafka_, {.topics = {"t.a"}, .start = {.kind = StreamStart::Kind::kTail, .offset = 2}});
  ASSERT_TRUE(tail.ok()) << tail.status();
  std::map<int32_t, int64_t> after_5, last_2;
  for (const Message& m : *from_offset) {
    EXPECT_GE(m.offset, 5);
    ++after_5[m.partition];
  }
  for (const Message& m : *tail) {
    EXPECT_GE(m.offset, held[m.partition] - 2);
    ++last_2[m.partition];
  }
  for (const auto& [p, n] : held) {
    EXPECT_EQ(after_5[p], std::max<int64_t>(0, n - 5)) << "partition " << p;
    EXPECT_EQ(last_2[p], std::min<int64_t>(2, n)) << "partition " << p;
  }
}

TEST_F(TopicStreamTest, StartsAtTheFirstMessagePublishedAtOrAfterATime) {
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("old", 20)).ok());
  // Message timestamps are whole milliseconds: the time lies strictly after the old ones.
  absl::SleepFor(absl::Milliseconds(5));
  const absl::Time from = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("new", 20)).ok());

  auto read = ReadThrough(
      kafka_, {.topics = {"t.a"}, .start = {.kind = StreamStart::Kind::kTime, .time = from}});
  ASSERT_TRUE(read.ok()) << read.status();
  std::vector<std::string> values;
  for (const Message& m : *read) {
    EXPECT_GE(m.timestamp, from);
    values.push_back(m.value);
  }
  std::sort(values.begin(), values.end());
  std::vector<std::string> expected;
  for (const auto& [k, v] : Batch("new", 20)) expected.push_back(v);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(values, expected);
}

TEST_F(TopicStreamTest, FollowingReadsWhatArrivesUntilStopped) {
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("before", 6)).ok());
  auto stream = TopicStream::Open(kafka_, {.topics = {"t.a", "t.b"}, .follow = true});
  ASSERT_TRUE(stream.ok()) << stream.status();
  std::atomic<int> seen{0};
  std::atomic<bool> stop{false};
  absl::Status result;
  std::thread runner([&] {
    result = (*stream)->Run(
        [&](const Message&) {
          seen.fetch_add(1);
          return absl::OkStatus();
        },
        [&] { return stop.load(); });
  });
  ASSERT_TRUE(testing::Eventually([&] { return seen.load() == 6; }));
  ASSERT_TRUE(ProduceAll(kafka_, "t.b", Batch("after", 3)).ok());
  EXPECT_TRUE(testing::Eventually([&] { return seen.load() == 9; })) << seen.load();
  stop.store(true);
  runner.join();
  EXPECT_TRUE(absl::IsCancelled(result)) << result;
  EXPECT_TRUE((*stream)->caught_up());
}

TEST_F(TopicStreamTest, CallbackErrorEndsTheRun) {
  ASSERT_TRUE(ProduceAll(kafka_, "t.a", Batch("a", 10)).ok());
  auto stream = TopicStream::Open(kafka_, {.topics = {"t.a"}});
  ASSERT_TRUE(stream.ok()) << stream.status();
  int calls = 0;
  absl::Status run = (*stream)->Run([&](const Message&) {
    ++calls;
    return absl::DataLossError("bad message");
  });
  EXPECT_TRUE(absl::IsDataLoss(run)) << run;
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace cowork::kafka
