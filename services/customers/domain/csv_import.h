#ifndef COWORK_SERVICES_CUSTOMERS_DOMAIN_CSV_IMPORT_H_
#define COWORK_SERVICES_CUSTOMERS_DOMAIN_CSV_IMPORT_H_

// Reading a customers CSV file (SPEC "CSV import"): parsing with Debian's libcsv (no parser of
// our own), then validating each row on its own with the same rules as AddCustomer.
//
// The file has a header row; columns in any order, matched case-insensitively (spaces count
// as '_', so "First Name" is first_name): first_name, last_name, email (required columns),
// phone, type (individual|company, empty = individual), company_name. Empty lines are
// skipped; a UTF-8 byte-order mark is ignored. Row 1 is the first data row.
//
// Pure; thread-safe. Errors: INVALID_ARGUMENT (field "csv") when the file as a whole cannot
// be read: too big, too many rows, malformed quoting, no header, unknown or repeated columns,
// a required column missing. A bad row is not an error: it comes back with its reasons.
//
//   ASSIGN_OR_RETURN(std::vector<CsvCustomerRow> rows, ParseCustomersCsv(csv));
//   for (const CsvCustomerRow& row : rows) if (row.errors.empty()) ...

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cowork/customers/v1/events.pb.h"

namespace cowork::customers::domain {

struct CsvLimits {
  // Size of the whole file in bytes. Default 8 MiB.
  size_t max_bytes = 8 << 20;
  // Data rows (not counting the header). Default 10,000.
  size_t max_rows = 10'000;
};

struct CsvCustomerRow {
  int row = 0;                      // 1 = first data row after the header
  std::vector<std::string> errors;  // "field: reason", one per bad field; empty = valid
  v1::CustomerType type = v1::INDIVIDUAL;
  std::string first_name, last_name, email, phone, company_name;
};

absl::StatusOr<std::vector<CsvCustomerRow>> ParseCustomersCsv(absl::string_view csv,
                                                              const CsvLimits& limits = {});

}  // namespace cowork::customers::domain

#endif  // COWORK_SERVICES_CUSTOMERS_DOMAIN_CSV_IMPORT_H_
