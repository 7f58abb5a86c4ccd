#include "libs/eventstore/store.h"


#include <atomic>
#include <cstdint>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"

namespace cowork::eventstore {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A fresh directory for one store, removed with everything in it.
struct TempDir {
  cowork::testing::TempDir dir{"store_test"};
  std::string path() const { return dir.Sub("db"); }
};

common::v1::EventEnvelope Event(absl::string_view type, absl::string_view id, int64_t seq,
                                absl::string_view tag = "") {
  common::v1::EventEnvelope e;
  e.set_event_id(absl::StrCat(type, "/", id, "/", seq, tag));
  e.set_aggregate_type(std::string(type));
  e.set_aggregate_id(std::string(id));
  e.set_sequence(seq);
  return e;
}

std::vector<std::string> EventIds(const std::vector<common::v1::EventEnvelope>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.event_id());
  return ids;
}

class StoreTest : public ::testing::TestWithParam<bool> {
 protected:
  StoreOptions Options() const { return StoreOptions{.path = dir_.path(), .durable = GetParam()}; }
  std::unique_ptr<Store> OpenStore() {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(Options());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Durability, StoreTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Durable" : "NotDurable"; });

TEST_P(StoreTest, AppendLoadAndReopen) {
  {
    std::unique_ptr<Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    AggregateRecord empty = *store->Load("customer", "c-1");
    EXPECT_EQ(empty.version, 0);
    EXPECT_EQ(empty.state, "");

    WriteSet w;
    w.Append("customer", "c-1", 0, {Event("customer", "c-1", 1), Event("customer", "c-1", 2)},
             "state-2", "cowork.customers.events");
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
    WriteSet w2;
    w2.Append("customer", "c-1", 2, {Event("customer", "c-1", 3)}, std::string("s\0-3", 4),
              "cowork.customers.events");
    ASSERT_TRUE(store->Commit(std::move(w2)).ok());
  }
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<AggregateRecord> record = store->Load("customer", "c-1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->version, 3);
  EXPECT_EQ(record->state, std::string("s\0-3", 4));
  absl::StatusOr<std::vector<common::v1::EventEnvelope>> events =
      store->ReadEvents("customer", "c-1");
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_THAT(EventIds(*events),
              ElementsAre("customer/c-1/1", "customer/c-1/2", "customer/c-1/3"));
  EXPECT_EQ(store->OutboxDepth(), 3u);
}

TEST_P(StoreTest, ReadEventsIsPerAggregateAndAfterSequence) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  // "c-1" is a prefix of "c-10": the encoding must keep their events apart.
  for (const char* id : {"c-1", "c-10", "c-2"}) {
    WriteSet w;
    std::vector<common::v1::EventEnvelope> events;
    for (int64_t seq = 1; seq <= 300; ++seq) events.push_back(Event("customer", id, seq));
    w.Append("customer", id, 0, std::move(events), "", "");
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }
  absl::StatusOr<std::vector<common::v1::EventEnvelope>> all =
      store->ReadEvents("customer", "c-1");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 300u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].sequence(), static_cast<int64_t>(i + 1));  // 256 after 255: numeric order
    EXPECT_EQ((*all)[i].aggregate_id(), "c-1");
  }
  absl::StatusOr<std::vector<common::v1::EventEnvelope>> tail =
      store->ReadEvents("customer", "c-1", 298);
  ASSERT_TRUE(tail.ok());
  EXPECT_THAT(EventIds(*tail), ElementsAre("customer/c-1/299", "customer/c-1/300"));
  EXPECT_TRUE(store->ReadEvents("customer", "c-3")->empty());
  EXPECT_TRUE(store->ReadEvents("contract", "c-1")->empty());
}

TEST_P(StoreTest, ForEachEventWalksCommitOrderAndStops) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> expected;
  for (int round = 1; round <= 3; ++round) {
    for (const char* id : {"b", "a", "c"}) {
      WriteSet w;
      w.Append("t", id, round - 1, {Event("t", id, round)}, "", "");
      expected.push_back(absl::StrCat("t/", id, "/", round));
      ASSERT_TRUE(store->Commit(std::move(w)).ok());
    }
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    seen.push_back(e.event_id());
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, expected);
  seen.clear();
  ASSERT_TRUE(store
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    seen.push_back(e.event_id());
                    return seen.size() < 4;
                  })
                  .ok());
  EXPECT_EQ(seen.size(), 4u);
}

