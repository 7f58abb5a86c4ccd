#include "services/customers/notifier/message.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/customers/notifier/content.h"

namespace cowork::customers::notifier {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kJune1 =
    absl::FromCivil(absl::CivilSecond(2026, 6, 1, 10, 0, 0), absl::UTCTimeZone());

Email Sample() {
  return {.from = {"Cowork Madrid", "desk@cowork.example"},
          .to = {"Ana Tester", "ana@example.com"},
          .subject = "Booking confirmed",
          .body = "Hello Ana,\n\nyour booking is confirmed.\n",
          .message_id = "<6f1c-22@cowork.example>",
          .date = kJune1};
}

struct Parsed {
  std::vector<std::string> header_lines;  // unfolded
  std::string body;                       // decoded
};

// Splits a rendered message the way a receiver does: header lines (continuations joined),
// a blank line, the base64 body.
Parsed Parse(const std::string& data) {
  Parsed out;
  const size_t end = data.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos);
  for (absl::string_view line : absl::StrSplit(data.substr(0, end), "\r\n")) {
    const bool continued = absl::StartsWith(line, " ") || absl::StartsWith(line, "\t");
    if (continued && !out.header_lines.empty()) {
      out.header_lines.back() += std::string(line);
    } else {
      out.header_lines.emplace_back(line);
    }
  }
  std::string base64 = absl::StrReplaceAll(data.substr(end + 4), {{"\r\n", ""}});
  EXPECT_TRUE(absl::Base64Unescape(base64, &out.body));
  return out;
}

// The text of RFC 2047 encoded words ("=?UTF-8?B?...?=" separated by folding whitespace).
std::string DecodeWords(absl::string_view value) {
  std::string out;
  for (absl::string_view word : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::ConsumePrefix(&word, "=?UTF-8?B?") && absl::ConsumeSuffix(&word, "?="))
        << word;
    std::string bytes;
    EXPECT_TRUE(absl::Base64Unescape(word, &bytes));
    out += bytes;
  }
  return out;
}

