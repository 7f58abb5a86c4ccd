// The CreditService half of the App: granting booking credit and reading what is left.

#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "libs/validation/validation.h"
#include "services/bookings/app/app.h"
#include "services/bookings/domain/credit.h"
#include "services/bookings/projection/keys.h"
#include "services/bookings/projection/projection.h"

namespace cowork::bookings::app {
namespace {

using eventstore::Decided;
using eventstore::Loaded;

// What a customer may book with at a location on a day; `own` replaces their stored credit
// account when given (a grant about to be committed).
absl::StatusOr<v1::CreditBalance> BalanceOf(const eventstore::Store& store,
                                            const directory::Directory& directory,
                                            absl::string_view op, absl::string_view customer,
                                            absl::string_view location, absl::CivilDay day,
                                            const domain::CreditState* own = nullptr) {
  COWORK_ASSIGN_OR_RETURN(projection::Wallet wallet,
                          projection::OpenWallet(store, directory, op, customer, location, day));
  COWORK_ASSIGN_OR_RETURN(std::vector<domain::ContractCredit> contracts,
                          projection::ContractsOf(store, op, customer, location));
  const domain::CreditState& account =
      own != nullptr ? *own : wallet.accounts[std::string(customer)].state;
  return domain::BalanceOf(customer, location, contracts, account, wallet.team, day);
}

}  // namespace

absl::StatusOr<v1::CreditBalance> App::GrantCredit(const auth::Principal& p,
                                                   const v1::GrantCreditRequest& r) {
  const domain::GrantCredit grant{.customer_id = r.customer_id(),
                                  .location_id = r.location_id(),
                                  .minutes = r.minutes(),
                                  .reason = r.reason()};
  FieldErrors errors;
  errors.Merge(validation::CheckIds(r.request_id(), {{"customer_id", r.customer_id()},
                                                      {"location_id", r.location_id()}}));
  domain::CheckGrant(grant, errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kBookingsWrite, r.location_id()));
  return eventstore::Execute<v1::CreditBalance>(
      store_, runtime::RequestOf(p, "GrantCredit", r),
      [&]() -> absl::StatusOr<Decided<v1::CreditBalance>> {
        COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, ZoneOf(p.operator_id, r.location_id()));
        COWORK_RETURN_IF_ERROR(KnownCustomer(p.operator_id, r.customer_id()).status());
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CreditState> before,
                                eventstore::LoadState<domain::CreditState>(
                                    store_, projection::kCreditAggregate,
                                    projection::CreditId(r.location_id(), r.customer_id())));
        const absl::Time now = clock_.Now();
        COWORK_ASSIGN_OR_RETURN(domain::Events events, domain::Decide(before.state, grant, now));
        eventstore::WriteSet writes;
        const domain::CreditState after = projection::StageCredit(
            eventstore::CommandContext(projection::kService, p.operator_id, r.request_id(), now),
            r.location_id(), r.customer_id(), before, std::move(events), writes);
        COWORK_ASSIGN_OR_RETURN(
            v1::CreditBalance balance,
            BalanceOf(store_, directory_, p.operator_id, r.customer_id(), r.location_id(),
                      calendar::Today(now, tz), &after));
        return Decided<v1::CreditBalance>{std::move(writes), std::move(balance)};
      },
      runtime::AdminAtAnswer<v1::CreditBalance>(p, auth::kBookingsWrite));
}

absl::StatusOr<v1::CreditBalance> App::GetCredit(const auth::Principal& p,
                                                 const v1::GetCreditRequest& r) const {
  COWORK_RETURN_IF_ERROR(validation::CheckIds(
      "", {{"customer_id", r.customer_id()}, {"location_id", r.location_id()}}));
  std::optional<absl::CivilDay> day;
  if (r.has_day()) {
    day = FromDate(r.day());
    if (!day.has_value()) return InvalidField("day", "must be a calendar date");
  }
  COWORK_RETURN_IF_ERROR(
      auth::RequireAdminOrSelf(p, auth::kBookingsRead, r.location_id(), r.customer_id()));
  COWORK_RETURN_IF_ERROR(KnownCustomer(p.operator_id, r.customer_id()).status());
  COWORK_ASSIGN_OR_RETURN(const absl::TimeZone tz, ZoneOf(p.operator_id, r.location_id()));
  return BalanceOf(store_, directory_, p.operator_id, r.customer_id(), r.location_id(),
                   day.value_or(calendar::Today(clock_.Now(), tz)));
}

}  // namespace cowork::bookings::app
