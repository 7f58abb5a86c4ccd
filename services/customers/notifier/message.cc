#include "services/customers/notifier/message.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "libs/status/field_errors.h"
#include "libs/validation/person.h"

namespace cowork::customers::notifier {
namespace {

// Bytes of text per encoded word: base64 makes 52 characters of them, 64 with the
// "=?UTF-8?B?" and "?=" around, within RFC 2047's 75.
constexpr size_t kEncodedWordBytes = 39;
// Base64 lines of the body (RFC 2045: at most 76).
constexpr size_t kBodyLine = 76;

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }
bool IsUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::string WithoutControls(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (IsControl(static_cast<unsigned char>(c))) c = ' ';
  }
  return out;
}

// RFC 2047 encoded words for `text`, folded: each on a line of its own after the first.
std::string EncodedWords(absl::string_view text) {
  std::vector<std::string> words;
  while (!text.empty()) {
    size_t n = std::min(kEncodedWordBytes, text.size());
    // Never cut a UTF-8 character in two: back up to the start of the one that is cut.
    while (n < text.size() && n > 0 && IsUtf8Continuation(static_cast<unsigned char>(text[n]))) {
      --n;
    }
    if (n == 0) n = std::min(kEncodedWordBytes, text.size());  // not UTF-8: cut anyway
    words.push_back(absl::StrCat("=?UTF-8?B?", absl::Base64Escape(text.substr(0, n)), "?="));
    text.remove_prefix(n);
  }
  return absl::StrJoin(words, "\r\n ");
}

// A display name: ASCII letters, digits, spaces, hyphens and apostrophes as they are (all
// atext); anything else (non-ASCII, or a character with a meaning in an address list such as
// ',' '<' '"') as encoded words.
std::string EncodePhrase(absl::string_view name) {
  const std::string clean = WithoutControls(name);
  for (char c : clean) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != ' ' && c != '-' &&
        c != '\'') {
      return EncodedWords(clean);
    }
  }
  return clean;
}

std::string FormatMailbox(const Mailbox& m) {
  if (m.name.empty()) return m.address;
  return absl::StrCat(EncodePhrase(m.name), " <", m.address, ">");
}

}  // namespace

std::string EncodeHeaderText(absl::string_view text) {
  const std::string clean = WithoutControls(text);
  bool plain = !absl::StrContains(clean, "=?");  // would read as an encoded word
  for (char c : clean) {
    if (static_cast<unsigned char>(c) > 0x7e) plain = false;
  }
  return plain ? clean : EncodedWords(clean);
}

bool IsUsableAddress(absl::string_view address) {
  if (address != absl::StripAsciiWhitespace(address)) return false;
  FieldErrors errors;
  validation::CheckEmail(address, "address", errors);
  return errors.empty();
}

std::string MessageIdFor(absl::string_view notification_id, absl::string_view from_address) {
  const size_t at = from_address.rfind('@');
  const absl::string_view domain =
      at == absl::string_view::npos ? absl::string_view("localhost") : from_address.substr(at + 1);
  return absl::StrCat("<", notification_id, "@", domain, ">");
}

std::string FormatDate(absl::Time t) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const absl::CivilSecond s = absl::ToCivilSecond(t, absl::UTCTimeZone());
  return absl::StrFormat("%s, %02d %s %04d %02d:%02d:%02d +0000",
                         kDays[static_cast<int>(absl::GetWeekday(s))], s.day(),
                         kMonths[s.month() - 1], s.year(), s.hour(), s.minute(), s.second());
}

absl::StatusOr<std::string> Render(const Email& email) {
  if (!IsUsableAddress(email.from.address)) {
    return absl::InvalidArgumentError("the sender's address is not usable in a mail header");
  }
  if (!IsUsableAddress(email.to.address)) {
    return absl::InvalidArgumentError("the recipient's address is not usable in a mail header");
  }
  std::string body = absl::StrReplaceAll(email.body, {{"\r\n", "\n"}});
  body = absl::StrReplaceAll(body, {{"\n", "\r\n"}});
  const std::string encoded = absl::Base64Escape(body);

  std::string out = absl::StrCat(
      "From: ", FormatMailbox(email.from), "\r\n",                        //
      "To: ", FormatMailbox(email.to), "\r\n",                            //
      "Subject: ", EncodeHeaderText(email.subject), "\r\n",               //
      "Date: ", FormatDate(email.date), "\r\n",                           //
      "Message-ID: ", WithoutControls(email.message_id), "\r\n",          //
      "Auto-Submitted: auto-generated\r\n",                               //
      "MIME-Version: 1.0\r\n",                                            //
      "Content-Type: text/plain; charset=UTF-8\r\n",                      //
      "Content-Transfer-Encoding: base64\r\n",                            //
      "\r\n");
  for (size_t i = 0; i < encoded.size(); i += kBodyLine) {
    absl::StrAppend(&out, absl::string_view(encoded).substr(i, kBodyLine), "\r\n");
  }
  return out;
}

}  // namespace cowork::customers::notifier
