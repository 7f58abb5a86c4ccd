#ifndef COWORK_SERVICES_CUSTOMERS_NOTIFIER_MESSAGE_H_
#define COWORK_SERVICES_CUSTOMERS_NOTIFIER_MESSAGE_H_

// An email as the notifier sends it, and its rendering into the RFC 5322 text an SMTP server
// receives: From, To, Subject, Date, Message-ID and a UTF-8 text body. Pure functions, no I/O.
//
// Header values never carry a line break of their own: control characters (CR and LF among
// them) in names and subjects become spaces, and any text that is not printable ASCII is sent
// as RFC 2047 encoded words (UTF-8, base64), so a customer named "Ana\r\nBcc: x@y" cannot add
// a header. Addresses must pass the customers' email syntax (ASCII dot-atom) or the message is
// not rendered. The body travels base64-encoded: any UTF-8 text, any line length, no SMTP
// server extension needed.
//
// Thread-safe (pure functions).
//
//   Email email{.from = {"Cowork Madrid", "desk@example.com"}, .to = {"Zoë", "zoe@example.com"},
//               .subject = "Welcome", .body = "Hello Zoë,\n...", .message_id = "<id@example.com>",
//               .date = now};
//   ASSIGN_OR_RETURN(std::string data, Render(email));  // CRLF line ends, for SMTP DATA

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cowork::customers::notifier {

struct Mailbox {
  std::string name;     // display name, any UTF-8; empty: the address alone
  std::string address;  // local@domain
};

struct Email {
  Mailbox from;
  Mailbox to;
  std::string subject;     // UTF-8, one line
  std::string body;        // UTF-8 text, lines separated by "\n"
  std::string message_id;  // with its angle brackets, e.g. "<uuid@example.com>"
  absl::Time date;
};

// The whole message, header and body, with CRLF line ends. INVALID_ARGUMENT (naming the
// field, never the address) when an address is not usable.
absl::StatusOr<std::string> Render(const Email& email);

// A header value: control characters become spaces; printable ASCII stays as it is; any
// other text becomes encoded words of at most 75 characters each, folded onto lines of their
// own, never splitting a UTF-8 character.
std::string EncodeHeaderText(absl::string_view text);

// An address fit for a header and an SMTP envelope: the customers' email syntax, nothing
// around it.
bool IsUsableAddress(absl::string_view address);

// "<notification_id@domain>", the domain taken from `from_address`: one notification, one
// Message-ID, whatever the attempt, so receivers can recognise a copy.
std::string MessageIdFor(absl::string_view notification_id, absl::string_view from_address);

// RFC 5322 date-time in UTC, e.g. "Mon, 01 Jun 2026 10:00:00 +0000" (English names whatever
// the process's locale).
std::string FormatDate(absl::Time t);

}  // namespace cowork::customers::notifier

#endif  // COWORK_SERVICES_CUSTOMERS_NOTIFIER_MESSAGE_H_
