#ifndef COWORK_SERVICES_HELPDESK_PROJECTION_KEYS_H_
#define COWORK_SERVICES_HELPDESK_PROJECTION_KEYS_H_

// Where the helpdesk service keeps things in its store.
//
// Aggregate: ticket (id "t-..."), owned by the operator.
//
// Read views (Space::kViews), values domain::TicketState without its messages (texts sealed):
//   tkloc/<op>/<location>/<open time, unix seconds, 12 digits>/<ticket>
//   tkcust/<op>/<customer>/<open time, 12 digits>/<ticket>
// and one per message, domain::StoredMessage (body sealed):
//   tkmsg/<op>/<ticket>/<index, 6 digits; 0 is the opening message>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace cowork::helpdesk::projection {

inline constexpr absl::string_view kService = "helpdesk";
inline constexpr absl::string_view kTopic = "cowork.helpdesk.events";
inline constexpr absl::string_view kTicketAggregate = "ticket";
inline constexpr absl::string_view kViewPrefixes[] = {"tkloc/", "tkcust/", "tkmsg/"};

inline std::string TicketsAtPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("tkloc/", op, "/", location, "/");
}
inline std::string TicketsOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("tkcust/", op, "/", customer, "/");
}
inline std::string MessagesPrefix(absl::string_view op, absl::string_view ticket) {
  return absl::StrCat("tkmsg/", op, "/", ticket, "/");
}
// The `index`th message of a ticket (0: the opening one).
inline std::string MessageKey(absl::string_view op, absl::string_view ticket, int index) {
  return absl::StrFormat("%s%06d", MessagesPrefix(op, ticket), index);
}

}  // namespace cowork::helpdesk::projection

#endif  // COWORK_SERVICES_HELPDESK_PROJECTION_KEYS_H_
