#ifndef COWORK_SERVICES_BOOKINGS_DOMAIN_CREDIT_H_
#define COWORK_SERVICES_BOOKINGS_DOMAIN_CREDIT_H_

// Booking credit (SPEC "Bookings", "Booking credit"): minutes a customer may book with at a
// location. Plans include minutes per billing period of the contract; admins grant free
// minutes; teams that share booking credit let mates use each other's unused plan minutes.
// One credit account per customer and location ("<location>:<customer>") counts what is
// left of the grants and what each plan period has used.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/calendar/calendar.h"
#include "libs/status/field_errors.h"
#include "services/bookings/domain/resource.h"
#include "services/bookings/domain/state.pb.h"

namespace cowork::bookings::domain {

inline constexpr int64_t kMaxGrantMinutes = 1'000'000;
inline constexpr int kMaxGrantReasonLength = 500;

// "<contract>/<YYYY-MM-DD>": the plan-credit period a CreditState counts minutes under.
std::string PlanKey(absl::string_view contract_id, absl::CivilDay period_start);

// The billing period of `contract` that `day` falls in, when the contract holds that day and
// includes credit.
std::optional<calendar::Period> CreditPeriodOn(const ContractCredit& contract, absl::CivilDay day);

// Credit that may pay for a booking, in the order it is used.
struct CreditSource {
  std::string owner;  // whose credit (the customer or a team mate)
  v1::CreditSource source = v1::CREDIT_SOURCE_UNSPECIFIED;
  std::string contract_id;      // PLAN
  absl::CivilDay period_start;  // PLAN
  int64_t available = 0;        // minutes
};

// The plan-credit sources of `contracts` on `day` with what `credit` (the owner's) has left.
std::vector<CreditSource> PlanSources(const std::vector<ContractCredit>& contracts,
                                      const CreditState& credit, absl::CivilDay day);

// Takes up to `minutes` from `sources` in order: one CreditDrawn per source used.
std::vector<v1::CreditDrawn> Draw(const std::vector<CreditSource>& sources, int64_t minutes,
                                  absl::string_view booking_id, absl::string_view for_customer,
                                  absl::string_view location_id);

// The CreditReturned that gives back what `drawn` took.
v1::CreditReturned ReturnOf(const v1::CreditDrawn& drawn);

struct GrantCredit {
  std::string customer_id;
  std::string location_id;
  int64_t minutes = 0;  // 1..kMaxGrantMinutes
  std::string reason;   // optional, at most kMaxGrantReasonLength characters
};
// Adds a violation for "minutes" and "reason" when they are bad.
void CheckGrant(const GrantCredit& command, FieldErrors& errors);
// CreditGranted; INVALID_ARGUMENT as CheckGrant.
absl::StatusOr<Events> Decide(const CreditState& account, const GrantCredit& command,
                              absl::Time now);

// What a customer may book with at a location on `day`: each plan period of `contracts` with
// what `account` (theirs) has used of it, the granted minutes left, and `team` (their team
// mates' plan minutes they may use).
v1::CreditBalance BalanceOf(absl::string_view customer, absl::string_view location,
                            const std::vector<ContractCredit>& contracts,
                            const CreditState& account, const std::vector<CreditSource>& team,
                            absl::CivilDay day);

CreditState Apply(CreditState state, const Event& event);

}  // namespace cowork::bookings::domain

#endif  // COWORK_SERVICES_BOOKINGS_DOMAIN_CREDIT_H_
