// The pieces of cowork-replay: topics, rows, JSON lines and CSV (read back with libcsv's
// parser), filters, the apply-once check, the writer and its stderr lines.

#include "tools/replay/replay.h"

#include <csv.h>

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "cowork/helpdesk/v1/events.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"

namespace cowork::replay {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Time June(int day, int hour = 10) {
  return absl::FromCivil(absl::CivilSecond(2026, 6, day, hour, 0, 0), absl::UTCTimeZone());
}

bookings::v1::BookingCreated Booking(const std::string& id) {
  bookings::v1::BookingCreated b;
  b.set_booking_id(id);
  b.set_resource_id("rs-1");
  b.set_location_id("loc-1");
  b.set_customer_id("c-1");
  b.set_resource_name("Room \"Blue\", 2nd floor");
  b.mutable_charge()->set_amount_minor(2500);
  b.mutable_charge()->set_currency("EUR");
  return b;
}

common::v1::EventEnvelope Envelope(const google::protobuf::Message& payload,
                                   const std::string& aggregate_type, const std::string& id,
                                   int64_t sequence, absl::Time at,
                                   const std::string& location = "loc-1",
                                   const std::string& op = "op-1") {
  return eventstore::MakeEnvelope({.service = "bookings", .operator_id = op, .now = at},
                                  aggregate_type, id, sequence, location, payload);
}

// The cells of one CSV record, as libcsv's parser reads them.
std::vector<std::string> ParseCsv(const std::string& line) {
  struct Cells {
    std::vector<std::string> cells;
  } out;
  csv_parser parser;
  EXPECT_EQ(csv_init(&parser, CSV_STRICT), 0);
  auto on_cell = [](void* data, size_t size, void* cells) {
    static_cast<Cells*>(cells)->cells.emplace_back(static_cast<const char*>(data), size);
  };
  EXPECT_EQ(csv_parse(&parser, line.data(), line.size(), on_cell, nullptr, &out), line.size());
  csv_fini(&parser, on_cell, nullptr, &out);
  csv_free(&parser);
  return out.cells;
}

TEST(Topics, ServiceNamesMapToTheirTopicsAndTopicsStay) {
  EXPECT_EQ(ResolveTopic("bookings"), "cowork.bookings.events");
  EXPECT_EQ(ResolveTopic("cowork.helpdesk.events"), "cowork.helpdesk.events");
  EXPECT_THAT(AllServices(), ElementsAre("customers", "contracts", "bookings", "checkins",
                                         "helpdesk", "billing"));
}

TEST(Types, NamesComeFromThePayloadTypeUrl) {
  const common::v1::EventEnvelope e = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1));
  EXPECT_EQ(FullTypeName(e), "cowork.bookings.v1.BookingCreated");
  EXPECT_EQ(ShortTypeName(FullTypeName(e)), "BookingCreated");
  EXPECT_EQ(ShortTypeName("Plain"), "Plain");
}

TEST(ParseInstant, TakesRfc3339OrADayAtMidnightUtc) {
  EXPECT_EQ(*ParseInstant("2026-06-01T12:00:00+02:00"), June(1, 10));
  EXPECT_EQ(*ParseInstant("2026-06-01T10:00:00Z"), June(1, 10));
  EXPECT_EQ(*ParseInstant("2026-06-02"), June(2, 0));
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-06-01 10:00", "2026-06"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseInstant(bad).status())) << bad;
  }
}

TEST(Filter, EmptyLetsEverythingThrough) {
  EXPECT_TRUE(Filter{}.Matches(Envelope(Booking("b-1"), "booking", "b-1", 1, June(1))));
}

TEST(Filter, TypesByShortOrFullName) {
  const auto booking = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1));
  customers::v1::CustomerSuspended suspended;
  const auto other = Envelope(suspended, "customer", "c-1", 2, June(1));
  const Filter short_name{.types = {"BookingCreated"}};
  const Filter full_name{.types = {"cowork.bookings.v1.BookingCreated", "TicketOpened"}};
  EXPECT_TRUE(short_name.Matches(booking));
  EXPECT_TRUE(full_name.Matches(booking));
  EXPECT_FALSE(short_name.Matches(other));
  EXPECT_FALSE(full_name.Matches(other));
  EXPECT_FALSE(Filter{.types = {"Booking"}}.Matches(booking));
}

