#ifndef COWORK_TOOLS_REPLAY_REPLAY_H_
#define COWORK_TOOLS_REPLAY_REPLAY_H_

// The pieces of cowork-replay, the analysts' tool that reads the event topics and writes one
// row per event (tools/replay/row.proto): topic names, decoding an envelope into a row, the
// filters, JSON lines and CSV, the apply-once check every consumer of the suite makes, and the
// progress and summary lines. No Kafka here (main.cc reads with kafka::TopicStream).
//
// Decoding needs the event types in the generated descriptor pool: this library links every
// service's events and registers them (LinkEventTypes) — a type unknown to this build keeps
// its row, without a payload.
//
// Not thread-safe (SequenceCheck and RowWriter hold state); the free functions are.
//
//   RowWriter writer(std::cout, Format::kJsonLines, {.types = {"BookingCreated"}}, true);
//   for (const kafka::Message& m : messages) writer.Add(m.value);
//   std::cerr << Summary(writer.counts(), elapsed) << "\n";

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "tools/replay/row.pb.h"

namespace cowork::replay {

// ---------------------------------------------------------------- topics and types

// The services whose topics a replay reads by default, in this order.
std::vector<std::string> AllServices();
// "bookings" -> "cowork.bookings.events"; a name with a dot is a topic already and stays.
std::string ResolveTopic(absl::string_view name);

// Registers every service's event types in the generated descriptor pool (static libraries
// drop the generated code nobody names). Idempotent; ToRow and ToJson call it.
void LinkEventTypes();

// "cowork.bookings.v1.BookingCreated", from the payload's type URL.
absl::string_view FullTypeName(const common::v1::EventEnvelope& envelope);
// "BookingCreated" from "cowork.bookings.v1.BookingCreated".
absl::string_view ShortTypeName(absl::string_view full_name);

// ---------------------------------------------------------------- filters

// Which events a replay writes. Every set left empty lets everything through.
struct Filter {
  // Payload types, by message name ("BookingCreated") or full name
  // ("cowork.bookings.v1.BookingCreated").
  absl::flat_hash_set<std::string> types;
  absl::flat_hash_set<std::string> locations;
  absl::flat_hash_set<std::string> operators;
  // occurred_at in [since, until).
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();

  bool Matches(const common::v1::EventEnvelope& envelope) const;
};

// An instant on the command line: RFC 3339 ("2026-06-01T10:00:00+02:00") or a day
// ("2026-06-01", its midnight UTC). INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view text);

// ---------------------------------------------------------------- rows

enum class PayloadStatus {
  kDecoded,      // the row carries the payload
  kUnknownType,  // this build does not know the type: the row has no payload
  kUnreadable,   // the bytes do not parse as the type: the row has no payload
};
// The payload as its generated message; nullptr when the type is unknown or the bytes do not
// parse (`status`, when given, says which).
std::unique_ptr<google::protobuf::Message> DecodePayload(
    const common::v1::EventEnvelope& envelope, PayloadStatus* status = nullptr);
Row ToRow(const common::v1::EventEnvelope& envelope, PayloadStatus* status = nullptr);

// A message as one line of JSON, printed as coworkctl prints: the proto's field names, every
// field even when it holds its default. INVALID_ARGUMENT when an Any in it names a type this
// build does not know.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

// The row as one JSON object, and a newline.
std::string JsonLine(const Row& row);
// The column names, comma-separated, and a newline: the fields of Row in order.
std::string CsvHeader();
// The row's cells (RFC 4180), the payload as its JSON, and a newline.
std::string CsvLine(const Row& row);
// One CSV cell: quoted (quotes doubled) when it holds a comma, a quote or a line break.
std::string CsvField(absl::string_view text);

// ---------------------------------------------------------------- apply once

// Lets each event of an aggregate through once and in order, as the suite's consumers apply
// them (libs/kafka EventConsumer): sequence n only right after n - 1. A copy of an event let
// through is a duplicate; an event ahead of a missing one is held back (its publisher sends
// it again, in order, after the missing one). A replay that starts in the middle of the
// topics (`from_start` false) takes an aggregate's first event seen as where it stood.
class SequenceCheck {
 public:
  enum class Verdict { kNext, kDuplicate, kAhead };
  explicit SequenceCheck(bool from_start) : from_start_(from_start) {}
  Verdict Check(const common::v1::EventEnvelope& envelope);

 private:
  bool from_start_;
  absl::flat_hash_map<std::string, int64_t> applied_;  // "<type>/<id>" -> sequence
};

// ---------------------------------------------------------------- the writer

enum class Format { kJsonLines, kCsv };

struct Counts {
  int64_t messages = 0;       // read
  int64_t rows = 0;           // written
  int64_t filtered = 0;       // left out by the filter
  int64_t duplicates = 0;     // copies of events already seen
  int64_t ahead = 0;          // ahead of a missing event; seen again later
  int64_t not_envelopes = 0;  // not an EventEnvelope with an aggregate
  int64_t unknown_types = 0;  // written without a payload: this build does not know the type
  int64_t unreadable = 0;     // written without a payload: its bytes do not parse
};

// Decodes messages, checks and filters them and writes their rows to `out`. A CSV writer
// writes the header first, at construction.
class RowWriter {
 public:
  RowWriter(std::ostream& out, Format format, Filter filter, bool from_start);
  // One message's value (a serialized EventEnvelope).
  void Add(absl::string_view value);
  const Counts& counts() const { return counts_; }

 private:
  std::ostream& out_;
  const Format format_;
  const Filter filter_;
  SequenceCheck sequences_;
  Counts counts_;
  common::v1::EventEnvelope envelope_;  // reused
};

// ---------------------------------------------------------------- stderr lines

// "cowork-replay: 61% (1220000 of 2000000 messages), 30500 rows, 98000 messages/s"; without a
// known backlog (following, at the end): "cowork-replay: 2000000 messages, ..., following".
std::string ProgressLine(int64_t consumed, int64_t backlog, int64_t rows, absl::Duration elapsed,
                         bool following);
// "cowork-replay: 2000000 messages in 20.4 s (98039 messages/s), 30500 rows" and what was
// skipped, when anything was.
std::string Summary(const Counts& counts, absl::Duration elapsed);

}  // namespace cowork::replay

#endif  // COWORK_TOOLS_REPLAY_REPLAY_H_
