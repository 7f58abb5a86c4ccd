// coworkctl end to end: the real binary against a real dev broker and customers service,
// each started on a random loopback port.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cowork/customers/v1/customers.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "libs/testing/process.h"
#include "libs/testing/suite.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::customers::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CtlRun {
  int code = -1;
  std::string output;  // stdout and stderr, in order
};

class CoworkctlE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("coworkctl-e2e");
    auto broker = testing::StartDevBroker(dir_->path());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = new testing::DevBroker(std::move(*broker));
    auto service = testing::StartCustomers(
        {.data_dir = dir_->Sub("customers"), .bootstrap = broker_->bootstrap});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = new testing::Service(std::move(*service));
  }
  static void TearDownTestSuite() {
    delete service_;
    delete broker_;
    delete dir_;
    service_ = nullptr;
    broker_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(service_, nullptr) << "the suite did not start";
  }

  // Runs coworkctl against the service with `token` (via COWORK_TOKEN, as a user would).
  CtlRun Ctl(const std::vector<std::string>& args, const std::string& token) {
    std::vector<std::string> full = {"--customers-addr", service_->address};
    full.insert(full.end(), args.begin(), args.end());
    auto proc = testing::Subprocess::Start(
        {.program = testing::BinDir() + "/coworkctl",
         .args = full,
         .env = {{"COWORK_TOKEN", token}},
         .unset_env = {"COWORK_CUSTOMERS_ADDR"},
         .log_path = dir_->Sub(absl::StrCat("coworkctl.", ++runs_, ".log"))});
    CtlRun run;
    if (!proc.ok()) {
      ADD_FAILURE() << proc.status();
      return run;
    }
    auto exit = (*proc)->WaitExit(absl::Seconds(60));
    if (!exit.ok()) {
      ADD_FAILURE() << exit.status();
      return run;
    }
    EXPECT_TRUE(exit->exited) << exit->ToString();
    run.code = exit->code;
    run.output = (*proc)->Log();
    return run;
  }

  template <typename T>
  T ParseJson(const CtlRun& run) {
    T message;
    auto status = google::protobuf::util::JsonStringToMessage(
        std::string(absl::StripTrailingAsciiWhitespace(run.output)), &message);
    EXPECT_TRUE(status.ok()) << status << "\n" << run.output;
    return message;
  }

  // An operator with one location and an admin token for it, made through coworkctl.
  void MakeOperator() {
    CtlRun op = Ctl({"-o", "json", "operators", "create", "--name", "Acme Spaces"},
                    testing::MintDevPlatformToken());
    ASSERT_EQ(op.code, 0) << op.output;
    operator_id_ = ParseJson<v1::Operator>(op).operator_id();
    ASSERT_FALSE(operator_id_.empty());
    admin_ = testing::MintDevAdminToken(operator_id_, {"*"});
    CtlRun loc = Ctl({"-o", "json", "locations", "create", "--name", "Madrid Centro",
                      "--time-zone", "Europe/Madrid", "--currency", "EUR"},
                     admin_);
    ASSERT_EQ(loc.code, 0) << loc.output;
    location_id_ = ParseJson<v1::Location>(loc).location_id();
    ASSERT_FALSE(location_id_.empty());
  }

  static testing::TempDir* dir_;
  static testing::DevBroker* broker_;
  static testing::Service* service_;
  static inline int runs_ = 0;
  std::string operator_id_;
  std::string location_id_;
  std::string admin_;
};

testing::TempDir* CoworkctlE2eTest::dir_ = nullptr;
testing::DevBroker* CoworkctlE2eTest::broker_ = nullptr;
testing::Service* CoworkctlE2eTest::service_ = nullptr;

