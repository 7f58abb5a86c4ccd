// Bad input: empty, huge, malformed and hostile fields get INVALID_ARGUMENT with a field
// violation per bad field, never a crash (the service still answers afterwards), and nothing
// is written (listings unchanged, no new event on the topic).

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/status/field_errors.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::AccountsService;
using customers::v1::AddCustomerRequest;
using customers::v1::Customer;
using customers::v1::CustomersService;
using customers::v1::DirectoryService;
using ::testing::AnyOf;
using ::testing::IsEmpty;

// The fields named by the violations of `status`.
std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : FieldViolationsOf(status)) fields.push_back(v.field);
  return fields;
}

// True when a violation names `field` (as "field" or as a path ending in ".field", e.g.
// "customer.first_name" in an update).
bool Names(const absl::Status& status, const std::string& field) {
  for (const FieldViolation& v : FieldViolationsOf(status)) {
    if (v.field == field || absl::EndsWith(v.field, "." + field)) {
      if (v.description.empty()) return false;  // every violation says what is wrong
      return true;
    }
  }
  return false;
}

// INVALID_ARGUMENT naming exactly `fields` (each at least once, no other field).
void ExpectViolations(const absl::Status& status, const std::vector<std::string>& fields,
                      const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  for (const std::string& f : fields) {
    EXPECT_TRUE(Names(status, f)) << "no violation for " << f << " in " << status;
  }
  for (const std::string& named : FieldsOf(status)) {
    bool expected = false;
    for (const std::string& f : fields) {
      expected = expected || named == f || absl::EndsWith(named, "." + f);
    }
    EXPECT_TRUE(expected) << "unexpected violation for " << named << " in " << status;
  }
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 60)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  if (s.size() > 60) absl::StrAppend(&out, "...(", s.size(), " bytes)");
  return out;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(stubs(), "Sturdy Spaces");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
    auto good = AddCustomer(stubs(), admin(),
                            Individual(tenant_.location_id, "Greta", "Good", "greta@good.example"));
    ASSERT_TRUE(good.ok()) << good.status();
    good_ = *good;
    auto count = Count();
    ASSERT_TRUE(count.ok()) << count.status();
    count_before_ = *count;
    auto watch = EventWatch::Begin(*suite_, tenant_);
    ASSERT_TRUE(watch.ok()) << watch.status();
    watch_.emplace(std::move(*watch));
  }

  // The service is alive, answers, and nothing was written.
  void TearDown() override {
    if (!suite_ || !watch_.has_value()) return;
    EXPECT_TRUE(suite_->customers().Running()) << "the service died:\n"
                                               << suite_->customers().LogTail();
    auto good = GetCustomer(stubs(), admin(), good_.customer_id());
    ASSERT_TRUE(good.ok()) << "the service no longer answers: " << good.status();
    EXPECT_EQ(good->first_name(), "Greta");
    EXPECT_EQ(good->last_name(), "Good");
    EXPECT_EQ(good->email(), "greta@good.example");
    auto written = watch_->WrittenSince();
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_THAT(*written, IsEmpty()) << "refused input left events";
    auto count = Count();
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, count_before_ + watch_->markers()) << "customers were added besides markers";
  }

  testing::CustomersStubs& stubs() { return suite_->stubs(); }
  const std::string& admin() { return tenant_.admin_token; }

  absl::StatusOr<size_t> Count() {
    auto all = ListAllCustomers(stubs(), admin(), {});
    if (!all.ok()) return all.status();
    return all->size();
  }

  absl::Status Add(AddCustomerRequest request) {
    return AddCustomer(stubs(), admin(), std::move(request)).status();
  }

  AddCustomerRequest Valid() {
    return Individual(tenant_.location_id, "Valid", "Person", "valid@person.example");
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
  Customer good_;
  size_t count_before_ = 0;
  std::optional<EventWatch> watch_;
};

