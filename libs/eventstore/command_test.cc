#include "libs/eventstore/command.h"


#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/testdata/note.pb.h"
#include "libs/status/field_errors.h"
#include "libs/testing/process.h"

namespace cowork::eventstore {
namespace {

using ::google::protobuf::StringValue;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

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

testdata::NoteRequest NoteRequest(absl::string_view request_id, absl::string_view text) {
  testdata::NoteRequest r;
  r.set_request_id(std::string(request_id));
  r.set_text(std::string(text));
  return r;
}

// Customer c-1's request `request_id` of method "Note" asking for `text`.
Request Asked(absl::string_view request_id, absl::string_view text = "hello",
              absl::string_view caller = "customer:c-1", absl::string_view method = "Note") {
  return RequestOf("op-1", caller, method, NoteRequest(request_id, text));
}

class CommandTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open({.path = dir_.path(),
                     .durable = GetParam(),
                     .request_retention = absl::Hours(24),
                     .clock = &clock_});
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

  // The answer of ExecuteBytes, or its error.
  absl::StatusOr<std::string> Run(const Request& request,
                                  absl::FunctionRef<absl::StatusOr<DecidedBytes>()> attempt,
                                  int max_attempts = 8) {
    absl::StatusOr<ExecutedBytes> executed = ExecuteBytes(*store_, request, attempt, max_attempts);
    if (!executed.ok()) return executed.status();
    return executed->response;
  }

  // What a concurrent retry of `request` that won the race recorded.
  common::v1::StoredResponse Winner(const Request& request, absl::string_view response) {
    common::v1::StoredResponse winner;
    winner.set_method(request.method);
    winner.set_response(std::string(response));
    winner.set_fingerprint(request.fingerprint);
    return winner;
  }

  SimulatedClock clock_{kNow};
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Durability, CommandTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Durable" : "NotDurable"; });

TEST_P(CommandTest, RetryOfTheSameRequestReturnsTheFirstAnswer) {
  int attempts = 0;
  auto attempt = [&]() {
    ++attempts;
    return Note("a", "hello");
  };
  absl::StatusOr<ExecutedBytes> first = ExecuteBytes(*store_, Asked("req-1"), attempt);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->response, "version 1");
  EXPECT_FALSE(first->replayed);
  absl::StatusOr<ExecutedBytes> second = ExecuteBytes(*store_, Asked("req-1"), attempt);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->response, "version 1");
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
  EXPECT_EQ(store_->OutboxDepth(), 1u);
  absl::StatusOr<std::optional<common::v1::StoredResponse>> stored =
      store_->FindRequest(Asked("req-1").RecordKey());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->method(), "Note");
  EXPECT_EQ((*stored)->response(), "version 1");
  EXPECT_EQ((*stored)->recorded_at_micros(), absl::ToUnixMicros(kNow));
}

TEST_P(CommandTest, WithoutRequestIdEveryCallCommits) {
  auto attempt = [&]() { return Note("a", "hello"); };
  EXPECT_EQ(*Run(Asked(""), attempt), "version 1");
  EXPECT_EQ(*Run(Asked(""), attempt), "version 2");
  EXPECT_EQ(store_->Load("counter", "a")->version, 2);
}

TEST_P(CommandTest, TheSameIdForADifferentRequestIsInvalidArgument) {
  ASSERT_TRUE(Run(Asked("req-1", "x"), [&] { return Note("a", "x"); }).ok());
  int attempts = 0;
  absl::StatusOr<std::string> other = Run(Asked("req-1", "y"), [&] {
    ++attempts;
    return Note("a", "y");
  });
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(other.status()),
              ElementsAre(Field(&FieldViolation::field, "request_id")));
  EXPECT_THAT(other.status().message(), Not(HasSubstr("version")));
  EXPECT_EQ(attempts, 0);
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
}

TEST_P(CommandTest, AnotherCallersIdNeverCollides) {
  ASSERT_EQ(*Run(Asked("req-1", "mine", "customer:c-1"), [&] { return Note("a", "mine"); }),
            "version 1");
  // Customer c-2 sends the same request id with the same request, c-3 with another: each
  // runs as the caller's own.
  for (const auto& [caller, text] : {std::pair{"customer:c-2", "mine"}, {"customer:c-3", "theirs"}}) {
    absl::StatusOr<ExecutedBytes> theirs =
        ExecuteBytes(*store_, Asked("req-1", text, caller), [&] { return Note("b", text); });
    ASSERT_TRUE(theirs.ok()) << caller << ": " << theirs.status();
    EXPECT_FALSE(theirs->replayed);
  }
  EXPECT_EQ(store_->Load("counter", "b")->version, 2);
  // And c-1's retry still gets c-1's answer.
  EXPECT_EQ(*Run(Asked("req-1", "mine", "customer:c-1"), [&] { return Note("a", "again"); }),
            "version 1");
  EXPECT_EQ(store_->Load("counter", "a")->version, 1);
}

