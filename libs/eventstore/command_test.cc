#include "libs/eventstore/command.h"


#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"
#include "libs/testing/process.h"

namespace cowork::eventstore {
namespace {

using ::google::protobuf::StringValue;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::MatchesRegex;

// A fresh directory for one store, removed with everything in it.
struct TempDir {
  cowork::testing::TempDir dir{"command_test"};
  std::string path() const { return dir.Sub("db"); }
};

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 5, 1, 9, 30, 0), absl::UTCTimeZone()) +
    absl::Milliseconds(250);

EnvelopeContext Context() {
  return EnvelopeContext{.service = "customers",
                         .operator_id = "op-1",
                         .correlation_id = "req-1",
                         .causation_id = "req-1",
                         .now = kNow};
}

StringValue Text(absl::string_view s) {
  StringValue v;
  v.set_value(std::string(s));
  return v;
}

class CommandTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open({.path = dir_.path(), .durable = GetParam()});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // A command that appends one "Noted" event to counter/<id> and answers with the new version.
  absl::StatusOr<DecidedBytes> Note(absl::string_view id, absl::string_view text) {
    absl::StatusOr<AggregateRecord> record = store_->Load("counter", id);
    if (!record.ok()) return record.status();
    const int64_t next = record->version + 1;
    WriteSet w;
    w.Append("counter", std::string(id), record->version,
             {MakeEnvelope(Context(), "counter", id, next, "loc-1", Text(text))},
             absl::StrCat(next), "cowork.test.events");
    return DecidedBytes{std::move(w), absl::StrCat("version ", next)};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Durability, CommandTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Durable" : "NotDurable"; });

TEST_P(CommandTest, RetryWithSameRequestKeyReturnsFirstAnswer) {
  int attempts = 0;
  auto attempt = [&]() {
    ++attempts;
    return Note("a", "hello");
  };
  absl::StatusOr<std::string> first = ExecuteBytes(*store_, {"op-1/req-1", "Note"}, attempt);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "version 1");
  absl::StatusOr<std::string> second = ExecuteBytes(*store_, {"op-1/req-1", "Note"}, attempt);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "version 1");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
  EXPECT_EQ(store_->OutboxDepth(), 1u);
  absl::StatusOr<std::optional<common::v1::StoredResponse>> stored =
      store_->FindRequest("op-1/req-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->method(), "Note");
  EXPECT_EQ((*stored)->response(), "version 1");
}

TEST_P(CommandTest, WithoutRequestKeyEveryCallCommits) {
  auto attempt = [&]() { return Note("a", "hello"); };
  EXPECT_EQ(*ExecuteBytes(*store_, {"", "Note"}, attempt), "version 1");
  EXPECT_EQ(*ExecuteBytes(*store_, {"", "Note"}, attempt), "version 2");
  EXPECT_EQ(store_->Load("counter", "a")->version, 2);
}

TEST_P(CommandTest, RequestKeyOfAnotherMethodIsInvalidArgument) {
  ASSERT_TRUE(ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] { return Note("a", "x"); }).ok());
  int attempts = 0;
  absl::StatusOr<std::string> other = ExecuteBytes(*store_, {"op-1/req-1", "Erase"}, [&] {
    ++attempts;
    return Note("a", "y");
  });
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(other.status()),
              ElementsAre(Field(&FieldViolation::field, "request_id")));
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
}

TEST_P(CommandTest, LostRaceIsRetried) {
  int attempts = 0;
  absl::StatusOr<std::string> result = ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] {
    ++attempts;
    absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
    if (attempts == 1) {
      // Another writer commits to the same aggregate between our load and our commit.
      EXPECT_TRUE(store_->Commit(std::move(Note("a", "theirs")->writes)).ok());
    }
    return decided;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(*result, "version 2");
  absl::StatusOr<std::vector<common::v1::EventEnvelope>> events =
      store_->ReadEvents("counter", "a");
  ASSERT_EQ(events->size(), 2u);
  StringValue text;
  ASSERT_TRUE((*events)[0].payload().UnpackTo(&text));
  EXPECT_EQ(text.value(), "theirs");
  ASSERT_TRUE((*events)[1].payload().UnpackTo(&text));
  EXPECT_EQ(text.value(), "mine");
}

TEST_P(CommandTest, GivesUpAfterMaxAttempts) {
  int attempts = 0;
  absl::StatusOr<std::string> result = ExecuteBytes(
      *store_, {"op-1/req-1", "Note"},
      [&] {
        ++attempts;
        absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
        EXPECT_TRUE(store_->Commit(std::move(Note("a", "theirs")->writes)).ok());
        return decided;
      },
      /*max_attempts=*/3);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(attempts, 3);
  EXPECT_FALSE(store_->FindRequest("op-1/req-1")->has_value());
  EXPECT_EQ(store_->Load("counter", "a")->version, 3);  // only the interfering writes
}

TEST_P(CommandTest, AttemptErrorIsReturnedAndNothingRecorded) {
  absl::StatusOr<std::string> result =
      ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&]() -> absl::StatusOr<DecidedBytes> {
        return absl::FailedPreconditionError("customer is suspended");
      });
  EXPECT_EQ(result.status(), absl::FailedPreconditionError("customer is suspended"));
  EXPECT_FALSE(store_->FindRequest("op-1/req-1")->has_value());
  // The same request id may then succeed.
  EXPECT_EQ(*ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] { return Note("a", "x"); }),
            "version 1");
}

