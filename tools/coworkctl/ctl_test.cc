// coworkctl without a server: flags -> requests, output formats, errors and exit codes.
// A fake Transport records what each command sends and answers with canned responses.
#include "tools/coworkctl/ctl.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cowork/billing/v1/billing.pb.h"
#include "cowork/bookings/v1/bookings.pb.h"
#include "cowork/checkins/v1/checkins.pb.h"
#include "cowork/common/v1/quarantine.pb.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "cowork/customers/v1/customers.pb.h"
#include "cowork/helpdesk/v1/helpdesk.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "libs/server/grpc_status.h"
#include "libs/status/field_errors.h"
#include "tools/coworkctl/billing_commands.h"
#include "tools/coworkctl/bookings_commands.h"
#include "tools/coworkctl/checkins_commands.h"
#include "tools/coworkctl/contracts_commands.h"
#include "tools/coworkctl/customers_commands.h"
#include "tools/coworkctl/helpdesk_commands.h"
#include "tools/coworkctl/quarantine_commands.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::customers::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Sent {
  std::string address;
  std::string method;
  std::string request_type;
  std::string request;  // serialized
};

// Answers per method: fills the response or returns an error.
using Handler = std::function<grpc::Status(const google::protobuf::Message& request,
                                           google::protobuf::Message* response)>;

struct Recorder {
  std::vector<Sent> sent;
  std::map<std::string, Handler> handlers;
};

class FakeTransport final : public Transport {
 public:
  FakeTransport(Recorder& recorder, std::string address)
      : recorder_(recorder), address_(std::move(address)) {}
  grpc::Status Call(const std::string& method, grpc::ClientContext& context,
                    const google::protobuf::Message& request,
                    google::protobuf::Message* response) override {
    recorder_.sent.push_back(
        {address_, method, request.GetDescriptor()->full_name(), request.SerializeAsString()});
    auto it = recorder_.handlers.find(method);
    if (it == recorder_.handlers.end()) return grpc::Status::OK;
    return it->second(request, response);
  }

 private:
  Recorder& recorder_;
  std::string address_;
};

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result RunCtl(Recorder& recorder, std::vector<std::string> args, const std::string& stdin_text = "") {
  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in(stdin_text);
  Context ctx(out, err, in);
  CLI::App app{"coworkctl"};
  app.require_subcommand(1);
  ctx.AddGlobalOptions(app);
  AddCustomersCommands(app, ctx);
  AddContractsCommands(app, ctx);
  AddBookingsCommands(app, ctx);
  AddCheckinsCommands(app, ctx);
  AddHelpdeskCommands(app, ctx);
  AddBillingCommands(app, ctx);
  AddQuarantineCommands(app, ctx);
  args.insert(args.begin(), "coworkctl");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  Result r;
  r.code = ctx.Run(app, static_cast<int>(argv.size()), argv.data(),
                   [&recorder](const std::string& address, const server::ClientTls&)
                       -> absl::StatusOr<std::unique_ptr<Transport>> {
                     return std::make_unique<FakeTransport>(recorder, address);
                   });
  r.out = out.str();
  r.err = err.str();
  return r;
}

template <typename T>
T LastRequest(const Recorder& recorder) {
  T request;
  EXPECT_FALSE(recorder.sent.empty());
  if (!recorder.sent.empty()) {
    EXPECT_EQ(recorder.sent.back().request_type, T::descriptor()->full_name());
    EXPECT_TRUE(request.ParseFromString(recorder.sent.back().request));
  }
  return request;
}

template <typename T>
Handler Respond(T response) {
  return [response](const google::protobuf::Message&, google::protobuf::Message* out) {
    out->CopyFrom(response);
    return grpc::Status::OK;
  };
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// The environment must not leak into these tests.
class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("COWORK_TOKEN");
    unsetenv("COWORK_CUSTOMERS_ADDR");
    unsetenv("COWORK_CONTRACTS_ADDR");
    unsetenv("COWORK_HELPDESK_ADDR");
    unsetenv("COWORK_BILLING_ADDR");
    unsetenv("COWORK_PASSWORD");
  }
  Recorder recorder_;
};

TEST_F(CtlTest, AddCustomerMapsFlagsToTheRequest) {
  Result r = RunCtl(recorder_, {"--customers-addr", "127.0.0.1:6000", "--request-id", "rid-1",
                                "customers", "add", "--type", "company", "--location", "l-1",
                                "--first-name", "Ana", "--last-name", "Gómez", "--email",
                                "ana@example.com", "--company-name", "Acme", "--send-welcome"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 1u);
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:6000");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.customers.v1.CustomersService/AddCustomer");
  auto req = LastRequest<v1::AddCustomerRequest>(recorder_);
  EXPECT_EQ(req.request_id(), "rid-1");
  EXPECT_EQ(req.type(), v1::COMPANY);
  EXPECT_EQ(req.home_location_id(), "l-1");
  EXPECT_EQ(req.first_name(), "Ana");
  EXPECT_EQ(req.last_name(), "Gómez");
  EXPECT_EQ(req.email(), "ana@example.com");
  EXPECT_EQ(req.company_name(), "Acme");
  EXPECT_TRUE(req.send_welcome_message());
}

TEST_F(CtlTest, GlobalOptionsMayFollowTheCommand) {
  v1::Customer customer;
  customer.set_customer_id("c-1");
  recorder_.handlers["/cowork.customers.v1.CustomersService/GetCustomer"] = Respond(customer);
  Result r = RunCtl(recorder_, {"customers", "get", "c-1", "-o", "json", "--customers-addr",
                                "127.0.0.1:6001", "--timeout", "2s"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent.back().address, "127.0.0.1:6001");
  EXPECT_THAT(r.out, StartsWith("{\"customer_id\":\"c-1\""));
}

TEST_F(CtlTest, AddressComesFromTheEnvironmentWhenNoFlag) {
  setenv("COWORK_CUSTOMERS_ADDR", "127.0.0.1:7777", 1);
  Result r = RunCtl(recorder_, {"customers", "get", "c-1"});
  unsetenv("COWORK_CUSTOMERS_ADDR");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 1u);
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:7777");
  EXPECT_EQ(LastRequest<v1::GetCustomerRequest>(recorder_).customer_id(), "c-1");
}