TEST_P(CommandTest, AnotherOperatorOrMethodNeverCollides) {
  ASSERT_TRUE(Run(Asked("req-1"), [&] { return Note("a", "x"); }).ok());
  Request other_operator = Asked("req-1");
  other_operator.operator_id = "op-2";
  EXPECT_EQ(*Run(other_operator, [&] { return Note("a", "x"); }), "version 2");
  EXPECT_EQ(*Run(Asked("req-1", "hello", "customer:c-1", "Erase"),
                 [&] { return Note("a", "x"); }),
            "version 3");
}

TEST(RequestOf, FingerprintCoversTheRequestButNotItsId) {
  const Request a = Asked("req-1", "x");
  EXPECT_EQ(a.request_id, "req-1");
  EXPECT_EQ(a.fingerprint, Asked("req-2", "x").fingerprint);
  EXPECT_NE(a.fingerprint, Asked("req-1", "y").fingerprint);
  testdata::NoteRequest with_password = NoteRequest("req-1", "x");
  with_password.set_password("secret");
  EXPECT_NE(RequestOf("op-1", "customer:c-1", "Note", with_password).fingerprint, a.fingerprint);
}

TEST(RequestOf, TheRecordKeyHoldsNoPersonalData) {
  const Request r = RequestOf("op-1", "register:alice.arnaud@example.com", "Register",
                              NoteRequest("alice-signs-up", "x"));
  EXPECT_THAT(r.RecordKey(), MatchesRegex("[0-9a-f]{64}"));
  EXPECT_THAT(r.RecordKey(), Not(HasSubstr("alice")));
  // Parts cannot be shifted from one field into the next.
  EXPECT_NE(RequestOf("op-1", "customer:c-1", "Note", NoteRequest("r", "x")).RecordKey(),
            RequestOf("op-1", "customer:c-", "1Note", NoteRequest("r", "x")).RecordKey());
}

TEST(RequestOfDeathTest, AMessageWithoutRequestIdIsAProgrammingError) {
  EXPECT_DEATH(RequestOf("op-1", "customer:c-1", "Note", testdata::NoteWithoutRequestId()),
               "has no string field request_id");
}

TEST_P(CommandTest, ARecordExpiresAfterTheRetention) {
  ASSERT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 1");
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 1");
  EXPECT_EQ(*store_->ExpireRequests(), 0);

  // Past the retention the same request runs again, and is recorded again.
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(store_->FindRequest(Asked("req-1").RecordKey())->has_value());
  EXPECT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 2");
  EXPECT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 2");
  // The first record's expiry finds a newer record under its key and leaves it.
  ASSERT_TRUE(Run(Asked("req-2"), [&] { return Note("b", "x"); }).ok());
  clock_.Advance(absl::Hours(23));
  EXPECT_EQ(*store_->ExpireRequests(), 0);
  EXPECT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 2");

  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*store_->ExpireRequests(), 2);
  EXPECT_EQ(*store_->ExpireRequests(), 0);
  EXPECT_FALSE(store_->FindRequest(Asked("req-1").RecordKey())->has_value());
  EXPECT_FALSE(store_->FindRequest(Asked("req-2").RecordKey())->has_value());
}

TEST_P(CommandTest, ExpiryIsBoundedPerPass) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Run(Asked(absl::StrCat("req-", i)), [&] { return Note("a", "x"); }).ok());
  }
  clock_.Advance(absl::Hours(25));
  EXPECT_EQ(*store_->ExpireRequests(/*limit=*/3), 3);
  EXPECT_EQ(*store_->ExpireRequests(/*limit=*/3), 2);
  EXPECT_EQ(*store_->ExpireRequests(/*limit=*/3), 0);
}

