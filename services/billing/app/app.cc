#include "services/billing/app/app.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/calendar/calendar.h"
#include "libs/eventstore/views.h"
#include "libs/clock/proto_time.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/billing/domain/active_users.h"
#include "services/billing/domain/subscription.h"

namespace cowork::billing::app {
namespace {

using domain::FormatMonth;

// The month "YYYY-MM" (2000..2200); a violation on `field` otherwise.
absl::CivilMonth ParseMonth(absl::string_view field, absl::string_view value,
                            FieldErrors& errors) {
  absl::CivilMonth month;
  if (value.size() != 7 || !absl::ParseCivilTime(value, &month) || month.year() < 2000 ||
      month.year() > 2200) {
    errors.Add(std::string(field), "must be a month, YYYY-MM");
  }
  return month;
}

// The event ids a reason lists; event_count says how many prove it in all.
constexpr size_t kProofIds = 10;

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier)
    : directory_(directory), clock_(clock), authn_(verifier, directory), activity_(store) {}

absl::StatusOr<v1::ActiveUsers> App::GetActiveUsers(const auth::Principal& p,
                                                    const v1::GetActiveUsersRequest& r) const {
  FieldErrors errors;
  validation::CheckId(r.location_id(), "location_id", errors);
  const absl::CivilMonth month = ParseMonth("month", r.month(), errors);
  const absl::StatusOr<int> page_size = eventstore::PageSize(r.page_size());
  if (!page_size.ok()) errors.Add("page_size", "must not be negative");
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  // The token names the last customer of the previous page, in this location's month.
  const std::string listing =
      absl::StrCat("active/", r.location_id(), "/", FormatMonth(month), "/");
  COWORK_ASSIGN_OR_RETURN(const std::string after,
                          eventstore::DecodePageToken(r.page_token(), listing));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const directory::LocationInfo location,
                          directory_.FindLocation(p.operator_id, r.location_id()));
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
  // A closed month counts what was recorded before its close said.
  COWORK_ASSIGN_OR_RETURN(const std::optional<v1::MonthClosed> closed,
                          activity_.ClosedMonth(location, month));
  const absl::Time recorded_before =
      closed.has_value() ? FromTimestamp(closed->counted_until()) : absl::InfiniteFuture();
  COWORK_ASSIGN_OR_RETURN(const std::vector<domain::ActiveUser> users,
                          activity_.ActiveUsersAt(location, tz, month, recorded_before));
  // A page of users by customer id.
  auto from = users.begin();
  if (!after.empty()) {
    from = std::upper_bound(users.begin(), users.end(), after.substr(listing.size()),
                            [](const std::string& id, const domain::ActiveUser& u) {
                              return id < u.customer_id;
                            });
  }
  const auto to = from + std::min<ptrdiff_t>(*page_size, users.end() - from);
  v1::ActiveUsers out;
  out.set_location_id(location.location_id);
  out.set_month(FormatMonth(month));
  out.set_count(static_cast<int64_t>(users.size()));
  for (auto u = from; u != to; ++u) {
    v1::ActiveUser* user = out.add_users();
    user->set_customer_id(u->customer_id);
    for (const domain::Reason& reason : u->reasons) {
      v1::Reason* r = user->add_reasons();
      r->set_criterion(static_cast<v1::Criterion>(reason.criterion));
      r->set_event_count(static_cast<int64_t>(reason.event_ids.size()));
      for (size_t i = 0; i < reason.event_ids.size() && i < kProofIds; ++i) {
        r->add_event_ids(reason.event_ids[i]);
      }
    }
  }
  if (to != users.end()) {
    out.set_next_page_token(eventstore::EncodePageToken(listing + (to - 1)->customer_id));
  }
  if (closed.has_value()) {
    out.set_closed(true);
    *out.mutable_counted_until() = closed->counted_until();
  }
  return out;
}

absl::StatusOr<v1::ListActiveUserCountsResponse> App::ListActiveUserCounts(
    const auth::Principal& p, const v1::ListActiveUserCountsRequest& r) const {
  FieldErrors errors;
  if (!r.location_id().empty()) validation::CheckId(r.location_id(), "location_id", errors);
  const absl::CivilMonth from = ParseMonth("from_month", r.from_month(), errors);
  const absl::CivilMonth to = ParseMonth("to_month", r.to_month(), errors);
  if (errors.empty() && (to < from || to - from >= kMaxMonths)) {
    errors.Add("to_month", absl::StrCat("must be from from_month to ", kMaxMonths,
                                        " months after it"));
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kPlatformInvoices, r.location_id()));
  std::vector<directory::LocationInfo> locations;
  if (r.location_id().empty()) {
    COWORK_ASSIGN_OR_RETURN(locations, directory_.LocationsOf(p.operator_id));
  } else {
    COWORK_ASSIGN_OR_RETURN(directory::LocationInfo location,
                            directory_.FindLocation(p.operator_id, r.location_id()));
    locations.push_back(std::move(location));
  }
  v1::ListActiveUserCountsResponse out;
  for (const directory::LocationInfo& location : locations) {
    // Closed months give the count their close froze; one load of the location's activity
    // serves every open month of the range.
    COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, directory::TimeZoneOf(location));
    std::optional<domain::Activity> activity;
    for (absl::CivilMonth m = from; m <= to; ++m) {
      v1::MonthCount* count = out.add_counts();
      count->set_location_id(location.location_id);
      count->set_month(FormatMonth(m));
      COWORK_ASSIGN_OR_RETURN(const std::optional<v1::MonthClosed> closed,
                              activity_.ClosedMonth(location, m));
      if (closed.has_value()) {
        count->set_count(closed->active_users());
        count->set_closed(true);
        continue;
      }
      if (!activity.has_value()) {
        COWORK_ASSIGN_OR_RETURN(activity, activity_.ActivityAt(location, tz, m, to, absl::InfiniteFuture()));
      }
      count->set_count(static_cast<int64_t>(
          activity->ActiveUsers(location.location_id, domain::MonthIn(m, tz)).size()));
    }
  }
  return out;
}

}  // namespace cowork::billing::app
