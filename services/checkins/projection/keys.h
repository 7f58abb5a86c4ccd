#ifndef COWORK_SERVICES_CHECKINS_PROJECTION_KEYS_H_
#define COWORK_SERVICES_CHECKINS_PROJECTION_KEYS_H_

// Where the checkins service keeps things in its store.
//
// Aggregates: presence (id = customer id), policy (id = location id), visitor (id "v-...").
//
// Read views (Space::kViews), check-in records (cowork.checkins.v1.CheckInRecord):
//   in/<op>/<location>/<customer>                                who is in now
//   cihist/<op>/<location>/<local day of arrival>/<in, 12 digits>/<check-in>
//   cicust/<op>/<customer>/<in, 12 digits>/<check-in>
// and visitors (domain::VisitorState, personal data sealed):
//   vislog/<op>/<location>/<local day>/<expected or arrival, 12 digits>/<visitor>
//   vishost/<op>/<host>/<expected arrival, 12 digits>/<visitor>
// and the automatic check-outs' due index (runtime::DueKey).

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/clock/proto_time.h"

namespace cowork::checkins::projection {

inline constexpr absl::string_view kService = "checkins";
inline constexpr absl::string_view kTopic = "cowork.checkins.events";
inline constexpr absl::string_view kPresenceAggregate = "presence";
inline constexpr absl::string_view kPolicyAggregate = "policy";
inline constexpr absl::string_view kVisitorAggregate = "visitor";
inline constexpr absl::string_view kCheckinViewPrefixes[] = {"in/", "cihist/", "cicust/", "due/"};
inline constexpr absl::string_view kVisitorViewPrefixes[] = {"vislog/", "vishost/"};

// Seconds of a timestamp, 12 digits: keys in time order.
inline std::string Ts12(const google::protobuf::Timestamp& t) {
  return absl::StrFormat("%012d", t.seconds());
}
inline std::string PresentPrefix(absl::string_view op, absl::string_view location) {
  return absl::StrCat("in/", op, "/", location, "/");
}
inline std::string CheckinsOnDayPrefix(absl::string_view op, absl::string_view location,
                                       absl::CivilDay day) {
  return absl::StrCat("cihist/", op, "/", location, "/", FormatDay(day), "/");
}
inline std::string CheckinsOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("cicust/", op, "/", customer, "/");
}
inline std::string VisitorsOnDayPrefix(absl::string_view op, absl::string_view location,
                                       absl::CivilDay day) {
  return absl::StrCat("vislog/", op, "/", location, "/", FormatDay(day), "/");
}
inline std::string VisitorsOfPrefix(absl::string_view op, absl::string_view host) {
  return absl::StrCat("vishost/", op, "/", host, "/");
}

}  // namespace cowork::checkins::projection

#endif  // COWORK_SERVICES_CHECKINS_PROJECTION_KEYS_H_
