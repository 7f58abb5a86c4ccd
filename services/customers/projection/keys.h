#ifndef COWORK_SERVICES_CUSTOMERS_PROJECTION_KEYS_H_
#define COWORK_SERVICES_CUSTOMERS_PROJECTION_KEYS_H_

// Every key the customers service writes into its Store, in one place. Each key of a read
// view starts with the operator id, so one operator's scans never see another's data.
//
// Space::kViews
//   op/<operator>                          cowork.customers.v1.Operator
//   loc/<operator>/<location>              cowork.customers.v1.Location
//   cust/<operator>/<customer>             cowork.customers.v1.Customer (clear personal data)
//   custloc/<operator>/<location>/<customer>   ""  (customers by home location)
//   team/<operator>/<team>                 cowork.customers.v1.Team
//   teamloc/<operator>/<location>/<team>   ""  (teams by location)
//   custteam/<operator>/<customer>/<team>  ""  (teams a customer is in)
//   (dir/... belongs to libs/directory)
//   due/<time>/notify/<notification>       ""  (the notifier's due index; not a rebuilt view)
// Space::kMeta
//   pii/key/<operator>/<customer>          the customer's seal key (eventstore::KeyVault)
//   notifier/pending/<notification>        notifier::PendingNotification (notifier/notifier.h)
// Claims
//   email/<operator>/<lower-cased email>   owner: customer id
//
// Ids are validated (domain::IsValidId: no '/') before they reach a key.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cowork::customers::projection {

inline constexpr absl::string_view kOperatorAggregate = "operator";
inline constexpr absl::string_view kLocationAggregate = "location";
inline constexpr absl::string_view kCustomerAggregate = "customer";
inline constexpr absl::string_view kTeamAggregate = "team";

inline constexpr absl::string_view kViewPrefixes[] = {"op/",   "loc/",     "cust/",    "custloc/",
                                                      "team/", "teamloc/", "custteam/"};

inline std::string OperatorKey(absl::string_view op) { return absl::StrCat("op/", op); }
inline std::string LocationPrefix(absl::string_view op) { return absl::StrCat("loc/", op, "/"); }
inline std::string LocationKey(absl::string_view op, absl::string_view loc) {
  return absl::StrCat(LocationPrefix(op), loc);
}
inline std::string CustomerPrefix(absl::string_view op) { return absl::StrCat("cust/", op, "/"); }
inline std::string CustomerKey(absl::string_view op, absl::string_view customer) {
  return absl::StrCat(CustomerPrefix(op), customer);
}
inline std::string CustomersAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("custloc/", op, "/", loc, "/");
}
inline std::string CustomerAtKey(absl::string_view op, absl::string_view loc,
                                 absl::string_view customer) {
  return absl::StrCat(CustomersAtPrefix(op, loc), customer);
}
inline std::string TeamPrefix(absl::string_view op) { return absl::StrCat("team/", op, "/"); }
inline std::string TeamKey(absl::string_view op, absl::string_view team) {
  return absl::StrCat(TeamPrefix(op), team);
}
inline std::string TeamsAtPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("teamloc/", op, "/", loc, "/");
}
inline std::string TeamAtKey(absl::string_view op, absl::string_view loc, absl::string_view team) {
  return absl::StrCat(TeamsAtPrefix(op, loc), team);
}
inline std::string TeamsOfPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("custteam/", op, "/", customer, "/");
}
inline std::string TeamOfKey(absl::string_view op, absl::string_view customer,
                             absl::string_view team) {
  return absl::StrCat(TeamsOfPrefix(op, customer), team);
}
inline std::string EmailClaim(absl::string_view op, absl::string_view normalized_email) {
  return absl::StrCat("email/", op, "/", normalized_email);
}

}  // namespace cowork::customers::projection

#endif  // COWORK_SERVICES_CUSTOMERS_PROJECTION_KEYS_H_
