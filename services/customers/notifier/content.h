#ifndef COWORK_SERVICES_CUSTOMERS_NOTIFIER_CONTENT_H_
#define COWORK_SERVICES_CUSTOMERS_NOTIFIER_CONTENT_H_

// What each notification says: its subject and its plain-text body, in English, with dates
// and times in the location's time zone. Pure functions, no I/O; the texts carry only what
// the request and the recipient's own record give (a help desk reply email has no reply text,
// a visitor arrival no visitor name: those are sealed with keys this service does not hold).
//
// Thread-safe (pure functions).
//
//   Text text = BookingConfirmationText({"Cowork Madrid", "Zoë"}, "Room A", place, start, end);

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cowork::customers::notifier {

struct Text {
  std::string subject;
  std::string body;  // lines separated by "\n"
};

// Who writes to whom.
struct Greeting {
  std::string operator_name;  // signs the email
  std::string first_name;     // "Hello <first_name>,"
};

// A location as the emails name it.
struct Place {
  std::string name;
  std::string zone_name;  // IANA name, shown next to local times
  absl::TimeZone zone;
};

Text WelcomeText(const Greeting& greeting, absl::string_view email, absl::string_view setup_code);
Text BookingConfirmationText(const Greeting& greeting, absl::string_view resource_name,
                             const Place& place, absl::Time start, absl::Time end);
Text VisitorArrivalText(const Greeting& greeting, const Place& place, absl::Time arrived_at);
Text HelpdeskReplyText(const Greeting& greeting, const Place& place, absl::string_view ticket_id);

// "Monday 1 June 2026, 10:00" in `zone` (English names whatever the process's locale).
std::string FormatLocal(absl::Time t, absl::TimeZone zone);

}  // namespace cowork::customers::notifier

#endif  // COWORK_SERVICES_CUSTOMERS_NOTIFIER_CONTENT_H_