TEST_F(BadInput, EmptyFieldsAreNamedAllAtOnce) {
  AddCustomerRequest empty;
  empty.set_request_id(testing::NewRequestId());
  absl::Status s = Add(empty);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  for (const char* f : {"first_name", "last_name", "email", "home_location_id"}) {
    EXPECT_TRUE(Names(s, f)) << f << " not named in " << s;
  }

  AddCustomerRequest blank = Individual(tenant_.location_id, "", "", "");
  ExpectViolations(Add(blank), {"first_name", "last_name", "email"}, "empty names and email");
  blank = Individual(tenant_.location_id, "   ", " ", "  ");
  ExpectViolations(Add(blank), {"first_name", "last_name", "email"}, "blank names and email");
}

TEST_F(BadInput, HugeFieldsAreRefused) {
  const std::string mb_a(1 << 20, 'a');
  const std::string mb_b(1 << 20, 'b');
  AddCustomerRequest huge = Individual(tenant_.location_id, mb_a, mb_b,
                                       absl::StrCat(mb_a, "@huge.example"));
  absl::Status s = Add(huge);
  ExpectViolations(s, {"first_name", "last_name", "email"}, "1 MB fields");
  // The answer does not echo the megabytes back.
  EXPECT_LT(s.message().size(), 64u * 1024) << "error message of " << s.message().size() << " bytes";

  AddCustomerRequest phone = Valid();
  phone.set_phone(std::string(1 << 20, '1'));
  ExpectViolations(Add(phone), {"phone"}, "1 MB phone");

  AddCustomerRequest company = Company(tenant_.location_id, std::string(1 << 20, 'C'), "Valid",
                                       "Person", "valid@person.example");
  ExpectViolations(Add(company), {"company_name"}, "1 MB company name");
}

TEST_F(BadInput, ControlCharactersAndNulBytesAreRefused) {
  const std::vector<std::string> hostile = {
      "Ana\x07",                   // bell
      "Ana\nMaria",                // newline (log injection)
      "Ana\tMaria",                // tab
      "\x1b[31mRed",               // ANSI escape
      std::string("Ana\0Maria", 9),  // NUL
      "Ana\x7f",                   // DEL
      "Ana\u200bMaria",            // zero-width space (format character)
      "Ana\u202eairaM",            // right-to-left override
  };
  for (const std::string& value : hostile) {
    AddCustomerRequest first = Valid();
    first.set_first_name(value);
    ExpectViolations(Add(first), {"first_name"}, "first_name=" + Printable(value));
    AddCustomerRequest last = Valid();
    last.set_last_name(value);
    ExpectViolations(Add(last), {"last_name"}, "last_name=" + Printable(value));
    AddCustomerRequest email = Valid();
    email.set_email(value + "@x.example");
    ExpectViolations(Add(email), {"email"}, "email=" + Printable(value));
  }
}

TEST_F(BadInput, SqlAndScriptFragmentsAreRefused) {
  struct Case {
    std::string first, last, email;
    std::vector<std::string> bad;
  };
  const std::vector<Case> cases = {
      {"Robert'); DROP TABLE customers;--", "Tables", "bobby@tables.example", {"first_name"}},
      {"Bobby", "Robert'); DROP TABLE--", "bobby@tables.example", {"last_name"}},
      {"<script>alert(1)</script>", "Xss", "xss@script.example", {"first_name"}},
      {"Img", "<img src=x onerror=alert(1)>", "img@script.example", {"last_name"}},
      {"Quote", "O'Brien", "x'; DROP TABLE customers;--@example.com", {"email"}},
      {"Angle", "Brackets", "<script>@example.com", {"email"}},
      {"' OR '1'='1", "\" OR \"\"=\"", "' OR 1=1 --", {"first_name", "last_name", "email"}},
      {"${jndi:ldap://x}", "{{7*7}}", "a@b.example", {"first_name", "last_name"}},
  };
  for (const Case& c : cases) {
    ExpectViolations(Add(Individual(tenant_.location_id, c.first, c.last, c.email)), c.bad,
                     absl::StrCat(c.first, " | ", c.last, " | ", c.email));
  }
}