TEST_P(CommandTest, LostRaceIsRetried) {
  int attempts = 0;
  absl::StatusOr<std::string> result = Run(Asked("req-1"), [&] {
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
  absl::StatusOr<std::string> result = Run(
      Asked("req-1"),
      [&] {
        ++attempts;
        absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
        EXPECT_TRUE(store_->Commit(std::move(Note("a", "theirs")->writes)).ok());
        return decided;
      },
      /*max_attempts=*/3);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(attempts, 3);
  EXPECT_FALSE(store_->FindRequest(Asked("req-1").RecordKey())->has_value());
  EXPECT_EQ(store_->Load("counter", "a")->version, 3);  // only the interfering writes
}

TEST_P(CommandTest, AttemptErrorIsReturnedAndNothingRecorded) {
  absl::StatusOr<std::string> result =
      Run(Asked("req-1"), [&]() -> absl::StatusOr<DecidedBytes> {
        return absl::FailedPreconditionError("customer is suspended");
      });
  EXPECT_EQ(result.status(), absl::FailedPreconditionError("customer is suspended"));
  EXPECT_FALSE(store_->FindRequest(Asked("req-1").RecordKey())->has_value());
  // The same request id may then succeed.
  EXPECT_EQ(*Run(Asked("req-1"), [&] { return Note("a", "x"); }), "version 1");
}

TEST_P(CommandTest, ConcurrentRetryThatWonIsReturned) {
  const Request request = Asked("req-1");
  absl::StatusOr<ExecutedBytes> result = ExecuteBytes(*store_, request, [&] {
    absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
    // The same request, retried by the client on another connection, commits first.
    WriteSet w = std::move(Note("b", "retry")->writes);
    w.RecordRequest(request.RecordKey(), Winner(request, "the other answer"));
    EXPECT_TRUE(store_->Commit(std::move(w)).ok());
    return decided;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->response, "the other answer");
  EXPECT_TRUE(result->replayed);
  EXPECT_EQ(store_->Load("counter", "a")->version, 0);
  EXPECT_EQ(store_->Load("counter", "b")->version, 1);
}

TEST_P(CommandTest, TwinThatWonTheRaceIsReturnedWithoutDecidingAgain) {
  const Request request = Asked("req-1");
  int attempts = 0;
  absl::StatusOr<std::string> result = Run(request, [&] {
    ++attempts;
    absl::StatusOr<DecidedBytes> decided = Note("a", "mine");
    if (attempts == 1) {
      // The client's retry of the same request commits to the same aggregate first: our
      // commit loses on the version, and the twin's answer is the answer.
      WriteSet w = std::move(Note("a", "twin")->writes);
      w.RecordRequest(request.RecordKey(), Winner(request, "the twin's answer"));
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
  absl::StatusOr<std::string> result = Run(Asked("req-2"), [&] {
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
  const Request request = Asked("req-1");
  common::v1::StoredResponse failed = Winner(request, "");
  failed.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  failed.set_message("plan has no credit");
  WriteSet w;
  w.RecordRequest(request.RecordKey(), failed);
  ASSERT_TRUE(store_->Commit(std::move(w)).ok());
  EXPECT_EQ(Run(request, [&] { return Note("a", "x"); }).status(),
            absl::FailedPreconditionError("plan has no credit"));
}

TEST_P(CommandTest, TypedExecuteReauthorizesOnlyAReplayedAnswer) {
  auto attempt = [&]() -> absl::StatusOr<Decided<StringValue>> {
    absl::StatusOr<DecidedBytes> decided = Note("a", "x");
    if (!decided.ok()) return decided.status();
    return Decided<StringValue>{std::move(decided->writes), Text(decided->response)};
  };
  std::vector<std::string> reauthorized;
  absl::Status verdict = absl::OkStatus();
  auto reauthorize = [&](const StringValue& answer) {
    reauthorized.push_back(answer.value());
    return verdict;
  };
  absl::StatusOr<StringValue> first =
      Execute<StringValue>(*store_, Asked("r"), attempt, reauthorize);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->value(), "version 1");
  EXPECT_THAT(reauthorized, IsEmpty());
  absl::StatusOr<StringValue> again =
      Execute<StringValue>(*store_, Asked("r"), attempt, reauthorize);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->value(), "version 1");
  EXPECT_THAT(reauthorized, ElementsAre("version 1"));
  // The caller may no longer read the answer: the retry gets the refusal instead.
  verdict = absl::PermissionDeniedError("no access to location loc-1");
  EXPECT_EQ(Execute<StringValue>(*store_, Asked("r"), attempt, reauthorize).status(), verdict);
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
