// Stage: envelopes in sequence, the state after each event, and the hooks.

#include "libs/eventstore/staging.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/testdata/note.pb.h"

namespace cowork::eventstore {
namespace testdata {

// Found by argument-dependent lookup, as a service's domain Apply is.
NoteState Apply(NoteState state, const NoteEvent& e) {
  state.set_count(state.count() + 1);
  if (!e.note_added().location_id().empty()) state.set_location_id(e.note_added().location_id());
  *state.mutable_last_time() = e.occurred_at();
  return state;
}

}  // namespace testdata

namespace {

using testdata::NoteEvent;
using testdata::NoteState;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 5, 1, 9, 30, 0), absl::UTCTimeZone());

EnvelopeContext Context() {
  return EnvelopeContext{.service = "notes", .operator_id = "op-1", .now = kNow};
}

NoteEvent Added(const std::string& text, const std::string& location = "") {
  NoteEvent e;
  e.mutable_note_added()->set_text(text);
  e.mutable_note_added()->set_location_id(location);
  return e;
}

testdata::NoteAdded PayloadAt(const WriteSet& writes, int i) {
  testdata::NoteAdded out;
  EXPECT_TRUE(writes.appended()[0].events[i].payload().UnpackTo(&out));
  return out;
}

TEST(Stage, EnvelopesFollowTheVersionAndTheStateKeepsTheirTime) {
  Loaded<NoteState> before;
  before.version = 4;
  before.state.set_count(4);
  WriteSet writes;
  const NoteState after = Stage(Context(), "note", "n-1", "loc-1", before,
                                std::vector<NoteEvent>{Added("a"), Added("b")}, "topic", writes);
  EXPECT_EQ(after.count(), 6);
  EXPECT_EQ(FromTimestamp(after.last_time()), kNow);
  ASSERT_EQ(writes.appended().size(), 1u);
  const WriteSet::Appended& a = writes.appended()[0];
  EXPECT_EQ(a.expected_version, 4);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].sequence(), 5);
  EXPECT_EQ(a.events[1].sequence(), 6);
  EXPECT_EQ(a.events[1].location_id(), "loc-1");
  EXPECT_EQ(a.topic, "topic");
  EXPECT_EQ(a.state, after.SerializeAsString());
}

TEST(Stage, NoEventsStageNothing) {
  WriteSet writes;
  Stage(Context(), "note", "n-1", "loc-1", Loaded<NoteState>(), std::vector<NoteEvent>{}, "t",
        writes);
  EXPECT_TRUE(writes.empty());
}

TEST(Stage, TheSealHookRunsBeforeTheEnvelopeAndItsErrorFailsTheStaging) {
  StageHooks<NoteState, NoteEvent> hooks{.seal = [](NoteEvent& e) -> absl::Status {
    if (e.note_added().text() == "refuse") return absl::FailedPreconditionError("no key");
    e.mutable_note_added()->set_sealed_text("sealed:" + e.note_added().text());
    e.mutable_note_added()->clear_text();
    return absl::OkStatus();
  }};
  WriteSet writes;
  ASSERT_TRUE(Stage(Context(), "note", "n-1", "loc-1", Loaded<NoteState>(),
                    std::vector<NoteEvent>{Added("secret")}, "t", writes, hooks)
                  .ok());
  EXPECT_EQ(PayloadAt(writes, 0).sealed_text(), "sealed:secret");
  EXPECT_EQ(PayloadAt(writes, 0).text(), "");

  WriteSet refused;
  EXPECT_EQ(Stage(Context(), "note", "n-1", "loc-1", Loaded<NoteState>(),
                  std::vector<NoteEvent>{Added("refuse")}, "t", refused, hooks)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(refused.appended().empty());
}

TEST(Stage, EachEnvelopeGetsTheLocationOfTheStateAfterItsEvent) {
  StageHooks<NoteState, NoteEvent> hooks{
      .location_of = [](const NoteState& s) { return s.location_id(); }};
  WriteSet writes;
  ASSERT_TRUE(Stage(Context(), "note", "n-1", "ignored", Loaded<NoteState>(),
                    std::vector<NoteEvent>{Added("a", "loc-1"), Added("b"), Added("c", "loc-2")},
                    "t", writes, hooks)
                  .ok());
  const auto& events = writes.appended()[0].events;
  EXPECT_EQ(events[0].location_id(), "loc-1");
  EXPECT_EQ(events[1].location_id(), "loc-1");
  EXPECT_EQ(events[2].location_id(), "loc-2");
}

TEST(Stage, TheEventHookSeesEachEnvelopeAndWritesToTheSameCommit) {
  std::vector<int64_t> seen;
  StageHooks<NoteState, NoteEvent> hooks{
      .on_event = [&](const common::v1::EventEnvelope& envelope,
                      const google::protobuf::Message& payload, WriteSet& w) -> absl::Status {
        seen.push_back(envelope.sequence());
        EXPECT_EQ(payload.GetDescriptor()->name(), "NoteAdded");
        w.Put(Space::kViews, "seen/" + std::to_string(envelope.sequence()), "");
        return envelope.sequence() == 3 ? absl::InternalError("full") : absl::OkStatus();
      }};
  WriteSet writes;
  ASSERT_TRUE(Stage(Context(), "note", "n-1", "loc-1", Loaded<NoteState>(),
                    std::vector<NoteEvent>{Added("a"), Added("b")}, "t", writes, hooks)
                  .ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(writes.writes().size(), 2u);
  WriteSet failed;
  EXPECT_FALSE(Stage(Context(), "note", "n-1", "loc-1", Loaded<NoteState>(),
                     std::vector<NoteEvent>{Added("a"), Added("b"), Added("c")}, "t", failed,
                     hooks)
                   .ok());
  EXPECT_TRUE(failed.appended().empty());
}

}  // namespace
}  // namespace cowork::eventstore
