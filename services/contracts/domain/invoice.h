#ifndef COWORK_SERVICES_CONTRACTS_DOMAIN_INVOICE_H_
#define COWORK_SERVICES_CONTRACTS_DOMAIN_INVOICE_H_

// Charges and invoices (SPEC "Plans, contracts and products"; docs/DECISIONS.md "Charges and
// invoices").
//
// A charge waits on the paying customer's account at a location (AccountState) until an
// invoice takes it. Invoices are numbered per location by the location's invoice book
// (InvoiceBookState): the number is the book's last number + 1, committed with the book's
// version, so numbers have no gaps and are never reused, however many invoice runs race. An
// invoice is issued, then paid or voided; never edited or deleted.
//
// Ledger decides what one command does to one account and its location's book: record or
// void charges, issue invoices. The caller stages the events it returns on both aggregates in
// one commit. The book's tax rate, an issued invoice's payment or voiding and a customer's
// invoicing preference are commands decided by Decide overloads:
//
//   ASSIGN_OR_RETURN(Events events, Decide(InvoiceState{issued, status}, PayInvoice{}, now));
//
// Pure functions; thread-safe (a Ledger is not: one per command).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/contracts/v1/events.pb.h"
#include "services/contracts/domain/periods.h"
#include "services/contracts/domain/plan.h"
#include "services/contracts/domain/state.pb.h"

namespace cowork::contracts::domain {

inline constexpr int kMaxVoidReasonLength = 200;

// The most lines an invoice carries: more charges make several invoices. Bounds the
// InvoiceIssued event well under the topics' maximum message size.
inline constexpr int kMaxInvoiceLines = 500;

class Ledger {
 public:
  // `account` and `book` as last committed (empty states when new); `currency` is the
  // location's.
  Ledger(AccountState account, InvoiceBookState book, std::string customer_id,
         std::string location_id, std::string currency);

  // ChargeRecorded. Nothing for a zero amount (free things cost nothing to invoice) or for a
  // charge id that already waits.
  void Record(const v1::Charge& charge);
  // ChargeVoided; false when no charge of that id waits (unknown, or already invoiced).
  bool Void(absl::string_view charge_id);
  bool has_waiting_charges() const { return !account_.uninvoiced().empty(); }
  // Whether a full invoice's worth of charges waits (kMaxInvoiceLines): they are invoiced at
  // once, whatever the customer's preference, so an account never holds more and a command
  // on it stays as small as the first one (a thousand purchases in a month do not make each
  // purchase slower).
  bool full() const { return account_.uninvoiced_size() >= kMaxInvoiceLines; }

  // An invoice of `lines` plus, when `take_charges`, the waiting charges oldest first, up to
  // kMaxInvoiceLines lines in all (the rest keep waiting); numbered next in the book and taxed
  // at the book's rate. nullopt (nothing recorded) when every line is zero. OUT_OF_RANGE when
  // a sum leaves int64.
  absl::StatusOr<std::optional<v1::InvoiceIssued>> Issue(const std::string& invoice_id,
                                                         std::vector<v1::InvoiceLine> lines,
                                                         bool take_charges,
                                                         absl::CivilDay issue_date);
  // Invoices every waiting charge: as many invoices of kMaxInvoiceLines lines at most as it
  // takes, numbered one after the other, each with an id from `new_id`.
  absl::Status IssueWaiting(const std::function<std::string()>& new_id, absl::CivilDay issue_date);

  Events& account_events() { return account_events_; }
  Events& book_events() { return book_events_; }

 private:
  AccountState account_;
  InvoiceBookState book_;
  std::string customer_id_, location_id_, currency_;
  Events account_events_, book_events_;
};

struct SetTaxRate {
  std::string location_id;  // the book's location
  int64_t tax_rate_ppm = 0;
};

// TaxRateSet; INVALID_ARGUMENT for a rate outside 0..kMaxTaxRatePpm. No event when unchanged.
absl::StatusOr<Events> Decide(const InvoiceBookState& book, const SetTaxRate& command,
                              absl::Time now);

enum class InvoiceStatus { kIssued, kPaid, kVoided };

// An issued invoice (its ids and number) and what became of it since.
struct InvoiceState {
  v1::InvoiceIssued invoice;
  InvoiceStatus status = InvoiceStatus::kIssued;
};

struct PayInvoice {};
struct VoidInvoice {
  std::string reason;  // required, at most kMaxVoidReasonLength characters
};

// InvoicePaid; FAILED_PRECONDITION unless issued. Paying a paid invoice again changes nothing.
absl::StatusOr<Events> Decide(const InvoiceState& invoice, const PayInvoice& command,
                              absl::Time now);
// InvoiceVoided; INVALID_ARGUMENT without a reason; FAILED_PRECONDITION for a paid invoice.
// Voiding a voided invoice again changes nothing.
absl::StatusOr<Events> Decide(const InvoiceState& invoice, const VoidInvoice& command,
                              absl::Time now);

struct SetInvoicingPreference {
  std::string customer_id;
  bool invoice_as_they_buy = false;
};

// InvoicingPreferenceSet; never an error. No event when unchanged.
absl::StatusOr<Events> Decide(const BillingState& billing, const SetInvoicingPreference& command,
                              absl::Time now);

AccountState Apply(AccountState state, const Event& event);
InvoiceBookState Apply(InvoiceBookState state, const Event& event);
BillingState Apply(BillingState state, const Event& event);

}  // namespace cowork::contracts::domain

#endif  // COWORK_SERVICES_CONTRACTS_DOMAIN_INVOICE_H_
