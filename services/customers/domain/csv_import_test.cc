#include "services/customers/domain/csv_import.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"

namespace cowork::customers::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(CustomersCsv, ValidatesEachRowOnItsOwn) {
  const std::string csv =
      "First Name,last_name,EMAIL,phone,type,company_name\n"
      "Ana,López,ana@example.com,+34 600 000 000,,\n"
      "\n"
      "B,Smith,not-an-email,,individual,\n"
      "\"Jean-Luc\",\"O'Brien, Jr\",jl@example.com,,Company,\"Acme, Inc.\"\r\n"
      "Zoë,Li,zoe@example.com,,robot,\n"
      "only,three,fields\n";
  absl::StatusOr<std::vector<CsvCustomerRow>> rows = ParseCustomersCsv(csv);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_THAT(*rows, SizeIs(5));

  EXPECT_EQ((*rows)[0].row, 1);
  EXPECT_THAT((*rows)[0].errors, IsEmpty());
  EXPECT_EQ((*rows)[0].type, v1::INDIVIDUAL);
  EXPECT_EQ((*rows)[0].last_name, "López");

  EXPECT_EQ((*rows)[1].row, 2) << "empty lines are not rows";
  EXPECT_THAT((*rows)[1].errors,
              ElementsAre(absl::StrCat("first_name: ",
                                       "must have at least 2 characters; numbers and special "
                                       "characters are not allowed"),
                          "email: must be a valid email address"));

  // Quoted fields with commas; the last name has a comma, which names do not allow.
  EXPECT_EQ((*rows)[2].type, v1::COMPANY);
  EXPECT_EQ((*rows)[2].company_name, "Acme, Inc.");
  EXPECT_THAT((*rows)[2].errors, ElementsAre(testing::StartsWith("last_name: ")));

  EXPECT_THAT((*rows)[3].errors, ElementsAre("type: must be individual or company"));
  EXPECT_THAT((*rows)[4].errors, ElementsAre("row: has 3 fields; the header has 6"));
}

TEST(CustomersCsv, CompanyRowsNeedACompanyName) {
  absl::StatusOr<std::vector<CsvCustomerRow>> rows =
      ParseCustomersCsv("first_name,last_name,email,type\nAna,Li,a@example.com,company\n");
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->front().errors,
              ElementsAre("company_name: is required for company customers"));
}

TEST(CustomersCsv, ByteOrderMarkAndOnlyRequiredColumns) {
  absl::StatusOr<std::vector<CsvCustomerRow>> rows =
      ParseCustomersCsv("\xEF\xBB\xBF" "email,first_name,last_name\nana@example.com,Ana,Li");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_THAT(*rows, SizeIs(1));
  EXPECT_THAT(rows->front().errors, IsEmpty());
  EXPECT_EQ(rows->front().email, "ana@example.com");
}

TEST(CustomersCsv, TheFileAsAWholeCanBeRefused) {
  auto code = [](absl::string_view csv, CsvLimits limits = {}) {
    return ParseCustomersCsv(csv, limits).status().code();
  };
  EXPECT_EQ(code(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("first_name,last_name\nAna,Li\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("first_name,last_name,email,notes\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("first_name,last_name,email,email\n"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("first_name,last_name,email\n\"Ana,Li,a@example.com\n"),
            absl::StatusCode::kInvalidArgument);
  // Strict mode: a quote inside an unquoted field is malformed.
  EXPECT_EQ(code("first_name,last_name,email\nA\"na,Li,a@example.com\n"),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("first_name,last_name,email\n\"Ana\"x,Li,a@example.com\n"),
            absl::StatusCode::kInvalidArgument);
  std::string many = "first_name,last_name,email\n";
  for (int i = 0; i < 11; ++i) many += "Ana,Li,a@example.com\n";
  EXPECT_EQ(code(many, CsvLimits{.max_rows = 10}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(many, CsvLimits{.max_rows = 11}), absl::StatusCode::kOk);
  EXPECT_EQ(code(many, CsvLimits{.max_bytes = 100}), absl::StatusCode::kInvalidArgument);

  absl::Status header = ParseCustomersCsv("first_name,notes\n").status();
  std::vector<FieldViolation> violations = FieldViolationsOf(header);
  EXPECT_THAT(violations, SizeIs(3)) << header;  // unknown notes, missing last_name and email
  for (const FieldViolation& v : violations) EXPECT_EQ(v.field, "csv");
}

TEST(CustomersCsv, HostileCellsAreRowErrorsNotCrashes) {
  std::string csv = "first_name,last_name,email\n";
  csv += std::string(1 << 20, 'a') + ",\xFF\xFE,<script>@x.com\n";
  csv += "\"Ana\x01\",Li,a@example.com\n";
  absl::StatusOr<std::vector<CsvCustomerRow>> rows = ParseCustomersCsv(csv);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_THAT(*rows, SizeIs(2));
  EXPECT_THAT((*rows)[0].errors, SizeIs(3));
  EXPECT_THAT((*rows)[1].errors, SizeIs(1));
}

}  // namespace
}  // namespace cowork::customers::domain
