#include "services/contracts/domain/invoice.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/clock/proto_time.h"
#include "libs/money/money.h"
#include "libs/status/field_errors.h"
#include "libs/validation/validation.h"

namespace cowork::contracts::domain {
namespace {

v1::InvoiceLine LineOf(const v1::Charge& charge) {
  v1::InvoiceLine line;
  line.set_description(charge.description());
  line.set_customer_id(charge.customer_id());
  *line.mutable_amount() = charge.amount();
  line.set_charge_id(charge.charge_id());
  if (charge.has_day()) *line.mutable_period_start() = charge.day();
  return line;
}

}  // namespace

Ledger::Ledger(AccountState account, InvoiceBookState book, std::string customer_id,
               std::string location_id, std::string currency)
    : account_(std::move(account)),
      book_(std::move(book)),
      customer_id_(std::move(customer_id)),
      location_id_(std::move(location_id)),
      currency_(std::move(currency)) {}

void Ledger::Record(const v1::Charge& charge) {
  if (charge.amount().amount_minor() == 0) return;
  for (const v1::Charge& waiting : account_.uninvoiced()) {
    if (waiting.charge_id() == charge.charge_id()) return;
  }
  Event e;
  v1::ChargeRecorded* recorded = e.mutable_charge_recorded();
  recorded->set_customer_id(customer_id_);
  recorded->set_location_id(location_id_);
  *recorded->mutable_charge() = charge;
  account_ = Apply(std::move(account_), e);
  account_events_.push_back(std::move(e));
}

bool Ledger::Void(absl::string_view charge_id) {
  bool waiting = false;
  for (const v1::Charge& c : account_.uninvoiced()) waiting = waiting || c.charge_id() == charge_id;
  if (!waiting) return false;
  Event e;
  v1::ChargeVoided* voided = e.mutable_charge_voided();
  voided->set_customer_id(customer_id_);
  voided->set_location_id(location_id_);
  voided->set_charge_id(std::string(charge_id));
  account_ = Apply(std::move(account_), e);
  account_events_.push_back(std::move(e));
  return true;
}

absl::StatusOr<std::optional<v1::InvoiceIssued>> Ledger::Issue(
    const std::string& invoice_id, std::vector<v1::InvoiceLine> lines, bool take_charges,
    absl::CivilDay issue_date) {
  std::vector<std::string> charge_ids;
  if (take_charges) {
    for (const v1::Charge& charge : account_.uninvoiced()) {
      if (lines.size() >= static_cast<size_t>(kMaxInvoiceLines)) break;
      lines.push_back(LineOf(charge));
      charge_ids.push_back(charge.charge_id());
    }
  }
  int64_t subtotal = 0;
  bool owes_something = false;
  for (const v1::InvoiceLine& line : lines) {
    std::optional<int64_t> sum = CheckedAdd(subtotal, line.amount().amount_minor());
    if (!sum.has_value()) return absl::OutOfRangeError("invoice subtotal out of range");
    subtotal = *sum;
    owes_something = owes_something || line.amount().amount_minor() != 0;
  }
  if (!owes_something) return std::optional<v1::InvoiceIssued>();
  const int64_t tax = TaxOf(subtotal, book_.tax_rate_ppm());
  std::optional<int64_t> total = CheckedAdd(subtotal, tax);
  if (!total.has_value()) return absl::OutOfRangeError("invoice total out of range");

  Event issued_event;
  v1::InvoiceIssued& issued = *issued_event.mutable_invoice_issued();
  issued.set_invoice_id(invoice_id);
  issued.set_location_id(location_id_);
  issued.set_customer_id(customer_id_);
  issued.set_number(book_.last_number() + 1);
  for (v1::InvoiceLine& line : lines) *issued.add_lines() = std::move(line);
  *issued.mutable_subtotal() = MoneyOf(subtotal, currency_);
  issued.set_tax_rate_ppm(book_.tax_rate_ppm());
  *issued.mutable_tax() = MoneyOf(tax, currency_);
  *issued.mutable_total() = MoneyOf(*total, currency_);
  *issued.mutable_issue_date() = ToDate(issue_date);
  v1::InvoiceIssued out = issued;
  book_ = Apply(std::move(book_), issued_event);
  book_events_.push_back(std::move(issued_event));

  if (!charge_ids.empty()) {
    Event e;
    v1::ChargesInvoiced* invoiced = e.mutable_charges_invoiced();
    invoiced->set_customer_id(customer_id_);
    invoiced->set_location_id(location_id_);
    invoiced->set_invoice_id(invoice_id);
    invoiced->set_number(out.number());
    for (std::string& id : charge_ids) invoiced->add_charge_ids(std::move(id));
    account_ = Apply(std::move(account_), e);
    account_events_.push_back(std::move(e));
  }
  return std::optional<v1::InvoiceIssued>(std::move(out));
}

absl::Status Ledger::IssueWaiting(const std::function<std::string()>& new_id,
                                  absl::CivilDay issue_date) {
  while (has_waiting_charges()) {
    absl::StatusOr<std::optional<v1::InvoiceIssued>> issued =
        Issue(new_id(), {}, /*take_charges=*/true, issue_date);
    if (!issued.ok()) return issued.status();
    if (!issued->has_value()) break;  // only zero charges (never recorded): nothing to bill
  }
  return absl::OkStatus();
}

absl::StatusOr<Events> Decide(const InvoiceBookState& book, const SetTaxRate& command,
                              absl::Time /*now*/) {
  const int64_t rate_ppm = command.tax_rate_ppm;
  if (rate_ppm < 0 || rate_ppm > kMaxTaxRatePpm) {
    return InvalidField("tax_rate_ppm",
                        absl::StrCat("must be 0 to ", kMaxTaxRatePpm, " (parts per million)"));
  }
  if (book.tax_rate_ppm() == rate_ppm && !book.location_id().empty()) return Events{};
  Event e;
  e.mutable_tax_rate_set()->set_location_id(command.location_id);
  e.mutable_tax_rate_set()->set_tax_rate_ppm(rate_ppm);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const InvoiceState& state, const PayInvoice& /*command*/,
                              absl::Time /*now*/) {
  const v1::InvoiceIssued& invoice = state.invoice;
  const InvoiceStatus status = state.status;
  if (status == InvoiceStatus::kPaid) return Events{};
  if (status == InvoiceStatus::kVoided) {
    return absl::FailedPreconditionError(
        absl::StrCat("invoice ", invoice.number(), " is voided and cannot be paid"));
  }
  Event e;
  v1::InvoicePaid* paid = e.mutable_invoice_paid();
  paid->set_invoice_id(invoice.invoice_id());
  paid->set_location_id(invoice.location_id());
  paid->set_customer_id(invoice.customer_id());
  paid->set_number(invoice.number());
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const InvoiceState& state, const VoidInvoice& command,
                              absl::Time /*now*/) {
  const v1::InvoiceIssued& invoice = state.invoice;
  const InvoiceStatus status = state.status;
  const absl::string_view reason = command.reason;
  FieldErrors errors;
  validation::CheckLabel(reason, "reason", kMaxVoidReasonLength, errors);
  if (absl::Status s = errors.ToStatus(); !s.ok()) return s;
  if (status == InvoiceStatus::kVoided) return Events{};
  if (status == InvoiceStatus::kPaid) {
    return absl::FailedPreconditionError(
        absl::StrCat("invoice ", invoice.number(), " is paid and cannot be voided"));
  }
  Event e;
  v1::InvoiceVoided* voided = e.mutable_invoice_voided();
  voided->set_invoice_id(invoice.invoice_id());
  voided->set_location_id(invoice.location_id());
  voided->set_customer_id(invoice.customer_id());
  voided->set_number(invoice.number());
  voided->set_reason(std::string(validation::TrimSpaces(reason)));
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const BillingState& billing, const SetInvoicingPreference& command,
                              absl::Time /*now*/) {
  const bool invoice_as_they_buy = command.invoice_as_they_buy;
  if (!billing.customer_id().empty() && billing.invoice_as_they_buy() == invoice_as_they_buy) {
    return Events{};
  }
  Event e;
  e.mutable_invoicing_preference_set()->set_customer_id(command.customer_id);
  e.mutable_invoicing_preference_set()->set_invoice_as_they_buy(invoice_as_they_buy);
  return Events{std::move(e)};
}

AccountState Apply(AccountState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kChargeRecorded: {
      const v1::ChargeRecorded& e = event.charge_recorded();
      if (!event.operator_id().empty()) state.set_operator_id(event.operator_id());
      state.set_customer_id(e.customer_id());
      state.set_location_id(e.location_id());
      *state.add_uninvoiced() = e.charge();
      break;
    }
    case Event::kChargeVoided:
    case Event::kChargesInvoiced: {
      std::vector<std::string> gone;
      if (event.has_charge_voided()) {
        gone.push_back(event.charge_voided().charge_id());
      } else {
        gone.assign(event.charges_invoiced().charge_ids().begin(),
                    event.charges_invoiced().charge_ids().end());
      }
      google::protobuf::RepeatedPtrField<v1::Charge> kept;
      for (v1::Charge& c : *state.mutable_uninvoiced()) {
        if (std::find(gone.begin(), gone.end(), c.charge_id()) == gone.end()) {
          *kept.Add() = std::move(c);
        }
      }
      state.mutable_uninvoiced()->Swap(&kept);
      break;
    }
    default:
      break;
  }
  return state;
}

InvoiceBookState Apply(InvoiceBookState state, const Event& event) {
  switch (event.payload_case()) {
    case Event::kTaxRateSet:
      if (!event.operator_id().empty()) state.set_operator_id(event.operator_id());
      state.set_location_id(event.tax_rate_set().location_id());
      state.set_tax_rate_ppm(event.tax_rate_set().tax_rate_ppm());
      break;
    case Event::kInvoiceIssued:
      if (!event.operator_id().empty()) state.set_operator_id(event.operator_id());
      state.set_location_id(event.invoice_issued().location_id());
      state.set_last_number(event.invoice_issued().number());
      break;
    default:
      break;
  }
  return state;
}

BillingState Apply(BillingState state, const Event& event) {
  if (event.payload_case() != Event::kInvoicingPreferenceSet) return state;
  if (!event.operator_id().empty()) state.set_operator_id(event.operator_id());
  state.set_customer_id(event.invoicing_preference_set().customer_id());
  state.set_invoice_as_they_buy(event.invoicing_preference_set().invoice_as_they_buy());
  return state;
}

}  // namespace cowork::contracts::domain