TEST_F(CoworkctlE2eTest, AddGetListAndSuspendACustomer) {
  ASSERT_NO_FATAL_FAILURE(MakeOperator());
  CtlRun added = Ctl({"-o", "json", "customers", "add", "--location", location_id_,
                      "--first-name", "Ana", "--last-name", "Gómez", "--email",
                      "ana@example.com"},
                     admin_);
  ASSERT_EQ(added.code, 0) << added.output;
  v1::Customer ana = ParseJson<v1::Customer>(added);
  ASSERT_FALSE(ana.customer_id().empty());
  EXPECT_EQ(ana.first_name(), "Ana");
  EXPECT_EQ(ana.home_location_id(), location_id_);

  CtlRun got = Ctl({"customers", "get", ana.customer_id()}, admin_);
  ASSERT_EQ(got.code, 0) << got.output;
  EXPECT_THAT(got.output, ::testing::ContainsRegex("last_name +Gómez\n"));
  EXPECT_THAT(got.output, ::testing::ContainsRegex("status +ACTIVE\n"));

  CtlRun listed = Ctl({"customers", "list", "--location", location_id_}, admin_);
  ASSERT_EQ(listed.code, 0) << listed.output;
  std::vector<std::string> lines = absl::StrSplit(listed.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << listed.output;
  EXPECT_THAT(lines[0], StartsWith("CUSTOMER_ID"));
  EXPECT_THAT(lines[1], StartsWith(ana.customer_id()));
  EXPECT_THAT(lines[1], HasSubstr("ana@example.com"));

  CtlRun suspended = Ctl({"customers", "suspend", ana.customer_id(), "-o", "json"}, admin_);
  ASSERT_EQ(suspended.code, 0) << suspended.output;
  EXPECT_EQ(ParseJson<v1::Customer>(suspended).status(), v1::SUSPENDED);
  CtlRun again = Ctl({"-o", "json", "customers", "get", ana.customer_id()}, admin_);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(ParseJson<v1::Customer>(again).status(), v1::SUSPENDED);
}

TEST_F(CoworkctlE2eTest, BadInputPrintsEveryFieldViolationAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(MakeOperator());
  CtlRun bad = Ctl({"customers", "add", "--location", location_id_, "--first-name", "A",
                    "--last-name", "X", "--email", "not-an-email"},
                   admin_);
  EXPECT_EQ(bad.code, 1) << bad.output;
  std::vector<std::string> lines = absl::StrSplit(bad.output, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << bad.output;
  EXPECT_THAT(lines[0], StartsWith("error: INVALID_ARGUMENT: "));
  EXPECT_THAT(bad.output, ::testing::ContainsRegex("\n  first_name: [^\n]+"));
  EXPECT_THAT(bad.output, ::testing::ContainsRegex("\n  email: [^\n]+"));
}

TEST_F(CoworkctlE2eTest, RetryWithTheSameRequestIdAddsOnce) {
  ASSERT_NO_FATAL_FAILURE(MakeOperator());
  const std::vector<std::string> add = {"--request-id", "4c1f7f9e-2a44-4c7e-9a55-0d6f3b1e2a77",
                                        "-o", "json", "customers", "add", "--location",
                                        location_id_, "--first-name", "Bo", "--last-name",
                                        "Berg", "--email", "bo@example.com"};
  CtlRun first = Ctl(add, admin_);
  ASSERT_EQ(first.code, 0) << first.output;
  CtlRun second = Ctl(add, admin_);
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_EQ(ParseJson<v1::Customer>(first).customer_id(),
            ParseJson<v1::Customer>(second).customer_id());

  CtlRun listed = Ctl({"-o", "json", "customers", "list", "--email", "bo@example.com"}, admin_);
  ASSERT_EQ(listed.code, 0) << listed.output;
  std::vector<std::string> lines = absl::StrSplit(listed.output, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1u) << listed.output;
}

TEST_F(CoworkctlE2eTest, NoTokenIsUnauthenticated) {
  CtlRun run = Ctl({"customers", "list"}, "");
  EXPECT_EQ(run.code, 1) << run.output;
  EXPECT_THAT(run.output, StartsWith("error: UNAUTHENTICATED: "));
}

TEST_F(CoworkctlE2eTest, TeamsThroughTheCli) {
  ASSERT_NO_FATAL_FAILURE(MakeOperator());
  std::vector<std::string> ids;
  for (const char* who : {"carla", "dario"}) {
    CtlRun c = Ctl({"-o", "json", "customers", "add", "--location", location_id_,
                    "--first-name", who, "--last-name", "Test", "--email",
                    absl::StrCat(who, "@example.com")},
                   admin_);
    ASSERT_EQ(c.code, 0) << c.output;
    ids.push_back(ParseJson<v1::Customer>(c).customer_id());
  }
  CtlRun team = Ctl({"-o", "json", "teams", "create", "--location", location_id_, "--name",
                     "Acme", "--member", ids[0], "--share-access"},
                    admin_);
  ASSERT_EQ(team.code, 0) << team.output;
  const std::string team_id = ParseJson<v1::Team>(team).team_id();
  ASSERT_EQ(Ctl({"teams", "add-member", team_id, ids[1]}, admin_).code, 0);
  ASSERT_EQ(Ctl({"teams", "set-paying-member", team_id, ids[1]}, admin_).code, 0);
  CtlRun sharing = Ctl({"-o", "json", "teams", "sharing", team_id, "--booking-credit", "true"},
                       admin_);
  ASSERT_EQ(sharing.code, 0) << sharing.output;
  v1::Team t = ParseJson<v1::Team>(sharing);
  EXPECT_THAT(t.member_ids(), ::testing::UnorderedElementsAre(ids[0], ids[1]));
  EXPECT_EQ(t.paying_member_id(), ids[1]);
  EXPECT_TRUE(t.share_booking_credit());
  EXPECT_TRUE(t.share_access());  // kept: not given on the command line
  EXPECT_FALSE(t.share_printing_credit());
}

}  // namespace
}  // namespace cowork::ctl
