#include "services/billing/projection/activity.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/views.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/billing/projection/keys.h"
#include "services/billing/projection/views.pb.h"
#include "services/billing/domain/active_users.h"

namespace cowork::billing::projection {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace ev1 = ::cowork::customers::v1;
using common::v1::EventEnvelope;
using eventstore::Space;
using eventstore::WriteSet;

constexpr absl::string_view kViewPrefixes[] = {"bplan/", "bprod/", "bbook/", "binv/",
                                               "bteam/", "bpayer/", "bloc/"};

std::string Ts12(int64_t seconds) { return absl::StrFormat("%012d", seconds); }
std::string PlanPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("bplan/", op, "/", loc, "/");
}
std::string ProductPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("bprod/", op, "/", loc, "/");
}
std::string BookingsPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("bbook/", op, "/", loc, "/");
}
std::string InvoicesPrefix(absl::string_view op, absl::string_view loc) {
  return absl::StrCat("binv/", op, "/", loc, "/");
}
std::string TeamPrefix(absl::string_view op, absl::string_view team) {
  return absl::StrCat("bteam/", op, "/", team, "/");
}
std::string PayerPrefix(absl::string_view op, absl::string_view customer) {
  return absl::StrCat("bpayer/", op, "/", customer, "/");
}

// The start (or the end) of the holding `id` under `prefix`: "<prefix><id>/start" ("/end").
absl::Status PutHolding(const std::string& prefix, absl::string_view id,
                        const std::string& customer_id, const EventEnvelope& e,
                        const google::type::Date* start, const google::type::Date* end,
                        WriteSet& writes) {
  views::Holding h;
  h.set_customer_id(customer_id);
  *h.mutable_recorded_at() = e.occurred_at();
  if (start != nullptr) {
    *h.mutable_start_date() = *start;
    h.set_start_event_id(e.event_id());
  } else {
    *h.mutable_end_date() = *end;
    h.set_end_event_id(e.event_id());
  }
  writes.Put(Space::kViews, absl::StrCat(prefix, id, start != nullptr ? "/start" : "/end"),
             h.SerializeAsString());
  return absl::OkStatus();
}

void PutTeamChange(const EventEnvelope& e, const std::string& team_id,
                   views::TeamChange::Kind kind, const std::string& customer_id,
                   WriteSet& writes) {
  views::TeamChange change;
  change.set_kind(kind);
  change.set_customer_id(customer_id);
  *change.mutable_at() = e.occurred_at();
  change.set_event_id(e.event_id());
  writes.Put(Space::kViews, TeamPrefix(e.operator_id(), team_id) + Ts12(e.sequence()),
             change.SerializeAsString());
}

using domain::FormatMonth;

// One handler per event type the projection reads (overloads of Handle, found by the
// payload's type). Handlers only write: every fact has a key of its own, so a batch of events
// can be applied without reading what the batch itself wrote.

absl::Status Handle(const EventEnvelope& e, const ev1::LocationCreated& l, WriteSet& w) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(l.time_zone(), &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("location ", l.location_id(),
                                                    ": unknown time zone ", l.time_zone()));
  }
  const absl::CivilMonth month(absl::ToCivilSecond(FromTimestamp(e.occurred_at()), tz));
  w.Put(Space::kViews, LocationKey(e.operator_id(), l.location_id()), domain::FormatMonth(month));
  return absl::OkStatus();
}

absl::Status Handle(const EventEnvelope& e, const cv1::ContractStarted& c, WriteSet& w) {
  return PutHolding(PlanPrefix(e.operator_id(), c.location_id()), c.contract_id(),
                    c.customer_id(), e, &c.start_date(), nullptr, w);
}

absl::Status Handle(const EventEnvelope& e, const cv1::ContractEnded& c, WriteSet& w) {
  if (!c.started()) return absl::OkStatus();  // never held
  return PutHolding(PlanPrefix(e.operator_id(), c.location_id()), c.contract_id(),
                    c.customer_id(), e, nullptr, &c.end_date(), w);
}

absl::Status Handle(const EventEnvelope& e, const cv1::PurchaseMade& p, WriteSet& w) {
  if (p.kind() != cv1::RECURRING) return absl::OkStatus();  // one-off: invoiced, that counts
  return PutHolding(ProductPrefix(e.operator_id(), p.location_id()), p.purchase_id(),
                    p.customer_id(), e, &p.start_date(), nullptr, w);
}

