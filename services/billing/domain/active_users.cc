#include "services/billing/domain/active_users.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "libs/calendar/calendar.h"

namespace cowork::billing::domain {
namespace {

void AddProof(std::vector<std::string>& to, const std::string& id) {
  if (std::find(to.begin(), to.end(), id) == to.end()) to.push_back(id);
}

void AddProof(std::vector<std::string>& to, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) AddProof(to, id);
}

}  // namespace

Span Intersect(const Span& a, const Span& b) {
  return {std::max(a.from, b.from), std::min(a.to, b.to)};
}

Span MonthIn(absl::CivilMonth month, absl::TimeZone tz) {
  return {calendar::StartOfDay(absl::CivilDay(month), tz),
          calendar::StartOfDay(absl::CivilDay(month + 1), tz)};
}

// ---------------------------------------------------------------- feeding

void Activity::Start(std::map<std::string, Holding>& holdings, std::string id,
                     std::string customer_id, std::string location_id, absl::Time from,
                     std::string event_id) {
  Holding& h = holdings[std::move(id)];
  h.customer_id = std::move(customer_id);
  h.location_id = std::move(location_id);
  h.from = from;
  // The start's proof comes first, whichever arrived first.
  if (std::find(h.event_ids.begin(), h.event_ids.end(), event_id) == h.event_ids.end()) {
    h.event_ids.insert(h.event_ids.begin(), std::move(event_id));
  }
}

void Activity::End(std::map<std::string, Holding>& holdings, std::string id, absl::Time to,
                   std::string event_id) {
  Holding& h = holdings[std::move(id)];
  h.to = to;
  if (std::find(h.event_ids.begin(), h.event_ids.end(), event_id) == h.event_ids.end()) {
    h.event_ids.push_back(std::move(event_id));
  }
}

void Activity::ContractStarted(std::string contract_id, std::string customer_id,
                               std::string location_id, absl::Time from, std::string event_id) {
  Start(plans_, std::move(contract_id), std::move(customer_id), std::move(location_id), from,
        std::move(event_id));
}

void Activity::ContractEnded(std::string contract_id, absl::Time to, std::string event_id) {
  End(plans_, std::move(contract_id), to, std::move(event_id));
}

void Activity::RecurringProductStarted(std::string purchase_id, std::string customer_id,
                                       std::string location_id, absl::Time from,
                                       std::string event_id) {
  Start(products_, std::move(purchase_id), std::move(customer_id), std::move(location_id), from,
        std::move(event_id));
}

void Activity::RecurringProductEnded(std::string purchase_id, absl::Time to,
                                     std::string event_id) {
  End(products_, std::move(purchase_id), to, std::move(event_id));
}

void Activity::BookingMade(std::string booking_id, std::string customer_id,
                           std::string location_id, absl::Time made_at, std::string event_id) {
  bookings_[std::move(booking_id)] = {std::move(customer_id), std::move(location_id), made_at,
                                      std::move(event_id)};
}

void Activity::Invoiced(std::string invoice_id, std::string customer_id, std::string location_id,
                        absl::Time issued_at, std::string event_id) {
  invoices_[std::move(invoice_id)] = {std::move(customer_id), std::move(location_id), issued_at,
                                      std::move(event_id)};
}

void Activity::TeamMemberAdded(const std::string& team_id, const std::string& customer_id,
                               int64_t sequence, absl::Time at, std::string event_id) {
  members_[{team_id, customer_id}][sequence] = {
      .at = at, .in = true, .event_id = std::move(event_id)};
}

void Activity::TeamMemberRemoved(const std::string& team_id, const std::string& customer_id,
                                 int64_t sequence, absl::Time at, std::string event_id) {
  members_[{team_id, customer_id}][sequence] = {
      .at = at, .in = false, .event_id = std::move(event_id)};
}

void Activity::TeamPayingMemberSet(const std::string& team_id, std::string customer_id,
                                   int64_t sequence, absl::Time at, std::string event_id) {
  paying_[team_id][sequence] = {
      .at = at, .customer_id = std::move(customer_id), .event_id = std::move(event_id)};
}

// ---------------------------------------------------------------- team spans

std::vector<Activity::Proven> Activity::MemberSpans(const std::map<int64_t, TeamChange>& changes) {
  std::vector<Proven> out;
  std::optional<Proven> open;
  for (const auto& [sequence, change] : changes) {
    if (change.in && !open.has_value()) {
      open = Proven{{change.at, absl::InfiniteFuture()}, {change.event_id}};
    } else if (!change.in && open.has_value()) {
      open->span.to = change.at;
      open->event_ids.push_back(change.event_id);
      out.push_back(*std::move(open));
      open.reset();
    }
  }
  if (open.has_value()) out.push_back(*std::move(open));
  return out;
}