TEST(Filter, LocationsAndOperators) {
  const auto at_1 = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1), "loc-1", "op-1");
  const auto at_2 = Envelope(Booking("b-2"), "booking", "b-2", 1, June(1), "loc-2", "op-2");
  const Filter location{.locations = {"loc-2", "loc-3"}};
  EXPECT_FALSE(location.Matches(at_1));
  EXPECT_TRUE(location.Matches(at_2));
  const Filter op{.operators = {"op-1"}};
  EXPECT_TRUE(op.Matches(at_1));
  EXPECT_FALSE(op.Matches(at_2));
}

TEST(Filter, TimeRangeIncludesSinceAndExcludesUntil) {
  const Filter june_2{.since = June(2, 0), .until = June(3, 0)};
  EXPECT_FALSE(june_2.Matches(Envelope(Booking("b"), "booking", "b", 1, June(2, 0) - absl::Nanoseconds(1))));
  EXPECT_TRUE(june_2.Matches(Envelope(Booking("b"), "booking", "b", 1, June(2, 0))));
  EXPECT_TRUE(june_2.Matches(Envelope(Booking("b"), "booking", "b", 1, June(2, 23))));
  EXPECT_FALSE(june_2.Matches(Envelope(Booking("b"), "booking", "b", 1, June(3, 0))));
  const Filter open_end{.since = June(2, 0)};
  EXPECT_TRUE(open_end.Matches(Envelope(Booking("b"), "booking", "b", 1, June(30))));
}

TEST(Rows, CarryTheEnvelopeAndThePayload) {
  const auto e = Envelope(Booking("b-1"), "booking", "b-1", 3, June(1) + absl::Milliseconds(250));
  const Row row = ToRow(e);
  EXPECT_EQ(row.time(), "2026-06-01T10:00:00.250Z");
  EXPECT_EQ(row.service(), "bookings");
  EXPECT_EQ(row.type(), "BookingCreated");
  EXPECT_EQ(row.operator_(), "op-1");
  EXPECT_EQ(row.location(), "loc-1");
  EXPECT_EQ(row.aggregate_type(), "booking");
  EXPECT_EQ(row.aggregate(), "b-1");
  EXPECT_EQ(row.sequence(), 3);
  EXPECT_EQ(row.event_id(), e.event_id());
  bookings::v1::BookingCreated payload;
  ASSERT_TRUE(row.payload().UnpackTo(&payload));
  EXPECT_EQ(payload.resource_id(), "rs-1");
}

TEST(JsonLine, OneObjectPerLineWithProtoFieldNamesAndTheTypedPayload) {
  const auto e = Envelope(Booking("b-1"), "booking", "b-1", 3, June(1));
  const std::string line = JsonLine(ToRow(e));
  ASSERT_TRUE(absl::EndsWith(line, "}\n"));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_TRUE(absl::StartsWith(
      line, "{\"time\":\"2026-06-01T10:00:00Z\",\"service\":\"bookings\",\"type\":"
            "\"BookingCreated\",\"operator\":\"op-1\",\"location\":\"loc-1\","
            "\"aggregate_type\":\"booking\",\"aggregate\":\"b-1\",\"sequence\":\"3\","))
      << line;
  EXPECT_THAT(line, HasSubstr("\"payload\":{\"@type\":"
                              "\"type.googleapis.com/cowork.bookings.v1.BookingCreated\","
                              "\"booking_id\":\"b-1\",\"resource_id\":\"rs-1\""));
  EXPECT_THAT(line, HasSubstr("\"resource_name\":\"Room \\\"Blue\\\", 2nd floor\""));
  // Every field, also those holding their default.
  EXPECT_THAT(line, HasSubstr("\"credit_minutes\":\"0\""));
}

TEST(JsonLine, SealedDataStaysSealedAsBase64) {
  helpdesk::v1::TicketOpened opened;
  opened.set_ticket_id("t-1");
  opened.set_sealed_subject(std::string("\x01\x02\xfe\xff", 4));
  const std::string line = JsonLine(ToRow(Envelope(opened, "ticket", "t-1", 1, June(1))));
  EXPECT_THAT(line, HasSubstr("\"sealed_subject\":\"AQL+/w==\""));
}

