#include "services/customers/domain/csv_import.h"

#include <csv.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "libs/status/field_errors.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::domain {
namespace {

constexpr absl::string_view kColumns[] = {"first_name", "last_name", "email",
                                          "phone",      "type",      "company_name"};
constexpr absl::string_view kRequiredColumns[] = {"first_name", "last_name", "email"};

// Collects libcsv's callbacks into records of fields, stopping early once there are more
// records than allowed (the header plus max_rows).
struct Collector {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> current;
  size_t max_records = 0;
  bool too_many = false;
};

void OnField(void* data, size_t length, void* out) {
  auto* c = static_cast<Collector*>(out);
  c->current.emplace_back(static_cast<const char*>(data), data == nullptr ? 0 : length);
}

void OnRecord(int, void* out) {
  auto* c = static_cast<Collector*>(out);
  if (c->records.size() >= c->max_records) {
    c->too_many = true;
    c->current.clear();
    return;
  }
  c->records.push_back(std::move(c->current));
  c->current.clear();
}

std::string ColumnName(absl::string_view header) {
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header));
  absl::StrReplaceAll({{" ", "_"}}, &name);
  return name;
}

absl::Status CsvError(absl::string_view reason) { return InvalidField("csv", std::string(reason)); }

}  // namespace

absl::StatusOr<std::vector<CsvCustomerRow>> ParseCustomersCsv(absl::string_view csv,
                                                              const CsvLimits& limits) {
  if (csv.size() > limits.max_bytes) {
    return CsvError(absl::StrCat("the file has more than ", limits.max_bytes, " bytes"));
  }
  if (absl::StartsWith(csv, "\xEF\xBB\xBF")) csv.remove_prefix(3);

  Collector collector;
  collector.max_records = limits.max_rows + 1;
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    return absl::ResourceExhaustedError("cannot initialise the CSV parser");
  }
  const size_t parsed = csv_parse(&parser, csv.data(), csv.size(), OnField, OnRecord, &collector);
  int error = parsed == csv.size() ? 0 : csv_error(&parser);
  if (error == 0 && csv_fini(&parser, OnField, OnRecord, &collector) != 0) {
    error = csv_error(&parser);
  }
  csv_free(&parser);
  if (error != 0) {
    return CsvError(absl::StrCat("malformed CSV: ", csv_strerror(error)));
  }
  if (collector.too_many) {
    return CsvError(absl::StrCat("the file has more than ", limits.max_rows, " rows"));
  }
  if (collector.records.empty()) return CsvError("the file has no header row");

  // Header: which column holds what.
  const std::vector<std::string>& header = collector.records.front();
  std::map<std::string, size_t> column_of;
  FieldErrors header_errors;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = ColumnName(header[i]);
    bool known = false;
    for (absl::string_view column : kColumns) known = known || column == name;
    if (!known) {
      header_errors.Add("csv", absl::StrCat("unknown column '", name.substr(0, 64),
                                            "'; columns: ", absl::StrJoin(kColumns, ", ")));
    } else if (!column_of.emplace(name, i).second) {
      header_errors.Add("csv", absl::StrCat("column '", name, "' appears twice"));
    }
  }
  for (absl::string_view column : kRequiredColumns) {
    if (!column_of.contains(std::string(column))) {
      header_errors.Add("csv", absl::StrCat("required column '", column, "' is missing"));
    }
  }
  if (!header_errors.empty()) return header_errors.ToStatus();

  std::vector<CsvCustomerRow> rows;
  rows.reserve(collector.records.size() - 1);
  for (size_t r = 1; r < collector.records.size(); ++r) {
    const std::vector<std::string>& record = collector.records[r];
    CsvCustomerRow row;
    row.row = static_cast<int>(r);
    if (record.size() != header.size()) {
      row.errors.push_back(absl::StrCat("row: has ", record.size(), " fields; the header has ",
                                        header.size()));
      rows.push_back(std::move(row));
      continue;
    }
    const auto cell = [&](absl::string_view column) -> std::string {
      auto it = column_of.find(std::string(column));
      return it == column_of.end() ? std::string() : record[it->second];
    };
    row.first_name = cell("first_name");
    row.last_name = cell("last_name");
    row.email = cell("email");
    row.phone = cell("phone");
    row.company_name = cell("company_name");
    FieldErrors errors;
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(cell("type")));
    if (type.empty() || type == "individual") {
      row.type = v1::INDIVIDUAL;
    } else if (type == "company") {
      row.type = v1::COMPANY;
    } else {
      row.type = v1::CUSTOMER_TYPE_UNSPECIFIED;
      errors.Add("type", "must be individual or company");
    }
    if (row.type != v1::CUSTOMER_TYPE_UNSPECIFIED) {
      CheckCustomerFields(row.type, row.first_name, row.last_name, row.email, row.phone,
                          row.company_name, errors);
    } else {
      // Check everything else as an individual would be, without repeating the type error.
      FieldErrors rest;
      CheckCustomerFields(v1::INDIVIDUAL, row.first_name, row.last_name, row.email, row.phone,
                          "", rest);
      for (const FieldViolation& v : rest.violations()) errors.Add(v.field, v.description);
    }
    for (const FieldViolation& v : errors.violations()) {
      row.errors.push_back(absl::StrCat(v.field, ": ", v.description));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace cowork::customers::domain