std::vector<std::pair<std::string, Activity::Proven>> Activity::PayingSpans(
    const std::string& team_id) const {
  std::vector<std::pair<std::string, Proven>> out;
  auto it = paying_.find(team_id);
  if (it == paying_.end()) return out;
  const TeamChange* current = nullptr;
  for (const auto& [sequence, change] : it->second) {
    if (current != nullptr && !current->customer_id.empty()) {
      out.push_back({current->customer_id,
                     Proven{{current->at, change.at}, {current->event_id, change.event_id}}});
    }
    current = &change;
  }
  if (current != nullptr && !current->customer_id.empty()) {
    out.push_back(
        {current->customer_id, Proven{{current->at, absl::InfiniteFuture()}, {current->event_id}}});
  }
  return out;
}

// ---------------------------------------------------------------- the count

std::vector<ActiveUser> Activity::ActiveUsers(absl::string_view location_id,
                                              const Span& month) const {
  // By customer (sorted at the end: a location's month has thousands of them), the proof of
  // each criterion that held; empty for one that did not.
  constexpr int kCriteria = static_cast<int>(Criterion::kTeamWithPlanHolder);
  std::unordered_map<std::string, std::array<std::vector<std::string>, kCriteria>> found;
  auto proof = [&found](const std::string& customer_id,
                        Criterion criterion) -> std::vector<std::string>& {
    return found[customer_id][static_cast<int>(criterion) - 1];
  };
  auto held_in_month = [&](const Holding& h) -> std::optional<Span> {
    if (h.location_id != location_id || !h.from.has_value()) return std::nullopt;
    const Span in_month = Intersect({*h.from, h.to}, month);
    if (in_month.empty()) return std::nullopt;
    return in_month;
  };
  // The plans held here in the month, by holder: criterion 5 looks up each paying member's.
  std::map<std::string, std::vector<std::pair<const Holding*, Span>>> held_by;
  for (const auto& [id, plan] : plans_) {
    const std::optional<Span> held = held_in_month(plan);
    if (!held.has_value()) continue;
    AddProof(proof(plan.customer_id, Criterion::kActivePlan), plan.event_ids);
    held_by[plan.customer_id].emplace_back(&plan, *held);
  }
  for (const auto& [id, product] : products_) {
    if (held_in_month(product)) {
      AddProof(proof(product.customer_id, Criterion::kRecurringProduct), product.event_ids);
    }
  }
  // Bookings and invoices of the month, each customer's in the order they were made.
  for (const auto& [moments, criterion] :
       {std::pair{&bookings_, Criterion::kBookingMade}, {&invoices_, Criterion::kInvoiced}}) {
    std::vector<const Moment*> in_month;
    for (const auto& [id, moment] : *moments) {
      if (moment.location_id == location_id && month.Contains(moment.at)) {
        in_month.push_back(&moment);
      }
    }
    std::stable_sort(in_month.begin(), in_month.end(),
                     [](const Moment* a, const Moment* b) { return a->at < b->at; });
    for (const Moment* moment : in_month) {
      AddProof(proof(moment->customer_id, criterion), moment->event_id);
    }
  }
  // 5: a member of a team at an instant of the month when the team's paying member held a
  // plan here.
  for (const auto& [team_id, changes] : paying_) {
    for (const auto& [payer, paying] : PayingSpans(team_id)) {
      auto payer_plans = held_by.find(payer);
      if (payer_plans == held_by.end()) continue;
      for (const auto& [plan, held] : payer_plans->second) {
        const Span paid_and_held = Intersect(held, paying.span);
        if (paid_and_held.empty()) continue;
        for (auto it = members_.lower_bound({team_id, ""});
             it != members_.end() && it->first.first == team_id; ++it) {
          for (const Proven& member : MemberSpans(it->second)) {
            if (Intersect(paid_and_held, member.span).empty()) continue;
            std::vector<std::string>& in_team =
                proof(it->first.second, Criterion::kTeamWithPlanHolder);
            AddProof(in_team, member.event_ids);
            AddProof(in_team, paying.event_ids);
            AddProof(in_team, plan->event_ids);
          }
        }
      }
    }
  }
  // Sorted as entries of `found`, then moved out: sorting the users themselves would move
  // thousands of them around.
  std::vector<decltype(found)::value_type*> by_customer;
  by_customer.reserve(found.size());
  for (auto& entry : found) by_customer.push_back(&entry);
  std::sort(by_customer.begin(), by_customer.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<ActiveUser> out;
  out.reserve(by_customer.size());
  for (auto* entry : by_customer) {
    ActiveUser& user = out.emplace_back();
    user.customer_id = entry->first;
    for (int i = 0; i < kCriteria; ++i) {
      if (entry->second[i].empty()) continue;
      user.reasons.push_back({static_cast<Criterion>(i + 1), std::move(entry->second[i])});
    }
  }
  return out;
}

}  // namespace cowork::billing::domain