TEST(Rows, UnknownTypeKeepsItsRowWithoutAPayload) {
  common::v1::EventEnvelope e = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1));
  e.mutable_payload()->set_type_url("type.googleapis.com/cowork.future.v9.SomethingHappened");
  PayloadStatus status;
  const Row row = ToRow(e, &status);
  EXPECT_EQ(status, PayloadStatus::kUnknownType);
  EXPECT_EQ(row.type(), "SomethingHappened");
  EXPECT_FALSE(row.has_payload());
  EXPECT_THAT(JsonLine(row), Not(HasSubstr("payload")));
  EXPECT_EQ(ParseCsv(CsvLine(row)).back(), "");
}

TEST(Rows, UnreadablePayloadKeepsItsRowWithoutAPayload) {
  common::v1::EventEnvelope e = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1));
  e.mutable_payload()->set_value("\xff\xff\xff");
  PayloadStatus status;
  const Row row = ToRow(e, &status);
  EXPECT_EQ(status, PayloadStatus::kUnreadable);
  EXPECT_EQ(row.type(), "BookingCreated");
  EXPECT_FALSE(row.has_payload());
  EXPECT_EQ(DecodePayload(e), nullptr);
}

TEST(DecodePayload, GivesTheGeneratedMessage) {
  PayloadStatus status;
  auto payload = DecodePayload(Envelope(Booking("b-1"), "booking", "b-1", 1, June(1)), &status);
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(status, PayloadStatus::kDecoded);
  ASSERT_EQ(payload->GetDescriptor(), bookings::v1::BookingCreated::descriptor());
  EXPECT_EQ(static_cast<const bookings::v1::BookingCreated&>(*payload).booking_id(), "b-1");
}

TEST(Csv, HeaderIsTheRowFieldsInOrder) {
  EXPECT_EQ(CsvHeader(),
            "time,service,type,operator,location,aggregate_type,aggregate,sequence,event_id,"
            "payload\n");
}