TEST(Render, HasTheHeadersReceiversNeedAndABase64Utf8Body) {
  Email email = Sample();
  email.body = "Hello Zoë,\nsee you at 10:00–11:30.\n";
  absl::StatusOr<std::string> data = Render(email);
  ASSERT_TRUE(data.ok()) << data.status();
  const Parsed parsed = Parse(*data);
  EXPECT_THAT(parsed.header_lines,
              ElementsAre("From: Cowork Madrid <desk@cowork.example>",
                          "To: Ana Tester <ana@example.com>", "Subject: Booking confirmed",
                          "Date: Mon, 01 Jun 2026 10:00:00 +0000",
                          "Message-ID: <6f1c-22@cowork.example>", "Auto-Submitted: auto-generated",
                          "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                          "Content-Transfer-Encoding: base64"));
  EXPECT_EQ(parsed.body, "Hello Zoë,\r\nsee you at 10:00–11:30.\r\n");
  // Every line of the message is short and ends in CRLF (SMTP's rules).
  for (absl::string_view line : absl::StrSplit(*data, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_THAT(std::string(line), Not(HasSubstr("\n")));
  }
}

TEST(Render, NonAsciiNamesAndSubjectsTravelAsEncodedWords) {
  Email email = Sample();
  email.to.name = "Zoë O'Brien";
  email.subject = "Réservation confirmée: Salle Zoë";
  absl::StatusOr<std::string> data = Render(email);
  ASSERT_TRUE(data.ok()) << data.status();
  const Parsed parsed = Parse(*data);
  ASSERT_GE(parsed.header_lines.size(), 3u);
  absl::string_view to = parsed.header_lines[1];
  ASSERT_TRUE(absl::ConsumePrefix(&to, "To: ")) << to;
  ASSERT_TRUE(absl::ConsumeSuffix(&to, " <ana@example.com>")) << to;
  EXPECT_EQ(DecodeWords(to), "Zoë O'Brien");
  absl::string_view subject = parsed.header_lines[2];
  ASSERT_TRUE(absl::ConsumePrefix(&subject, "Subject: "));
  EXPECT_EQ(DecodeWords(subject), "Réservation confirmée: Salle Zoë");
}

TEST(Render, LineBreaksInNamesAndSubjectsCannotAddHeaders) {
  Email email = Sample();
  email.to.name = "Ana\r\nBcc: victim@example.com";
  email.from.name = "Cowork\nX-Injected: 1";
  email.subject = "Hi\r\nBcc: victim@example.com\r\n\r\nfake body";
  absl::StatusOr<std::string> data = Render(email);
  ASSERT_TRUE(data.ok()) << data.status();
  const Parsed parsed = Parse(*data);
  ASSERT_EQ(parsed.header_lines.size(), 9u) << absl::StrJoin(parsed.header_lines, "\n");
  for (const std::string& line : parsed.header_lines) {
    EXPECT_FALSE(absl::StartsWith(line, "Bcc")) << line;
    EXPECT_FALSE(absl::StartsWith(line, "X-Injected")) << line;
  }
  EXPECT_EQ(parsed.header_lines[2], "Subject: Hi  Bcc: victim@example.com    fake body");
  absl::string_view to = parsed.header_lines[1];
  ASSERT_TRUE(absl::ConsumePrefix(&to, "To: "));
  ASSERT_TRUE(absl::ConsumeSuffix(&to, " <ana@example.com>"));
  EXPECT_EQ(DecodeWords(to), "Ana  Bcc: victim@example.com");
}

TEST(Render, RefusesAddressesThatCouldBreakAHeader) {
  for (const char* bad : {"ana@example.com\r\nBcc: x@example.com", "Ana <ana@example.com>",
                          "ana@example.com, eve@example.com", " ana@example.com", "ana",
                          "an a@example.com", ""}) {
    Email email = Sample();
    email.to.address = bad;
    EXPECT_EQ(Render(email).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(Render(email).status().message()), Not(HasSubstr("example.com")));
  }
  Email email = Sample();
  email.from.address = "desk@cowork.example\r\n";
  EXPECT_EQ(Render(email).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EncodeHeaderText, SplitsLongTextOnCharacterBoundaries) {
  const std::string text =
      "Ünïcödé ✓ 李小龍 Zoë Ωmega — a subject long enough to need several encoded words";
  const std::string encoded = EncodeHeaderText(text);
  std::vector<std::string> words = absl::StrSplit(encoded, "\r\n ");
  EXPECT_GT(words.size(), 2u);
  for (const std::string& word : words) {
    EXPECT_LE(word.size(), 75u);
    std::string bytes;
    absl::string_view inner = word;
    ASSERT_TRUE(absl::ConsumePrefix(&inner, "=?UTF-8?B?") && absl::ConsumeSuffix(&inner, "?="));
    ASSERT_TRUE(absl::Base64Unescape(inner, &bytes));
    // Each word holds whole characters: it does not start with a continuation byte.
    ASSERT_FALSE(bytes.empty());
    EXPECT_NE(static_cast<unsigned char>(bytes[0]) & 0xC0, 0x80) << word;
  }
  EXPECT_EQ(DecodeWords(absl::StrReplaceAll(encoded, {{"\r\n", ""}})), text);
  EXPECT_EQ(EncodeHeaderText("Plain ASCII"), "Plain ASCII");
  // Text that would read as an encoded word is encoded itself.
  EXPECT_TRUE(absl::StartsWith(EncodeHeaderText("=?UTF-8?B?SGk=?="), "=?UTF-8?B?"));
}

TEST(MessageIdFor, OneIdPerNotificationInTheSendersDomain) {
  EXPECT_EQ(MessageIdFor("0b7e-11", "desk@cowork.example"), "<0b7e-11@cowork.example>");
  EXPECT_EQ(MessageIdFor("0b7e-11", "desk@cowork.example"),
            MessageIdFor("0b7e-11", "desk@cowork.example"));
}

TEST(FormatDate, Rfc5322InUtc) {
  EXPECT_EQ(FormatDate(kJune1), "Mon, 01 Jun 2026 10:00:00 +0000");
  EXPECT_EQ(FormatDate(absl::FromCivil(absl::CivilSecond(2027, 12, 31, 23, 59, 5),
                                       absl::UTCTimeZone())),
            "Fri, 31 Dec 2027 23:59:05 +0000");
}

Place Madrid() {
  Place place{"Centro", "Europe/Madrid", absl::UTCTimeZone()};
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Madrid", &place.zone));
  return place;
}

TEST(Content, BookingTimesAreLocalToTheLocation) {
  // 08:00-09:30 UTC is 10:00-11:30 in Madrid (summer time).
  const Text text = BookingConfirmationText({"Cowork Madrid", "Zoë"}, "Room A", Madrid(),
                                            kJune1 - absl::Hours(2),
                                            kJune1 - absl::Minutes(30));
  EXPECT_EQ(text.subject, "Booking confirmed: Room A on Monday 1 June 2026");
  EXPECT_THAT(text.body, HasSubstr("Hello Zoë,"));
  EXPECT_THAT(text.body, HasSubstr("Room A\n  Centro\n  Monday 1 June 2026, 10:00–11:30 "
                                   "(Europe/Madrid time)"));
  EXPECT_THAT(text.body, HasSubstr("Cowork Madrid"));
}

TEST(Content, BookingAcrossMidnightNamesBothDays) {
  const Text text = BookingConfirmationText({"Cowork Madrid", "Zoë"}, "Room A", Madrid(),
                                            kJune1 + absl::Hours(11) + absl::Minutes(30),
                                            kJune1 + absl::Hours(12) + absl::Minutes(30));
  EXPECT_THAT(text.body,
              HasSubstr("Monday 1 June 2026, 23:30 – Tuesday 2 June 2026, 00:30"));
}

TEST(Content, WelcomeCarriesTheSetupCodeAndReplyNoText) {
  const Text welcome = WelcomeText({"Cowork Madrid", "Zoë"}, "zoe@example.com", "K7PQ2M9XAB");
  EXPECT_EQ(welcome.subject, "Welcome to Cowork Madrid: your access details");
  EXPECT_THAT(welcome.body, HasSubstr("Your one-time setup code: K7PQ2M9XAB"));
  EXPECT_THAT(welcome.body, HasSubstr("Your sign-in email: zoe@example.com"));
  const Text reply = HelpdeskReplyText({"Cowork Madrid", "Zoë"}, Madrid(), "t-42");
  EXPECT_THAT(reply.body, HasSubstr("ticket t-42 at Centro"));
  EXPECT_THAT(reply.body, HasSubstr("Sign in to the members portal"));
  const Text arrival = VisitorArrivalText({"Cowork Madrid", "Zoë"}, Madrid(), kJune1);
  EXPECT_EQ(arrival.subject, "Your visitor has arrived at Centro");
  EXPECT_THAT(arrival.body, HasSubstr("Monday 1 June 2026, 12:00 (Europe/Madrid time)"));
}

}  // namespace
}  // namespace cowork::customers::notifier