TEST_F(BadInput, InvalidUtf8IsRefused) {
  // proto3 strings must be UTF-8; the client library sends these bytes anyway (it only logs),
  // and the service must answer INVALID_ARGUMENT, not fail or crash.
  const std::vector<std::string> invalid = {"\xff\xfe", "Jos\xc3", "Ren\xe9", "\xc0\xaf",
                                            "\xed\xa0\x80"};  // surrogate
  for (const std::string& value : invalid) {
    AddCustomerRequest first = Valid();
    first.set_first_name(value);
    absl::Status s = Add(first);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << "first_name=" << Printable(value) << ": " << s;
    EXPECT_TRUE(Names(s, "first_name")) << "first_name=" << Printable(value) << ": " << s;
  }
  AddCustomerRequest email = Valid();
  email.set_email("bad\x80@example.com");
  absl::Status s = Add(email);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(Names(s, "email")) << s;
}

TEST_F(BadInput, NamesEmailsAndTypesFollowTheRules) {
  // SPEC: first name at least 2 characters, last name at least 1, no digits, no special
  // characters; letters of any alphabet, spaces, hyphens and apostrophes are fine.
  ExpectViolations(Add(Individual(tenant_.location_id, "A", "Ok", "a@ok.example")), {"first_name"},
                   "one-letter first name");
  ExpectViolations(Add(Individual(tenant_.location_id, "R2D2", "Smith#", "r2@ok.example")),
                   {"first_name", "last_name"}, "digits and #");
  for (const char* email : {"not-an-email", "a@", "@b.example", "a@@b.example", "a b@c.example",
                            "a@b", "a@.example"}) {
    ExpectViolations(Add(Individual(tenant_.location_id, "Eve", "Mail", email)), {"email"},
                     std::string("email=") + email);
  }
  AddCustomerRequest company = Valid();
  company.set_type(customers::v1::COMPANY);
  ExpectViolations(Add(company), {"company_name"}, "company without a name");
  AddCustomerRequest all_bad = Individual(tenant_.location_id, "1", "2", "3");
  ExpectViolations(Add(all_bad), {"first_name", "last_name", "email"}, "all bad at once");
  // The rules accept what they should (checked without writing: a duplicate email is refused
  // after validation, so these only pass validation).
  for (const char* first : {"Zoë", "O'Brien", "Jean-Luc", "李明", "Anne Marie"}) {
    absl::Status s = Add(Individual(tenant_.location_id, first, "Good", "greta@good.example"));
    EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << first << ": " << s;
  }
}

TEST_F(BadInput, UpdatesAreValidatedToo) {
  customers::v1::UpdateCustomerRequest update;
  update.set_request_id(testing::NewRequestId());
  update.mutable_customer()->set_customer_id(good_.customer_id());
  update.mutable_customer()->set_first_name("<b>Greta</b>");
  update.mutable_customer()->set_email("nope");
  update.mutable_customer()->set_last_name(std::string(1 << 20, 'g'));
  update.mutable_update_mask()->add_paths("first_name");
  update.mutable_update_mask()->add_paths("email");
  update.mutable_update_mask()->add_paths("last_name");
  ExpectViolations(
      testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, update, admin())
          .status(),
      {"first_name", "email", "last_name"}, "bad update");
  // A mask naming a field that does not exist or may not be set by hand.
  update.set_request_id(testing::NewRequestId());
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("kind");
  update.mutable_update_mask()->add_paths("no_such_field");
  absl::Status s =
      testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, update, admin())
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST_F(BadInput, HostileIdsAreNotFoundOrInvalid) {
  for (const std::string& id :
       {std::string("' OR 1=1 --"), std::string("../../etc/passwd"), std::string("c-\n"),
        std::string(1 << 20, 'c'), std::string("\0", 1), std::string("*"), std::string("%"),
        std::string("c-1/../x")}) {
    auto got = GetCustomer(stubs(), admin(), id);
    EXPECT_THAT(got.status().code(),
                AnyOf(absl::StatusCode::kNotFound, absl::StatusCode::kInvalidArgument))
        << Printable(id) << ": " << got.status();
    customers::v1::SuspendCustomerRequest suspend;
    suspend.set_request_id(testing::NewRequestId());
    suspend.set_customer_id(id);
    auto s = testing::Call(*stubs().customers, &CustomersService::Stub::SuspendCustomer, suspend,
                           admin());
    EXPECT_THAT(s.status().code(),
                AnyOf(absl::StatusCode::kNotFound, absl::StatusCode::kInvalidArgument))
        << Printable(id) << ": " << s.status();
  }
  // A customer at a location that does not exist.
  absl::Status s = Add(Individual("../../etc/passwd", "Valid", "Person", "valid@person.example"));
  EXPECT_THAT(s.code(), AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
                              absl::StatusCode::kFailedPrecondition))
      << s;
}

