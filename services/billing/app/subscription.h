#ifndef COWORK_SERVICES_BILLING_APP_SUBSCRIPTION_H_
#define COWORK_SERVICES_BILLING_APP_SUBSCRIPTION_H_

// The application layer of the platform subscription (domain/subscription.h): the operator's
// platform account (aggregate "account", id = operator id, events on cowork.billing.events),
// the calls of SubscriptionService, and the clock's work (RunDue): closing each location's
// ended months in order — also those that ended while the service was down — and removing
// expired cards.
//
// Read views (Space::kViews), rebuilt from the account events by Rebuild:
//   bclosed/<op>/<location>/<YYYY-MM>                      v1.MonthClosed (keys.h)
//   bsinv/<op>/<999999999999 - number, 12 digits>          v1.SubscriptionInvoice, newest first
//   due/<unix s>/card/<op>                                 the card's expiry (scheduler)
//
// Authorization: admins of the operator holding platform.invoices, at the location for its
// add-ons and invoices, at every location for the payment method.
//
// Thread-safe: commands on an account are serialised by its expected version.

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"
#include "services/billing/app/app.h"
#include "services/billing/domain/subscription.h"

namespace cowork::billing::app {

class Subscription {
 public:
  struct Options {
    domain::PriceTable prices = domain::DefaultPriceTable();
    // How long after a month's end (its location's midnight) it closes: events recorded in
    // this time still count for it, which leaves the other services' outboxes and billing's
    // consumer time to deliver the month's last events.
    absl::Duration close_delay = absl::Minutes(15);
    // False while the projection is still catching up with the topics (no month closes then):
    // after downtime or during a rebuild, the backlog is read before a month is frozen.
    std::function<bool()> caught_up = [] { return true; };
  };

  // Everything referenced must outlive the Subscription.
  Subscription(eventstore::Store& store, const directory::Directory& directory,
               const Clock& clock, const App& counts, Options options);

  // The App's: one authentication for the service.
  const runtime::Authenticator& authenticator() const { return counts_.authenticator(); }

  absl::StatusOr<v1::Account> GetAccount(const auth::Principal& p,
                                         const v1::GetAccountRequest& r) const;
  absl::StatusOr<v1::Account> SetPaymentMethod(const auth::Principal& p,
                                               const v1::SetPaymentMethodRequest& r);
  absl::StatusOr<v1::Account> RemovePaymentMethod(const auth::Principal& p,
                                                  const v1::RemovePaymentMethodRequest& r);
  absl::StatusOr<v1::Account> EnableAddOn(const auth::Principal& p,
                                          const v1::EnableAddOnRequest& r);
  absl::StatusOr<v1::Account> DisableAddOn(const auth::Principal& p,
                                           const v1::DisableAddOnRequest& r);
  absl::StatusOr<v1::ListSubscriptionInvoicesResponse> ListSubscriptionInvoices(
      const auth::Principal& p, const v1::ListSubscriptionInvoicesRequest& r) const;
  absl::StatusOr<v1::SubscriptionInvoice> GetSubscriptionInvoice(
      const auth::Principal& p, const v1::GetSubscriptionInvoiceRequest& r) const;
  absl::StatusOr<v1::InvoiceDocument> DownloadSubscriptionInvoice(
      const auth::Principal& p, const v1::DownloadSubscriptionInvoiceRequest& r) const;

  // The clock's work: expired cards, then every month that has ended (plus the close delay)
  // and is not closed, oldest first per location. Returns how many records changed.
  absl::StatusOr<int> RunDue();
  // Rebuilds the read views from the account events (--rebuild-projections).
  absl::Status Rebuild();

 private:
  using Decide = std::function<absl::StatusOr<domain::Events>(const domain::AccountState&)>;
  // Runs `decide` on the operator's account and stages its events with the views they change
  // (none: nothing changes).
  absl::StatusOr<eventstore::Decided<domain::AccountState>> Stage(absl::string_view operator_id,
                                                                  absl::string_view request_id,
                                                                  absl::string_view location_id,
                                                                  const Decide& decide);
  // A change the service makes itself (the clock): Stage and commit.
  absl::StatusOr<domain::AccountState> Change(absl::string_view operator_id,
                                              absl::string_view method,
                                              absl::string_view location_id,
                                              const Decide& decide);
  // A caller's change: Stage and commit under the caller's request record; the account as
  // the caller sees it.
  absl::StatusOr<v1::Account> Command(const auth::Principal& p, absl::string_view method,
                                      const google::protobuf::Message& request,
                                      absl::string_view location_id, const Decide& decide);
  // Closes the months of one location that are due, once `ready` (the projection has caught
  // up); how many closed.
  absl::StatusOr<int> CloseMonths(absl::string_view operator_id, absl::string_view location_id,
                                  absl::CivilMonth first_month, absl::Time now,
                                  const std::function<bool()>& ready);
  absl::StatusOr<v1::SubscriptionInvoice> InvoiceFor(const auth::Principal& p,
                                                     absl::string_view invoice_id) const;

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const App& counts_;
  const Options options_;
};

}  // namespace cowork::billing::app

#endif  // COWORK_SERVICES_BILLING_APP_SUBSCRIPTION_H_
