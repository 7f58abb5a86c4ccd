#ifndef COWORK_SERVICES_BILLING_DOMAIN_ACTIVE_USERS_H_
#define COWORK_SERVICES_BILLING_DOMAIN_ACTIVE_USERS_H_

// Active users (SPEC "Subscription billing: active users"; reference 003): a customer is an
// active user of location L in calendar month M (L's time zone) when, in M, at L:
//   1. they hold a started contract (a free or paid plan) at L on some day of M;
//   2. they hold a recurring product bought at L on some day of M;
//   3. they made a booking of a resource at L in M (when it was made, not when it takes place;
//      a booking cancelled later was still made);
//   4. they were invoiced at L in M (an invoice voided later was still issued);
//   5. at some instant of M they were in a team whose paying member held a plan at L then.
// Suspension changes nothing; a network customer counts at every location where a criterion
// holds, and only there. Each count comes with the criteria that held and the ids of the events
// that prove each.
//
// Activity is what the events of the customers, contracts and bookings topics say, kept as
// spans on the time axis. Feeding it is order-independent and idempotent: each fact is keyed
// by its entity (a contract, a purchase, a booking, an invoice, a team change by its sequence),
// so duplicated or reordered delivery changes no answer.
//
// Not thread-safe (a value); the functions are pure.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cowork::billing::domain {

enum class Criterion {
  kActivePlan = 1,
  kRecurringProduct = 2,
  kBookingMade = 3,
  kInvoiced = 4,
  kTeamWithPlanHolder = 5,
};

// The instants [from, to); to is absl::InfiniteFuture() while open.
struct Span {
  absl::Time from = absl::InfiniteFuture();
  absl::Time to = absl::InfiniteFuture();
  bool empty() const { return from >= to; }
  bool Contains(absl::Time t) const { return from <= t && t < to; }
};
Span Intersect(const Span& a, const Span& b);

// Calendar month `month` in `tz`: from its first local midnight to the next month's.
Span MonthIn(absl::CivilMonth month, absl::TimeZone tz);

struct Reason {
  Criterion criterion;
  std::vector<std::string> event_ids;  // the events that prove it (bookings, invoices: as made)
};

struct ActiveUser {
  std::string customer_id;
  std::vector<Reason> reasons;  // by criterion, each once
};

class Activity {
 public:
  // Ids are taken by value: a caller done with its strings moves them in.
  //
  // A contract (a plan) held at `location` from `from` (its start date's first instant);
  // until `to` (the instant after its last day) once ended.
  void ContractStarted(std::string contract_id, std::string customer_id, std::string location_id,
                       absl::Time from, std::string event_id);
  void ContractEnded(std::string contract_id, absl::Time to, std::string event_id);
  // A recurring product bought at `location`, held from `from`; until `to` once cancelled.
  void RecurringProductStarted(std::string purchase_id, std::string customer_id,
                               std::string location_id, absl::Time from, std::string event_id);
  void RecurringProductEnded(std::string purchase_id, absl::Time to, std::string event_id);
  void BookingMade(std::string booking_id, std::string customer_id, std::string location_id,
                   absl::Time made_at, std::string event_id);
  void Invoiced(std::string invoice_id, std::string customer_id, std::string location_id,
                absl::Time issued_at, std::string event_id);
  // Team changes, ordered by their sequence in the team's event stream.
  void TeamMemberAdded(const std::string& team_id, const std::string& customer_id,
                       int64_t sequence, absl::Time at, std::string event_id);
  void TeamMemberRemoved(const std::string& team_id, const std::string& customer_id,
                         int64_t sequence, absl::Time at, std::string event_id);
  // `customer_id` empty: the team has no paying member from then on.
  void TeamPayingMemberSet(const std::string& team_id, std::string customer_id, int64_t sequence,
                           absl::Time at, std::string event_id);

  // The active users of `location_id` over `month` (MonthIn), by customer id.
  std::vector<ActiveUser> ActiveUsers(absl::string_view location_id, const Span& month) const;

 private:
  // A plan or a recurring product.
  struct Holding {
    std::string customer_id;
    std::string location_id;
    std::optional<absl::Time> from;  // unset until its start is known
    absl::Time to = absl::InfiniteFuture();
    std::vector<std::string> event_ids;
  };
  struct Moment {
    std::string customer_id;
    std::string location_id;
    absl::Time at;
    std::string event_id;
  };
  // One change of a team, at its sequence: a member in or out, or the paying member.
  struct TeamChange {
    absl::Time at;
    bool in = false;          // memberships
    std::string customer_id;  // paying member (empty: none)
    std::string event_id;
  };
  struct Proven {
    Span span;
    std::vector<std::string> event_ids;
  };

  static void Start(std::map<std::string, Holding>& holdings, std::string id,
                    std::string customer_id, std::string location_id, absl::Time from,
                    std::string event_id);
  static void End(std::map<std::string, Holding>& holdings, std::string id, absl::Time to,
                  std::string event_id);
  // The spans a member was in the team, and the spans each paying member paid for it.
  static std::vector<Proven> MemberSpans(const std::map<int64_t, TeamChange>& changes);
  std::vector<std::pair<std::string, Proven>> PayingSpans(const std::string& team_id) const;

  std::map<std::string, Holding> plans_;     // by contract id
  std::map<std::string, Holding> products_;  // by purchase id
  std::map<std::string, Moment> bookings_;   // by booking id
  std::map<std::string, Moment> invoices_;   // by invoice id
  // (team, customer) -> membership changes by sequence.
  std::map<std::pair<std::string, std::string>, std::map<int64_t, TeamChange>> members_;
  // team -> paying member changes by sequence.
  std::map<std::string, std::map<int64_t, TeamChange>> paying_;
};

}  // namespace cowork::billing::domain

#endif  // COWORK_SERVICES_BILLING_DOMAIN_ACTIVE_USERS_H_