TEST_F(BadInput, LocationsAndRegistrationAreValidated) {
  customers::v1::CreateLocationRequest location;
  location.set_request_id(testing::NewRequestId());
  location.set_name("");
  location.set_time_zone("Mars/Olympus_Mons");
  location.set_currency("euro");
  ExpectViolations(testing::Call(*stubs().directory, &DirectoryService::Stub::CreateLocation,
                                 location, admin())
                       .status(),
                   {"name", "time_zone", "currency"}, "bad location");

  customers::v1::RegisterRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_operator_id(tenant_.operator_id);
  r.set_location_id(tenant_.location_id);
  r.set_first_name("<script>");
  r.set_last_name("Portal");
  r.set_email("not-an-email");
  r.set_password("short");
  ExpectViolations(
      testing::Call(*stubs().accounts, &AccountsService::Stub::Register, r, "").status(),
      {"first_name", "email", "password"}, "bad registration");
  r.set_request_id(testing::NewRequestId());
  r.set_first_name("Paula");
  r.set_email("paula@portal.example");
  for (const std::string& password :
       {std::string("onlyletterslongenough"), std::string(1 << 20, 'p'), std::string("")}) {
    r.set_request_id(testing::NewRequestId());
    r.set_password(password);
    ExpectViolations(
        testing::Call(*stubs().accounts, &AccountsService::Stub::Register, r, "").status(),
        {"password"}, "password " + Printable(password));
  }
}

TEST_F(BadInput, HostileCsvImportsNothing) {
  const std::string csv = absl::StrJoin(
      {std::string("first_name,last_name,email"),
       std::string("<script>,Xss,xss@csv.example"),
       std::string("Robert'); DROP TABLE--,Tables,bobby@csv.example"),
       std::string("Bell\x07,Ring,bell@csv.example"),
       std::string("Nul\0Byte,Row,nul@csv.example", 28),
       std::string("Too,Many,cols@csv.example,extra,columns"),
       std::string("\"Unterminated,Quote,quote@csv.example"),
       absl::StrCat(std::string(1 << 20, 'h'), ",Huge,huge@csv.example")},
      "\n");
  customers::v1::ImportCustomersRequest request;
  request.set_request_id(testing::NewRequestId());
  request.set_location_id(tenant_.location_id);
  request.set_csv(csv);
  auto response = testing::Call(*stubs().customers, &CustomersService::Stub::ImportCustomers,
                                request, admin());
  if (response.ok()) {
    EXPECT_EQ(response->imported(), 0) << response->ShortDebugString().substr(0, 2000);
    EXPECT_EQ(response->already_imported(), 0);
    EXPECT_GE(response->rejected(), 1);
    for (const auto& row : response->rows()) {
      EXPECT_NE(row.outcome(), customers::v1::ImportCustomersResponse::Row::IMPORTED)
          << "row " << row.row();
      if (row.outcome() == customers::v1::ImportCustomersResponse::Row::REJECTED) {
        EXPECT_FALSE(row.errors().empty()) << "row " << row.row() << " rejected without a reason";
      }
    }
  } else {
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  }
}

}  // namespace
}  // namespace cowork::e2e