TEST_P(StoreTest, MalformedWriteSetsAreRejected) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto commit = [&](WriteSet w) { return store->Commit(std::move(w)).code(); };
  {
    WriteSet w;  // sequence gap
    w.Append("t", "a", 0, {Event("t", "a", 2)}, "", "topic");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  {
    WriteSet w;  // envelope of another aggregate
    w.Append("t", "a", 0, {Event("t", "b", 1)}, "", "topic");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  {
    WriteSet w;  // envelope of another type
    w.Append("t", "a", 0, {Event("u", "a", 1)}, "", "topic");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  {
    WriteSet w;  // same aggregate twice
    w.Append("t", "a", 0, {Event("t", "a", 1)}, "", "topic");
    w.Append("t", "a", 1, {Event("t", "a", 2)}, "", "topic");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  {
    WriteSet w;  // NUL in an id would break the key encoding
    w.Append("t", std::string("a\0b", 3), 0, {Event("t", std::string("a\0b", 3), 1)}, "", "");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  {
    WriteSet w;
    w.Claim("", "owner");
    EXPECT_EQ(commit(std::move(w)), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(store->ReadEvents("t", "a")->empty());
  EXPECT_EQ(store->OutboxDepth(), 0u);
}

TEST_P(StoreTest, FailedCommitWritesNothing) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriteSet first;
  first.Append("t", "a", 0, {Event("t", "a", 1)}, "v1", "topic");
  ASSERT_TRUE(store->Commit(std::move(first)).ok());
  int listener_calls = 0;
  store->SetOutboxListener([&] { ++listener_calls; });

  // Stale version on "a", alongside writes that would all succeed on their own.
  WriteSet stale;
  stale.Append("t", "b", 0, {Event("t", "b", 1)}, "b1", "topic");
  stale.Append("t", "a", 0, {Event("t", "a", 1, "-again")}, "v1-again", "topic");
  stale.Put(Space::kViews, "view/a", "x");
  stale.Put(Space::kMeta, "offset", "7");
  stale.Claim("email/x", "a");
  common::v1::StoredResponse response;
  response.set_method("M");
  stale.RecordRequest("op/req-1", response);
  EXPECT_EQ(store->Commit(std::move(stale)).code(), absl::StatusCode::kAborted);

  EXPECT_EQ(store->Load("t", "a")->state, "v1");
  EXPECT_EQ(store->Load("t", "b")->version, 0);
  EXPECT_THAT(EventIds(*store->ReadEvents("t", "a")), ElementsAre("t/a/1"));
  EXPECT_TRUE(store->ReadEvents("t", "b")->empty());
  EXPECT_FALSE(store->Get(Space::kViews, "view/a")->has_value());
  EXPECT_FALSE(store->Get(Space::kMeta, "offset")->has_value());
  EXPECT_FALSE(store->ClaimOwner("email/x")->has_value());
  EXPECT_FALSE(store->FindRequest("op/req-1")->has_value());
  EXPECT_EQ(store->OutboxDepth(), 1u);
  EXPECT_EQ(store->ReadOutbox(10)->size(), 1u);
  EXPECT_EQ(listener_calls, 0);

  // A claim held by someone else fails the whole commit the same way.
  WriteSet taken;
  taken.Claim("email/y", "owner-1");
  ASSERT_TRUE(store->Commit(std::move(taken)).ok());
  WriteSet loses;
  loses.Append("t", "a", 1, {Event("t", "a", 2)}, "v2", "topic");
  loses.Put(Space::kViews, "view/a", "x");
  loses.Claim("email/y", "owner-2");
  EXPECT_EQ(store->Commit(std::move(loses)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Load("t", "a")->version, 1);
  EXPECT_FALSE(store->Get(Space::kViews, "view/a")->has_value());
  EXPECT_EQ(store->OutboxDepth(), 1u);
  EXPECT_EQ(*store->ClaimOwner("email/y"), "owner-1");
}

TEST_P(StoreTest, RacingAppendsAtOneVersionHaveOneWinner) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 32;
  for (int64_t version = 0; version < 3; ++version) {
    std::latch start(kThreads);
    std::atomic<int> ok{0}, aborted{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        WriteSet w;
        w.Append("t", "hot", version, {Event("t", "hot", version + 1, absl::StrCat("#", i))},
                 absl::StrCat("by ", i), "topic");
        w.Put(Space::kViews, absl::StrCat("winner/", version, "/", i), "1");
        start.arrive_and_wait();
        absl::Status s = store->Commit(std::move(w));
        (s.ok() ? ok : absl::IsAborted(s) ? aborted : other).fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(aborted.load(), kThreads - 1);
    EXPECT_EQ(other.load(), 0);
    int views = 0;
    ASSERT_TRUE(store
                    ->Scan(Space::kViews, absl::StrCat("winner/", version, "/"), "",
                           [&](absl::string_view, absl::string_view) { return ++views, true; })
                    .ok());
    EXPECT_EQ(views, 1);
  }
  EXPECT_EQ(store->Load("t", "hot")->version, 3);
  EXPECT_EQ(store->ReadEvents("t", "hot")->size(), 3u);
  EXPECT_EQ(store->OutboxDepth(), 3u);
}

TEST_P(StoreTest, ClaimsHaveOneOwnerAndCanBeReleased) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 32;
  std::latch start(kThreads);
  std::atomic<int> ok{0}, exists{0};
  absl::Mutex mu;
  std::string winner;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      WriteSet w;
      w.Claim("email/op-1/a@example.com", absl::StrCat("c-", i));
      start.arrive_and_wait();
      absl::Status s = store->Commit(std::move(w));
      if (s.ok()) {
        ok.fetch_add(1);
        absl::MutexLock lock(&mu);
        winner = absl::StrCat("c-", i);
      } else if (absl::IsAlreadyExists(s)) {
        exists.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), kThreads - 1);
  EXPECT_EQ(*store->ClaimOwner("email/op-1/a@example.com"), winner);

  WriteSet again;  // the holder may claim again
  again.Claim("email/op-1/a@example.com", winner);
  EXPECT_TRUE(store->Commit(std::move(again)).ok());

  WriteSet release;
  release.Release("email/op-1/a@example.com");
  ASSERT_TRUE(store->Commit(std::move(release)).ok());
  EXPECT_FALSE(store->ClaimOwner("email/op-1/a@example.com")->has_value());

  WriteSet other;
  other.Claim("email/op-1/a@example.com", "someone-else");
  EXPECT_TRUE(store->Commit(std::move(other)).ok());
  EXPECT_EQ(*store->ClaimOwner("email/op-1/a@example.com"), "someone-else");
}

TEST_P(StoreTest, RequestIsRecordedOnce) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->FindRequest("op-1/r-1")->has_value());
  common::v1::StoredResponse response;
  response.set_method("AddCustomer");
  response.set_response("bytes");
  WriteSet w;
  w.RecordRequest("op-1/r-1", response);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  absl::StatusOr<std::optional<common::v1::StoredResponse>> found = store->FindRequest("op-1/r-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->method(), "AddCustomer");
  EXPECT_EQ((*found)->response(), "bytes");

  WriteSet again;
  again.Put(Space::kViews, "k", "v");
  again.RecordRequest("op-1/r-1", response);
  EXPECT_EQ(store->Commit(std::move(again)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(store->Get(Space::kViews, "k")->has_value());
}

TEST_P(StoreTest, OutboxKeepsCommitOrderAndSurvivesReopen) {
  std::vector<std::string> expected;
  {
    std::unique_ptr<Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    int listener_calls = 0;
    store->SetOutboxListener([&] { ++listener_calls; });
    for (int i = 0; i < 40; ++i) {
      const std::string id = absl::StrCat("a", i % 7);
      const int64_t version = store->Load("t", id)->version;
      WriteSet w;
      std::vector<common::v1::EventEnvelope> events;
      for (int k = 1; k <= 1 + i % 3; ++k) {
        events.push_back(Event("t", id, version + k));
        expected.push_back(events.back().event_id());
      }
      w.Append("t", id, version, std::move(events), "", absl::StrCat("topic-", i % 2));
      ASSERT_TRUE(store->Commit(std::move(w)).ok());
    }
    WriteSet unpublished;  // no topic: events are stored but never published
    unpublished.Append("vault", "k-1", 0, {Event("vault", "k-1", 1)}, "key", "");
    ASSERT_TRUE(store->Commit(std::move(unpublished)).ok());
    EXPECT_EQ(listener_calls, 40);
    EXPECT_EQ(store->OutboxDepth(), expected.size());

    absl::StatusOr<std::vector<OutboxRow>> rows = store->ReadOutbox(1000);
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->size(), expected.size());
    for (size_t i = 0; i < rows->size(); ++i) {
      common::v1::EventEnvelope e;
      ASSERT_TRUE(e.ParseFromString((*rows)[i].value));
      EXPECT_EQ(e.event_id(), expected[i]);
      EXPECT_EQ((*rows)[i].key, e.aggregate_id());
      EXPECT_EQ((*rows)[i].topic, absl::StrCat("topic-", (*rows)[i].topic.back() - '0'));
      if (i > 0) {
        EXPECT_GT((*rows)[i].position, (*rows)[i - 1].position);
      }
    }
    absl::StatusOr<std::vector<OutboxRow>> head = store->ReadOutbox(5);
    ASSERT_EQ(head->size(), 5u);
    std::vector<uint64_t> delivered;
    for (const OutboxRow& r : *head) delivered.push_back(r.position);
    delivered.push_back(delivered[0]);  // duplicates and unknown positions are harmless
    delivered.push_back(999999);
    ASSERT_TRUE(store->RemoveFromOutbox(delivered).ok());
    EXPECT_EQ(store->OutboxDepth(), expected.size() - 5);
    ASSERT_TRUE(store->RemoveFromOutbox(delivered).ok());
    EXPECT_EQ(store->OutboxDepth(), expected.size() - 5);
    absl::StatusOr<std::vector<OutboxRow>> next = store->ReadOutbox(1);
    ASSERT_EQ(next->size(), 1u);
    EXPECT_EQ(next->front().position, (*rows)[5].position);
  }
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->OutboxDepth(), expected.size() - 5);
  absl::StatusOr<std::vector<OutboxRow>> rows = store->ReadOutbox(1000);
  ASSERT_EQ(rows->size(), expected.size() - 5);
  const uint64_t last_before = rows->back().position;
  WriteSet w;
  w.Append("t", "new", 0, {Event("t", "new", 1)}, "", "topic-0");
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  rows = store->ReadOutbox(1000);
  ASSERT_EQ(rows->size(), expected.size() - 4);
  EXPECT_GT(rows->back().position, last_before);  // positions are never reused
  std::vector<uint64_t> all;
  for (const OutboxRow& r : *rows) all.push_back(r.position);
  ASSERT_TRUE(store->RemoveFromOutbox(all).ok());
  EXPECT_EQ(store->OutboxDepth(), 0u);
  EXPECT_TRUE(store->ReadOutbox(10)->empty());
}

// A plain record (a key on a compacted topic) goes through the outbox in commit order with
// the events, is in no event listing, and its position is never handed out again, not even
// after it is delivered and the store reopened.
TEST_P(StoreTest, PlainRecordsTakePositionsButAreNoEvents) {
  uint64_t record_position = 0;
  {
    std::unique_ptr<Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    WriteSet event;
    event.Append("t", "a", 0, {Event("t", "a", 1)}, "", "topic");
    ASSERT_TRUE(store->Commit(std::move(event)).ok());
    WriteSet record;
    record.Publish("keys", "op/c-1", "wrapped");
    record.Publish("keys", "op/c-2", std::nullopt);
    ASSERT_TRUE(store->Commit(std::move(record)).ok());
    absl::StatusOr<std::vector<OutboxRow>> rows = store->ReadOutbox(10);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_FALSE((*rows)[0].plain);
    EXPECT_TRUE((*rows)[1].plain && !(*rows)[1].tombstone && (*rows)[1].value == "wrapped");
    EXPECT_TRUE((*rows)[2].plain && (*rows)[2].tombstone && (*rows)[2].key == "op/c-2");
    record_position = (*rows)[2].position;
    std::vector<uint64_t> all;
    for (const OutboxRow& r : *rows) all.push_back(r.position);
    ASSERT_TRUE(store->RemoveFromOutbox(all).ok());
  }
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriteSet event;
  event.Append("t", "b", 0, {Event("t", "b", 1)}, "", "topic");
  ASSERT_TRUE(store->Commit(std::move(event)).ok());
  absl::StatusOr<std::vector<OutboxRow>> rows = store->ReadOutbox(10);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_GT(rows->front().position, record_position);
  std::vector<std::string> logged;
  ASSERT_TRUE(store
                  ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                    logged.push_back(e.event_id());
                    return true;
                  })
                  .ok());
  EXPECT_THAT(logged, ElementsAre("t/a/1", "t/b/1"));
}

TEST_P(StoreTest, ConcurrentRelayDeliversEveryRowOnce) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 8;
  constexpr int kCommitsEach = 100;
  constexpr int kTotal = kWriters * kCommitsEach;
  std::atomic<int> notified{0};
  store->SetOutboxListener([&] { notified.fetch_add(1); });

  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kCommitsEach; ++i) {
        const std::string id = absl::StrCat("w", w, "-", i % 5);
        const int64_t version = i / 5;
        WriteSet ws;
        ws.Append("t", id, version, {Event("t", id, version + 1)}, "", "topic");
        if (!store->Commit(std::move(ws)).ok()) failures.fetch_add(1);
      }
    });
  }
  std::multiset<std::string> delivered;
  std::set<uint64_t> positions;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (static_cast<int>(delivered.size()) < kTotal && absl::Now() < deadline &&
         failures.load() == 0) {
    absl::StatusOr<std::vector<OutboxRow>> rows = store->ReadOutbox(37);
    ASSERT_TRUE(rows.ok()) << rows.status();
    std::vector<uint64_t> done;
    for (const OutboxRow& r : *rows) {
      common::v1::EventEnvelope e;
      ASSERT_TRUE(e.ParseFromString(r.value));
      delivered.insert(e.event_id());
      EXPECT_TRUE(positions.insert(r.position).second) << "row read twice: " << r.position;
      done.push_back(r.position);
    }
    ASSERT_TRUE(store->RemoveFromOutbox(done).ok());
    if (rows->empty()) std::this_thread::yield();
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(static_cast<int>(delivered.size()), kTotal);
  EXPECT_EQ(std::set<std::string>(delivered.begin(), delivered.end()).size(), delivered.size());
  EXPECT_EQ(store->OutboxDepth(), 0u);
  EXPECT_EQ(notified.load(), kTotal);
  int logged = 0;
  ASSERT_TRUE(store->ForEachEvent([&](const common::v1::EventEnvelope&) { return ++logged, true; })
                  .ok());
  EXPECT_EQ(logged, kTotal);
}