absl::Status Handle(const EventEnvelope& e, const cv1::PurchaseCancelled& p, WriteSet& w) {
  return PutHolding(ProductPrefix(e.operator_id(), p.location_id()), p.purchase_id(),
                    p.customer_id(), e, nullptr, &p.end_date(), w);
}

absl::Status Handle(const EventEnvelope& e, const cv1::InvoiceIssued& i, WriteSet& w) {
  const std::optional<absl::CivilDay> day = FromDate(i.issue_date());
  if (!day.has_value()) return absl::InvalidArgumentError("invoice without an issue date");
  views::Moment m;
  m.set_customer_id(i.customer_id());
  m.set_event_id(e.event_id());
  *m.mutable_recorded_at() = e.occurred_at();
  w.Put(Space::kViews,
        absl::StrCat(InvoicesPrefix(e.operator_id(), i.location_id()), FormatDay(*day), "/",
                     i.invoice_id()),
        m.SerializeAsString());
  return absl::OkStatus();
}

// Made when recorded: the key's time is both.
absl::Status Handle(const EventEnvelope& e, const bv1::BookingCreated& b, WriteSet& w) {
  views::Moment m;
  m.set_customer_id(b.customer_id());
  m.set_event_id(e.event_id());
  w.Put(Space::kViews,
        absl::StrCat(BookingsPrefix(e.operator_id(), b.location_id()),
                     Ts12(e.occurred_at().seconds()), "/", b.booking_id()),
        m.SerializeAsString());
  return absl::OkStatus();
}

absl::Status Handle(const EventEnvelope& e, const ev1::TeamMemberAdded& t, WriteSet& w) {
  PutTeamChange(e, t.team_id(), views::TeamChange::MEMBER_ADDED, t.customer_id(), w);
  return absl::OkStatus();
}

absl::Status Handle(const EventEnvelope& e, const ev1::TeamMemberRemoved& t, WriteSet& w) {
  PutTeamChange(e, t.team_id(), views::TeamChange::MEMBER_REMOVED, t.customer_id(), w);
  return absl::OkStatus();
}

absl::Status Handle(const EventEnvelope& e, const ev1::TeamPayingMemberSet& t, WriteSet& w) {
  PutTeamChange(e, t.team_id(), views::TeamChange::PAYING_MEMBER_SET, t.customer_id(), w);
  if (!t.customer_id().empty()) {
    w.Put(Space::kViews, PayerPrefix(e.operator_id(), t.customer_id()) + t.team_id(), "");
  }
  return absl::OkStatus();
}

template <typename... T>
struct Handled {
  static void Subscribe(kafka::EventConsumer& consumer) {
    (consumer.On<T>([](const EventEnvelope& e, const T& payload, WriteSet& w) {
      return Handle(e, payload, w);
    }),
     ...);
  }
  static absl::Status Apply(const EventEnvelope& e, const google::protobuf::Message& payload,
                            WriteSet& w) {
    absl::Status out;
    ((payload.GetDescriptor() == T::descriptor() &&
      (out = Handle(e, static_cast<const T&>(payload), w), true)) ||
     ...);
    return out;
  }
};
using Projected =
    Handled<ev1::LocationCreated, cv1::ContractStarted, cv1::ContractEnded, cv1::PurchaseMade, cv1::PurchaseCancelled,
            cv1::InvoiceIssued, bv1::BookingCreated, ev1::TeamMemberAdded,
            ev1::TeamMemberRemoved, ev1::TeamPayingMemberSet>;

}  // namespace


// ---------------------------------------------------------------- the projection

void Activity::Subscribe(kafka::EventConsumer& consumer) const { Projected::Subscribe(consumer); }

absl::Status Activity::Apply(const common::v1::EventEnvelope& envelope,
                        const google::protobuf::Message& payload,
                        eventstore::WriteSet& writes) const {
  return Projected::Apply(envelope, payload, writes);
}

absl::Status Activity::Reset() const {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store_, kViewPrefixes));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- the count

