#include "tools/billinggen/generator.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/events.pb.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/any.pb.h"
#include "libs/calendar/calendar.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"

namespace cowork::billinggen {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace ev1 = ::cowork::customers::v1;

struct Zone {
  const char* name;
  const char* currency;
};
// Distinct zones from UTC-10 to UTC+13:45 (Chatham, in its summer), half and quarter hours
// included.
constexpr Zone kZones[] = {
    {"Europe/Madrid", "EUR"},
    {"America/New_York", "USD"},
    {"Europe/London", "GBP"},
    {"Asia/Tokyo", "JPY"},
    {"America/Los_Angeles", "USD"},
    {"Europe/Berlin", "EUR"},
    {"Australia/Sydney", "AUD"},
    {"America/Chicago", "USD"},
    {"Asia/Singapore", "SGD"},
    {"America/Sao_Paulo", "BRL"},
    {"Europe/Paris", "EUR"},
    {"Asia/Kolkata", "INR"},
    {"America/Toronto", "CAD"},
    {"Asia/Dubai", "AED"},
    {"America/Mexico_City", "MXN"},
    {"Europe/Amsterdam", "EUR"},
    {"Asia/Hong_Kong", "HKD"},
    {"America/Denver", "USD"},
    {"Europe/Lisbon", "EUR"},
    {"Asia/Seoul", "KRW"},
    {"America/Bogota", "COP"},
    {"Europe/Warsaw", "PLN"},
    {"Asia/Shanghai", "CNY"},
    {"America/Santiago", "CLP"},
    {"Europe/Istanbul", "TRY"},
    {"Pacific/Auckland", "NZD"},
    {"America/Argentina/Buenos_Aires", "ARS"},
    {"Africa/Johannesburg", "ZAR"},
    {"Asia/Bangkok", "THB"},
    {"America/Lima", "PEN"},
    {"Europe/Helsinki", "EUR"},
    {"Asia/Jakarta", "IDR"},
    {"America/Halifax", "CAD"},
    {"Africa/Lagos", "NGN"},
    {"Asia/Manila", "PHP"},
    {"Europe/Dublin", "EUR"},
    {"Africa/Nairobi", "KES"},
    {"Asia/Karachi", "PKR"},
    {"America/St_Johns", "CAD"},
    {"Asia/Kathmandu", "NPR"},
    {"Pacific/Honolulu", "USD"},
    {"Asia/Tehran", "IRR"},
    {"Australia/Adelaide", "AUD"},
    {"Europe/Athens", "EUR"},
    {"America/Anchorage", "USD"},
    {"Atlantic/Reykjavik", "ISK"},
    {"Asia/Jerusalem", "ILS"},
    {"Africa/Cairo", "EGP"},
    {"Europe/Moscow", "RUB"},
    {"Australia/Perth", "AUD"},
    {"Europe/Rome", "EUR"},
    {"America/Phoenix", "USD"},
    {"Asia/Taipei", "TWD"},
    {"Europe/Prague", "CZK"},
    {"Asia/Kuala_Lumpur", "MYR"},
    {"America/Montevideo", "UYU"},
    {"Europe/Vienna", "EUR"},
    {"Asia/Ho_Chi_Minh", "VND"},
    {"Europe/Stockholm", "SEK"},
    {"Pacific/Chatham", "NZD"},
};
static_assert(std::size(kZones) >= kMaxLocations);

constexpr int kRooms = 12;            // meeting rooms at every location
constexpr int64_t kPlanFee = 25000;   // a month, minor units
constexpr int64_t kLockerFee = 3000;  // a month
constexpr int64_t kHourlyPrice = 2000;
constexpr int64_t kCreditMinutes = 600;  // a plan's booking credit per period
constexpr int64_t kTaxPpm = 210000;

// Random choices. mt19937_64 gives the same numbers with every standard library; the shapes
// are computed here because <random>'s distributions may differ between libraries.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t Below(uint64_t n) { return engine_() % n; }  // [0, n), n > 0
  double Unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // floor(mean) or one more: `mean` on average.
  int64_t Around(double mean) {
    const double whole = std::floor(mean);
    return static_cast<int64_t>(whole) + (Chance(mean - whole) ? 1 : 0);
  }
  // A version 4 UUID, lower-case and hyphenated.
  std::string Uuid() {
    const uint64_t hi = (engine_() & 0xffffffffffff0fffULL) | 0x4000;
    const uint64_t lo = (engine_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                           lo >> 48, lo & 0xffffffffffffULL);
  }
  // Stands for a sealed blob (personal data, credentials) of that size.
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(engine_() & 0xff);
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

// An event before its envelope: the sequence and the event id are given when it is emitted.
struct Planned {
  absl::Time at;
  const char* service;
  const char* aggregate_type;
  std::string aggregate_id;
  int location;  // index; -1: none (the operator)
  std::string correlation_id;
  google::protobuf::Any payload;
};

struct Location {
  std::string id;
  absl::TimeZone tz;
  std::string currency;
  std::vector<int> present;  // customers at home here who joined before today
};

struct Customer {
  std::string id;
  int location = 0;
  int join_day = 0;  // index from the start
  // Members: the contract, its periods (anchored on the day they joined), the last period
  // closed, the period whose end ends the contract (none: holds on), and the booking charges
  // waiting for the next invoice.
  bool member = false;
  std::string contract_id;
  int periods_closed = 0;
  std::optional<int> last_period;
  std::vector<cv1::Charge> pending;
  // A recurring product held from locker_from (a day index) through locker_to.
  std::string locker_id;
  std::optional<int> locker_from, locker_to;
};

template <typename T>
google::protobuf::Any Pack(const T& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

class Simulation {
 public:
  Simulation(const GeneratorOptions& o,
             const std::function<void(const common::v1::EventEnvelope&)>& sink)
      : o_(o), sink_(sink), rng_(o.seed), ids_(o.seed ^ 0x9e3779b97f4a7c15ULL) {
    days_ = static_cast<int>(absl::CivilDay(absl::CivilMonth(o.start) + o.months) - o.start);
    windows_.resize(days_);
    joins_.resize(days_);
    closes_.resize(days_);
  }

  GeneratedSummary Run() {
    SetUp();
    for (int d = 0; d < days_; ++d) {
      runs_today_.assign(locations_.size(), 0);
      for (int c : closes_[d]) ClosePeriod(c, d);
      for (int l = 0; l < static_cast<int>(locations_.size()); ++l) Bookings(l, d);
      for (int c : joins_[d]) Join(c, d);
      for (int c : joins_[d]) locations_[customers_[c].location].present.push_back(c);
      std::vector<Planned>& window = windows_[d];
      std::stable_sort(window.begin(), window.end(),
                       [](const Planned& a, const Planned& b) { return a.at < b.at; });
      for (Planned& p : window) Emit(p);
      std::vector<Planned>().swap(window);
    }
    summary_.first_month = absl::CivilMonth(o_.start);
    summary_.last_month = absl::CivilMonth(o_.start) + (o_.months - 1);
    return std::move(summary_);
  }

 private:
  absl::Time LocalTime(int l, int d, absl::Duration since_midnight) const {
    return calendar::StartOfDay(o_.start + d, locations_[l].tz) + since_midnight;
  }
  // Seconds into the day, from `from_hour` for up to `hours` hours.
  absl::Duration DaytimeBetween(int from_hour, int hours) {
    return absl::Hours(from_hour) + absl::Seconds(rng_.Below(hours * 3600));
  }

  void Plan(int d, absl::Time at, const char* service, const char* type, std::string id, int l,
            const std::string& correlation, google::protobuf::Any payload) {
    if (d >= days_) return;  // after the period: not generated
    windows_[d].push_back({at, service, type, std::move(id), l, correlation, std::move(payload)});
  }

  void Emit(Planned& p) {
    common::v1::EventEnvelope e;
    e.set_event_id(ids_.Uuid());
    e.set_aggregate_type(p.aggregate_type);
    e.set_aggregate_id(p.aggregate_id);
    e.set_sequence(++sequences_[absl::StrCat(p.aggregate_type, "/", p.aggregate_id)]);
    e.set_operator_id(o_.operator_id);
    if (p.location >= 0) e.set_location_id(locations_[p.location].id);
    *e.mutable_occurred_at() = ToTimestamp(p.at);
    e.set_service(p.service);
    e.set_correlation_id(p.correlation_id);
    e.mutable_payload()->Swap(&p.payload);
    ++summary_.events;
    ++summary_.by_service[p.service];
    const std::string& url = e.payload().type_url();
    ++summary_.by_type[url.substr(url.rfind('/') + 1)];
    sink_(e);
  }

  // The operator, its locations (each with a plan, a locker product and meeting rooms), and
  // who joins when, where, as what.
  void SetUp() {
    std::vector<double> weights;
    for (int l = 0; l < o_.locations; ++l) {
      Location& loc = locations_.emplace_back();
      loc.id = absl::StrFormat("loc-%02d", l + 1);
      absl::LoadTimeZone(kZones[l].name, &loc.tz);
      loc.currency = kZones[l].currency;
      weights.push_back(1.0 / std::pow(l + 1, o_.skew));
      summary_.location_ids.push_back(loc.id);
    }
    const std::string setup = rng_.Uuid();
    ev1::OperatorCreated op;
    op.set_operator_id(o_.operator_id);
    op.set_name("Benchmark network");
    Plan(0, LocalTime(0, 0, absl::ZeroDuration()) - absl::Hours(24), "customers", "operator",
         o_.operator_id, -1, setup, Pack(op));
    for (int l = 0; l < o_.locations; ++l) {
      const Location& loc = locations_[l];
      const absl::Time at = LocalTime(l, 0, absl::ZeroDuration()) - absl::Hours(24);
      ev1::LocationCreated created;
      created.set_location_id(loc.id);
      created.set_name(absl::StrCat("Location ", l + 1));
      created.set_time_zone(kZones[l].name);
      created.set_currency(loc.currency);
      Plan(0, at, "customers", "location", loc.id, l, setup, Pack(created));
      cv1::PlanCreated plan;
      plan.set_plan_id(absl::StrCat("pl-", loc.id));
      plan.set_location_id(loc.id);
      plan.set_name("Hot desk");
      *plan.mutable_price() = MoneyOf(kPlanFee, loc.currency);
      plan.set_booking_credit_minutes(kCreditMinutes);
      Plan(0, at, "contracts", "plan", plan.plan_id(), l, setup, Pack(plan));
      cv1::ProductCreated locker;
      locker.set_product_id(absl::StrCat("pr-", loc.id, "-locker"));
      locker.set_location_id(loc.id);
      locker.set_name("Locker");
      *locker.mutable_price() = MoneyOf(kLockerFee, loc.currency);
      locker.set_kind(cv1::RECURRING);
      locker.set_cycle(cv1::MONTHLY);
      Plan(0, at, "contracts", "product", locker.product_id(), l, setup, Pack(locker));
      for (int r = 0; r < kRooms; ++r) {
        bv1::ResourceCreated room;
        room.set_resource_id(RoomId(l, r));
        room.set_location_id(loc.id);
        room.mutable_settings()->set_name(absl::StrCat("Room ", r + 1));
        room.mutable_settings()->set_kind(bv1::MEETING_ROOM);
        room.mutable_settings()->set_capacity(6);
        *room.mutable_settings()->mutable_hourly_price() = MoneyOf(kHourlyPrice, loc.currency);
        room.mutable_settings()->set_portal_bookable(true);
        Plan(0, at, "bookings", "resource", room.resource_id(), l, setup, Pack(room));
      }
    }
    double total = 0;
    for (double w : weights) total += w;
    const int first_month_days =
        static_cast<int>(absl::CivilDay(absl::CivilMonth(o_.start) + 1) - o_.start);
    for (int c = 0; c < o_.customers; ++c) {
      Customer& customer = customers_.emplace_back();
      customer.id = absl::StrFormat("c-%07d", c + 1);
      double pick = rng_.Unit() * total;
      customer.location = o_.locations - 1;
      for (int l = 0; l < o_.locations; ++l) {
        if ((pick -= weights[l]) < 0) {
          customer.location = l;
          break;
        }
      }
      customer.join_day = static_cast<int>(
          rng_.Chance(o_.early_share) ? rng_.Below(first_month_days) : rng_.Below(days_));
      customer.member = rng_.Chance(o_.member_share);
      joins_[customer.join_day].push_back(c);
      ++summary_.customers_at[locations_[customer.location].id];
    }
  }

  static std::string RoomId(int l, int r) { return absl::StrFormat("rs-%02d-%02d", l + 1, r + 1); }
  // The contracts service's account and the bookings service's credit of a customer at a
  // location.
  static std::string AccountId(const Location& loc, const Customer& c) {
    return absl::StrCat(loc.id, ":", c.id);
  }
  // A contract is held from its start until its last period is closed.
  static bool Holds(const Customer& c) {
    return c.member && (!c.last_period.has_value() || c.periods_closed <= *c.last_period);
  }
  int DayIndex(absl::CivilDay day) const { return static_cast<int>(day - o_.start); }
  calendar::Period PeriodOf(const Customer& c, int k) const {
    return calendar::PeriodAt(o_.start + c.join_day, calendar::Cycle::kMonthly, k);
  }

  // CustomerAdded (and mostly a portal account); a member signs a monthly plan that starts
  // the same day, may later cancel it, buy a locker and pay for a team.
  void Join(int index, int d) {
    Customer& c = customers_[index];
    const int l = c.location;
    const Location& loc = locations_[l];
    const absl::Time at = LocalTime(l, d, DaytimeBetween(9, 9));
    const std::string command = rng_.Uuid();
    ev1::CustomerAdded added;
    added.set_customer_id(c.id);
    added.set_type(rng_.Chance(0.1) ? ev1::COMPANY : ev1::INDIVIDUAL);
    added.set_home_location_id(loc.id);
    added.set_source(rng_.Chance(0.3) ? ev1::PORTAL : ev1::ADMIN);
    added.set_sealed_personal(rng_.Bytes(120));
    Plan(d, at, "customers", "customer", c.id, l, command, Pack(added));
    if (rng_.Chance(0.7)) {
      ev1::UserAccountCreated account;
      account.set_customer_id(c.id);
      account.set_sealed_credentials(rng_.Bytes(150));
      account.set_session_generation(1);
      Plan(d, at, "customers", "customer", c.id, l, command, Pack(account));
    }
    if (!c.member) return;

    c.contract_id = absl::StrFormat("ct-%07d", index + 1);
    const absl::CivilDay start = o_.start + d;
    const absl::Time signed_at = at + absl::Minutes(5);
    const std::string signing = rng_.Uuid();
    cv1::ContractSigned signed_event;
    signed_event.set_contract_id(c.contract_id);
    signed_event.set_customer_id(c.id);
    signed_event.set_plan_id(absl::StrCat("pl-", loc.id));
    signed_event.set_location_id(loc.id);
    *signed_event.mutable_start_date() = ToDate(start);
    *signed_event.mutable_price() = MoneyOf(kPlanFee, loc.currency);
    signed_event.set_booking_credit_minutes(kCreditMinutes);
    Plan(d, signed_at, "contracts", "contract", c.contract_id, l, signing, Pack(signed_event));
    cv1::ContractStarted started;
    started.set_contract_id(c.contract_id);
    started.set_customer_id(c.id);
    started.set_plan_id(signed_event.plan_id());
    started.set_location_id(loc.id);
    *started.mutable_start_date() = ToDate(start);
    started.set_booking_credit_minutes(kCreditMinutes);
    Plan(d, signed_at, "contracts", "contract", c.contract_id, l, signing, Pack(started));
    // What the customers service records when it learns of the contract.
    ev1::CustomerBecameMember member;
    member.set_customer_id(c.id);
    member.set_contract_id(c.contract_id);
    Plan(d, signed_at + absl::Milliseconds(50), "customers", "customer", c.id, l, signing,
         Pack(member));
    ev1::CustomerContractActivated activated;
    activated.set_customer_id(c.id);
    activated.set_contract_id(c.contract_id);
    Plan(d, signed_at + absl::Milliseconds(50), "customers", "customer", c.id, l, signing,
         Pack(activated));
    if (const int first_close = DayIndex(PeriodOf(c, 1).first); first_close < days_) {
      closes_[first_close].push_back(index);
    }

    if (rng_.Chance(o_.churn)) {
      // Cancelled some day of its last period; it ends with that period.
      const int periods = 1 + static_cast<int>(rng_.Below(o_.months));
      c.last_period = periods - 1;
      const calendar::Period last = PeriodOf(c, periods - 1);
      const int notice = DayIndex(last.first) + static_cast<int>(rng_.Below(last.days()));
      cv1::ContractCancelled cancelled;
      cancelled.set_contract_id(c.contract_id);
      cancelled.set_customer_id(c.id);
      cancelled.set_plan_id(signed_event.plan_id());
      cancelled.set_location_id(loc.id);
      *cancelled.mutable_end_date() = ToDate(last.last);
      Plan(notice, LocalTime(l, notice, DaytimeBetween(9, 9)), "contracts", "contract",
           c.contract_id, l, rng_.Uuid(), Pack(cancelled));
    }
    if (rng_.Chance(o_.recurring_share)) {
      const int from = d + 1 + static_cast<int>(rng_.Below(60));
      c.locker_id = absl::StrFormat("pu-%07d", index + 1);
      c.locker_from = from;
      cv1::PurchaseMade bought;
      bought.set_purchase_id(c.locker_id);
      bought.set_customer_id(c.id);
      bought.set_product_id(absl::StrCat("pr-", loc.id, "-locker"));
      bought.set_location_id(loc.id);
      bought.set_name("Locker");
      *bought.mutable_unit_price() = MoneyOf(kLockerFee, loc.currency);
      bought.set_quantity(1);
      bought.set_kind(cv1::RECURRING);
      bought.set_cycle(cv1::MONTHLY);
      *bought.mutable_start_date() = ToDate(o_.start + from);
      Plan(from, LocalTime(l, from, DaytimeBetween(9, 9)), "contracts", "purchase", c.locker_id, l,
           rng_.Uuid(), Pack(bought));
      if (rng_.Chance(0.3)) {
        const int until = from + 30 + static_cast<int>(rng_.Below(150));
        c.locker_to = until;
        cv1::PurchaseCancelled cancelled;
        cancelled.set_purchase_id(c.locker_id);
        cancelled.set_customer_id(c.id);
        cancelled.set_product_id(bought.product_id());
        cancelled.set_location_id(loc.id);
        *cancelled.mutable_end_date() = ToDate(o_.start + until);
        const int notice = until - 7;
        Plan(notice, LocalTime(l, notice, DaytimeBetween(9, 9)), "contracts", "purchase",
             c.locker_id, l, rng_.Uuid(), Pack(cancelled));
      }
    }
    if (rng_.Chance(o_.team_share)) CreateTeam(index, d + static_cast<int>(rng_.Below(30)));
  }

  // A team at the member's location, paid for by them, with 2 to 6 customers of that location
  // (one of them leaves later, sometimes).
  void CreateTeam(int payer, int d) {
    const Customer& c = customers_[payer];
    const int l = c.location;
    const std::vector<int>& present = locations_[l].present;
    if (d >= days_ || present.empty()) return;
    const std::string team_id = absl::StrFormat("t-%07d", payer + 1);
    const absl::Time at = LocalTime(l, d, DaytimeBetween(9, 9));
    const std::string command = rng_.Uuid();
    ev1::TeamCreated created;
    created.set_team_id(team_id);
    created.set_name(absl::StrCat("Team of ", c.id));
    created.set_location_id(locations_[l].id);
    Plan(d, at, "customers", "team", team_id, l, command, Pack(created));
    ev1::TeamPayingMemberSet paying;
    paying.set_team_id(team_id);
    paying.set_customer_id(c.id);
    Plan(d, at, "customers", "team", team_id, l, command, Pack(paying));
    const int size = 2 + static_cast<int>(rng_.Below(5));
    std::vector<int> members;
    for (int i = 0; i < size; ++i) {
      const int m = present[rng_.Below(present.size())];
      if (m == payer || std::find(members.begin(), members.end(), m) != members.end()) continue;
      members.push_back(m);
      ev1::TeamMemberAdded added;
      added.set_team_id(team_id);
      added.set_customer_id(customers_[m].id);
      Plan(d, at, "customers", "team", team_id, l, command, Pack(added));
    }
    if (!members.empty() && rng_.Chance(0.3)) {
      const int left = d + 30 + static_cast<int>(rng_.Below(200));
      ev1::TeamMemberRemoved removed;
      removed.set_team_id(team_id);
      removed.set_customer_id(customers_[members[rng_.Below(members.size())]].id);
      Plan(left, LocalTime(l, left, DaytimeBetween(9, 9)), "customers", "team", team_id, l,
           rng_.Uuid(), Pack(removed));
    }
  }

  // A member's period ends (the scheduler, at the location's midnight): the period closed, the
  // locker renewed, one invoice with the fee, the locker and the charges waiting; the contract
  // ends with its last period.
  void ClosePeriod(int index, int d) {
    Customer& c = customers_[index];
    const int l = c.location;
    const Location& loc = locations_[l];
    const calendar::Period period = PeriodOf(c, c.periods_closed);
    // The scheduler's run at midnight closes one period after another.
    const absl::Time at =
        LocalTime(l, d, absl::Seconds(1) + absl::Milliseconds(2 * runs_today_[l]++));
    const std::string run = rng_.Uuid();
    const int64_t number = ++invoice_numbers_[l];
    const std::string invoice_id = InvoiceId(l, number);
    cv1::InvoiceIssued invoice;
    cv1::ContractPeriodClosed closed;
    closed.set_contract_id(c.contract_id);
    closed.set_customer_id(c.id);
    closed.set_location_id(loc.id);
    *closed.mutable_period_start() = ToDate(period.first);
    *closed.mutable_period_end() = ToDate(period.last);
    *closed.mutable_fee() = MoneyOf(kPlanFee, loc.currency);
    closed.set_invoice_id(invoice_id);
    Plan(d, at, "contracts", "contract", c.contract_id, l, run, Pack(closed));
    cv1::InvoiceLine* fee = invoice.add_lines();
    fee->set_description("Hot desk");
    fee->set_customer_id(c.id);
    *fee->mutable_amount() = closed.fee();
    fee->set_contract_id(c.contract_id);
    *fee->mutable_period_start() = closed.period_start();
    *fee->mutable_period_end() = closed.period_end();
    const bool ends = c.last_period.has_value() && *c.last_period == c.periods_closed;
    if (c.locker_from.has_value() && *c.locker_from < d &&
        (!c.locker_to.has_value() || *c.locker_to >= d) && !ends) {
      cv1::PurchaseRenewed renewed;
      renewed.set_purchase_id(c.locker_id);
      renewed.set_customer_id(c.id);
      renewed.set_location_id(loc.id);
      *renewed.mutable_period_start() = ToDate(o_.start + d);
      Plan(d, at, "contracts", "purchase", c.locker_id, l, run, Pack(renewed));
      cv1::InvoiceLine* line = invoice.add_lines();
      line->set_description("Locker");
      line->set_customer_id(c.id);
      *line->mutable_amount() = MoneyOf(kLockerFee, loc.currency);
    }
    IssueInvoice(l, d, at, c, number, std::move(invoice), std::exchange(c.pending, {}), run);
    ++c.periods_closed;
    if (ends) {
      cv1::ContractEnded ended;
      ended.set_contract_id(c.contract_id);
      ended.set_customer_id(c.id);
      ended.set_plan_id(absl::StrCat("pl-", loc.id));
      ended.set_location_id(loc.id);
      *ended.mutable_end_date() = ToDate(period.last);
      ended.set_started(true);
      Plan(d, at, "contracts", "contract", c.contract_id, l, run, Pack(ended));
      ev1::CustomerContractDeactivated deactivated;
      deactivated.set_customer_id(c.id);
      deactivated.set_contract_id(c.contract_id);
      Plan(d, at + absl::Milliseconds(50), "customers", "customer", c.id, l, run,
           Pack(deactivated));
      return;
    }
    if (const int next = DayIndex(PeriodOf(c, c.periods_closed + 1).first); next < days_) {
      closes_[next].push_back(index);
    }
  }

  std::string InvoiceId(int l, int64_t number) const {
    return absl::StrFormat("in-%s-%07d", locations_[l].id, number);
  }

  // InvoiceIssued number `number` (the location's next, taken when its events are planned, so
  // numbers follow the book's sequence) with `invoice`'s lines plus `charges`, and
  // ChargesInvoiced on the customer's account when there are any.
  void IssueInvoice(int l, int d, absl::Time at, const Customer& c, int64_t number,
                    cv1::InvoiceIssued invoice, const std::vector<cv1::Charge>& charges,
                    const std::string& correlation) {
    const Location& loc = locations_[l];
    const std::string invoice_id = InvoiceId(l, number);
    cv1::ChargesInvoiced charged;
    for (const cv1::Charge& charge : charges) {
      cv1::InvoiceLine* line = invoice.add_lines();
      line->set_description(charge.description());
      line->set_customer_id(c.id);
      *line->mutable_amount() = charge.amount();
      line->set_charge_id(charge.charge_id());
      charged.add_charge_ids(charge.charge_id());
    }
    int64_t subtotal = 0;
    for (const cv1::InvoiceLine& line : invoice.lines()) subtotal += line.amount().amount_minor();
    const int64_t tax = subtotal * kTaxPpm / 1000000;
    invoice.set_invoice_id(invoice_id);
    invoice.set_location_id(loc.id);
    invoice.set_customer_id(c.id);
    invoice.set_number(number);
    *invoice.mutable_subtotal() = MoneyOf(subtotal, loc.currency);
    invoice.set_tax_rate_ppm(kTaxPpm);
    *invoice.mutable_tax() = MoneyOf(tax, loc.currency);
    *invoice.mutable_total() = MoneyOf(subtotal + tax, loc.currency);
    *invoice.mutable_issue_date() = ToDate(o_.start + d);
    if (charged.charge_ids_size() > 0) {
      charged.set_customer_id(c.id);
      charged.set_location_id(loc.id);
      charged.set_invoice_id(invoice_id);
      charged.set_number(invoice.number());
      Plan(d, at, "contracts", "account", AccountId(loc, c), l, correlation, Pack(charged));
    }
    Plan(d, at, "contracts", "invoicebook", loc.id, l, correlation, Pack(invoice));
  }

  // The day's bookings at location l, by its customers (and a few of other locations), in
  // time order: members' paid by their plan's credit or charged with the next invoice, the
  // others charged and invoiced at once; some cancelled on a later day.
  void Bookings(int l, int d) {
    const Location& loc = locations_[l];
    if (loc.present.empty()) return;
    const int weekday = static_cast<int>(absl::GetWeekday(o_.start + d));  // Monday = 0
    const double per_day = o_.bookings_per_month * 12 / 365.25 * (weekday < 5 ? 1.25 : 0.375);
    const int64_t count = rng_.Around(static_cast<double>(loc.present.size()) * per_day);
    std::vector<absl::Duration> times;
    for (int64_t i = 0; i < count; ++i) times.push_back(DaytimeBetween(7, 14));
    std::sort(times.begin(), times.end());
    for (absl::Duration time : times) {
      int home = l;
      if (o_.locations > 1 && rng_.Chance(o_.network_bookings)) {
        home = static_cast<int>(rng_.Below(o_.locations));
        if (locations_[home].present.empty()) home = l;
      }
      const std::vector<int>& pool = locations_[home].present;
      Book(l, d, LocalTime(l, d, time), pool[rng_.Below(pool.size())]);
    }
  }

  void Book(int l, int d, absl::Time at, int index) {
    Customer& c = customers_[index];
    const Location& loc = locations_[l];
    const std::string booking_id = absl::StrFormat("b-%08d", ++bookings_);
    const std::string command = rng_.Uuid();
    const int64_t minutes = 60 * (1 + static_cast<int64_t>(rng_.Below(2)));
    const int starts = d + 1 + static_cast<int>(rng_.Below(21));
    const int room = static_cast<int>(rng_.Below(kRooms));
    const bool at_home = c.location == l;
    const bool member = Holds(c) && at_home;
    const bool on_credit = member && !rng_.Chance(o_.members_charged);
    bv1::BookingCreated created;
    created.set_booking_id(booking_id);
    created.set_resource_id(RoomId(l, room));
    created.set_location_id(loc.id);
    created.set_customer_id(c.id);
    const absl::Time start = LocalTime(l, starts, DaytimeBetween(8, 10));
    *created.mutable_start_time() = ToTimestamp(start);
    *created.mutable_end_time() = ToTimestamp(start + absl::Minutes(minutes));
    created.set_resource_name(absl::StrCat("Room ", room + 1));
    created.set_booked_by(c.id);
    const int64_t price = kHourlyPrice * minutes / 60;
    if (on_credit) {
      created.set_credit_minutes(minutes);
      *created.mutable_charge() = MoneyOf(0, loc.currency);
      bv1::CreditDrawn* draw = created.add_draws();
      draw->set_customer_id(c.id);
      draw->set_location_id(loc.id);
      draw->set_booking_id(booking_id);
      draw->set_for_customer_id(c.id);
      draw->set_source(bv1::PLAN);
      draw->set_contract_id(c.contract_id);
      *draw->mutable_period_start() = ToDate(PeriodOf(c, c.periods_closed).first);
      draw->set_minutes(minutes);
      Plan(d, at, "bookings", "credit", AccountId(loc, c), l, command, Pack(*draw));
    } else {
      *created.mutable_charge() = MoneyOf(price, loc.currency);
    }
    Plan(d, at, "bookings", "booking", booking_id, l, command, Pack(created));
    bv1::BookingConfirmationRequested confirmation;
    confirmation.set_booking_id(booking_id);
    confirmation.set_customer_id(c.id);
    confirmation.set_location_id(loc.id);
    confirmation.set_resource_name(created.resource_name());
    *confirmation.mutable_start_time() = created.start_time();
    *confirmation.mutable_end_time() = created.end_time();
    Plan(d, at, "bookings", "booking", booking_id, l, command, Pack(confirmation));
    if (!on_credit) {
      // The contracts service charges it; a member's charge waits for the next invoice, other
      // customers are invoiced at once.
      cv1::ChargeRecorded recorded;
      recorded.set_customer_id(c.id);
      recorded.set_location_id(loc.id);
      cv1::Charge* charge = recorded.mutable_charge();
      charge->set_charge_id(absl::StrCat("booking/", booking_id));
      charge->set_customer_id(c.id);
      charge->set_description(absl::StrCat("Room ", room + 1));
      *charge->mutable_amount() = MoneyOf(price, loc.currency);
      *charge->mutable_day() = ToDate(o_.start + starts);
      const absl::Time charged_at = at + absl::Milliseconds(200);
      Plan(d, charged_at, "contracts", "account", AccountId(loc, c), l, command, Pack(recorded));
      if (member) {
        c.pending.push_back(*charge);
      } else {
        IssueInvoice(l, d, charged_at + absl::Milliseconds(200), c, ++invoice_numbers_[l], {},
                     {*charge}, command);
      }
    }
    if (rng_.Chance(o_.cancelled_bookings)) {
      const int day = d + 1 + static_cast<int>(rng_.Below(starts - d));
      bv1::BookingCancelled cancelled;
      cancelled.set_booking_id(booking_id);
      cancelled.set_resource_id(created.resource_id());
      cancelled.set_location_id(loc.id);
      cancelled.set_customer_id(c.id);
      if (day < starts) {
        Plan(day, LocalTime(l, day, DaytimeBetween(7, 14)), "bookings", "booking", booking_id, l,
             rng_.Uuid(), Pack(cancelled));
      }
    }
  }

  const GeneratorOptions& o_;
  const std::function<void(const common::v1::EventEnvelope&)>& sink_;
  Random rng_;
  Random ids_;  // event ids only, so they do not shift the simulation's choices
  int days_ = 0;
  std::vector<Location> locations_;
  std::vector<Customer> customers_;
  std::vector<std::vector<Planned>> windows_;  // by day index: the events of that local day
  std::vector<std::vector<int>> joins_;        // by day index: customers joining
  std::vector<std::vector<int>> closes_;       // by day index: members whose period ends
  std::map<int, int64_t> invoice_numbers_;     // by location
  std::vector<int> runs_today_;                // by location: periods closed today so far
  uint64_t bookings_ = 0;
  absl::flat_hash_map<std::string, int64_t> sequences_;  // "type/id" -> last sequence
  GeneratedSummary summary_;
};

}  // namespace

absl::Status Validate(const GeneratorOptions& o) {
  auto share = [](double v) { return v >= 0 && v <= 1; };
  if (o.operator_id.empty()) return absl::InvalidArgumentError("operator id is empty");
  if (o.locations < 1 || o.locations > kMaxLocations) {
    return absl::InvalidArgumentError(absl::StrCat("locations must be 1 to ", kMaxLocations));
  }
  if (o.customers < 1) return absl::InvalidArgumentError("customers must be at least 1");
  if (o.months < 1 || o.months > 120) return absl::InvalidArgumentError("months must be 1 to 120");
  if (o.skew < 0 || o.skew > 4) return absl::InvalidArgumentError("skew must be 0 to 4");
  if (o.bookings_per_month < 0 || o.bookings_per_month > 100) {
    return absl::InvalidArgumentError("bookings per month must be 0 to 100");
  }
  for (double v : {o.early_share, o.member_share, o.churn, o.members_charged, o.network_bookings,
                   o.cancelled_bookings, o.recurring_share, o.team_share}) {
    if (!share(v)) return absl::InvalidArgumentError("shares must be 0 to 1");
  }
  return absl::OkStatus();
}

std::string FormatSummary(const GeneratedSummary& s) {
  std::string out = absl::StrCat("events ", s.events, ":");
  for (const auto& [service, n] : s.by_service) absl::StrAppend(&out, " ", service, " ", n);
  absl::StrAppend(&out, "\n");
  for (const auto& [type, n] : s.by_type) absl::StrAppendFormat(&out, "  %-30s %10d\n", type, n);
  if (!s.location_ids.empty()) {
    const std::string& largest = s.location_ids.front();
    auto at = s.customers_at.find(largest);
    absl::StrAppend(&out, s.location_ids.size(), " locations, the largest ", largest, " with ",
                    at == s.customers_at.end() ? 0 : at->second, " customers at home; months ",
                    absl::FormatCivilTime(s.first_month), "..", absl::FormatCivilTime(s.last_month),
                    "\n");
  }
  return out;
}

GeneratedSummary Generator::Run(const std::function<void(const common::v1::EventEnvelope&)>& sink) {
  return Simulation(options_, sink).Run();
}

}  // namespace cowork::billinggen