TEST_P(StoreTest, ScanAndDeletePrefix) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriteSet w;
  for (const char* key : {"a/1", "b/1", "b/2", "b/3", "b0", "c/1"}) {
    w.Put(Space::kViews, key, absl::StrCat("v:", key));
  }
  w.Put(Space::kMeta, "b/9", "meta");
  ASSERT_TRUE(store->Commit(std::move(w)).ok());

  auto scan = [&](Space space, absl::string_view prefix, absl::string_view after, size_t stop) {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_TRUE(store
                    ->Scan(space, prefix, after,
                           [&](absl::string_view k, absl::string_view v) {
                             out.emplace_back(std::string(k), std::string(v));
                             return out.size() < stop;
                           })
                    .ok());
    return out;
  };
  EXPECT_THAT(scan(Space::kViews, "b/", "", 100),
              ElementsAre(Pair("b/1", "v:b/1"), Pair("b/2", "v:b/2"), Pair("b/3", "v:b/3")));
  EXPECT_THAT(scan(Space::kViews, "b/", "b/1", 100),
              ElementsAre(Pair("b/2", "v:b/2"), Pair("b/3", "v:b/3")));
  EXPECT_THAT(scan(Space::kViews, "b/", "b/15", 100),
              ElementsAre(Pair("b/2", "v:b/2"), Pair("b/3", "v:b/3")));
  EXPECT_THAT(scan(Space::kViews, "b/", "b/3", 100), ElementsAre());
  EXPECT_THAT(scan(Space::kViews, "b/", "", 2), ElementsAre(Pair("b/1", "v:b/1"), Pair("b/2", "v:b/2")));
  EXPECT_EQ(scan(Space::kViews, "", "", 100).size(), 6u);
  EXPECT_THAT(scan(Space::kMeta, "b/", "", 100), ElementsAre(Pair("b/9", "meta")));

  ASSERT_TRUE(store->DeletePrefix(Space::kViews, "b/").ok());
  EXPECT_THAT(scan(Space::kViews, "", "", 100),
              ElementsAre(Pair("a/1", "v:a/1"), Pair("b0", "v:b0"), Pair("c/1", "v:c/1")));
  EXPECT_EQ(*store->Get(Space::kMeta, "b/9"), "meta");

  WriteSet many;  // more rows than one delete batch
  for (int i = 0; i < 2500; ++i) many.Put(Space::kViews, absl::StrCat("m/", i), "x");
  ASSERT_TRUE(store->Commit(std::move(many)).ok());
  ASSERT_TRUE(store->DeletePrefix(Space::kViews, "m/").ok());
  EXPECT_TRUE(scan(Space::kViews, "m/", "", 10000).empty());
  EXPECT_EQ(scan(Space::kViews, "", "", 100).size(), 3u);

  WriteSet del;
  del.Delete(Space::kViews, "a/1");
  ASSERT_TRUE(store->Commit(std::move(del)).ok());
  EXPECT_FALSE(store->Get(Space::kViews, "a/1")->has_value());
}