TEST_F(CtlTest, DefaultTypeIsIndividualAndRequestIdIsAFreshUuidPerCall) {
  ASSERT_EQ(RunCtl(recorder_, {"customers", "add", "--location", "l-1"}).code, kExitOk);
  ASSERT_EQ(RunCtl(recorder_, {"customers", "add", "--location", "l-1"}).code, kExitOk);
  ASSERT_EQ(recorder_.sent.size(), 2u);
  v1::AddCustomerRequest first;
  v1::AddCustomerRequest second;
  ASSERT_TRUE(first.ParseFromString(recorder_.sent[0].request));
  ASSERT_TRUE(second.ParseFromString(recorder_.sent[1].request));
  EXPECT_EQ(first.type(), v1::INDIVIDUAL);
  EXPECT_FALSE(first.send_welcome_message());
  EXPECT_THAT(first.request_id(),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"));
  EXPECT_NE(first.request_id(), second.request_id());
}

TEST_F(CtlTest, UpdateSendsOnlyTheGivenFieldsInTheMask) {
  Result r = RunCtl(recorder_, {"customers", "update", "c-9", "--email", "new@example.com",
                                "--location", "l-2"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<v1::UpdateCustomerRequest>(recorder_);
  EXPECT_EQ(req.customer().customer_id(), "c-9");
  EXPECT_EQ(req.customer().email(), "new@example.com");
  EXPECT_EQ(req.customer().home_location_id(), "l-2");
  EXPECT_THAT(req.update_mask().paths(), ElementsAre("email", "home_location_id"));
}

TEST_F(CtlTest, UpdateWithNothingToChangeIsAUsageError) {
  Result r = RunCtl(recorder_, {"customers", "update", "c-9"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("nothing to update"));
  EXPECT_TRUE(recorder_.sent.empty());
}

TEST_F(CtlTest, UsageErrorsExitWithTwoAndSendNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                  // no command
      {"customers"},                                       // no subcommand
      {"customers", "fly"},                                // unknown subcommand
      {"customers", "add"},                                // --location missing
      {"customers", "add", "--location", "l", "--type", "robot"},  // bad enum
      {"customers", "list", "--kind", "customer_kind_unspecified"},  // the zero value
      {"--output", "yaml", "customers", "get", "c-1"},     // bad output
      {"--timeout", "soon", "customers", "get", "c-1"},    // bad timeout
      {"--timeout", "-1s", "customers", "get", "c-1"},     // negative timeout
      {"customers", "erase", "c-1"},                       // erase without --yes
      {"customers", "import", "--location", "l", "--file", "/nonexistent/x.csv"},
      {"accounts", "sign-in", "--operator", "o", "--email", "e@x.io"},  // no password
      {"teams", "sharing", "t-1"},                         // nothing to switch
      {"teams", "sharing", "t-1", "--access", "maybe"},
  };
  for (const auto& args : cases) {
    Recorder recorder;
    Result r = RunCtl(recorder, args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << absl::StrJoin(args, " ");
    EXPECT_TRUE(recorder.sent.empty()) << absl::StrJoin(args, " ");
  }
}

TEST_F(CtlTest, HelpExitsWithZero) {
  Result r = RunCtl(recorder_, {"customers", "add", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("--location"));
}

TEST_F(CtlTest, ErrorsPrintCodeMessageAndEveryFieldViolation) {
  FieldErrors errors;
  errors.Add("first_name", "must not be empty");
  errors.Add("email", "is not an email address");
  recorder_.handlers["/cowork.customers.v1.CustomersService/AddCustomer"] =
      [&](const google::protobuf::Message&, google::protobuf::Message*) {
        return server::ToGrpcStatus(errors.ToStatus());
      };
  Result r = RunCtl(recorder_, {"customers", "add", "--location", "l-1"});
  EXPECT_EQ(r.code, kExitCallFailed);
  EXPECT_TRUE(r.out.empty());
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_THAT(lines[0], StartsWith("error: INVALID_ARGUMENT: "));
  EXPECT_EQ(lines[1], "  first_name: must not be empty");
  EXPECT_EQ(lines[2], "  email: is not an email address");
}

TEST_F(CtlTest, ErrorWithoutDetailsIsOneLine) {
  recorder_.handlers["/cowork.customers.v1.CustomersService/GetCustomer"] =
      [](const google::protobuf::Message&, google::protobuf::Message*) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no customer c-404");
      };
  Result r = RunCtl(recorder_, {"customers", "get", "c-404"});
  EXPECT_EQ(r.code, kExitCallFailed);
  EXPECT_EQ(r.err, "error: NOT_FOUND: no customer c-404\n");
}

v1::Customer SampleCustomer(const std::string& id, const std::string& first) {
  v1::Customer c;
  c.set_customer_id(id);
  c.set_operator_id("o-1");
  c.set_home_location_id("l-1");
  c.set_type(v1::INDIVIDUAL);
  c.set_kind(v1::CONTACT);
  c.set_status(v1::ACTIVE);
  c.set_first_name(first);
  c.set_email(first + "@example.com");
  c.mutable_create_time()->set_seconds(1767225600);  // 2026-01-01T00:00:00Z
  return c;
}

TEST_F(CtlTest, JsonListPrintsOneObjectPerLineWithProtoFieldNames) {
  v1::ListCustomersResponse page;
  *page.add_customers() = SampleCustomer("c-1", "ana");
  *page.add_customers() = SampleCustomer("c-2", "bo");
  page.set_next_page_token("tok-2");
  recorder_.handlers["/cowork.customers.v1.CustomersService/ListCustomers"] = Respond(page);
  Result r = RunCtl(recorder_, {"-o", "json", "customers", "list", "--kind", "contact",
                                "--page-size", "2", "--name", "a"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  v1::Customer parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &parsed).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, page.customers(1)));
  EXPECT_THAT(lines[0], HasSubstr("\"customer_id\":\"c-1\""));
  EXPECT_THAT(lines[0], HasSubstr("\"has_user_account\":false"));  // defaults printed too
  EXPECT_EQ(r.err, "next_page_token: tok-2\n");
  auto req = LastRequest<v1::ListCustomersRequest>(recorder_);
  EXPECT_EQ(req.kind(), v1::CONTACT);
  EXPECT_EQ(req.page_size(), 2);
  EXPECT_EQ(req.name(), "a");
}

TEST_F(CtlTest, TableListAlignsColumns) {
  v1::ListCustomersResponse page;
  *page.add_customers() = SampleCustomer("c-1", "ana");
  *page.add_customers() = SampleCustomer("c-22", "bartholomew");
  recorder_.handlers["/cowork.customers.v1.CustomersService/ListCustomers"] = Respond(page);
  Result r = RunCtl(recorder_, {"customers", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("CUSTOMER_ID  TYPE        KIND     STATUS  FIRST_NAME"));
  EXPECT_THAT(lines[1], StartsWith("c-1          INDIVIDUAL  CONTACT  ACTIVE  ana          "));
  EXPECT_THAT(lines[2], StartsWith("c-22         INDIVIDUAL  CONTACT  ACTIVE  bartholomew  "));
  // The email column starts at the same offset in every row.
  EXPECT_EQ(lines[0].find("EMAIL"), lines[1].find("ana@"));
  EXPECT_EQ(lines[0].find("EMAIL"), lines[2].find("bartholomew@"));
}

TEST_F(CtlTest, AllFollowsPageTokensToTheEnd) {
  int calls = 0;
  recorder_.handlers["/cowork.customers.v1.DirectoryService/ListLocations"] =
      [&](const google::protobuf::Message& request, google::protobuf::Message* response) {
        const auto& req = static_cast<const v1::ListLocationsRequest&>(request);
        auto* resp = static_cast<v1::ListLocationsResponse*>(response);
        ++calls;
        const int page = req.page_token().empty() ? 0 : std::stoi(req.page_token());
        resp->add_locations()->set_location_id("l-" + std::to_string(page));
        if (page < 2) resp->set_next_page_token(std::to_string(page + 1));
        return grpc::Status::OK;
      };
  Result r = RunCtl(recorder_, {"-o", "json", "locations", "list", "--all"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(calls, 3);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[2], HasSubstr("\"location_id\":\"l-2\""));
  EXPECT_TRUE(r.err.empty());
}

TEST_F(CtlTest, SingleResourceTableFlattensNestedMessages) {
  v1::Session session;
  session.set_token("tok");
  session.mutable_expire_time()->set_seconds(1767225600);
  *session.mutable_customer() = SampleCustomer("c-1", "ana");
  recorder_.handlers["/cowork.customers.v1.AccountsService/SignIn"] = Respond(session);
  Result r = RunCtl(recorder_, {"accounts", "sign-in", "--operator", "o-1", "--email",
                                "ana@example.com", "--password-stdin"},
                    "s3cret pass\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<v1::SignInRequest>(recorder_);
  EXPECT_EQ(req.password(), "s3cret pass");
  std::vector<std::string> lines = Lines(r.out);
  using ::testing::Contains;
  using ::testing::MatchesRegex;
  EXPECT_THAT(lines, Contains(MatchesRegex("token +tok")));
  EXPECT_THAT(lines, Contains(MatchesRegex("expire_time +2026-01-01T00:00:00Z")));
  EXPECT_THAT(lines, Contains(MatchesRegex("customer\\.customer_id +c-1")));
  EXPECT_THAT(lines, Contains(MatchesRegex("customer\\.create_time +2026-01-01T00:00:00Z")));
  // Values start in one column.
  EXPECT_EQ(r.out.find("tok\n") - r.out.find("token"),
            r.out.find("c-1\n") - r.out.find("customer.customer_id"));
}

TEST_F(CtlTest, ImportSendsTheFileAndPrintsRows) {
  const std::string path = ::testing::TempDir() + "/coworkctl_import.csv";
  {
    std::ofstream f(path);
    f << "first_name,last_name,email\nAna,Gómez,ana@example.com\n";
  }
  v1::ImportCustomersResponse response;
  auto* row = response.add_rows();
  row->set_row(1);
  row->set_outcome(v1::ImportCustomersResponse::Row::IMPORTED);
  row->set_customer_id("c-1");
  auto* bad = response.add_rows();
  bad->set_row(2);
  bad->set_outcome(v1::ImportCustomersResponse::Row::REJECTED);
  bad->add_errors("email: is not an email address");
  response.set_imported(1);
  response.set_rejected(1);
  recorder_.handlers["/cowork.customers.v1.CustomersService/ImportCustomers"] = Respond(response);
  Result r = RunCtl(recorder_, {"customers", "import", "--location", "l-1", "--file", path});
  std::remove(path.c_str());
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<v1::ImportCustomersRequest>(recorder_);
  EXPECT_EQ(req.csv(), "first_name,last_name,email\nAna,Gómez,ana@example.com\n");
  EXPECT_EQ(req.location_id(), "l-1");
  EXPECT_THAT(r.out, HasSubstr("rows:\nROW  OUTCOME   CUSTOMER_ID  ERRORS\n"
                               "1    IMPORTED  c-1\n"
                               "2    REJECTED               email: is not an email address\n"));
  EXPECT_THAT(r.out, HasSubstr("imported          1\n"));
}

TEST_F(CtlTest, SharingKeepsSwitchesNotGiven) {
  v1::Team team;
  team.set_team_id("t-1");
  team.set_share_booking_credit(true);
  team.set_share_printing_credit(false);
  team.set_share_access(true);
  recorder_.handlers["/cowork.customers.v1.TeamsService/GetTeam"] = Respond(team);
  Result r = RunCtl(recorder_, {"teams", "sharing", "t-1", "--printing-credit", "true",
                                "--access", "false"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 2u);
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.customers.v1.TeamsService/GetTeam");
  auto req = LastRequest<v1::UpdateTeamSharingRequest>(recorder_);
  EXPECT_EQ(req.team_id(), "t-1");
  EXPECT_TRUE(req.share_booking_credit());
  EXPECT_TRUE(req.share_printing_credit());
  EXPECT_FALSE(req.share_access());
}

TEST_F(CtlTest, SharingWithEverySwitchDoesNotRead) {
  Result r = RunCtl(recorder_, {"teams", "sharing", "t-1", "--booking-credit", "false",
                                "--printing-credit", "true", "--access", "true"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 1u);
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.customers.v1.TeamsService/UpdateTeamSharing");
}

// Every command reaches a method whose request and response types match its definition
// (a mismatch fails the call with an INTERNAL "coworkctl bug" error, exit 1).
TEST_F(CtlTest, EveryCommandCallsAnExistingMethod) {
  const std::string csv = ::testing::TempDir() + "/coworkctl_every.csv";
  { std::ofstream(csv) << "first_name\nAna\n"; }
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"operators", "create", "--name", "Op"}, "DirectoryService/CreateOperator"},
      {{"locations", "create", "--name", "L", "--time-zone", "Europe/Madrid", "--currency",
        "EUR"},
       "DirectoryService/CreateLocation"},
      {{"locations", "get", "l-1"}, "DirectoryService/GetLocation"},
      {{"locations", "list"}, "DirectoryService/ListLocations"},
      {{"locations", "update", "l-1", "--name", "N"}, "DirectoryService/UpdateLocation"},
      {{"customers", "add", "--location", "l-1"}, "CustomersService/AddCustomer"},
      {{"customers", "get", "c-1"}, "CustomersService/GetCustomer"},
      {{"customers", "list"}, "CustomersService/ListCustomers"},
      {{"customers", "update", "c-1", "--phone", "+34600000000"},
       "CustomersService/UpdateCustomer"},
      {{"customers", "change-type", "c-1", "--type", "company", "--company-name", "A"},
       "CustomersService/ChangeCustomerType"},
      {{"customers", "suspend", "c-1"}, "CustomersService/SuspendCustomer"},
      {{"customers", "reactivate", "c-1"}, "CustomersService/ReactivateCustomer"},
      {{"customers", "create-account", "c-1"}, "CustomersService/CreateUserAccount"},
      {{"customers", "import", "--location", "l-1", "--file", csv},
       "CustomersService/ImportCustomers"},
      {{"customers", "erase", "c-1", "--yes"}, "CustomersService/EraseCustomer"},
      {{"teams", "create", "--location", "l-1", "--name", "T", "--member", "c-1", "--member",
        "c-2"},
       "TeamsService/CreateTeam"},
      {{"teams", "get", "t-1"}, "TeamsService/GetTeam"},
      {{"teams", "list", "--member", "c-1"}, "TeamsService/ListTeams"},
      {{"teams", "add-member", "t-1", "c-1"}, "TeamsService/AddTeamMember"},
      {{"teams", "remove-member", "t-1", "c-1"}, "TeamsService/RemoveTeamMember"},
      {{"teams", "set-paying-member", "t-1"}, "TeamsService/SetPayingMember"},
      {{"teams", "sharing", "t-1", "--access", "true"}, "TeamsService/UpdateTeamSharing"},
      {{"accounts", "register", "--operator", "o", "--location", "l", "--email", "a@b.io",
        "--password", "pw-pw-pw-pw"},
       "AccountsService/Register"},
      {{"accounts", "sign-in", "--operator", "o", "--email", "a@b.io", "--password", "pw"},
       "AccountsService/SignIn"},
      {{"accounts", "change-password", "--current-password", "a", "--new-password", "b"},
       "AccountsService/ChangePassword"},
      {{"accounts", "sign-out"}, "AccountsService/SignOut"},
  };
  for (const auto& [args, method] : cases) {
    for (const char* format : {"table", "json"}) {
      Recorder recorder;
      std::vector<std::string> full = {"--output", format};
      full.insert(full.end(), args.begin(), args.end());
      Result r = RunCtl(recorder, full);
      EXPECT_EQ(r.code, kExitOk) << absl::StrJoin(full, " ") << "\n" << r.err;
      ASSERT_FALSE(recorder.sent.empty()) << absl::StrJoin(full, " ");
      EXPECT_EQ(recorder.sent.back().method, "/cowork.customers.v1." + method);
    }
  }
  std::remove(csv.c_str());
}

TEST_F(CtlTest, ChangePasswordWithSetupCodeNeedsOperatorAndEmail) {
  Result r = RunCtl(recorder_, {"accounts", "change-password", "--setup-code", "ABCD",
                                "--new-password", "x"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--setup-code needs --operator and --email"));
  r = RunCtl(recorder_, {"accounts", "change-password", "--setup-code", "ABCD", "--operator",
                         "o-1", "--email", "a@b.io", "--new-password-stdin"},
             "brand new\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<v1::ChangePasswordRequest>(recorder_);
  EXPECT_EQ(req.setup_code(), "ABCD");
  EXPECT_EQ(req.new_password(), "brand new");
  EXPECT_TRUE(req.current_password().empty());
}

// ---------------------------------------------------------------- contracts commands

namespace cv1 = ::cowork::contracts::v1;

TEST_F(CtlTest, CreateContractMapsFlagsAndGoesToTheContractsAddress) {
  Result r = RunCtl(recorder_, {"--contracts-addr", "127.0.0.1:6100", "--request-id", "rid-7",
                                "contracts", "create", "--customer", "c-1", "--plan", "pl-1",
                                "--start-date", "2026-05-01", "--end-date", "2027-02-28"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 1u);
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:6100");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.contracts.v1.ContractsService/CreateContract");
  auto req = LastRequest<cv1::CreateContractRequest>(recorder_);
  EXPECT_EQ(req.request_id(), "rid-7");
  EXPECT_EQ(req.customer_id(), "c-1");
  EXPECT_EQ(req.plan_id(), "pl-1");
  ASSERT_TRUE(req.has_start_date());
  EXPECT_EQ(req.start_date().year(), 2026);
  EXPECT_EQ(req.start_date().month(), 5);
  EXPECT_EQ(req.start_date().day(), 1);
  ASSERT_TRUE(req.has_end_date());
  EXPECT_EQ(req.end_date().year(), 2027);
  EXPECT_EQ(req.end_date().month(), 2);
  EXPECT_EQ(req.end_date().day(), 28);
}

// An absent date flag leaves the date unset (the server's "today" / "open-ended"), not a
// zero date the server would reject.
TEST_F(CtlTest, DatesNotGivenStayUnset) {
  ASSERT_EQ(RunCtl(recorder_, {"contracts", "create", "--customer", "c-1", "--plan", "pl-1"}).code,
            kExitOk);
  auto create = LastRequest<cv1::CreateContractRequest>(recorder_);
  EXPECT_FALSE(create.has_start_date());
  EXPECT_FALSE(create.has_end_date());
  ASSERT_EQ(RunCtl(recorder_, {"contracts", "cancel", "k-1"}).code, kExitOk);
  auto cancel = LastRequest<cv1::CancelContractRequest>(recorder_);
  EXPECT_EQ(cancel.contract_id(), "k-1");
  EXPECT_FALSE(cancel.has_end_date());
  ASSERT_EQ(RunCtl(recorder_, {"purchases", "cancel", "pu-1", "--end-date", "2026-06-30"}).code,
            kExitOk);
  auto purchase = LastRequest<cv1::CancelPurchaseRequest>(recorder_);
  EXPECT_EQ(purchase.purchase_id(), "pu-1");
  EXPECT_EQ(purchase.end_date().month(), 6);
  EXPECT_EQ(purchase.end_date().day(), 30);
}

TEST_F(CtlTest, ContractsAddressDefaultsAndComesFromTheEnvironment) {
  ASSERT_EQ(RunCtl(recorder_, {"plans", "get", "pl-1"}).code, kExitOk);
  ASSERT_EQ(RunCtl(recorder_, {"customers", "get", "c-1"}).code, kExitOk);
  setenv("COWORK_CONTRACTS_ADDR", "127.0.0.1:7778", 1);
  Result r = RunCtl(recorder_, {"plans", "get", "pl-2"});
  unsetenv("COWORK_CONTRACTS_ADDR");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(recorder_.sent.size(), 3u);
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50052");
  EXPECT_EQ(recorder_.sent[1].address, "127.0.0.1:50051");
  EXPECT_EQ(recorder_.sent[2].address, "127.0.0.1:7778");
  EXPECT_EQ(LastRequest<cv1::GetPlanRequest>(recorder_).plan_id(), "pl-2");
}

TEST_F(CtlTest, CreatePlanMapsPriceCycleAndCredit) {
  Result r = RunCtl(recorder_, {"plans", "create", "--location", "l-1", "--name", "Hot desk",
                                "--price-minor", "5000", "--cycle", "weekly",
                                "--booking-credit-minutes", "600"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<cv1::CreatePlanRequest>(recorder_);
  EXPECT_EQ(req.location_id(), "l-1");
  EXPECT_EQ(req.name(), "Hot desk");
  EXPECT_EQ(req.price_minor(), 5000);
  EXPECT_EQ(req.cycle(), cv1::WEEKLY);
  EXPECT_EQ(req.booking_credit_minutes(), 600);
  EXPECT_FALSE(req.request_id().empty());

  ASSERT_EQ(RunCtl(recorder_, {"plans", "create", "--location", "l-1", "--name", "Desk",
                               "--price-minor", "1"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<cv1::CreatePlanRequest>(recorder_).cycle(),
            cv1::BILLING_CYCLE_UNSPECIFIED);  // the server reads it as monthly

  ASSERT_EQ(RunCtl(recorder_, {"plans", "update-price", "pl-1", "--price-minor", "6500"}).code,
            kExitOk);
  auto update = LastRequest<cv1::UpdatePlanPriceRequest>(recorder_);
  EXPECT_EQ(update.plan_id(), "pl-1");
  EXPECT_EQ(update.price_minor(), 6500);
}

TEST_F(CtlTest, ProductKindTakesItsLowercaseNameWithADash) {
  Result r = RunCtl(recorder_, {"products", "create", "--location", "l-1", "--name", "Day pass",
                                "--price-minor", "1500", "--kind", "one-off"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto one_off = LastRequest<cv1::CreateProductRequest>(recorder_);
  EXPECT_EQ(one_off.kind(), cv1::ONE_OFF);
  EXPECT_EQ(one_off.cycle(), cv1::BILLING_CYCLE_UNSPECIFIED);
  EXPECT_EQ(one_off.price_minor(), 1500);
  EXPECT_EQ(one_off.name(), "Day pass");

  r = RunCtl(recorder_, {"products", "create", "--location", "l-1", "--name", "Locker",
                         "--price-minor", "900", "--kind", "recurring", "--cycle", "yearly"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto recurring = LastRequest<cv1::CreateProductRequest>(recorder_);
  EXPECT_EQ(recurring.kind(), cv1::RECURRING);
  EXPECT_EQ(recurring.cycle(), cv1::YEARLY);
}

TEST_F(CtlTest, PurchasesAndInvoicesMapTheirFlags) {
  ASSERT_EQ(RunCtl(recorder_, {"purchases", "buy", "--customer", "c-1", "--product", "pr-1",
                               "--quantity", "3"})
                .code,
            kExitOk);
  auto buy = LastRequest<cv1::BuyRequest>(recorder_);
  EXPECT_EQ(buy.customer_id(), "c-1");
  EXPECT_EQ(buy.product_id(), "pr-1");
  EXPECT_EQ(buy.quantity(), 3);

  ASSERT_EQ(RunCtl(recorder_, {"invoices", "void", "in-1", "--reason", "issued twice"}).code,
            kExitOk);
  auto voided = LastRequest<cv1::VoidInvoiceRequest>(recorder_);
  EXPECT_EQ(voided.invoice_id(), "in-1");
  EXPECT_EQ(voided.reason(), "issued twice");

  ASSERT_EQ(RunCtl(recorder_, {"invoices", "set-tax-rate", "--location", "l-1",
                               "--tax-rate-ppm", "210000"})
                .code,
            kExitOk);
  auto tax = LastRequest<cv1::SetTaxRateRequest>(recorder_);
  EXPECT_EQ(tax.location_id(), "l-1");
  EXPECT_EQ(tax.tax_rate_ppm(), 210000);

  ASSERT_EQ(RunCtl(recorder_, {"invoices", "account", "--customer", "c-1", "--location", "l-1"})
                .code,
            kExitOk);
  auto account = LastRequest<cv1::GetAccountRequest>(recorder_);
  EXPECT_EQ(account.customer_id(), "c-1");
  EXPECT_EQ(account.location_id(), "l-1");

  ASSERT_EQ(RunCtl(recorder_, {"invoices", "set-preference", "--customer", "c-1",
                               "--invoice-as-they-buy", "true"})
                .code,
            kExitOk);
  auto on = LastRequest<cv1::SetInvoicingPreferenceRequest>(recorder_);
  EXPECT_EQ(on.customer_id(), "c-1");
  EXPECT_TRUE(on.invoice_as_they_buy());
  ASSERT_EQ(RunCtl(recorder_, {"invoices", "set-preference", "--customer", "c-1",
                               "--invoice-as-they-buy", "false"})
                .code,
            kExitOk);
  EXPECT_FALSE(LastRequest<cv1::SetInvoicingPreferenceRequest>(recorder_).invoice_as_they_buy());

  ASSERT_EQ(RunCtl(recorder_, {"invoices", "list", "--location", "l-1", "--page-size", "5"}).code,
            kExitOk);
  auto list = LastRequest<cv1::ListInvoicesRequest>(recorder_);
  EXPECT_EQ(list.location_id(), "l-1");
  EXPECT_TRUE(list.customer_id().empty());
  EXPECT_EQ(list.page_size(), 5);
}

// A malformed date or enum stops the command before anything is sent, with a message that
// names the flag and says what it takes.
TEST_F(CtlTest, BadDatesAndEnumsNameTheFlag) {
  const std::vector<std::string> create = {"contracts", "create", "--customer", "c-1",
                                           "--plan", "pl-1"};
  struct Case {
    std::vector<std::string> args;
    std::string flag;
    std::string says;
  };
  auto with = [](std::vector<std::string> args, std::vector<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const std::vector<Case> cases = {
      {with(create, {"--start-date", "2026-13-01"}), "--start-date", "not a calendar day"},
      {with(create, {"--start-date", "2026-02-29"}), "--start-date", "not a calendar day"},
      {with(create, {"--end-date", "31/12/2026"}), "--end-date", "YYYY-MM-DD"},
      {with(create, {"--end-date", "2026-1-5"}), "--end-date", "YYYY-MM-DD"},
      {with(create, {"--start-date", "tomorrow"}), "--start-date", "YYYY-MM-DD"},
      {{"contracts", "cancel", "k-1", "--end-date", "2026-06-31"}, "--end-date",
       "not a calendar day"},
      {{"purchases", "cancel", "pu-1", "--end-date", "+2026-06-01"}, "--end-date",
       "YYYY-MM-DD"},
      {{"plans", "create", "--location", "l", "--name", "n", "--price-minor", "1", "--cycle",
        "daily"},
       "--cycle", "{monthly,weekly,yearly}"},
      {{"plans", "create", "--location", "l", "--name", "n", "--price-minor", "1", "--cycle",
        "billing_cycle_unspecified"},
       "--cycle", "{monthly,weekly,yearly}"},
      {{"products", "create", "--location", "l", "--name", "n", "--price-minor", "1", "--kind",
        "once"},
       "--kind", "{one-off,recurring}"},
      {{"invoices", "set-preference", "--customer", "c-1", "--invoice-as-they-buy", "yes"},
       "--invoice-as-they-buy", "true"},
      {{"plans", "create", "--location", "l", "--name", "n", "--price-minor", "lots"},
       "--price-minor", ""},
  };
  for (const Case& c : cases) {
    Recorder recorder;
    Result r = RunCtl(recorder, c.args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.flag)) << absl::StrJoin(c.args, " ");
    EXPECT_THAT(r.err, HasSubstr(c.says)) << absl::StrJoin(c.args, " ");
    EXPECT_TRUE(recorder.sent.empty()) << absl::StrJoin(c.args, " ");
  }
}

TEST_F(CtlTest, ContractsUsageErrorsSendNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"plans"},                                                      // no subcommand
      {"plans", "create", "--location", "l", "--name", "n"},          // no --price-minor
      {"plans", "list"},                                              // no --location
      {"plans", "update-price", "pl-1"},                              // no --price-minor
      {"contracts", "create", "--plan", "pl-1"},                      // no --customer
      {"contracts", "list"},                                          // neither
      {"contracts", "list", "--customer", "c", "--location", "l"},    // both
      {"products", "create", "--location", "l", "--name", "n", "--price-minor", "1"},  // kind
      {"purchases", "buy", "--customer", "c"},                        // no --product
      {"purchases", "buy", "--customer", "c", "--product", "p", "--quantity", "1.5"},
      {"invoices", "list"},                                           // neither
      {"invoices", "void", "in-1"},                                   // no --reason
      {"invoices", "set-tax-rate", "--location", "l"},                // no rate
      {"invoices", "set-preference", "--customer", "c"},              // no switch
  };
  for (const auto& args : cases) {
    Recorder recorder;
    Result r = RunCtl(recorder, args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << absl::StrJoin(args, " ");
    EXPECT_TRUE(recorder.sent.empty()) << absl::StrJoin(args, " ");
  }
}

TEST_F(CtlTest, ContractTablesShowDatesAsDays) {
  cv1::ListContractsResponse page;
  cv1::Contract* c = page.add_contracts();
  c->set_contract_id("k-1");
  c->set_customer_id("c-1");
  c->set_state(cv1::ACTIVE);
  c->mutable_start_date()->set_year(2026);
  c->mutable_start_date()->set_month(5);
  c->mutable_start_date()->set_day(1);
  recorder_.handlers["/cowork.contracts.v1.ContractsService/ListContracts"] = Respond(page);
  Result r = RunCtl(recorder_, {"contracts", "list", "--customer", "c-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("CONTRACT_ID  CUSTOMER_ID  PLAN_ID  LOCATION_ID  START_DATE"));
  EXPECT_THAT(lines[1], HasSubstr("2026-05-01"));
  EXPECT_EQ(lines[0].find("START_DATE"), lines[1].find("2026-05-01"));
  EXPECT_EQ(LastRequest<cv1::ListContractsRequest>(recorder_).customer_id(), "c-1");
}

TEST_F(CtlTest, EveryContractsCommandCallsAnExistingMethod) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"plans", "create", "--location", "l-1", "--name", "P", "--price-minor", "5000"},
       "PlansService/CreatePlan"},
      {{"plans", "get", "pl-1"}, "PlansService/GetPlan"},
      {{"plans", "list", "--location", "l-1"}, "PlansService/ListPlans"},
      {{"plans", "update-price", "pl-1", "--price-minor", "1"}, "PlansService/UpdatePlanPrice"},
      {{"contracts", "create", "--customer", "c-1", "--plan", "pl-1"},
       "ContractsService/CreateContract"},
      {{"contracts", "get", "k-1"}, "ContractsService/GetContract"},
      {{"contracts", "list", "--location", "l-1"}, "ContractsService/ListContracts"},
      {{"contracts", "cancel", "k-1"}, "ContractsService/CancelContract"},
      {{"products", "create", "--location", "l-1", "--name", "P", "--price-minor", "1",
        "--kind", "recurring"},
       "ProductsService/CreateProduct"},
      {{"products", "get", "pr-1"}, "ProductsService/GetProduct"},
      {{"products", "list"}, "ProductsService/ListProducts"},
      {{"purchases", "buy", "--customer", "c-1", "--product", "pr-1"},
       "PurchasesService/Buy"},
      {{"purchases", "get", "pu-1"}, "PurchasesService/GetPurchase"},
      {{"purchases", "list", "--customer", "c-1"}, "PurchasesService/ListPurchases"},
      {{"purchases", "cancel", "pu-1"}, "PurchasesService/CancelPurchase"},
      {{"invoices", "get", "in-1"}, "InvoicesService/GetInvoice"},
      {{"invoices", "list", "--customer", "c-1"}, "InvoicesService/ListInvoices"},
      {{"invoices", "pay", "in-1"}, "InvoicesService/PayInvoice"},
      {{"invoices", "void", "in-1", "--reason", "r"}, "InvoicesService/VoidInvoice"},
      {{"invoices", "account", "--customer", "c-1", "--location", "l-1"},
       "InvoicesService/GetAccount"},
      {{"invoices", "set-tax-rate", "--location", "l-1", "--tax-rate-ppm", "0"},
       "InvoicesService/SetTaxRate"},
      {{"invoices", "get-tax-rate", "--location", "l-1"}, "InvoicesService/GetTaxRate"},
      {{"invoices", "set-preference", "--customer", "c-1", "--invoice-as-they-buy", "true"},
       "InvoicesService/SetInvoicingPreference"},
  };
  for (const auto& [args, method] : cases) {
    for (const char* format : {"table", "json"}) {
      Recorder recorder;
      std::vector<std::string> full = {"--output", format};
      full.insert(full.end(), args.begin(), args.end());
      Result r = RunCtl(recorder, full);
      EXPECT_EQ(r.code, kExitOk) << absl::StrJoin(full, " ") << "\n" << r.err;
      ASSERT_FALSE(recorder.sent.empty()) << absl::StrJoin(full, " ");
      EXPECT_EQ(recorder.sent.back().method, "/cowork.contracts.v1." + method);
      EXPECT_EQ(recorder.sent.back().address, "127.0.0.1:50052");
    }
  }
}

// ---------------------------------------------------------------- helpers

TEST(CtlFormat, AlignColumnsPadsByCodePointsAndTrimsTrailingSpace) {
  EXPECT_EQ(AlignColumns({{"A", "B", "C"}, {"ñandú", "x", ""}, {"z", "yy", "w"}}),
            "A      B   C\n"
            "ñandú  x\n"
            "z      yy  w\n");
}

TEST(CtlFormat, FieldTextHandlesEnumsTimesRepeatedNestedAndControlCharacters) {
  v1::Team team;
  team.add_member_ids("c-1");
  team.add_member_ids("c-2");
  team.set_name("line\nbreak");
  EXPECT_EQ(FieldText(team, "member_ids"), "c-1,c-2");
  EXPECT_EQ(FieldText(team, "name"), "line\\x0abreak");
  EXPECT_EQ(FieldText(team, "create_time"), "");
  team.mutable_create_time()->set_seconds(60);
  EXPECT_EQ(FieldText(team, "create_time"), "1970-01-01T00:01:00Z");
  v1::Session session;
  EXPECT_EQ(FieldText(session, "customer.status"), "");  // unset message
  session.mutable_customer()->set_status(v1::SUSPENDED);
  EXPECT_EQ(FieldText(session, "customer.status"), "SUSPENDED");
  EXPECT_EQ(FieldText(session, "no_such_field"), "");
  ::cowork::contracts::v1::Contract contract;
  EXPECT_EQ(FieldText(contract, "end_date"), "");
  contract.mutable_end_date()->set_year(987);
  contract.mutable_end_date()->set_month(3);
  contract.mutable_end_date()->set_day(9);
  EXPECT_EQ(FieldText(contract, "end_date"), "0987-03-09");
}

TEST(CtlFormat, ParseTimeout) {
  EXPECT_EQ(*ParseTimeout("10s"), absl::Seconds(10));
  EXPECT_EQ(*ParseTimeout("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseTimeout("2"), absl::Seconds(2));
  EXPECT_FALSE(ParseTimeout("0").ok());
  EXPECT_FALSE(ParseTimeout("-3s").ok());
  EXPECT_FALSE(ParseTimeout("inf").ok());
  EXPECT_FALSE(ParseTimeout("later").ok());
}

TEST(CtlFormat, EnumValidatorAcceptsShortAndFullNamesButNotUnspecified) {
  CLI::Validator v = EnumValidator(v1::CustomerStatus_descriptor());
  std::string value = "suspended";
  EXPECT_EQ(v(value), "");
  EXPECT_EQ(value, "SUSPENDED");
  value = "Active";
  EXPECT_EQ(v(value), "");
  EXPECT_EQ(value, "ACTIVE");
  value = "customer_status_unspecified";
  EXPECT_NE(v(value), "");
  value = "gone";
  EXPECT_THAT(v(value), HasSubstr("{active,suspended}"));
  CLI::Validator kind = EnumValidator(::cowork::contracts::v1::ProductKind_descriptor());
  for (const char* typed : {"one-off", "ONE_OFF", "One-Off", "one_off"}) {
    value = typed;
    EXPECT_EQ(kind(value), "") << typed;
    EXPECT_EQ(value, "ONE_OFF") << typed;
  }
}

TEST(CtlFormat, FormatErrorEscapesControlCharacters) {
  EXPECT_EQ(FormatError(absl::NotFoundError("no\ncustomer")), "error: NOT_FOUND: no\\x0acustomer\n");
}

// ---------------------------------------------------------------- bookings commands

namespace bv1 = ::cowork::bookings::v1;

TEST_F(CtlTest, CreateResourceMapsTheSpecAndGoesToTheBookingsAddress) {
  Result r = RunCtl(recorder_, {"resources", "create", "--location", "l-1", "--name", "Room A",
                                "--kind", "meeting-room", "--capacity", "6",
                                "--hourly-price-minor", "2500", "--portal", "--max-minutes",
                                "240"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50053");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.bookings.v1.ResourcesService/CreateResource");
  auto req = LastRequest<bv1::CreateResourceRequest>(recorder_);
  EXPECT_EQ(req.location_id(), "l-1");
  EXPECT_EQ(req.spec().kind(), bv1::MEETING_ROOM);
  EXPECT_EQ(req.spec().capacity(), 6);
  EXPECT_EQ(req.spec().hourly_price_minor(), 2500);
  EXPECT_TRUE(req.spec().portal_bookable());
  EXPECT_EQ(req.spec().max_minutes(), 240);
  EXPECT_FALSE(req.request_id().empty());
}

TEST_F(CtlTest, BookingTimesAreRfc3339Instants) {
  Result r = RunCtl(recorder_, {"bookings", "create", "--resource", "rs-1", "--customer", "c-1",
                                "--start", "2026-06-01T10:00:00+02:00", "--end",
                                "2026-06-01T09:00:00Z"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto req = LastRequest<bv1::CreateBookingRequest>(recorder_);
  EXPECT_EQ(req.start_time().seconds(), req.end_time().seconds() - 3600);
  ASSERT_EQ(RunCtl(recorder_, {"bookings", "list", "--location", "l-1", "--day", "2026-10-25"})
                .code,
            kExitOk);
  auto list = LastRequest<bv1::ListBookingsRequest>(recorder_);
  EXPECT_EQ(list.location_id(), "l-1");
  EXPECT_EQ(list.day().day(), 25);
  ASSERT_EQ(RunCtl(recorder_, {"credit", "grant", "--customer", "c-1", "--location", "l-1",
                               "--minutes", "120"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<bv1::GrantCreditRequest>(recorder_).minutes(), 120);
}

TEST_F(CtlTest, BookingsUsageErrorsSendNothing) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"bookings", "create", "--resource", "rs-1", "--start", "tomorrow", "--end",
            "2026-06-01T09:00:00Z"},                                       // not an instant
           {"bookings", "list"},                                           // no one
           {"bookings", "list", "--resource", "r", "--customer", "c"},     // two
           {"bookings", "availability", "--from", "2026-06-01T00:00:00Z",
            "--to", "2026-06-02T00:00:00Z"},                               // nothing to ask
           {"resources", "create", "--location", "l", "--name", "x", "--kind", "sofa"},
       }) {
    Result r = RunCtl(recorder_, args);
    EXPECT_EQ(r.code, kExitUsage) << args[1] << ": " << r.err;
  }
  EXPECT_TRUE(recorder_.sent.empty());
}

// ---------------------------------------------------------------- checkins commands

namespace kv1 = ::cowork::checkins::v1;

TEST_F(CtlTest, CheckInMapsTheMethodAndGoesToTheCheckinsAddress) {
  Result r = RunCtl(recorder_, {"checkins", "in", "--customer", "c-1", "--location", "l-1",
                                "--method", "access-card"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50054");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.checkins.v1.CheckinsService/CheckIn");
  auto req = LastRequest<kv1::CheckInRequest>(recorder_);
  EXPECT_EQ(req.method(), kv1::ACCESS_CARD);
  ASSERT_EQ(RunCtl(recorder_, {"checkins", "in", "--location", "l-1"}).code, kExitOk);
  EXPECT_EQ(LastRequest<kv1::CheckInRequest>(recorder_).method(), kv1::MANUAL);
  ASSERT_EQ(RunCtl(recorder_, {"checkins", "list", "--location", "l-1", "--day", "2026-06-01"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<kv1::ListCheckinsRequest>(recorder_).day().month(), 6);
  EXPECT_EQ(RunCtl(recorder_, {"checkins", "list", "--location", "l-1"}).code, kExitUsage);
}

TEST_F(CtlTest, VisitorCommandsGoToTheCheckinsAddress) {
  Result r = RunCtl(recorder_, {"visitors", "register", "--location", "l-1", "--host", "c-1",
                                "--name", "Olga K", "--email", "olga@example.test",
                                "--expected", "2026-06-01T10:00:00+02:00"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50054");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.checkins.v1.VisitorsService/RegisterVisitor");
  auto req = LastRequest<kv1::RegisterVisitorRequest>(recorder_);
  EXPECT_EQ(req.name(), "Olga K");
  EXPECT_EQ(req.expected_arrival().seconds(), 1780300800);
  EXPECT_EQ(RunCtl(recorder_, {"visitors", "register", "--location", "l-1", "--name", "Olga K",
                               "--email", "olga@example.test"})
                .code,
            kExitUsage);
  ASSERT_EQ(RunCtl(recorder_, {"visitors", "arrive", "v-1"}).code, kExitOk);
  EXPECT_EQ(recorder_.sent.back().method,
            "/cowork.checkins.v1.VisitorsService/RecordVisitorArrival");
  EXPECT_EQ(LastRequest<kv1::RecordVisitorArrivalRequest>(recorder_).visitor_id(), "v-1");
  EXPECT_EQ(RunCtl(recorder_, {"visitors", "list", "--location", "l-1"}).code, kExitUsage);
}

// ---------------------------------------------------------------- helpdesk commands

namespace hv1 = ::cowork::helpdesk::v1;

TEST_F(CtlTest, TicketCommandsGoToTheHelpdeskAddressWithTheirTexts) {
  Result r = RunCtl(recorder_, {"tickets", "open", "--customer", "c-1", "--location", "l-1",
                                "--subject", "Wi-Fi", "--message", "Down", "--priority", "high"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50055");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.helpdesk.v1.HelpdeskService/OpenTicket");
  auto open = LastRequest<hv1::OpenTicketRequest>(recorder_);
  EXPECT_EQ(open.priority(), hv1::HIGH);
  EXPECT_EQ(open.message(), "Down");
  EXPECT_FALSE(open.request_id().empty());
  // Without --priority: normal. Without a message: a usage error, nothing sent.
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "open", "--location", "l-1", "--subject", "S",
                               "--message", "M"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<hv1::OpenTicketRequest>(recorder_).priority(), hv1::NORMAL);
  const size_t sent = recorder_.sent.size();
  EXPECT_EQ(RunCtl(recorder_, {"tickets", "open", "--location", "l-1", "--subject", "S"}).code,
            kExitUsage);
  EXPECT_EQ(recorder_.sent.size(), sent);

  ASSERT_EQ(RunCtl(recorder_, {"tickets", "reply", "t-1", "--message-stdin"},
                   "First line\nSecond line\n")
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<hv1::ReplyToTicketRequest>(recorder_).message(),
            "First line\nSecond line\n");
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "note", "t-1", "--message", "VIP"}).code, kExitOk);
  EXPECT_EQ(recorder_.sent.back().method, "/cowork.helpdesk.v1.HelpdeskService/AddTicketNote");
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "list", "--location", "l-1", "--status",
                               "awaiting-customer"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<hv1::ListTicketsRequest>(recorder_).status(), hv1::AWAITING_CUSTOMER);
  ASSERT_EQ(RunCtl(recorder_, {"--helpdesk-addr", "10.0.0.5:7000", "tickets", "close", "t-1"})
                .code,
            kExitOk);
  EXPECT_EQ(recorder_.sent.back().address, "10.0.0.5:7000");
  EXPECT_EQ(LastRequest<hv1::CloseTicketRequest>(recorder_).ticket_id(), "t-1");
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "reopen", "t-1"}).code, kExitOk);
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "get", "t-1"}).code, kExitOk);
  EXPECT_EQ(recorder_.sent.back().method, "/cowork.helpdesk.v1.HelpdeskService/GetTicket");
  EXPECT_EQ(RunCtl(recorder_, {"tickets", "set-priority", "t-1"}).code, kExitUsage);
  ASSERT_EQ(RunCtl(recorder_, {"tickets", "set-priority", "t-1", "--priority", "critical"}).code,
            kExitOk);
  EXPECT_EQ(LastRequest<hv1::SetTicketPriorityRequest>(recorder_).priority(), hv1::CRITICAL);
}

// ---------------------------------------------------------------- billing commands

TEST_F(CtlTest, ActiveUserCommandsGoToTheBillingAddress) {
  Result r = RunCtl(recorder_, {"active-users", "get", "--location", "l-1", "--month", "2026-05"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent[0].address, "127.0.0.1:50056");
  EXPECT_EQ(recorder_.sent[0].method, "/cowork.billing.v1.ActiveUsersService/GetActiveUsers");
  EXPECT_EQ(LastRequest<billing::v1::GetActiveUsersRequest>(recorder_).month(), "2026-05");
  ASSERT_EQ(RunCtl(recorder_, {"active-users", "counts", "--from", "2026-01", "--to", "2026-03"})
                .code,
            kExitOk);
  const auto counts = LastRequest<billing::v1::ListActiveUserCountsRequest>(recorder_);
  EXPECT_TRUE(counts.location_id().empty());
  EXPECT_EQ(counts.to_month(), "2026-03");
  EXPECT_EQ(RunCtl(recorder_, {"active-users", "get", "--location", "l-1"}).code, kExitUsage);
}

// --all gathers every page's users into one answer, printed whole with its count.
TEST_F(CtlTest, ActiveUsersGetAllGathersEveryPage) {
  std::vector<int32_t> sizes;
  recorder_.handlers["/cowork.billing.v1.ActiveUsersService/GetActiveUsers"] =
      [&](const google::protobuf::Message& request, google::protobuf::Message* response) {
        const auto& req = static_cast<const billing::v1::GetActiveUsersRequest&>(request);
        auto* resp = static_cast<billing::v1::ActiveUsers*>(response);
        sizes.push_back(req.page_size());
        const int page = req.page_token().empty() ? 0 : std::stoi(req.page_token());
        resp->set_location_id(req.location_id());
        resp->set_count(3);
        resp->add_users()->set_customer_id("c-" + std::to_string(page));
        if (page < 2) resp->set_next_page_token(std::to_string(page + 1));
        return grpc::Status::OK;
      };
  Result r = RunCtl(recorder_, {"-o", "json", "active-users", "get", "--location", "l-1",
                                "--month", "2026-05", "--all", "--page-size", "1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(sizes, ElementsAre(1, 1, 1));
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  billing::v1::ActiveUsers printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &printed).ok()) << lines[0];
  EXPECT_EQ(printed.count(), 3);
  ASSERT_EQ(printed.users_size(), 3);
  EXPECT_EQ(printed.users(2).customer_id(), "c-2");
  EXPECT_TRUE(printed.next_page_token().empty());
}

TEST_F(CtlTest, SubscriptionCommandsBuildTheirRequests) {
  Result r = RunCtl(recorder_, {"subscription", "set-card", "--token", "pm_1", "--brand", "visa",
                                "--last-four", "4242", "--expiry-month", "5", "--expiry-year",
                                "2028"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(recorder_.sent.back().address, "127.0.0.1:50056");
  EXPECT_EQ(recorder_.sent.back().method, "/cowork.billing.v1.SubscriptionService/SetPaymentMethod");
  const auto card = LastRequest<billing::v1::SetPaymentMethodRequest>(recorder_).method().card();
  EXPECT_EQ(card.last_four(), "4242");
  EXPECT_EQ(card.expiry_month(), 5);
  EXPECT_EQ(card.expiry_year(), 2028);
  EXPECT_EQ(RunCtl(recorder_, {"subscription", "set-card", "--token", "pm_1", "--brand", "visa",
                               "--last-four", "4242", "--expiry-month", "13", "--expiry-year",
                               "2028"})
                .code,
            kExitUsage);
  ASSERT_EQ(RunCtl(recorder_, {"subscription", "set-manual"}).code, kExitOk);
  EXPECT_TRUE(
      LastRequest<billing::v1::SetPaymentMethodRequest>(recorder_).method().has_manual());
  ASSERT_EQ(RunCtl(recorder_, {"subscription", "enable-add-on", "--location", "l-1", "--add-on",
                               "website"})
                .code,
            kExitOk);
  EXPECT_EQ(LastRequest<billing::v1::EnableAddOnRequest>(recorder_).add_on(), "website");
  ASSERT_EQ(RunCtl(recorder_, {"subscription", "download", "op-1-000001"}).code, kExitOk);
  EXPECT_EQ(LastRequest<billing::v1::DownloadSubscriptionInvoiceRequest>(recorder_).invoice_id(),
            "op-1-000001");
  ASSERT_EQ(RunCtl(recorder_, {"subscription", "invoices", "--location", "l-1"}).code, kExitOk);
  EXPECT_EQ(recorder_.sent.back().method,
            "/cowork.billing.v1.SubscriptionService/ListSubscriptionInvoices");
}

// ---------------------------------------------------------------- quarantine commands

TEST_F(CtlTest, QuarantineCommandsGoToTheNamedServicesAddress) {
  namespace qv1 = ::cowork::common::v1;
  ASSERT_EQ(RunCtl(recorder_, {"quarantine", "list", "--service", "contracts"}).code, kExitOk);
  EXPECT_EQ(recorder_.sent.back().address, "127.0.0.1:50052");
  EXPECT_EQ(recorder_.sent.back().method, "/cowork.common.v1.QuarantineService/ListQuarantined");
  ASSERT_EQ(RunCtl(recorder_,
                   {"--billing-addr", "10.0.0.9:7000", "quarantine", "show", "--service", "billing",
                    "--consumer", "billing.activity", "cowork.customers.events/2/41"})
                .code,
            kExitOk);
  EXPECT_EQ(recorder_.sent.back().address, "10.0.0.9:7000");
  auto show = LastRequest<qv1::GetQuarantinedRequest>(recorder_);
  EXPECT_EQ(show.consumer(), "billing.activity");
  EXPECT_EQ(show.id(), "cowork.customers.events/2/41");
  ASSERT_EQ(RunCtl(recorder_, {"quarantine", "retry", "--service", "customers", "--consumer",
                               "customers.contracts", "cowork.contracts.events/0/7"})
                .code,
            kExitOk);
  EXPECT_EQ(recorder_.sent.back().address, "127.0.0.1:50051");
  EXPECT_EQ(LastRequest<qv1::RetryQuarantinedRequest>(recorder_).id(),
            "cowork.contracts.events/0/7");
  ASSERT_EQ(RunCtl(recorder_,
                   {"quarantine", "discard", "--service", "helpdesk", "--consumer",
                    "helpdesk.customers", "cowork.customers.events/0/3", "--note", "a test event"})
                .code,
            kExitOk);
  EXPECT_EQ(recorder_.sent.back().address, "127.0.0.1:50055");
  EXPECT_EQ(LastRequest<qv1::DiscardQuarantinedRequest>(recorder_).note(), "a test event");

  // Without --service, an unknown one, or a discard without a note: usage errors, nothing sent.
  const size_t sent = recorder_.sent.size();
  EXPECT_EQ(RunCtl(recorder_, {"quarantine", "list"}).code, kExitUsage);
  Result unknown = RunCtl(recorder_, {"quarantine", "list", "--service", "payroll"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_THAT(unknown.err, HasSubstr("--service"));
  EXPECT_EQ(RunCtl(recorder_,
                   {"quarantine", "discard", "--service", "helpdesk", "--consumer", "c", "t/0/1"})
                .code,
            kExitUsage);
  EXPECT_EQ(recorder_.sent.size(), sent);
}

}  // namespace
}  // namespace cowork::ctl