absl::StatusOr<domain::Activity> Activity::ActivityAt(const directory::LocationInfo& location,
                                                 absl::TimeZone tz, absl::CivilMonth first,
                                                 absl::CivilMonth last,
                                                 absl::Time recorded_before) const {
  const std::string& op = location.operator_id;
  const std::string& loc = location.location_id;
  const domain::Span span = {domain::MonthIn(first, tz).from, domain::MonthIn(last, tz).to};
  auto recorded = [recorded_before](const google::protobuf::Timestamp& at) {
    return FromTimestamp(at) < recorded_before;
  };
  auto day_start = [&tz](const google::type::Date& d, int plus_days) -> std::optional<absl::Time> {
    const std::optional<absl::CivilDay> day = FromDate(d);
    if (!day.has_value()) return std::nullopt;
    return calendar::StartOfDay(*day + plus_days, tz);
  };
  domain::Activity activity;
  std::set<std::string, std::less<>> plan_holders;
  absl::Status failed;
  auto parse_error = [&failed](absl::string_view key) {
    failed = absl::DataLossError(absl::StrCat("view ", key, " does not parse"));
    return false;
  };
  // Plans and recurring products held at the location: "<id>/start" and "<id>/end".
  for (const bool plans : {true, false}) {
    const std::string prefix = plans ? PlanPrefix(op, loc) : ProductPrefix(op, loc);
    COWORK_RETURN_IF_ERROR(store_.Scan(
        Space::kViews, prefix, "", [&](absl::string_view key, absl::string_view value) {
          views::Holding h;
          const size_t slash = key.rfind('/');
          if (slash < prefix.size() ||
              !h.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            return parse_error(key);
          }
          if (!recorded(h.recorded_at())) return true;
          std::string id(key.substr(prefix.size(), slash - prefix.size()));
          if (key.substr(slash + 1) == "start") {
            const std::optional<absl::Time> from = day_start(h.start_date(), 0);
            if (!from.has_value()) return parse_error(key);
            if (plans) {
              plan_holders.insert(h.customer_id());
              activity.ContractStarted(std::move(id), std::move(*h.mutable_customer_id()), loc,
                                       *from, std::move(*h.mutable_start_event_id()));
            } else {
              activity.RecurringProductStarted(std::move(id), std::move(*h.mutable_customer_id()),
                                               loc, *from,
                                               std::move(*h.mutable_start_event_id()));
            }
          } else {
            const std::optional<absl::Time> to = day_start(h.end_date(), 1);
            if (!to.has_value()) return parse_error(key);
            if (plans) {
              activity.ContractEnded(std::move(id), *to, std::move(*h.mutable_end_event_id()));
            } else {
              activity.RecurringProductEnded(std::move(id), *to,
                                             std::move(*h.mutable_end_event_id()));
            }
          }
          return true;
        }));
    COWORK_RETURN_IF_ERROR(failed);
  }
  // Bookings made in the months: keys from the first month's first second on.
  const std::string bookings = BookingsPrefix(op, loc);
  const int64_t from_s = absl::ToUnixSeconds(span.from);
  const absl::Time until = std::min(span.to, recorded_before);
  COWORK_RETURN_IF_ERROR(store_.Scan(
      Space::kViews, bookings, absl::StrCat(bookings, Ts12(from_s - 1), "/~"),
      [&](absl::string_view key, absl::string_view value) {
        int64_t at = 0;
        if (!absl::SimpleAtoi(key.substr(bookings.size(), 12), &at)) return parse_error(key);
        if (absl::FromUnixSeconds(at) >= until) return false;
        views::Moment m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return parse_error(key);
        }
        activity.BookingMade(std::string(key.substr(bookings.size() + 13)),
                             std::move(*m.mutable_customer_id()), loc, absl::FromUnixSeconds(at),
                             std::move(*m.mutable_event_id()));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(failed);
  // Invoices issued on a day of the months: keys from the first month's first day on, a day's
  // together (its start is worked out once).
  const std::string invoices = InvoicesPrefix(op, loc);
  const std::string last_day = FormatDay(absl::CivilDay(last + 1) - 1);
  std::string day_text;
  absl::Time day_starts;
  COWORK_RETURN_IF_ERROR(store_.Scan(
      Space::kViews, invoices, absl::StrCat(invoices, FormatDay(absl::CivilDay(first) - 1), "/~"),
      [&](absl::string_view key, absl::string_view value) {
        const absl::string_view text = key.substr(invoices.size(), 10);
        if (text > last_day) return false;
        if (text != day_text) {
          absl::CivilDay day;
          if (!absl::ParseCivilTime(text, &day)) return parse_error(key);
          day_text = std::string(text);
          day_starts = calendar::StartOfDay(day, tz);
        }
        views::Moment m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return parse_error(key);
        }
        if (!recorded(m.recorded_at())) return true;
        activity.Invoiced(std::string(key.substr(invoices.size() + 11)),
                          std::move(*m.mutable_customer_id()), loc, day_starts,
                          std::move(*m.mutable_event_id()));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(failed);
  // The teams the location's plan holders paid for, with every change of each: one scan of
  // the operator's paying members ("bpayer/<op>/<customer>/<team>"), far fewer seeks than one
  // per holder at a location of thousands.
  std::set<std::string> teams;
  const std::string payers = absl::StrCat("bpayer/", op, "/");
  COWORK_RETURN_IF_ERROR(
      store_.Scan(Space::kViews, payers, "", [&](absl::string_view key, absl::string_view) {
        const absl::string_view rest = key.substr(payers.size());
        const size_t slash = rest.find('/');
        if (slash == absl::string_view::npos) return parse_error(key);
        if (plan_holders.contains(rest.substr(0, slash))) teams.emplace(rest.substr(slash + 1));
        return true;
      }));
  COWORK_RETURN_IF_ERROR(failed);
  for (const std::string& team : teams) {
    const std::string prefix = TeamPrefix(op, team);
    COWORK_RETURN_IF_ERROR(store_.Scan(
        Space::kViews, prefix, "", [&](absl::string_view key, absl::string_view value) {
          int64_t sequence = 0;
          views::TeamChange c;
          if (!absl::SimpleAtoi(key.substr(prefix.size()), &sequence) ||
              !c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            return parse_error(key);
          }
          if (!recorded(c.at())) return true;
          const absl::Time at = FromTimestamp(c.at());
          switch (c.kind()) {
            case views::TeamChange::MEMBER_ADDED:
              activity.TeamMemberAdded(team, c.customer_id(), sequence, at, c.event_id());
              break;
            case views::TeamChange::MEMBER_REMOVED:
              activity.TeamMemberRemoved(team, c.customer_id(), sequence, at, c.event_id());
              break;
            case views::TeamChange::PAYING_MEMBER_SET:
              activity.TeamPayingMemberSet(team, c.customer_id(), sequence, at, c.event_id());
              break;
            default:
              break;
          }
          return true;
        }));
    COWORK_RETURN_IF_ERROR(failed);
  }
  return activity;
}

absl::StatusOr<std::optional<v1::MonthClosed>> Activity::ClosedMonth(
    const directory::LocationInfo& location, absl::CivilMonth month) const {
  COWORK_ASSIGN_OR_RETURN(
      std::optional<std::string> bytes,
      store_.Get(Space::kViews,
                 ClosedMonthKey(location.operator_id, location.location_id, month)));
  if (!bytes.has_value()) return std::optional<v1::MonthClosed>();
  v1::MonthClosed closed;
  if (!closed.ParseFromString(*bytes)) return absl::DataLossError("closed month does not parse");
  return closed;
}

absl::StatusOr<std::vector<domain::ActiveUser>> Activity::ActiveUsersAt(
    const directory::LocationInfo& location, absl::TimeZone tz, absl::CivilMonth month,
    absl::Time recorded_before) const {
  COWORK_ASSIGN_OR_RETURN(const domain::Activity activity,
                          ActivityAt(location, tz, month, month, recorded_before));
  return activity.ActiveUsers(location.location_id, domain::MonthIn(month, tz));
}

absl::Status Activity::ForEachLocation(
    absl::FunctionRef<absl::Status(absl::string_view operator_id, absl::string_view location_id,
                                   absl::CivilMonth first_month)>
        fn) const {
  absl::Status failed;
  COWORK_RETURN_IF_ERROR(store_.Scan(
      Space::kViews, "bloc/", "", [&](absl::string_view key, absl::string_view value) {
        const std::vector<absl::string_view> parts = absl::StrSplit(key, '/');
        absl::CivilMonth first;
        if (parts.size() != 3 || !absl::ParseCivilTime(value, &first)) {
          failed = absl::DataLossError(absl::StrCat("view ", key, " does not parse"));
          return false;
        }
        failed = fn(parts[1], parts[2], first);
        return failed.ok();
      }));
  return failed;
}

}  // namespace cowork::billing::projection