TEST_P(StoreTest, AMergedWriteSetCommitsBothInOrder) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriteSet first;
  first.Put(Space::kViews, "k", "first");
  first.Append("t", "a", 0, {Event("t", "a", 1)}, "a1", "topic");
  WriteSet second;
  second.Put(Space::kViews, "k", "second");  // the later write of a key wins
  second.Put(Space::kMeta, "offset", "2");
  second.Claim("claim/x", "a");
  first.Merge(std::move(second));
  ASSERT_TRUE(store->Commit(std::move(first)).ok());
  EXPECT_EQ(store->Get(Space::kViews, "k")->value_or(""), "second");
  EXPECT_EQ(store->Get(Space::kMeta, "offset")->value_or(""), "2");
  EXPECT_EQ(store->ClaimOwner("claim/x")->value_or(""), "a");
  EXPECT_EQ(store->Load("t", "a")->version, 1);
  WriteSet empty;
  empty.Merge(WriteSet());
  EXPECT_TRUE(empty.empty());
}

TEST(StoreOpen, RejectsEmptyPathAndSecondOpen) {
  EXPECT_EQ(Store::Open({.path = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Store>> first = Store::Open({.path = dir.path()});
  ASSERT_TRUE(first.ok()) << first.status();
  // RocksDB's lock file keeps a second instance out of a live store.
  EXPECT_EQ(Store::Open({.path = dir.path()}).status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(StoreTest, AnEventOverTheTopicsMaximumIsRefusedAndNothingIsWritten) {
  StoreOptions options = Options();
  options.max_event_bytes = 2000;
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Store& store = **opened;
  common::v1::EventEnvelope big = Event("t", "a", 1, std::string(2000, 'x'));
  WriteSet refused;
  refused.Append("t", "a", 0, {big}, "state", "topic");
  refused.Put(Space::kViews, "view", "v");
  const absl::Status commit = store.Commit(std::move(refused));
  EXPECT_EQ(commit.code(), absl::StatusCode::kFailedPrecondition) << commit;
  EXPECT_THAT(std::string(commit.message()), ::testing::HasSubstr("over its maximum of 2000"));
  EXPECT_EQ(store.Load("t", "a")->version, 0);
  EXPECT_FALSE(store.Get(Space::kViews, "view")->has_value());
  EXPECT_EQ(store.OutboxDepth(), 0u);

  // Unpublished events may be larger; one just under the limit is published.
  WriteSet unpublished;
  unpublished.Append("t", "a", 0, {big}, "state", "");
  EXPECT_TRUE(store.Commit(std::move(unpublished)).ok());
  WriteSet fits;
  fits.Append("t", "b", 0, {Event("t", "b", 1, std::string(1700, 'x'))}, "state", "topic");
  EXPECT_TRUE(store.Commit(std::move(fits)).ok());
  EXPECT_EQ(store.OutboxDepth(), 1u);
}

TEST_P(StoreTest, WhileTheDiskIsFullNothingIsWrittenAndAfterwardsEverythingIs) {
  DiskFaults disk;
  StoreOptions options = Options();
  options.disk_faults = &disk;
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Store& store = **opened;
  WriteSet before;
  before.Append("t", "a", 0, {Event("t", "a", 1)}, "v1", "topic");
  ASSERT_TRUE(store.Commit(std::move(before)).ok());
  EXPECT_TRUE(store.CheckWritable().ok());

  disk.SetFull(true);
  WriteSet refused;
  refused.Append("t", "b", 0, {Event("t", "b", 1)}, "b1", "topic");
  const absl::Status commit = store.Commit(std::move(refused));
  EXPECT_EQ(commit.code(), absl::StatusCode::kResourceExhausted) << commit;
  EXPECT_EQ(store.CheckWritable().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store.Load("t", "b")->version, 0);
  EXPECT_EQ(store.Load("t", "a")->state, "v1");  // reads go on

  // Room again: RocksDB resumes. Its own recovery may be under way and retries at intervals
  // of seconds, more than one round on a loaded machine: the bound is generous.
  disk.SetFull(false);
  absl::Status last;
  ASSERT_TRUE(cowork::testing::PollUntil(
                  [&] {
                    last = store.CheckWritable();
                    return last.ok();
                  },
                  absl::Seconds(60), "the store takes writes again")
                  .ok())
      << last;
  WriteSet after;
  after.Append("t", "b", 0, {Event("t", "b", 1)}, "b1", "topic");
  ASSERT_TRUE(store.Commit(std::move(after)).ok());
  EXPECT_EQ(store.Load("t", "b")->state, "b1");
  EXPECT_EQ(store.OutboxDepth(), 2u);
}

// Purging (an erasure): the earlier values of the keys a commit overwrites or deletes are gone
// from every file of the store, write-ahead log included, not only hidden.
class StorePurgeTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open() {
    absl::StatusOr<std::unique_ptr<Store>> opened =
        Store::Open({.path = dir_.path(), .durable = true, .disk_faults = &disk_});
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? std::move(*opened) : nullptr;
  }
  std::vector<std::string> FilesHolding(absl::string_view bytes) const {
    return cowork::testing::FilesContaining(dir_.path(), bytes);
  }
  std::vector<std::string> PurgeRows(Store& store) const {
    std::vector<std::string> rows;
    EXPECT_TRUE(store
                    .Scan(Space::kMeta, "store/purge/", "",
                          [&](absl::string_view key, absl::string_view) {
                            rows.emplace_back(key);
                            return true;
                          })
                    .ok());
    return rows;
  }
  TempDir dir_;
  DiskFaults disk_;
};

TEST_F(StorePurgeTest, OverwrittenAndDeletedValuesLeaveNoBytesInAnyFile) {
  std::unique_ptr<Store> store = Open();
  WriteSet first;
  first.Append("t", "a", 0, {Event("t", "a", 1)}, "state-secret-1f8e", "");
  first.Put(Space::kMeta, "key/op/s1", "meta-secret-7c2d");
  first.Put(Space::kViews, "v/1", "view-secret-93ab");
  first.Put(Space::kViews, "v/keep", "kept-value-5d10");
  ASSERT_TRUE(store->Commit(std::move(first)).ok());
  // Reopening flushes the recovered log into a table file: the values are in both kinds.
  store.reset();
  store = Open();
  WriteSet second;
  second.Put(Space::kMeta, "key/op/s2", "wal-secret-2b4f");
  second.Put(Space::kMeta, "key/op/plain", "plain-secret-6e01");
  ASSERT_TRUE(store->Commit(std::move(second)).ok());

  // A plain delete only hides the value.
  WriteSet plain;
  plain.Delete(Space::kMeta, "key/op/plain");
  ASSERT_TRUE(store->Commit(std::move(plain)).ok());
  EXPECT_FALSE(FilesHolding("plain-secret-6e01").empty());

  WriteSet erase;
  erase.Append("t", "a", 1, {Event("t", "a", 2)}, "scrubbed", "");
  erase.Delete(Space::kMeta, "key/op/s1");
  erase.Delete(Space::kMeta, "key/op/s2");
  erase.Put(Space::kViews, "v/1", "scrubbed");
  erase.PurgeOldValues();
  ASSERT_TRUE(store->Commit(std::move(erase)).ok());

  for (absl::string_view gone :
       {"state-secret-1f8e", "meta-secret-7c2d", "view-secret-93ab", "wal-secret-2b4f"}) {
    EXPECT_THAT(FilesHolding(gone), ::testing::IsEmpty()) << gone;
  }
  EXPECT_THAT(PurgeRows(*store), ::testing::IsEmpty());
  EXPECT_EQ(store->Load("t", "a")->state, "scrubbed");
  EXPECT_EQ(store->Get(Space::kViews, "v/1")->value_or(""), "scrubbed");
  EXPECT_FALSE(store->Get(Space::kMeta, "key/op/s1")->has_value());
  EXPECT_EQ(store->Get(Space::kViews, "v/keep")->value_or(""), "kept-value-5d10");
  store.reset();
  store = Open();
  EXPECT_FALSE(store->Get(Space::kMeta, "key/op/s2")->has_value());
  EXPECT_EQ(store->Get(Space::kViews, "v/keep")->value_or(""), "kept-value-5d10");
}

TEST_F(StorePurgeTest, APurgeTheDiskRefusedIsFinishedOnceItHasRoom) {
  std::unique_ptr<Store> store = Open();
  WriteSet first;
  first.Put(Space::kMeta, "key/op/s1", "meta-secret-44c1");
  ASSERT_TRUE(store->Commit(std::move(first)).ok());
  store.reset();
  store = Open();  // the value is in a table file now, which no reopen rewrites by itself
  // The disk fills between the erasure's commit and its purge.
  std::atomic<bool> fill{false};
  store->SetOutboxListener([&] {
    if (fill.load()) disk_.SetFull(true);
  });
  fill = true;
  WriteSet erase;
  erase.Append("t", "a", 0, {Event("t", "a", 1)}, "erased", "topic");
  erase.Delete(Space::kMeta, "key/op/s1");
  erase.PurgeOldValues();
  ASSERT_TRUE(store->Commit(std::move(erase)).ok()) << "the erasure itself stands";
  EXPECT_FALSE(FilesHolding("meta-secret-44c1").empty());
  EXPECT_FALSE(PurgeRows(*store).empty());
  EXPECT_FALSE(store->CheckWritable().ok());

  fill = false;
  disk_.SetFull(false);
  // A failed flush leaves RocksDB refusing writes until the store is opened again, as the
  // service is after its health check fails; the purge is finished there.
  store.reset();
  store = Open();
  EXPECT_THAT(FilesHolding("meta-secret-44c1"), ::testing::IsEmpty());
  EXPECT_THAT(PurgeRows(*store), ::testing::IsEmpty());
  EXPECT_FALSE(store->Get(Space::kMeta, "key/op/s1")->has_value());
  EXPECT_TRUE(store->CheckWritable().ok());
}

}  // namespace
}  // namespace cowork::eventstore