TEST_P(CommandTest, ConcurrentRetryThatWonIsReturned) {
  absl::StatusOr<std::string> result = ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] {
    absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
    // The same request, retried by the client on another connection, commits first.
    common::v1::StoredResponse winner;
    winner.set_method("Note");
    winner.set_response("the other answer");
    WriteSet w = std::move(Note("b", "retry")->writes);
    w.RecordRequest("op-1/req-1", winner);
    EXPECT_TRUE(store_->Commit(std::move(w)).ok());
    return decided;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "the other answer");
  EXPECT_EQ(store_->Load("counter", "a")->version, 0);
  EXPECT_EQ(store_->Load("counter", "b")->version, 1);
}

TEST_P(CommandTest, TwinThatWonTheRaceIsReturnedWithoutDecidingAgain) {
  int attempts = 0;
  absl::StatusOr<std::string> result = ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] {
    ++attempts;
    absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
    if (attempts == 1) {
      // The client's retry of the same request commits to the same aggregate first: our
      // commit loses on the version, and the twin's answer is the answer.
      common::v1::StoredResponse winner;
      winner.set_method("Note");
      winner.set_response("the twin's answer");
      WriteSet w = std::move(Note("a", "twin")->writes);
      w.RecordRequest("op-1/req-1", winner);
      EXPECT_TRUE(store_->Commit(std::move(w)).ok());
    }
    return decided;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "the twin's answer");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
}

TEST_P(CommandTest, ClaimConflictIsReturnedAsIs) {
  WriteSet taken;
  taken.Claim("email/op-1/x@example.com", "c-1");
  ASSERT_TRUE(store_->Commit(std::move(taken)).ok());
  int attempts = 0;
  absl::StatusOr<std::string> result = ExecuteBytes(*store_, {"op-1/req-2", "Note"}, [&] {
    ++attempts;
    absl::StatusOr<DecidedBytes> decided = Note("a", "x");
    decided->writes.Claim("email/op-1/x@example.com", "c-2");
    return decided;
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(store_->Load("counter", "a")->version, 0);
}

TEST_P(CommandTest, StoredErrorIsReplayed) {
  common::v1::StoredResponse failed;
  failed.set_method("Note");
  failed.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  failed.set_message("plan has no credit");
  WriteSet w;
  w.RecordRequest("op-1/req-1", failed);
  ASSERT_TRUE(store_->Commit(std::move(w)).ok());
  EXPECT_EQ(ExecuteBytes(*store_, {"op-1/req-1", "Note"}, [&] { return Note("a", "x"); }).status(),
            absl::FailedPreconditionError("plan has no credit"));
}

TEST_P(CommandTest, TypedExecuteRoundTripsTheResponse) {
  auto attempt = [&]() -> absl::StatusOr<Decided<StringValue>> {
    absl::StatusOr<DecidedBytes> decided = Note("a", "x");
    if (!decided.ok()) return decided.status();
    return Decided<StringValue>{std::move(decided->writes), Text(decided->response)};
  };
  absl::StatusOr<StringValue> first = Execute<StringValue>(*store_, {"op-1/r", "Note"}, attempt);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->value(), "version 1");
  absl::StatusOr<StringValue> again = Execute<StringValue>(*store_, {"op-1/r", "Note"}, attempt);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value(), "version 1");
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
}

TEST(MakeEnvelope, FillsEveryField) {
  common::v1::EventEnvelope e =
      MakeEnvelope(Context(), "customer", "c-1", 7, "loc-9", Text("payload"));
  EXPECT_THAT(e.event_id(),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_NE(e.event_id(), MakeEnvelope(Context(), "customer", "c-1", 7, "", Text("")).event_id());
  EXPECT_EQ(e.aggregate_type(), "customer");
  EXPECT_EQ(e.aggregate_id(), "c-1");
  EXPECT_EQ(e.sequence(), 7);
  EXPECT_EQ(e.operator_id(), "op-1");
  EXPECT_EQ(e.location_id(), "loc-9");
  EXPECT_EQ(e.service(), "customers");
  EXPECT_EQ(e.correlation_id(), "req-1");
  EXPECT_EQ(e.causation_id(), "req-1");
  EXPECT_EQ(e.occurred_at().seconds(), absl::ToUnixSeconds(kNow));
  EXPECT_EQ(e.occurred_at().nanos(), 250000000);
  EXPECT_EQ(e.payload().type_url(), "type.googleapis.com/google.protobuf.StringValue");
  StringValue text;
  ASSERT_TRUE(e.payload().UnpackTo(&text));
  EXPECT_EQ(text.value(), "payload");
}

TEST(MakeEnvelope, TimeBeforeEpochHasNonNegativeNanos) {
  EnvelopeContext context = Context();
  context.now = absl::UnixEpoch() - absl::Milliseconds(1500);
  common::v1::EventEnvelope e = MakeEnvelope(context, "t", "a", 1, "", Text(""));
  EXPECT_EQ(e.occurred_at().seconds(), -2);
  EXPECT_EQ(e.occurred_at().nanos(), 500000000);
}

}  // namespace
}  // namespace cowork::eventstore
