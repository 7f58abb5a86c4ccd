#include "services/billing/projection/account.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/views.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/scheduler.h"
#include "libs/status/macros.h"
#include "services/billing/projection/keys.h"

namespace cowork::billing::projection {
namespace {

using eventstore::Views;

constexpr absl::string_view kViewPrefixes[] = {"bclosed/", "bsinv/", "due/"};

// The views an account event adds (closed months and invoices never change once written).
void AddEventViews(absl::string_view op, const domain::Event& e, Views& out) {
  if (e.has_month_closed()) {
    if (std::optional<std::string> key = ClosedMonthKey(op, e.month_closed())) {
      out[*key] = e.month_closed().SerializeAsString();
    }
  }
  if (e.has_subscription_invoice_issued()) {
    const v1::SubscriptionInvoice& invoice = e.subscription_invoice_issued().invoice();
    out[InvoiceKey(op, invoice.number())] = invoice.SerializeAsString();
  }
}

// The views the account's state gives: its card's expiry in the due index.
Views StateViews(absl::string_view op, const domain::AccountState& s) {
  Views out;
  const absl::Time expiry = domain::CardExpiry(s);
  if (expiry != absl::InfiniteFuture()) {
    out[runtime::DueKey(expiry, absl::StrCat("card/", op))] = "";
  }
  return out;
}

}  // namespace

std::string InvoicesPrefix(absl::string_view op) { return absl::StrCat("bsinv/", op, "/"); }

std::string InvoiceKey(absl::string_view op, int64_t number) {
  return absl::StrCat(InvoicesPrefix(op), absl::StrFormat("%012d", kMaxInvoiceNumber - number));
}

absl::StatusOr<eventstore::Loaded<domain::AccountState>> LoadAccount(const eventstore::Store& store,
                                                                     absl::string_view op) {
  return eventstore::LoadState<domain::AccountState>(store, kAccount, op);
}

domain::AccountState StageAccount(const eventstore::EnvelopeContext& context,
                                  const eventstore::Loaded<domain::AccountState>& before,
                                  absl::string_view location_id, domain::Events events,
                                  eventstore::WriteSet& writes) {
  static const std::string* const topic = new std::string(kafka::TopicFor(kService));
  const std::string& op = context.operator_id;
  Views event_views;
  for (const domain::Event& e : events) AddEventViews(op, e, event_views);
  const domain::AccountState after = eventstore::Stage(context, kAccount, op, location_id, before,
                                                       std::move(events), *topic, writes);
  eventstore::WriteViews(StateViews(op, before.state), StateViews(op, after), writes);
  eventstore::WriteViews({}, event_views, writes);
  return after;
}

absl::Status RebuildAccounts(eventstore::Store& store) {
  COWORK_RETURN_IF_ERROR(eventstore::DeleteViews(store, kViewPrefixes));
  std::map<std::string, domain::AccountState> accounts;  // by operator
  eventstore::ViewBatches out(store);
  absl::Status failed;
  COWORK_RETURN_IF_ERROR(eventstore::ForEachDomainEvent<domain::Event>(
      store, [&](const common::v1::EventEnvelope& envelope, const domain::Event& e) {
        if (envelope.aggregate_type() != kAccount) return;
        domain::AccountState& s = accounts[envelope.aggregate_id()];
        s = domain::Apply(std::move(s), e);
        Views views;
        AddEventViews(envelope.aggregate_id(), e, views);
        if (!views.empty() && failed.ok()) failed = out.Write(views);
      }));
  COWORK_RETURN_IF_ERROR(failed);
  for (const auto& [op, account] : accounts) {
    COWORK_RETURN_IF_ERROR(out.Write(StateViews(op, account)));
  }
  return out.Finish();
}

eventstore::Folds AggregateFolds() {
  eventstore::Folds folds;
  folds.Add<domain::AccountState, domain::Event>(std::string(kAccount));
  return folds;
}

}  // namespace cowork::billing::projection