TEST(Csv, FieldsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(CsvField("plain text"), "plain text");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

TEST(Csv, LineReadsBackIntoTheColumns) {
  const auto e = Envelope(Booking("b-1"), "booking", "b-1", 12, June(1));
  const std::string line = CsvLine(ToRow(e));
  ASSERT_TRUE(absl::EndsWith(line, "\n"));
  const std::vector<std::string> cells = ParseCsv(line);
  ASSERT_EQ(cells.size(), 10u);
  EXPECT_EQ(cells[0], "2026-06-01T10:00:00Z");
  EXPECT_EQ(cells[1], "bookings");
  EXPECT_EQ(cells[2], "BookingCreated");
  EXPECT_EQ(cells[3], "op-1");
  EXPECT_EQ(cells[4], "loc-1");
  EXPECT_EQ(cells[5], "booking");
  EXPECT_EQ(cells[6], "b-1");
  EXPECT_EQ(cells[7], "12");
  EXPECT_EQ(cells[8], e.event_id());
  EXPECT_TRUE(absl::StartsWith(
      cells[9], "{\"@type\":\"type.googleapis.com/cowork.bookings.v1.BookingCreated\""));
  EXPECT_THAT(cells[9], HasSubstr("\"resource_name\":\"Room \\\"Blue\\\", 2nd floor\""));
}

TEST(SequenceCheck, FromTheStartEachEventOnceAndInOrder) {
  SequenceCheck check(/*from_start=*/true);
  const auto b = [](int64_t n) { return Envelope(Booking("b-1"), "booking", "b-1", n, June(1)); };
  using V = SequenceCheck::Verdict;
  EXPECT_EQ(check.Check(b(2)), V::kAhead);  // its predecessor comes first, later
  EXPECT_EQ(check.Check(b(1)), V::kNext);
  EXPECT_EQ(check.Check(b(1)), V::kDuplicate);
  EXPECT_EQ(check.Check(b(3)), V::kAhead);
  EXPECT_EQ(check.Check(b(2)), V::kNext);
  EXPECT_EQ(check.Check(b(3)), V::kNext);
  // Another aggregate, and another type of aggregate with the same id, stand alone.
  EXPECT_EQ(check.Check(Envelope(Booking("b-2"), "booking", "b-2", 1, June(1))), V::kNext);
  EXPECT_EQ(check.Check(Envelope(Booking("b-1"), "resource", "b-1", 1, June(1))), V::kNext);
}

TEST(SequenceCheck, MidStreamTheFirstEventSeenIsWhereTheAggregateStood) {
  SequenceCheck check(/*from_start=*/false);
  const auto b = [](int64_t n) { return Envelope(Booking("b-1"), "booking", "b-1", n, June(1)); };
  using V = SequenceCheck::Verdict;
  EXPECT_EQ(check.Check(b(5)), V::kNext);
  EXPECT_EQ(check.Check(b(5)), V::kDuplicate);
  EXPECT_EQ(check.Check(b(4)), V::kDuplicate);
  EXPECT_EQ(check.Check(b(7)), V::kAhead);
  EXPECT_EQ(check.Check(b(6)), V::kNext);
}

TEST(RowWriter, WritesEachMatchingEventOnceAndCountsTheRest) {
  std::ostringstream out;
  RowWriter writer(out, Format::kJsonLines, {.locations = {"loc-1"}}, /*from_start=*/true);
  const auto first = Envelope(Booking("b-1"), "booking", "b-1", 1, June(1));
  writer.Add(first.SerializeAsString());
  writer.Add(first.SerializeAsString());  // a copy
  writer.Add(Envelope(Booking("b-2"), "booking", "b-2", 1, June(1), "loc-2").SerializeAsString());
  writer.Add(Envelope(Booking("b-3"), "booking", "b-3", 2, June(1)).SerializeAsString());
  writer.Add("not an envelope");
  common::v1::EventEnvelope unreadable = Envelope(Booking("b-4"), "booking", "b-4", 1, June(1));
  unreadable.mutable_payload()->set_value("\xff\xff\xff");
  writer.Add(unreadable.SerializeAsString());

  const std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_THAT(lines[0], HasSubstr("\"aggregate\":\"b-1\""));
  EXPECT_THAT(lines[1], HasSubstr("\"aggregate\":\"b-4\""));
  EXPECT_THAT(lines[1], Not(HasSubstr("payload")));
  const Counts& c = writer.counts();
  EXPECT_EQ(c.messages, 6);
  EXPECT_EQ(c.rows, 2);
  EXPECT_EQ(c.duplicates, 1);
  EXPECT_EQ(c.filtered, 1);
  EXPECT_EQ(c.ahead, 1);
  EXPECT_EQ(c.not_envelopes, 1);
  EXPECT_EQ(c.unreadable, 1);
  EXPECT_EQ(c.unknown_types, 0);
}

TEST(RowWriter, CsvStartsWithTheHeaderEvenWithoutRows) {
  std::ostringstream out;
  RowWriter writer(out, Format::kCsv, {.types = {"Nothing"}}, true);
  writer.Add(Envelope(Booking("b-1"), "booking", "b-1", 1, June(1)).SerializeAsString());
  EXPECT_EQ(out.str(), CsvHeader());
  RowWriter rows(out, Format::kCsv, {}, true);
  rows.Add(Envelope(Booking("b-1"), "booking", "b-1", 1, June(1)).SerializeAsString());
  const std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u);
}

TEST(StderrLines, ProgressAndSummary) {
  EXPECT_EQ(ProgressLine(500, 2000, 40, absl::Seconds(2), false),
            "cowork-replay: 25% (500 of 2000 messages), 40 rows, 250 messages/s");
  EXPECT_EQ(ProgressLine(2500, 2000, 40, absl::Seconds(5), true),
            "cowork-replay: 2500 messages, 40 rows, 500 messages/s, following");
  EXPECT_EQ(Summary({.messages = 1000, .rows = 10}, absl::Milliseconds(500)),
            "cowork-replay: 1000 messages in 0.5 s (2000 messages/s), 10 rows");
  EXPECT_EQ(Summary({.messages = 10, .rows = 5, .filtered = 3, .duplicates = 2},
                    absl::Seconds(1)),
            "cowork-replay: 10 messages in 1.0 s (10 messages/s), 5 rows; 3 filtered out, "
            "2 duplicates skipped");
}

}  // namespace
}  // namespace cowork::replay
