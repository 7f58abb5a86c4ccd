// Security: every refused call gets the right code and changes nothing. The dev broker and the
// customers service run as real processes (every service, for SecurityEveryService); the test
// holds tokens as any client would.
//
// "Nothing changed" is checked two ways: a follow-up read through the API, and the topic —
// a marker command before and after the refused calls, and no event but the second marker's
// between them.

#include <jwt.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.grpc.pb.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/crypto/crypto.h"
#include "libs/status/retry.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::AccountsService;
using customers::v1::Customer;
using customers::v1::CustomersService;
using customers::v1::DirectoryService;
using customers::v1::Session;
using customers::v1::TeamsService;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr absl::StatusCode kPermissionDenied = absl::StatusCode::kPermissionDenied;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;

constexpr char kPassword[] = "Correct-Horse-42-battery";
constexpr char kNewPassword[] = "Staple-Battery-97-horse";

template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& s) {
  return s.status().code();
}

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto a = CreateTenant(stubs(), "Atrium Spaces");
    ASSERT_TRUE(a.ok()) << a.status();
    op_a_ = *a;
    auto a2 = CreateLocation(stubs(), op_a_.admin_token, "Atrium Norte");
    ASSERT_TRUE(a2.ok()) << a2.status();
    loc_a2_ = a2->location_id();
    auto b = CreateTenant(stubs(), "Bastion Desks");
    ASSERT_TRUE(b.ok()) << b.status();
    op_b_ = *b;

    auto alice = AddCustomer(stubs(), op_a_.admin_token,
                             Individual(op_a_.location_id, "Alice", "Arnaud", "alice@atrium.example"));
    ASSERT_TRUE(alice.ok()) << alice.status();
    alice_ = *alice;
    auto bob = AddCustomer(stubs(), op_a_.admin_token,
                           Individual(loc_a2_, "Bob", "Bertin", "bob@atrium.example"));
    ASSERT_TRUE(bob.ok()) << bob.status();
    bob_ = *bob;
  }

  testing::CustomersStubs& stubs() { return suite_->stubs(); }

  // A portal registration at op A's first location; the session it returns.
  absl::StatusOr<Session> Register(const std::string& first, const std::string& email) {
    customers::v1::RegisterRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_operator_id(op_a_.operator_id);
    r.set_location_id(op_a_.location_id);
    r.set_first_name(first);
    r.set_last_name("Portal");
    r.set_email(email);
    r.set_password(kPassword);
    return testing::Call(*stubs().accounts, &AccountsService::Stub::Register, r, "");
  }

  absl::StatusOr<Session> SignIn(const std::string& email, const std::string& password) {
    customers::v1::SignInRequest r;
    r.set_operator_id(op_a_.operator_id);
    r.set_email(email);
    r.set_password(password);
    return testing::Call(*stubs().accounts, &AccountsService::Stub::SignIn, r, "");
  }

  absl::StatusOr<Customer> Get(const std::string& token, const std::string& id) {
    return GetCustomer(stubs(), token, id);
  }

  absl::StatusOr<Customer> UpdateLastName(const std::string& token, const std::string& id,
                                          const std::string& last_name) {
    customers::v1::UpdateCustomerRequest r;
    r.set_request_id(testing::NewRequestId());
    r.mutable_customer()->set_customer_id(id);
    r.mutable_customer()->set_last_name(last_name);
    r.mutable_update_mask()->add_paths("last_name");
    return testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, r, token);
  }

  absl::StatusOr<Customer> Suspend(const std::string& token, const std::string& id) {
    customers::v1::SuspendCustomerRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(id);
    return testing::Call(*stubs().customers, &CustomersService::Stub::SuspendCustomer, r, token);
  }

  absl::StatusOr<Customer> Reactivate(const std::string& token, const std::string& id) {
    customers::v1::ReactivateCustomerRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(id);
    return testing::Call(*stubs().customers, &CustomersService::Stub::ReactivateCustomer, r,
                         token);
  }

  absl::StatusOr<Customer> Erase(const std::string& token, const std::string& id) {
    customers::v1::EraseCustomerRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(id);
    return testing::Call(*stubs().customers, &CustomersService::Stub::EraseCustomer, r, token);
  }

  absl::StatusOr<std::vector<Customer>> ListAll(const std::string& token,
                                                const std::string& location_id = "") {
    customers::v1::ListCustomersRequest r;
    r.set_location_id(location_id);
    return ListAllCustomers(stubs(), token, r);
  }

  // Takes the "before" snapshot of the topic.
  void Before() {
    auto watch = EventWatch::Begin(*suite_, op_a_);
    ASSERT_TRUE(watch.ok()) << watch.status();
    watch_.emplace(std::move(*watch));
  }

  // No event was written since Before().
  void ExpectNoNewEvents() {
    ASSERT_TRUE(watch_.has_value()) << "Before() was not called";
    auto written = watch_->WrittenSince();
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_THAT(*written, IsEmpty()) << "refused calls left events";
  }

  // Alice as she was added.
  void ExpectAliceUnchanged() {
    auto alice = Get(op_a_.admin_token, alice_.customer_id());
    ASSERT_TRUE(alice.ok()) << alice.status();
    EXPECT_EQ(alice->last_name(), "Arnaud");
    EXPECT_EQ(alice->status(), customers::v1::ACTIVE);
    EXPECT_FALSE(alice->erased());
  }

  std::unique_ptr<Suite> suite_;
  Tenant op_a_;
  std::string loc_a2_;
  Tenant op_b_;
  Customer alice_;  // op A, first location
  Customer bob_;    // op A, second location
  std::optional<EventWatch> watch_;
};

TEST_F(Security, NoTokenIsUnauthenticated) {
  Before();
  EXPECT_EQ(CodeOf(Get("", alice_.customer_id())), kUnauthenticated);
  EXPECT_EQ(CodeOf(ListAll("")), kUnauthenticated);
  EXPECT_EQ(CodeOf(UpdateLastName("", alice_.customer_id(), "Changed")), kUnauthenticated);
  EXPECT_EQ(CodeOf(AddCustomer(stubs(), "",
                               Individual(op_a_.location_id, "Eve", "Intruder",
                                          "eve@evil.example"))),
            kUnauthenticated);
  customers::v1::CreateOperatorRequest op;
  op.set_request_id(testing::NewRequestId());
  op.set_name("Evil Corp");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().directory, &DirectoryService::Stub::CreateOperator, op,
                                 "")),
            kUnauthenticated);
  // A header that is not a bearer token at all.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Basic YWRtaW46YWRtaW4=");
  testing::SetDeadline(context, absl::Seconds(10));
  customers::v1::GetCustomerRequest get;
  get.set_customer_id(alice_.customer_id());
  Customer out;
  EXPECT_EQ(stubs().customers->GetCustomer(&context, get, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CodeOf(Get("not.a.jwt", alice_.customer_id())), kUnauthenticated);
  ExpectAliceUnchanged();
  ExpectNoNewEvents();
}

TEST_F(Security, BadSignatureIsUnauthenticated) {
  Before();
  // Signed with another key.
  const auth::KeyPair stranger = auth::NewEs256KeyPair();
  auth::AdminTokenSpec spec;
  spec.subject = "mallory@example.test";
  spec.operator_id = op_a_.operator_id;
  spec.locations = {"*"};
  spec.permissions = auth::AllPermissions();
  std::string forged = auth::MintAdminToken(stranger.private_pem, spec, RealClock::Get().Now());
  EXPECT_EQ(CodeOf(Get(forged, alice_.customer_id())), kUnauthenticated);
  EXPECT_EQ(CodeOf(UpdateLastName(forged, alice_.customer_id(), "Forged")), kUnauthenticated);
  std::string forged_platform =
      auth::MintPlatformToken(stranger.private_pem, "mallory", RealClock::Get().Now());
  customers::v1::CreateOperatorRequest op;
  op.set_request_id(testing::NewRequestId());
  op.set_name("Forged Operator");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().directory, &DirectoryService::Stub::CreateOperator, op,
                                 forged_platform)),
            kUnauthenticated);

  // A genuine token of operator B whose claims were edited to operator A: the signature no
  // longer matches.
  std::string genuine = testing::MintDevAdminToken(op_b_.operator_id, {"*"});
  std::vector<std::string> parts = absl::StrSplit(genuine, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string claims;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &claims));
  ASSERT_THAT(claims, HasSubstr(op_b_.operator_id));
  claims = absl::StrReplaceAll(claims, {{op_b_.operator_id, op_a_.operator_id}});
  std::string tampered = absl::StrCat(parts[0], ".", absl::WebSafeBase64Escape(claims), ".",
                                      parts[2]);
  EXPECT_EQ(CodeOf(Get(tampered, alice_.customer_id())), kUnauthenticated);
  EXPECT_EQ(CodeOf(UpdateLastName(tampered, alice_.customer_id(), "Tampered")), kUnauthenticated);

  // The same claims with "alg": "none" and no signature.
  std::string none_header = absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})");
  std::string unsigned_token =
      absl::StrCat(none_header, ".", absl::WebSafeBase64Escape(claims), ".");
  EXPECT_EQ(CodeOf(Get(unsigned_token, alice_.customer_id())), kUnauthenticated);

  ExpectAliceUnchanged();
  ExpectNoNewEvents();
}

TEST_F(Security, ExpiredTokenIsUnauthenticated) {
  Before();
  std::string expired =
      testing::MintDevAdminToken(op_a_.operator_id, {"*"}, {}, -absl::Minutes(5));
  EXPECT_EQ(CodeOf(Get(expired, alice_.customer_id())), kUnauthenticated);
  EXPECT_EQ(CodeOf(UpdateLastName(expired, alice_.customer_id(), "Expired")), kUnauthenticated);
  EXPECT_EQ(CodeOf(Suspend(expired, alice_.customer_id())), kUnauthenticated);
  customers::v1::CreateOperatorRequest op;
  op.set_request_id(testing::NewRequestId());
  op.set_name("Late Operator");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().directory, &DirectoryService::Stub::CreateOperator, op,
                                 testing::MintDevPlatformToken("late", -absl::Minutes(5)))),
            kUnauthenticated);
  ExpectAliceUnchanged();
  ExpectNoNewEvents();
}

TEST_F(Security, TokenForAnotherLocationIsDenied) {
  // Every permission, but only over op A's first location; Bob lives at the second.
  std::string scoped = testing::MintDevAdminToken(op_a_.operator_id, {op_a_.location_id});
  ASSERT_TRUE(Get(scoped, alice_.customer_id()).ok());  // the token itself is good

  Before();
  EXPECT_EQ(CodeOf(Get(scoped, bob_.customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(UpdateLastName(scoped, bob_.customer_id(), "Moved")), kPermissionDenied);
  EXPECT_EQ(CodeOf(Suspend(scoped, bob_.customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(AddCustomer(stubs(), scoped,
                               Individual(loc_a2_, "Carla", "Elsewhere",
                                          "carla@atrium.example"))),
            kPermissionDenied);
  EXPECT_EQ(CodeOf(ListAll(scoped, loc_a2_)), kPermissionDenied);
  // Moving Alice to the other location would take her out of the token's reach.
  customers::v1::UpdateCustomerRequest move;
  move.set_request_id(testing::NewRequestId());
  move.mutable_customer()->set_customer_id(alice_.customer_id());
  move.mutable_customer()->set_home_location_id(loc_a2_);
  move.mutable_update_mask()->add_paths("home_location_id");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().customers, &CustomersService::Stub::UpdateCustomer, move,
                                 scoped)),
            kPermissionDenied);
  // A team at the other location.
  customers::v1::CreateTeamRequest team;
  team.set_request_id(testing::NewRequestId());
  team.set_location_id(loc_a2_);
  team.set_name("Elsewhere Team");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().teams, &TeamsService::Stub::CreateTeam, team, scoped)),
            kPermissionDenied);
  // Listing without a location shows only what the token covers.
  auto listed = ListAll(scoped);
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const Customer& c : *listed) EXPECT_EQ(c.home_location_id(), op_a_.location_id);

  auto bob = Get(op_a_.admin_token, bob_.customer_id());
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->last_name(), "Bertin");
  EXPECT_EQ(bob->status(), customers::v1::ACTIVE);
  auto alice = Get(op_a_.admin_token, alice_.customer_id());
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->home_location_id(), op_a_.location_id);
  auto at_a2 = ListAll(op_a_.admin_token, loc_a2_);
  ASSERT_TRUE(at_a2.ok()) << at_a2.status();
  EXPECT_EQ(at_a2->size(), 1u);
  ExpectNoNewEvents();
}

TEST_F(Security, AdminOfAnotherOperatorSeesNothing) {
  const std::string& other = op_b_.admin_token;  // every permission over all of op B
  Before();
  auto got = Get(other, alice_.customer_id());
  EXPECT_THAT(CodeOf(got), AnyOf(kNotFound, kPermissionDenied));
  // Nothing of Alice leaks through the error.
  EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr("Alice")));
  EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr("alice@")));
  EXPECT_THAT(CodeOf(UpdateLastName(other, alice_.customer_id(), "Hijacked")),
              AnyOf(kNotFound, kPermissionDenied));
  EXPECT_THAT(CodeOf(Suspend(other, alice_.customer_id())), AnyOf(kNotFound, kPermissionDenied));
  EXPECT_THAT(CodeOf(Erase(other, alice_.customer_id())), AnyOf(kNotFound, kPermissionDenied));
  // Op A's location is not op B's to use.
  customers::v1::GetLocationRequest location;
  location.set_location_id(op_a_.location_id);
  EXPECT_THAT(CodeOf(testing::Call(*stubs().directory, &DirectoryService::Stub::GetLocation,
                                   location, other)),
              AnyOf(kNotFound, kPermissionDenied));
  auto foreign = AddCustomer(stubs(), other,
                             Individual(op_a_.location_id, "Oscar", "Outsider",
                                        "oscar@bastion.example"));
  EXPECT_FALSE(foreign.ok()) << "op B added a customer at op A's location";
  // Nor are op A's customers op B's to put in a team.
  customers::v1::CreateTeamRequest team;
  team.set_request_id(testing::NewRequestId());
  team.set_location_id(op_b_.location_id);
  team.set_name("Poached");
  team.add_member_ids(alice_.customer_id());
  EXPECT_FALSE(testing::Call(*stubs().teams, &TeamsService::Stub::CreateTeam, team, other).ok());
  // Op B's listings hold none of op A's customers, and the same email is free in op B.
  auto listed = ListAll(other);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, IsEmpty());
  customers::v1::ListCustomersRequest by_email;
  by_email.set_email("alice@atrium.example");
  auto found = ListAllCustomers(stubs(), other, by_email);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, IsEmpty());

  ExpectAliceUnchanged();
  auto op_a_list = ListAll(op_a_.admin_token, op_a_.location_id);
  ASSERT_TRUE(op_a_list.ok()) << op_a_list.status();
  for (const Customer& c : *op_a_list) EXPECT_EQ(c.operator_id(), op_a_.operator_id);
  ExpectNoNewEvents();
}

TEST_F(Security, CustomerCannotReadAnotherCustomer) {
  auto carol = Register("Carol", "carol@atrium.example");
  ASSERT_TRUE(carol.ok()) << carol.status();
  auto dave = Register("Dave", "dave@atrium.example");
  ASSERT_TRUE(dave.ok()) << dave.status();
  const std::string& token = carol->token();
  // Her own record is hers to read.
  auto self = Get(token, carol->customer().customer_id());
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(self->email(), "carol@atrium.example");

  Before();
  EXPECT_EQ(CodeOf(Get(token, dave->customer().customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(Get(token, alice_.customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(ListAll(token)), kPermissionDenied);
  EXPECT_EQ(CodeOf(UpdateLastName(token, dave->customer().customer_id(), "Overwritten")),
            kPermissionDenied);
  EXPECT_EQ(CodeOf(Suspend(token, dave->customer().customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(AddCustomer(stubs(), token,
                               Individual(op_a_.location_id, "Sneaky", "Sibling",
                                          "sneaky@atrium.example"))),
            kPermissionDenied);
  auto dave_now = Get(op_a_.admin_token, dave->customer().customer_id());
  ASSERT_TRUE(dave_now.ok()) << dave_now.status();
  EXPECT_EQ(dave_now->last_name(), "Portal");
  EXPECT_EQ(dave_now->status(), customers::v1::ACTIVE);
  ExpectNoNewEvents();
}

TEST_F(Security, PasswordChangeEndsEverySession) {
  auto carol = Register("Carol", "carol@atrium.example");
  ASSERT_TRUE(carol.ok()) << carol.status();
  const std::string id = carol->customer().customer_id();
  auto second = SignIn("carol@atrium.example", kPassword);  // another device
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(Get(carol->token(), id).ok());
  ASSERT_TRUE(Get(second->token(), id).ok());

  customers::v1::ChangePasswordRequest change;
  change.set_request_id(testing::NewRequestId());
  change.set_current_password(kPassword);
  change.set_new_password(kNewPassword);
  auto changed = testing::Call(*stubs().accounts, &AccountsService::Stub::ChangePassword, change,
                               carol->token());
  ASSERT_TRUE(changed.ok()) << changed.status();

  // Every session from before is dead at once; the one the change returned lives.
  EXPECT_EQ(CodeOf(Get(carol->token(), id)), kUnauthenticated);
  EXPECT_EQ(CodeOf(Get(second->token(), id)), kUnauthenticated);
  auto self = Get(changed->token(), id);
  EXPECT_TRUE(self.ok()) << self.status();

  Before();
  // The old password opens nothing; a dead token changes nothing.
  EXPECT_EQ(CodeOf(SignIn("carol@atrium.example", kPassword)), kUnauthenticated);
  customers::v1::ChangePasswordRequest again;
  again.set_request_id(testing::NewRequestId());
  again.set_current_password(kNewPassword);
  again.set_new_password("Third-Password-55-tries");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().accounts, &AccountsService::Stub::ChangePassword, again,
                                 carol->token())),
            kUnauthenticated);
  ExpectNoNewEvents();
  auto fresh = SignIn("carol@atrium.example", kNewPassword);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(Get(fresh->token(), id).ok());
}

TEST_F(Security, SuspendedCustomerCannotSignIn) {
  auto dave = Register("Dave", "dave@atrium.example");
  ASSERT_TRUE(dave.ok()) << dave.status();
  const std::string id = dave->customer().customer_id();
  ASSERT_TRUE(Get(dave->token(), id).ok());
  ASSERT_TRUE(Suspend(op_a_.admin_token, id).ok());

  // Suspension ends the session he had.
  EXPECT_EQ(CodeOf(Get(dave->token(), id)), kUnauthenticated);

  Before();
  // The right password gets exactly the answer a wrong one, or an unknown address, gets: no
  // oracle for the password or the suspension.
  auto refused = SignIn("dave@atrium.example", kPassword);
  EXPECT_EQ(CodeOf(refused), kUnauthenticated) << refused.status();
  EXPECT_EQ(refused.status(), SignIn("dave@atrium.example", "Wrong-Password-11-x").status());
  EXPECT_EQ(refused.status(), SignIn("nobody@atrium.example", kPassword).status());
  ExpectNoNewEvents();
  auto still = Get(op_a_.admin_token, id);
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->status(), customers::v1::SUSPENDED);

  // Reactivated, he signs in again; the old session stays dead.
  ASSERT_TRUE(Reactivate(op_a_.admin_token, id).ok());
  auto back = SignIn("dave@atrium.example", kPassword);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(Get(back->token(), id).ok());
  EXPECT_EQ(CodeOf(Get(dave->token(), id)), kUnauthenticated);
}

// Failed sign-ins are throttled per account, known or not, answering alike for both; and per
// client address, whatever the accounts tried.
TEST_F(Security, FailedSignInsAreThrottledWithoutTellingWhoHasAnAccount) {
  auto erin = Register("Erin", "erin@atrium.example");
  ASSERT_TRUE(erin.ok()) << erin.status();
  Before();
  // Five wrong passwords for Erin, five for an address nobody has: the same answers.
  for (int i = 0; i < 5; ++i) {
    const absl::Status known = SignIn("erin@atrium.example", "Wrong-Password-11-x").status();
    const absl::Status unknown = SignIn("nobody@atrium.example", "Wrong-Password-11-x").status();
    EXPECT_EQ(known.code(), kUnauthenticated) << known;
    EXPECT_EQ(known, unknown);
  }
  // Then both wait, with the same retry delay; even the right password waits.
  const absl::Status known = SignIn("erin@atrium.example", kPassword).status();
  const absl::Status unknown = SignIn("nobody@atrium.example", kPassword).status();
  EXPECT_EQ(known.code(), absl::StatusCode::kResourceExhausted) << known;
  EXPECT_EQ(known.message(), unknown.message());
  ASSERT_TRUE(RetryDelayOf(known).has_value());
  ASSERT_TRUE(RetryDelayOf(unknown).has_value());
  EXPECT_LE(*RetryDelayOf(known), absl::Seconds(1));
  EXPECT_GT(*RetryDelayOf(known), absl::ZeroDuration());
  // Other accounts are not held back by them.
  EXPECT_EQ(CodeOf(SignIn("frank@atrium.example", "Wrong-Password-11-x")), kUnauthenticated);
  ExpectNoNewEvents();

  // Twenty failures from one client address, each for another account: the address waits,
  // whatever it tries next.
  for (int i = 0; i < 20; ++i) {
    (void)SignIn(absl::StrCat("guess", i, "@atrium.example"), "Wrong-Password-11-x");
  }
  const absl::Status from_client = SignIn("grace@atrium.example", kPassword).status();
  EXPECT_EQ(from_client.code(), absl::StatusCode::kResourceExhausted) << from_client;
  EXPECT_TRUE(RetryDelayOf(from_client).has_value());
}

TEST_F(Security, MissingPermissionIsDenied) {
  std::string read_only = testing::MintDevAdminToken(op_a_.operator_id, {"*"},
                                                     {std::string(auth::kCustomersRead)});
  std::string no_erase = testing::MintDevAdminToken(
      op_a_.operator_id, {"*"},
      {std::string(auth::kCustomersRead), std::string(auth::kCustomersWrite)});
  ASSERT_TRUE(Get(read_only, alice_.customer_id()).ok());
  auto before_list = ListAll(op_a_.admin_token);
  ASSERT_TRUE(before_list.ok()) << before_list.status();

  Before();
  EXPECT_EQ(CodeOf(AddCustomer(stubs(), read_only,
                               Individual(op_a_.location_id, "Rita", "Reader",
                                          "rita@atrium.example"))),
            kPermissionDenied);
  EXPECT_EQ(CodeOf(UpdateLastName(read_only, alice_.customer_id(), "Written")), kPermissionDenied);
  EXPECT_EQ(CodeOf(Suspend(read_only, alice_.customer_id())), kPermissionDenied);
  EXPECT_EQ(CodeOf(Erase(no_erase, alice_.customer_id())), kPermissionDenied);
  // Locations need locations.write; operators need a platform token.
  auto location = CreateLocation(stubs(), no_erase, "Unauthorised Annex");
  EXPECT_EQ(CodeOf(location), kPermissionDenied);
  customers::v1::CreateOperatorRequest op;
  op.set_request_id(testing::NewRequestId());
  op.set_name("Self Promoted");
  EXPECT_EQ(CodeOf(testing::Call(*stubs().directory, &DirectoryService::Stub::CreateOperator, op,
                                 op_a_.admin_token)),
            kPermissionDenied);
  // A platform token is not an admin of any operator.
  EXPECT_THAT(CodeOf(AddCustomer(stubs(), testing::MintDevPlatformToken(),
                                 Individual(op_a_.location_id, "Pia", "Platform",
                                            "pia@atrium.example"))),
              AnyOf(kPermissionDenied, kNotFound));

  ExpectAliceUnchanged();
  ExpectNoNewEvents();
  auto after_list = ListAll(op_a_.admin_token);
  ASSERT_TRUE(after_list.ok()) << after_list.status();
  // The markers are the only customers added since.
  EXPECT_EQ(after_list->size(), before_list->size() + watch_->markers());
}

// Someone who can write to a topic (its owner's credentials, a misconfigured ACL) forges an
// event of another service: a suspension of Ana on the customers topic that says it comes from
// the checkins service. The checkins service's consumer refuses it and counts it; Ana still
// checks in; the real suspension with the same sequence then applies.
TEST(SecurityKafka, AnEventOfAnotherServiceIsRefusedAndChangesNothing) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Forgery Desks"));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service checkins,
      testing::StartService("checkins", {.data_dir = suite->dir().Sub("checkins"),
                                         .bootstrap = suite->bootstrap()}));
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> metrics,
      checkins.process->WaitForLine(R"re("metrics listening","address":"([0-9.]+):([0-9]+)")re",
                                    absl::Seconds(10)));
  httplib::Client http(metrics[1], std::stoi(metrics[2]));
  auto stub = checkins::v1::CheckinsService::NewStub(testing::Connect(checkins.address));
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer ana, AddCustomer(suite->stubs(), tenant.admin_token,
                                Individual(tenant.location_id, "Ana", "Arce", "ana@forgery.example")));
  const auto check_in = [&] {
    checkins::v1::CheckInRequest in;
    in.set_request_id(testing::NewRequestId());
    in.set_customer_id(ana.customer_id());
    in.set_location_id(tenant.location_id);
    in.set_method(checkins::v1::MANUAL);
    return testing::Call(*stub, &checkins::v1::CheckinsService::Stub::CheckIn, in,
                         tenant.admin_token);
  };
  const auto check_out = [&] {
    checkins::v1::CheckOutRequest out;
    out.set_request_id(testing::NewRequestId());
    out.set_customer_id(ana.customer_id());
    return testing::Call(*stub, &checkins::v1::CheckinsService::Stub::CheckOut, out,
                         tenant.admin_token);
  };
  COWORK_ASSERT_OK(Until(check_in, Known<checkins::v1::CheckInRecord>));
  COWORK_ASSERT_OK(check_out());

  // Ana's events so far: the forgery takes the next sequence, in her partition.
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<Event> events,
                              ReadEvents(suite->bootstrap(), testing::kCustomersTopic));
  const std::vector<Event> hers = EventsOf(events, ana.customer_id());
  ASSERT_FALSE(hers.empty());
  common::v1::EventEnvelope forged = hers.back().envelope;
  forged.set_event_id(crypto::NewUuid());
  forged.set_sequence(forged.sequence() + 1);
  forged.set_service("checkins");
  customers::v1::CustomerSuspended suspended;
  suspended.set_customer_id(ana.customer_id());
  suspended.set_session_generation(99);
  forged.mutable_payload()->PackFrom(suspended);
  COWORK_ASSERT_OK(ProduceToPartition(suite->bootstrap(), testing::kCustomersTopic,
                                      hers.back().raw.partition,
                                      {{ana.customer_id(), forged.SerializeAsString()}}));
  const auto refused = [&] {
    httplib::Result r = http.Get("/metrics");
    return r && absl::StrContains(
                    r->body,
                    "cowork_consumer_refused_events{consumer=\"checkins.customers\"} 1");
  };
  COWORK_ASSERT_OK(testing::PollUntil(refused, absl::Seconds(30), "the forgery refused"));
  // Nothing changed: Ana is not suspended there.
  COWORK_ASSERT_OK(check_in());
  COWORK_ASSERT_OK(check_out());

  // The real suspension, with the sequence the forgery tried to take, applies.
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(ana.customer_id());
  COWORK_ASSERT_OK(testing::Call(*suite->stubs().customers,
                                 &CustomersService::Stub::SuspendCustomer, suspend,
                                 tenant.admin_token));
  const absl::StatusOr<checkins::v1::CheckInRecord> after_suspension = Until(
      check_in, [](const auto& r) {
        return r.status().code() == absl::StatusCode::kFailedPrecondition;
      });
  EXPECT_EQ(after_suspension.status().code(), absl::StatusCode::kFailedPrecondition)
      << after_suspension.status();
}

// ---------------------------------------------------------------- every service

namespace uv1 = ::cowork::customers::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace kv1 = ::cowork::checkins::v1;
namespace hv1 = ::cowork::helpdesk::v1;
namespace av1 = ::cowork::billing::v1;

// The API files of the six services: every mutating call of theirs has a case below.
constexpr const char* kApiFiles[] = {
    "cowork/customers/v1/customers.proto", "cowork/contracts/v1/contracts.proto",
    "cowork/bookings/v1/bookings.proto",   "cowork/checkins/v1/checkins.proto",
    "cowork/helpdesk/v1/helpdesk.proto",   "cowork/billing/v1/billing.proto"};

// A unary call's answer as bytes, so that answers of any type compare alike.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<std::string> Answer(Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, absl::string_view token) {
  absl::StatusOr<Response> response = testing::Call(stub, method, request, token);
  if (!response.ok()) return response.status();
  return response->SerializeAsString();
}

// The claims of a token, unverified (the test reads tokens it was given).
absl::StatusOr<google::protobuf::Struct> ClaimsOf(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string json;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &json)) {
    return absl::InvalidArgumentError("not a JWT");
  }
  google::protobuf::Struct claims;
  if (!google::protobuf::util::JsonStringToMessage(json, &claims).ok()) {
    return absl::InvalidArgumentError("the claims are not a JSON object");
  }
  return claims;
}

std::string StringClaim(const google::protobuf::Struct& claims, const std::string& name) {
  const auto it = claims.fields().find(name);
  return it == claims.fields().end() ? "" : it->second.string_value();
}

int64_t IntClaim(const google::protobuf::Struct& claims, const std::string& name) {
  const auto it = claims.fields().find(name);
  return it == claims.fields().end() ? 0 : static_cast<int64_t>(it->second.number_value());
}

// A session as an answer: its customer and the session it opens. Its token is signed anew for
// every answer, with the expiry counted from then, so the session is told by its claims.
absl::StatusOr<std::string> SessionAnswer(absl::StatusOr<uv1::Session> session) {
  if (!session.ok()) return session.status();
  absl::StatusOr<google::protobuf::Struct> claims = ClaimsOf(session->token());
  if (!claims.ok()) return claims.status();
  session->set_token(absl::StrCat("sub=", StringClaim(*claims, "sub"), " sid=",
                                  StringClaim(*claims, "sid"), " gen=", IntClaim(*claims, "gen")));
  session->clear_expire_time();
  return session->SerializeAsString();
}

// The claims of a token as the issuers write them (without "nbf"), with chosen times and
// audience.
std::string Claims(absl::string_view role_claims, absl::Time iat, absl::Time exp,
                   absl::string_view audience = auth::kAudience) {
  return absl::StrCat(R"({"iss":")", auth::kIssuer, R"(","aud":")", audience, R"(",)",
                      role_claims, R"(,"iat":)", absl::ToUnixSeconds(iat), R"(,"exp":)",
                      absl::ToUnixSeconds(exp), "}");
}

// A token holding exactly `claims`, signed ES256 with `private_key_pem`: for claims that no
// minting function of libs/auth writes.
std::string Craft(absl::string_view private_key_pem, const std::string& claims) {
  jwt_t* jwt = nullptr;
  std::string token;
  if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, claims.c_str()) == 0 &&
      jwt_set_alg(jwt, JWT_ALG_ES256,
                  reinterpret_cast<const unsigned char*>(private_key_pem.data()),
                  static_cast<int>(private_key_pem.size())) == 0) {
    if (char* encoded = jwt_encode_str(jwt); encoded != nullptr) {
      token = encoded;
      free(encoded);
    }
  }
  jwt_free(jwt);
  EXPECT_FALSE(token.empty()) << "cannot sign " << claims;
  return token;
}

// One of the two callers of a request id: a location of the operator, an admin of that
// location alone, portal customers there, and everything the cases make for it.
struct Side {
  std::string tag;  // "Alfa" or "Bravo": in the names the side gives
  std::string location_id;
  std::string subject;   // its admin's
  std::string admin;     // over its location only
  std::string wide;      // the same admin over every location, for operator-wide calls
  std::string platform;  // a platform token of its own
  uv1::Session member;   // a portal customer at the location
  uv1::Session payer;    // another, who stays a contact: invoiced as they buy
  std::map<std::string, std::string> ids;     // what the cases made, by purpose
  std::map<std::string, std::string> tokens;  // sessions the cases opened, by purpose
  int emails = 0;

  std::string Lower() const { return absl::AsciiStrToLower(tag); }
  // A fresh address.
  std::string Email(absl::string_view purpose) {
    return absl::StrCat(Lower(), "-", purpose, "-", ++emails, "@example.test");
  }
  const std::string& MemberId() const { return member.customer().customer_id(); }
  const std::string& PayerId() const { return payer.customer().customer_id(); }
  // What only this side's answers hold.
  std::vector<std::string> Markers() const {
    std::vector<std::string> out = {tag, location_id, subject, MemberId(), PayerId()};
    for (const auto& [purpose, id] : ids) out.push_back(id);
    return out;
  }
};

// One mutating RPC, and how each side makes a valid request of its own with it.
struct Case {
  std::string rpc;  // "<service>.<method>", as in the API files
  // Runs for each side just before its call: what its request needs (a plan to sign up to, a
  // ticket to close), its own.
  std::function<absl::Status(Side&)> before;
  // The call with a given request id; its answer as bytes.
  std::function<absl::StatusOr<std::string>(Side&, const std::string&)> call;
  // A's retry, where its client sends it otherwise than `call` (its session ended with the
  // call): the same request from the same caller.
  std::function<absl::StatusOr<std::string>(Side&, const std::string&)> retry;
  // For answers that are the same whoever asks (an empty sign-out, the operator's account after
  // a removal): whether B's call did B's work.
  std::function<absl::Status(Side&)> done;
  // The answer is the operator's whole subscription account (to an admin of every location),
  // showing every location's add-ons: only what A itself sent (its tag) marks A's answer there.
  bool whole_account = false;
};

// The dev broker and all six services, with one operator and two sides at two locations.
class SecurityEveryService : public ::testing::Test {
 protected:
  void SetUp() override {
    COWORK_ASSERT_OK_AND_ASSIGN(suite_, Suite::Start());
    for (const auto& [name, service] :
         {std::pair{"contracts", &contracts_}, std::pair{"bookings", &bookings_},
          std::pair{"checkins", &checkins_}, std::pair{"helpdesk", &helpdesk_},
          std::pair{"billing", &billing_}}) {
      COWORK_ASSERT_OK_AND_ASSIGN(
          *service, testing::StartService(name, {.data_dir = suite_->dir().Sub(name),
                                                 .bootstrap = suite_->bootstrap()}));
    }
    const std::shared_ptr<grpc::Channel> contracts = testing::Connect(contracts_.address);
    plans_ = cv1::PlansService::NewStub(contracts);
    contracts_stub_ = cv1::ContractsService::NewStub(contracts);
    products_ = cv1::ProductsService::NewStub(contracts);
    purchases_ = cv1::PurchasesService::NewStub(contracts);
    invoices_ = cv1::InvoicesService::NewStub(contracts);
    const std::shared_ptr<grpc::Channel> bookings = testing::Connect(bookings_.address);
    resources_ = bv1::ResourcesService::NewStub(bookings);
    bookings_stub_ = bv1::BookingsService::NewStub(bookings);
    credit_ = bv1::CreditService::NewStub(bookings);
    const std::shared_ptr<grpc::Channel> checkins = testing::Connect(checkins_.address);
    checkins_stub_ = kv1::CheckinsService::NewStub(checkins);
    visitors_ = kv1::VisitorsService::NewStub(checkins);
    helpdesk_stub_ = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk_.address));
    const std::shared_ptr<grpc::Channel> billing = testing::Connect(billing_.address);
    active_ = av1::ActiveUsersService::NewStub(billing);
    subscription_ = av1::SubscriptionService::NewStub(billing);

    absl::TimeZone madrid;  // every location of the suite's tenants
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Madrid", &madrid));
    madrid_ = madrid;
    tomorrow_ = absl::ToCivilDay(absl::Now(), madrid_) + 1;

    COWORK_ASSERT_OK_AND_ASSIGN(const Tenant tenant, CreateTenant(stubs(), "Shared Desks"));
    operator_id_ = tenant.operator_id;
    COWORK_ASSERT_OK_AND_ASSIGN(const uv1::Location second,
                                CreateLocation(stubs(), tenant.admin_token, "Shared Desks Norte"));
    ASSERT_NO_FATAL_FAILURE(MakeSide(a_, "Alfa", tenant.location_id, "a1@example.test"));
    ASSERT_NO_FATAL_FAILURE(MakeSide(b_, "Bravo", second.location_id(), "a2@example.test"));
  }

  testing::CustomersStubs& stubs() { return suite_->stubs(); }

  // Tomorrow at `hour` in Madrid: fixed for the whole test, so that a retry is the same request.
  absl::Time At(int hour) const {
    return absl::FromCivil(
        absl::CivilHour(tomorrow_.year(), tomorrow_.month(), tomorrow_.day(), hour), madrid_);
  }

  // The side's tokens and customers; returns once every service knows its location and
  // customers (they learn them from the customers events).
  void MakeSide(Side& s, const std::string& tag, const std::string& location_id,
                const std::string& subject) {
    s.tag = tag;
    s.location_id = location_id;
    s.subject = subject;
    s.admin = testing::MintDevAdminToken(operator_id_, {location_id}, {}, absl::Hours(1), subject);
    s.wide = testing::MintDevAdminToken(operator_id_, {"*"}, {}, absl::Hours(1), subject);
    s.platform =
        testing::MintDevPlatformToken(absl::StrCat("platform-", s.Lower(), "@example.test"));
    COWORK_ASSERT_OK_AND_ASSIGN(s.member, Register(s, "member"));
    COWORK_ASSERT_OK_AND_ASSIGN(s.payer, Register(s, "payer"));

    const std::string month = absl::FormatTime("%Y-%m", absl::Now(), madrid_);
    std::vector<std::pair<std::string, std::function<absl::StatusOr<std::string>()>>> reads = {
        {"contracts: the location",
         [&] {
           cv1::GetTaxRateRequest r;
           r.set_location_id(s.location_id);
           return Answer(*invoices_, &cv1::InvoicesService::Stub::GetTaxRate, r, s.admin);
         }},
        {"checkins: the location",
         [&] {
           kv1::GetCheckoutPolicyRequest r;
           r.set_location_id(s.location_id);
           return Answer(*checkins_stub_, &kv1::CheckinsService::Stub::GetCheckoutPolicy, r,
                         s.admin);
         }},
        {"helpdesk: the location",
         [&] {
           hv1::ListTicketsRequest r;
           r.set_location_id(s.location_id);
           return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::ListTickets, r, s.admin);
         }},
        {"billing: the location",
         [&] {
           av1::GetActiveUsersRequest r;
           r.set_location_id(s.location_id);
           r.set_month(month);
           return Answer(*active_, &av1::ActiveUsersService::Stub::GetActiveUsers, r, s.admin);
         }},
    };
    for (const uv1::Session* session : {&s.member, &s.payer}) {
      const std::string& id = session->customer().customer_id();
      reads.emplace_back("contracts: " + id, [&, session] {
        cv1::ListContractsRequest r;
        r.set_customer_id(session->customer().customer_id());
        return Answer(*contracts_stub_, &cv1::ContractsService::Stub::ListContracts, r,
                      session->token());
      });
      reads.emplace_back("bookings: " + id, [&, session] {
        bv1::GetCreditRequest r;
        r.set_customer_id(session->customer().customer_id());
        r.set_location_id(s.location_id);
        return Answer(*credit_, &bv1::CreditService::Stub::GetCredit, r, session->token());
      });
      reads.emplace_back("checkins: " + id, [&, session] {
        kv1::GetPresenceRequest r;
        r.set_customer_id(session->customer().customer_id());
        return Answer(*checkins_stub_, &kv1::CheckinsService::Stub::GetPresence, r,
                      session->token());
      });
      reads.emplace_back("helpdesk: " + id, [&, session] {
        return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::ListTickets,
                      hv1::ListTicketsRequest(), session->token());
      });
    }
    for (const auto& [what, read] : reads) {
      const absl::StatusOr<std::string> known = Until(read, Known<std::string>);
      ASSERT_TRUE(known.ok()) << s.tag << ": " << what << ": " << known.status();
    }
  }

  // ------------------------------------------------------------ what the cases need

  // A portal registration at the side's location, its id kept under `purpose`.
  absl::StatusOr<uv1::Session> Register(Side& s, const std::string& purpose) {
    absl::StatusOr<uv1::Session> session =
        RegisterPortalCustomer(stubs(), Tenant{operator_id_, s.location_id, ""}, s.tag,
                               s.Email(purpose), kPassword);
    if (session.ok()) s.ids[purpose] = session->customer().customer_id();
    return session;
  }

  // A portal customer with two sessions: `purpose` and `purpose`.other (another device).
  absl::Status OpenSessions(Side& s, const std::string& purpose) {
    absl::StatusOr<uv1::Session> first = Register(s, purpose);
    if (!first.ok()) return first.status();
    uv1::SignInRequest r;
    r.set_operator_id(operator_id_);
    r.set_email(first->customer().email());
    r.set_password(kPassword);
    absl::StatusOr<uv1::Session> second =
        testing::Call(*stubs().accounts, &uv1::AccountsService::Stub::SignIn, r, "");
    if (!second.ok()) return second.status();
    s.tokens[purpose] = first->token();
    s.tokens[purpose + ".other"] = second->token();
    return absl::OkStatus();
  }

  absl::Status NewCustomer(Side& s, const std::string& purpose) {
    absl::StatusOr<uv1::Customer> c = AddCustomer(
        stubs(), s.admin, Individual(s.location_id, s.tag, "Customer", s.Email(purpose)));
    if (!c.ok()) return c.status();
    s.ids[purpose] = c->customer_id();
    return absl::OkStatus();
  }

  // New customers `members` (purposes) in a new team.
  absl::Status NewTeam(Side& s, const std::string& purpose,
                       const std::vector<std::string>& members) {
    uv1::CreateTeamRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    r.set_name(s.tag + " Team");
    for (const std::string& member : members) {
      if (absl::Status added = NewCustomer(s, member); !added.ok()) return added;
      r.add_member_ids(s.ids[member]);
    }
    absl::StatusOr<uv1::Team> team =
        testing::Call(*stubs().teams, &uv1::TeamsService::Stub::CreateTeam, r, s.admin);
    if (!team.ok()) return team.status();
    s.ids[purpose] = team->team_id();
    return absl::OkStatus();
  }

  absl::Status NewPlan(Side& s, const std::string& purpose) {
    cv1::CreatePlanRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    r.set_name(s.tag + " Plan");
    r.set_price_minor(15000);
    absl::StatusOr<cv1::Plan> plan =
        testing::Call(*plans_, &cv1::PlansService::Stub::CreatePlan, r, s.admin);
    if (!plan.ok()) return plan.status();
    s.ids[purpose] = plan->plan_id();
    return absl::OkStatus();
  }

  // The member signed up today to a new plan.
  absl::Status NewContract(Side& s, const std::string& purpose) {
    if (absl::Status plan = NewPlan(s, purpose + ".plan"); !plan.ok()) return plan;
    cv1::CreateContractRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(s.MemberId());
    r.set_plan_id(s.ids[purpose + ".plan"]);
    absl::StatusOr<cv1::Contract> contract =
        testing::Call(*contracts_stub_, &cv1::ContractsService::Stub::CreateContract, r, s.admin);
    if (!contract.ok()) return contract.status();
    s.ids[purpose] = contract->contract_id();
    return absl::OkStatus();
  }

  absl::Status NewProduct(Side& s, const std::string& purpose, cv1::ProductKind kind) {
    cv1::CreateProductRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    r.set_name(s.tag + (kind == cv1::RECURRING ? " Locker" : " Day Pass"));
    r.set_price_minor(2500);
    r.set_kind(kind);
    absl::StatusOr<cv1::Product> product =
        testing::Call(*products_, &cv1::ProductsService::Stub::CreateProduct, r, s.admin);
    if (!product.ok()) return product.status();
    s.ids[purpose] = product->product_id();
    return absl::OkStatus();
  }

  // The admin buys a new product of `kind` for `customer_id`.
  absl::Status NewPurchase(Side& s, const std::string& purpose, cv1::ProductKind kind,
                           const std::string& customer_id) {
    if (absl::Status product = NewProduct(s, purpose + ".product", kind); !product.ok()) {
      return product;
    }
    cv1::BuyRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(customer_id);
    r.set_product_id(s.ids[purpose + ".product"]);
    absl::StatusOr<cv1::Purchase> purchase =
        testing::Call(*purchases_, &cv1::PurchasesService::Stub::Buy, r, s.admin);
    if (!purchase.ok()) return purchase.status();
    s.ids[purpose] = purchase->purchase_id();
    return absl::OkStatus();
  }

  // An invoice of the payer: a contact is invoiced as they buy.
  absl::Status NewInvoice(Side& s, const std::string& purpose) {
    if (absl::Status bought = NewPurchase(s, purpose + ".purchase", cv1::ONE_OFF, s.PayerId());
        !bought.ok()) {
      return bought;
    }
    cv1::ListInvoicesRequest r;
    r.set_customer_id(s.PayerId());
    absl::StatusOr<cv1::ListInvoicesResponse> invoices =
        testing::Call(*invoices_, &cv1::InvoicesService::Stub::ListInvoices, r, s.admin);
    if (!invoices.ok()) return invoices.status();
    for (const cv1::Invoice& invoice : invoices->invoices()) {
      for (const cv1::InvoiceLine& line : invoice.lines()) {
        if (line.charge_id() == s.ids[purpose + ".purchase"]) {
          s.ids[purpose] = invoice.invoice_id();
          return absl::OkStatus();
        }
      }
    }
    return absl::NotFoundError("the purchase was not invoiced");
  }

  bv1::ResourceSpec Room(const Side& s, const std::string& name, int capacity) const {
    bv1::ResourceSpec spec;
    spec.set_name(absl::StrCat(s.tag, " ", name));
    spec.set_kind(bv1::MEETING_ROOM);
    spec.set_capacity(capacity);
    spec.set_portal_bookable(true);
    return spec;
  }

  absl::Status NewRoom(Side& s, const std::string& purpose) {
    bv1::CreateResourceRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    *r.mutable_spec() = Room(s, "Room", 4);
    absl::StatusOr<bv1::Resource> room =
        testing::Call(*resources_, &bv1::ResourcesService::Stub::CreateResource, r, s.admin);
    if (!room.ok()) return room.status();
    s.ids[purpose] = room->resource_id();
    return absl::OkStatus();
  }

  // The member's booking of a new room tomorrow from `hour`, for an hour.
  absl::Status NewBooking(Side& s, const std::string& purpose, int hour) {
    if (absl::Status room = NewRoom(s, purpose + ".room"); !room.ok()) return room;
    bv1::CreateBookingRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_resource_id(s.ids[purpose + ".room"]);
    r.set_customer_id(s.MemberId());
    *r.mutable_start_time() = ToTimestamp(At(hour));
    *r.mutable_end_time() = ToTimestamp(At(hour + 1));
    absl::StatusOr<bv1::Booking> booking =
        testing::Call(*bookings_stub_, &bv1::BookingsService::Stub::CreateBooking, r, s.admin);
    if (!booking.ok()) return booking.status();
    s.ids[purpose] = booking->booking_id();
    return absl::OkStatus();
  }

  // A visitor of the member, expected tomorrow, registered at the front desk.
  absl::Status NewVisitor(Side& s, const std::string& purpose) {
    kv1::RegisterVisitorRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    r.set_host_customer_id(s.MemberId());
    r.set_name(s.tag + " Guest");
    r.set_email(s.Email(purpose));
    *r.mutable_expected_arrival() = ToTimestamp(At(11));
    absl::StatusOr<kv1::Visitor> visitor =
        testing::Call(*visitors_, &kv1::VisitorsService::Stub::RegisterVisitor, r, s.admin);
    if (!visitor.ok()) return visitor.status();
    s.ids[purpose] = visitor->visitor_id();
    return absl::OkStatus();
  }

  // A ticket the member opens.
  absl::Status NewTicket(Side& s, const std::string& purpose) {
    hv1::OpenTicketRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(s.location_id);
    r.set_subject(s.tag + " printer jams");
    r.set_message("The printer on the first floor jams.");
    r.set_priority(hv1::NORMAL);
    absl::StatusOr<hv1::Ticket> ticket = testing::Call(
        *helpdesk_stub_, &hv1::HelpdeskService::Stub::OpenTicket, r, s.member.token());
    if (!ticket.ok()) return ticket.status();
    s.ids[purpose] = ticket->ticket_id();
    return absl::OkStatus();
  }

  // The member closes the ticket.
  absl::StatusOr<std::string> CloseTicket(Side& s, const std::string& purpose,
                                          const std::string& request_id) {
    hv1::CloseTicketRequest r;
    r.set_request_id(request_id);
    r.set_ticket_id(s.ids.at(purpose));
    return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::CloseTicket, r,
                  s.member.token());
  }

  absl::StatusOr<std::string> RecordArrival(Side& s, const std::string& purpose,
                                            const std::string& request_id) {
    kv1::RecordVisitorArrivalRequest r;
    r.set_request_id(request_id);
    r.set_visitor_id(s.ids.at(purpose));
    return Answer(*visitors_, &kv1::VisitorsService::Stub::RecordVisitorArrival, r, s.admin);
  }

  absl::StatusOr<std::string> SetCard(Side& s, const std::string& request_id) {
    av1::SetPaymentMethodRequest r;
    r.set_request_id(request_id);
    av1::Card* card = r.mutable_method()->mutable_card();
    card->set_processor_token(absl::StrCat("pm_", s.tag, "Card"));
    card->set_brand("visa");
    card->set_last_four("4242");
    card->set_expiry_month(12);
    card->set_expiry_year(2099);
    return Answer(*subscription_, &av1::SubscriptionService::Stub::SetPaymentMethod, r, s.wide);
  }

  absl::StatusOr<std::string> EnableAddOn(Side& s, const std::string& add_on,
                                          const std::string& request_id) {
    av1::EnableAddOnRequest r;
    r.set_request_id(request_id);
    r.set_location_id(s.location_id);
    r.set_add_on(add_on);
    return Answer(*subscription_, &av1::SubscriptionService::Stub::EnableAddOn, r, s.admin);
  }

  absl::StatusOr<av1::Account> SubscriptionAccount(const Side& s) {
    return testing::Call(*subscription_, &av1::SubscriptionService::Stub::GetAccount,
                         av1::GetAccountRequest(), s.wide);
  }

  // ------------------------------------------------------------ the checks

  // A calls with a fresh id; B calls with the same id; A retries.
  void Run(const Case& c) {
    SCOPED_TRACE(c.rpc);
    const std::string id = testing::NewRequestId();
    if (c.before) COWORK_ASSERT_OK(c.before(a_));
    const absl::StatusOr<std::string> first = c.call(a_, id);
    ASSERT_TRUE(first.ok()) << c.rpc << ": A's call: " << first.status();

    // B's request is valid and its own: under A's id it is done for B, as with any other id.
    if (c.before) COWORK_ASSERT_OK(c.before(b_));
    const absl::StatusOr<std::string> second = c.call(b_, id);
    ASSERT_TRUE(second.ok()) << c.rpc << ": B's call under A's request id: " << second.status();
    if (c.done) {
      const absl::Status done = c.done(b_);
      EXPECT_TRUE(done.ok()) << c.rpc << ": B's call did not do B's work: " << done;
    } else {
      EXPECT_TRUE(*second != *first) << c.rpc << ": B got A's answer";
    }
    const std::vector<std::string> markers =
        c.whole_account ? std::vector<std::string>{a_.tag} : a_.Markers();
    for (const std::string& marker : markers) {
      EXPECT_FALSE(absl::StrContains(*second, marker))
          << c.rpc << ": B's answer holds A's \"" << marker << "\"";
    }

    // A's record is still A's: its retry gets its first answer.
    const absl::StatusOr<std::string> again = (c.retry ? c.retry : c.call)(a_, id);
    ASSERT_TRUE(again.ok()) << c.rpc << ": A's retry: " << again.status();
    EXPECT_TRUE(*again == *first) << c.rpc << ": A's retry did not get A's first answer";
  }

  std::unique_ptr<Suite> suite_;
  testing::Service contracts_, bookings_, checkins_, helpdesk_, billing_;
  std::unique_ptr<cv1::PlansService::Stub> plans_;
  std::unique_ptr<cv1::ContractsService::Stub> contracts_stub_;
  std::unique_ptr<cv1::ProductsService::Stub> products_;
  std::unique_ptr<cv1::PurchasesService::Stub> purchases_;
  std::unique_ptr<cv1::InvoicesService::Stub> invoices_;
  std::unique_ptr<bv1::ResourcesService::Stub> resources_;
  std::unique_ptr<bv1::BookingsService::Stub> bookings_stub_;
  std::unique_ptr<bv1::CreditService::Stub> credit_;
  std::unique_ptr<kv1::CheckinsService::Stub> checkins_stub_;
  std::unique_ptr<kv1::VisitorsService::Stub> visitors_;
  std::unique_ptr<hv1::HelpdeskService::Stub> helpdesk_stub_;
  std::unique_ptr<av1::ActiveUsersService::Stub> active_;
  std::unique_ptr<av1::SubscriptionService::Stub> subscription_;
  absl::TimeZone madrid_;
  absl::CivilDay tomorrow_;
  std::string operator_id_;
  Side a_, b_;  // at the tenant's first location and at its second
};

// The request id issue: a request record is its caller's. For every mutating RPC of every
// service, A (an admin of one location, or a customer there) calls with an id; B (the admin of
// the other location, or a customer there) sends a valid request of its own under the same id
// and gets its own answer, holding nothing of A's; A's retry still gets A's first answer. The
// table must hold every mutating RPC of the API files.
TEST_F(SecurityEveryService, ARequestIdIsItsCallersOwnInEveryMutatingRpc) {
  const std::vector<Case> cases = {
      // -------------------------------------------------------- customers
      {.rpc = "DirectoryService.CreateOperator",
       .call = [this](Side& s, const std::string& id) {
         uv1::CreateOperatorRequest r;
         r.set_request_id(id);
         r.set_name(s.tag + " Operator");
         return Answer(*stubs().directory, &uv1::DirectoryService::Stub::CreateOperator, r,
                       s.platform);
       }},
      {.rpc = "DirectoryService.CreateLocation",
       .call = [this](Side& s, const std::string& id) {
         uv1::CreateLocationRequest r;
         r.set_request_id(id);
         r.set_name(s.tag + " Annex");
         r.set_time_zone("Europe/Madrid");
         r.set_currency("EUR");
         return Answer(*stubs().directory, &uv1::DirectoryService::Stub::CreateLocation, r,
                       s.wide);
       }},
      {.rpc = "DirectoryService.UpdateLocation",
       .call = [this](Side& s, const std::string& id) {
         uv1::UpdateLocationRequest r;
         r.set_request_id(id);
         r.mutable_location()->set_location_id(s.location_id);
         r.mutable_location()->set_name(s.tag + " Centro");
         r.mutable_update_mask()->add_paths("name");
         return Answer(*stubs().directory, &uv1::DirectoryService::Stub::UpdateLocation, r,
                       s.wide);
       }},
      {.rpc = "CustomersService.AddCustomer",
       .call = [this](Side& s, const std::string& id) {
         uv1::AddCustomerRequest r =
             Individual(s.location_id, s.tag, "Added", s.Lower() + "-added@example.test");
         r.set_request_id(id);
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::AddCustomer, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.UpdateCustomer",
       .before = [this](Side& s) { return NewCustomer(s, "updated"); },
       .call = [this](Side& s, const std::string& id) {
         uv1::UpdateCustomerRequest r;
         r.set_request_id(id);
         r.mutable_customer()->set_customer_id(s.ids.at("updated"));
         r.mutable_customer()->set_last_name("Renamed");
         r.mutable_update_mask()->add_paths("last_name");
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::UpdateCustomer, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.ChangeCustomerType",
       .before = [this](Side& s) { return NewCustomer(s, "retyped"); },
       .call = [this](Side& s, const std::string& id) {
         uv1::ChangeCustomerTypeRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.ids.at("retyped"));
         r.set_type(uv1::COMPANY);
         r.set_company_name(s.tag + " Studio");
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::ChangeCustomerType, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.SuspendCustomer",
       .before = [this](Side& s) { return NewCustomer(s, "suspended"); },
       .call = [this](Side& s, const std::string& id) {
         uv1::SuspendCustomerRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.ids.at("suspended"));
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::SuspendCustomer, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.ReactivateCustomer",
       .before =
           [this](Side& s) {
             if (absl::Status added = NewCustomer(s, "reactivated"); !added.ok()) return added;
             uv1::SuspendCustomerRequest r;
             r.set_request_id(testing::NewRequestId());
             r.set_customer_id(s.ids["reactivated"]);
             return testing::Call(*stubs().customers,
                                  &uv1::CustomersService::Stub::SuspendCustomer, r, s.admin)
                 .status();
           },
       .call = [this](Side& s, const std::string& id) {
         uv1::ReactivateCustomerRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.ids.at("reactivated"));
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::ReactivateCustomer, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.CreateUserAccount",
       .before = [this](Side& s) { return NewCustomer(s, "account"); },
       .call = [this](Side& s, const std::string& id) {
         uv1::CreateUserAccountRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.ids.at("account"));
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::CreateUserAccount, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.ImportCustomers",
       .call = [this](Side& s, const std::string& id) {
         uv1::ImportCustomersRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_csv(absl::StrCat("first_name,last_name,email\n", s.tag, ",Imported,", s.Lower(),
                                "-imported@example.test\n"));
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::ImportCustomers, r,
                       s.admin);
       }},
      {.rpc = "CustomersService.EraseCustomer",
       .before = [this](Side& s) { return NewCustomer(s, "erased"); },
       .call = [this](Side& s, const std::string& id) {
         uv1::EraseCustomerRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.ids.at("erased"));
         return Answer(*stubs().customers, &uv1::CustomersService::Stub::EraseCustomer, r,
                       s.admin);
       }},
      // Anonymous: the caller is the address it registers.
      {.rpc = "AccountsService.Register",
       .call = [this](Side& s, const std::string& id) {
         uv1::RegisterRequest r;
         r.set_request_id(id);
         r.set_operator_id(operator_id_);
         r.set_location_id(s.location_id);
         r.set_first_name(s.tag);
         r.set_last_name("Registered");
         r.set_email(s.Lower() + "-registered@example.test");
         r.set_password(kPassword);
         return SessionAnswer(
             testing::Call(*stubs().accounts, &uv1::AccountsService::Stub::Register, r, ""));
       }},
      // Passwords stay out of the request record: both sides' requests look the same to it.
      {.rpc = "AccountsService.ChangePassword",
       .before = [this](Side& s) { return OpenSessions(s, "changer"); },
       .call =
           [this](Side& s, const std::string& id) {
             uv1::ChangePasswordRequest r;
             r.set_request_id(id);
             r.set_current_password(kPassword);
             r.set_new_password(kNewPassword);
             absl::StatusOr<uv1::Session> changed = testing::Call(
                 *stubs().accounts, &uv1::AccountsService::Stub::ChangePassword, r,
                 s.tokens.at("changer"));
             if (changed.ok()) s.tokens["changer.new"] = changed->token();
             return SessionAnswer(changed);
           },
       // The change ended the session it was made with: A's client retries with what the
       // answer gave it, the new session and password.
       .retry = [this](Side& s, const std::string& id) {
         uv1::ChangePasswordRequest r;
         r.set_request_id(id);
         r.set_current_password(kNewPassword);
         r.set_new_password(kNewPassword);
         return SessionAnswer(testing::Call(*stubs().accounts,
                                            &uv1::AccountsService::Stub::ChangePassword, r,
                                            s.tokens.at("changer.new")));
       }},
      // A request holding nothing but its id: both sides' look the same to the record.
      {.rpc = "AccountsService.SignOut",
       .before = [this](Side& s) { return OpenSessions(s, "leaver"); },
       .call =
           [this](Side& s, const std::string& id) {
             uv1::SignOutRequest r;
             r.set_request_id(id);
             return Answer(*stubs().accounts, &uv1::AccountsService::Stub::SignOut, r,
                           s.tokens.at("leaver"));
           },
       // The sign-out ended the session it was made with: A's client retries from its other
       // device.
       .retry =
           [this](Side& s, const std::string& id) {
             uv1::SignOutRequest r;
             r.set_request_id(id);
             return Answer(*stubs().accounts, &uv1::AccountsService::Stub::SignOut, r,
                           s.tokens.at("leaver.other"));
           },
       .done = [this](Side& s) -> absl::Status {
         const absl::Status after =
             GetCustomer(stubs(), s.tokens.at("leaver"), s.ids.at("leaver")).status();
         if (after.code() == kUnauthenticated) return absl::OkStatus();
         return absl::FailedPreconditionError(
             absl::StrCat("the signed-out session still opens: ", after.ToString()));
       }},
      {.rpc = "TeamsService.CreateTeam",
       .call = [this](Side& s, const std::string& id) {
         uv1::CreateTeamRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_name(s.tag + " Team");
         r.add_member_ids(s.MemberId());
         return Answer(*stubs().teams, &uv1::TeamsService::Stub::CreateTeam, r, s.admin);
       }},
      {.rpc = "TeamsService.AddTeamMember",
       .before =
           [this](Side& s) {
             if (absl::Status added = NewCustomer(s, "joining"); !added.ok()) return added;
             return NewTeam(s, "team.joined", {"founding"});
           },
       .call = [this](Side& s, const std::string& id) {
         uv1::AddTeamMemberRequest r;
         r.set_request_id(id);
         r.set_team_id(s.ids.at("team.joined"));
         r.set_customer_id(s.ids.at("joining"));
         return Answer(*stubs().teams, &uv1::TeamsService::Stub::AddTeamMember, r, s.admin);
       }},
      {.rpc = "TeamsService.RemoveTeamMember",
       .before = [this](Side& s) { return NewTeam(s, "team.left", {"staying", "leaving"}); },
       .call = [this](Side& s, const std::string& id) {
         uv1::RemoveTeamMemberRequest r;
         r.set_request_id(id);
         r.set_team_id(s.ids.at("team.left"));
         r.set_customer_id(s.ids.at("leaving"));
         return Answer(*stubs().teams, &uv1::TeamsService::Stub::RemoveTeamMember, r, s.admin);
       }},
      {.rpc = "TeamsService.SetPayingMember",
       .before = [this](Side& s) { return NewTeam(s, "team.paid", {"paying"}); },
       .call = [this](Side& s, const std::string& id) {
         uv1::SetPayingMemberRequest r;
         r.set_request_id(id);
         r.set_team_id(s.ids.at("team.paid"));
         r.set_customer_id(s.ids.at("paying"));
         return Answer(*stubs().teams, &uv1::TeamsService::Stub::SetPayingMember, r, s.admin);
       }},
      {.rpc = "TeamsService.UpdateTeamSharing",
       .before = [this](Side& s) { return NewTeam(s, "team.shared", {"sharing"}); },
       .call = [this](Side& s, const std::string& id) {
         uv1::UpdateTeamSharingRequest r;
         r.set_request_id(id);
         r.set_team_id(s.ids.at("team.shared"));
         r.set_share_booking_credit(true);
         r.set_share_access(true);
         return Answer(*stubs().teams, &uv1::TeamsService::Stub::UpdateTeamSharing, r,
                       s.admin);
       }},

      // -------------------------------------------------------- contracts
      {.rpc = "PlansService.CreatePlan",
       .call = [this](Side& s, const std::string& id) {
         cv1::CreatePlanRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_name(s.tag + " Hot Desk");
         r.set_price_minor(15000);
         return Answer(*plans_, &cv1::PlansService::Stub::CreatePlan, r, s.admin);
       }},
      {.rpc = "PlansService.UpdatePlanPrice",
       .before = [this](Side& s) { return NewPlan(s, "plan.repriced"); },
       .call = [this](Side& s, const std::string& id) {
         cv1::UpdatePlanPriceRequest r;
         r.set_request_id(id);
         r.set_plan_id(s.ids.at("plan.repriced"));
         r.set_price_minor(17500);
         return Answer(*plans_, &cv1::PlansService::Stub::UpdatePlanPrice, r, s.admin);
       }},
      {.rpc = "ContractsService.CreateContract",
       .before = [this](Side& s) { return NewPlan(s, "plan.signed"); },
       .call = [this](Side& s, const std::string& id) {
         cv1::CreateContractRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.MemberId());
         r.set_plan_id(s.ids.at("plan.signed"));
         return Answer(*contracts_stub_, &cv1::ContractsService::Stub::CreateContract, r,
                       s.admin);
       }},
      {.rpc = "ContractsService.CancelContract",
       .before = [this](Side& s) { return NewContract(s, "contract.cancelled"); },
       .call = [this](Side& s, const std::string& id) {
         cv1::CancelContractRequest r;
         r.set_request_id(id);
         r.set_contract_id(s.ids.at("contract.cancelled"));
         return Answer(*contracts_stub_, &cv1::ContractsService::Stub::CancelContract, r,
                       s.admin);
       }},
      {.rpc = "ProductsService.CreateProduct",
       .call = [this](Side& s, const std::string& id) {
         cv1::CreateProductRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_name(s.tag + " Week Pass");
         r.set_price_minor(6000);
         r.set_kind(cv1::ONE_OFF);
         return Answer(*products_, &cv1::ProductsService::Stub::CreateProduct, r, s.admin);
       }},
      // The member buys for themself.
      {.rpc = "PurchasesService.Buy",
       .before = [this](Side& s) { return NewProduct(s, "product.bought", cv1::ONE_OFF); },
       .call = [this](Side& s, const std::string& id) {
         cv1::BuyRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.MemberId());
         r.set_product_id(s.ids.at("product.bought"));
         return Answer(*purchases_, &cv1::PurchasesService::Stub::Buy, r, s.member.token());
       }},
      {.rpc = "PurchasesService.CancelPurchase",
       .before =
           [this](Side& s) {
             return NewPurchase(s, "purchase.cancelled", cv1::RECURRING, s.MemberId());
           },
       .call = [this](Side& s, const std::string& id) {
         cv1::CancelPurchaseRequest r;
         r.set_request_id(id);
         r.set_purchase_id(s.ids.at("purchase.cancelled"));
         return Answer(*purchases_, &cv1::PurchasesService::Stub::CancelPurchase, r, s.admin);
       }},
      {.rpc = "InvoicesService.SetTaxRate",
       .call = [this](Side& s, const std::string& id) {
         cv1::SetTaxRateRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_tax_rate_ppm(210000);
         return Answer(*invoices_, &cv1::InvoicesService::Stub::SetTaxRate, r, s.admin);
       }},
      {.rpc = "InvoicesService.SetInvoicingPreference",
       .call = [this](Side& s, const std::string& id) {
         cv1::SetInvoicingPreferenceRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.MemberId());
         r.set_invoice_as_they_buy(true);
         return Answer(*invoices_, &cv1::InvoicesService::Stub::SetInvoicingPreference, r,
                       s.admin);
       }},
      {.rpc = "InvoicesService.PayInvoice",
       .before = [this](Side& s) { return NewInvoice(s, "invoice.paid"); },
       .call = [this](Side& s, const std::string& id) {
         cv1::PayInvoiceRequest r;
         r.set_request_id(id);
         r.set_invoice_id(s.ids.at("invoice.paid"));
         return Answer(*invoices_, &cv1::InvoicesService::Stub::PayInvoice, r, s.admin);
       }},
      {.rpc = "InvoicesService.VoidInvoice",
       .before = [this](Side& s) { return NewInvoice(s, "invoice.voided"); },
       .call = [this](Side& s, const std::string& id) {
         cv1::VoidInvoiceRequest r;
         r.set_request_id(id);
         r.set_invoice_id(s.ids.at("invoice.voided"));
         r.set_reason(s.tag + " billed twice");
         return Answer(*invoices_, &cv1::InvoicesService::Stub::VoidInvoice, r, s.admin);
       }},

      // -------------------------------------------------------- bookings
      {.rpc = "ResourcesService.CreateResource",
       .call = [this](Side& s, const std::string& id) {
         bv1::CreateResourceRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         *r.mutable_spec() = Room(s, "Boardroom", 10);
         return Answer(*resources_, &bv1::ResourcesService::Stub::CreateResource, r, s.admin);
       }},
      {.rpc = "ResourcesService.UpdateResource",
       .before = [this](Side& s) { return NewRoom(s, "room.updated"); },
       .call = [this](Side& s, const std::string& id) {
         bv1::UpdateResourceRequest r;
         r.set_request_id(id);
         r.set_resource_id(s.ids.at("room.updated"));
         *r.mutable_spec() = Room(s, "Large Room", 8);
         return Answer(*resources_, &bv1::ResourcesService::Stub::UpdateResource, r, s.admin);
       }},
      // The member books for themself.
      {.rpc = "BookingsService.CreateBooking",
       .before = [this](Side& s) { return NewRoom(s, "room.booked"); },
       .call = [this](Side& s, const std::string& id) {
         bv1::CreateBookingRequest r;
         r.set_request_id(id);
         r.set_resource_id(s.ids.at("room.booked"));
         *r.mutable_start_time() = ToTimestamp(At(10));
         *r.mutable_end_time() = ToTimestamp(At(11));
         return Answer(*bookings_stub_, &bv1::BookingsService::Stub::CreateBooking, r,
                       s.member.token());
       }},
      {.rpc = "BookingsService.CancelBooking",
       .before = [this](Side& s) { return NewBooking(s, "booking.cancelled", 12); },
       .call = [this](Side& s, const std::string& id) {
         bv1::CancelBookingRequest r;
         r.set_request_id(id);
         r.set_booking_id(s.ids.at("booking.cancelled"));
         return Answer(*bookings_stub_, &bv1::BookingsService::Stub::CancelBooking, r,
                       s.member.token());
       }},
      {.rpc = "BookingsService.MoveBooking",
       .before = [this](Side& s) { return NewBooking(s, "booking.moved", 10); },
       .call = [this](Side& s, const std::string& id) {
         bv1::MoveBookingRequest r;
         r.set_request_id(id);
         r.set_booking_id(s.ids.at("booking.moved"));
         *r.mutable_start_time() = ToTimestamp(At(15));
         return Answer(*bookings_stub_, &bv1::BookingsService::Stub::MoveBooking, r, s.admin);
       }},
      {.rpc = "CreditService.GrantCredit",
       .call = [this](Side& s, const std::string& id) {
         bv1::GrantCreditRequest r;
         r.set_request_id(id);
         r.set_customer_id(s.MemberId());
         r.set_location_id(s.location_id);
         r.set_minutes(60);
         r.set_reason(s.tag + " welcome hour");
         return Answer(*credit_, &bv1::CreditService::Stub::GrantCredit, r, s.admin);
       }},

      // -------------------------------------------------------- checkins
      // The member checks in by app.
      {.rpc = "CheckinsService.CheckIn",
       .call = [this](Side& s, const std::string& id) {
         kv1::CheckInRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_method(kv1::APP);
         return Answer(*checkins_stub_, &kv1::CheckinsService::Stub::CheckIn, r,
                       s.member.token());
       }},
      // The payer checks themself out: a request holding nothing but its id.
      {.rpc = "CheckinsService.CheckOut",
       .before =
           [this](Side& s) {
             kv1::CheckInRequest r;
             r.set_request_id(testing::NewRequestId());
             r.set_customer_id(s.PayerId());
             r.set_location_id(s.location_id);
             r.set_method(kv1::MANUAL);
             return testing::Call(*checkins_stub_, &kv1::CheckinsService::Stub::CheckIn, r,
                                  s.admin)
                 .status();
           },
       .call = [this](Side& s, const std::string& id) {
         kv1::CheckOutRequest r;
         r.set_request_id(id);
         return Answer(*checkins_stub_, &kv1::CheckinsService::Stub::CheckOut, r,
                       s.payer.token());
       }},
      {.rpc = "CheckinsService.SetCheckoutPolicy",
       .call = [this](Side& s, const std::string& id) {
         kv1::SetCheckoutPolicyRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_max_hours(10);
         return Answer(*checkins_stub_, &kv1::CheckinsService::Stub::SetCheckoutPolicy, r,
                       s.admin);
       }},
      // The member registers their own visitor.
      {.rpc = "VisitorsService.RegisterVisitor",
       .call = [this](Side& s, const std::string& id) {
         kv1::RegisterVisitorRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_name(s.tag + " Visitor");
         r.set_email(s.Lower() + "-visitor@example.test");
         *r.mutable_expected_arrival() = ToTimestamp(At(9));
         return Answer(*visitors_, &kv1::VisitorsService::Stub::RegisterVisitor, r,
                       s.member.token());
       }},
      {.rpc = "VisitorsService.RecordVisitorArrival",
       .before = [this](Side& s) { return NewVisitor(s, "visitor.arriving"); },
       .call = [this](Side& s, const std::string& id) {
         return RecordArrival(s, "visitor.arriving", id);
       }},
      {.rpc = "VisitorsService.RecordVisitorDeparture",
       .before =
           [this](Side& s) {
             if (absl::Status v = NewVisitor(s, "visitor.leaving"); !v.ok()) return v;
             return RecordArrival(s, "visitor.leaving", testing::NewRequestId()).status();
           },
       .call = [this](Side& s, const std::string& id) {
         kv1::RecordVisitorDepartureRequest r;
         r.set_request_id(id);
         r.set_visitor_id(s.ids.at("visitor.leaving"));
         return Answer(*visitors_, &kv1::VisitorsService::Stub::RecordVisitorDeparture, r,
                       s.admin);
       }},
      // The host cancels.
      {.rpc = "VisitorsService.CancelVisitor",
       .before = [this](Side& s) { return NewVisitor(s, "visitor.cancelled"); },
       .call = [this](Side& s, const std::string& id) {
         kv1::CancelVisitorRequest r;
         r.set_request_id(id);
         r.set_visitor_id(s.ids.at("visitor.cancelled"));
         return Answer(*visitors_, &kv1::VisitorsService::Stub::CancelVisitor, r,
                       s.member.token());
       }},
      {.rpc = "VisitorsService.EraseVisitor",
       .before = [this](Side& s) { return NewVisitor(s, "visitor.erased"); },
       .call = [this](Side& s, const std::string& id) {
         kv1::EraseVisitorRequest r;
         r.set_request_id(id);
         r.set_visitor_id(s.ids.at("visitor.erased"));
         return Answer(*visitors_, &kv1::VisitorsService::Stub::EraseVisitor, r, s.admin);
       }},

      // -------------------------------------------------------- helpdesk
      // The member opens a ticket from the portal.
      {.rpc = "HelpdeskService.OpenTicket",
       .call = [this](Side& s, const std::string& id) {
         hv1::OpenTicketRequest r;
         r.set_request_id(id);
         r.set_location_id(s.location_id);
         r.set_subject(s.tag + " locker jammed");
         r.set_message("Locker 12 does not open.");
         r.set_priority(hv1::HIGH);
         return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::OpenTicket, r,
                       s.member.token());
       }},
      {.rpc = "HelpdeskService.ReplyToTicket",
       .before = [this](Side& s) { return NewTicket(s, "ticket.replied"); },
       .call = [this](Side& s, const std::string& id) {
         hv1::ReplyToTicketRequest r;
         r.set_request_id(id);
         r.set_ticket_id(s.ids.at("ticket.replied"));
         r.set_message("A technician comes at 3 pm.");
         return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::ReplyToTicket, r,
                       s.admin);
       }},
      {.rpc = "HelpdeskService.AddTicketNote",
       .before = [this](Side& s) { return NewTicket(s, "ticket.noted"); },
       .call = [this](Side& s, const std::string& id) {
         hv1::AddTicketNoteRequest r;
         r.set_request_id(id);
         r.set_ticket_id(s.ids.at("ticket.noted"));
         r.set_message("Printer firmware is outdated.");
         return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::AddTicketNote, r,
                       s.admin);
       }},
      {.rpc = "HelpdeskService.CloseTicket",
       .before = [this](Side& s) { return NewTicket(s, "ticket.closed"); },
       .call = [this](Side& s, const std::string& id) {
         return CloseTicket(s, "ticket.closed", id);
       }},
      {.rpc = "HelpdeskService.ReopenTicket",
       .before =
           [this](Side& s) {
             if (absl::Status t = NewTicket(s, "ticket.reopened"); !t.ok()) return t;
             return CloseTicket(s, "ticket.reopened", testing::NewRequestId()).status();
           },
       .call = [this](Side& s, const std::string& id) {
         hv1::ReopenTicketRequest r;
         r.set_request_id(id);
         r.set_ticket_id(s.ids.at("ticket.reopened"));
         return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::ReopenTicket, r,
                       s.member.token());
       }},
      {.rpc = "HelpdeskService.SetTicketPriority",
       .before = [this](Side& s) { return NewTicket(s, "ticket.escalated"); },
       .call = [this](Side& s, const std::string& id) {
         hv1::SetTicketPriorityRequest r;
         r.set_request_id(id);
         r.set_ticket_id(s.ids.at("ticket.escalated"));
         r.set_priority(hv1::CRITICAL);
         return Answer(*helpdesk_stub_, &hv1::HelpdeskService::Stub::SetTicketPriority, r,
                       s.admin);
       }},

      // -------------------------------------------------------- billing
      // The payment method is the operator's: both sides change the same account. An add-on
      // answer shows the caller's locations only.
      {.rpc = "SubscriptionService.SetPaymentMethod",
       .call = [this](Side& s, const std::string& id) { return SetCard(s, id); },
       .whole_account = true},
      // A request holding nothing but its id.
      {.rpc = "SubscriptionService.RemovePaymentMethod",
       .before = [this](Side& s) { return SetCard(s, testing::NewRequestId()).status(); },
       .call =
           [this](Side& s, const std::string& id) {
             av1::RemovePaymentMethodRequest r;
             r.set_request_id(id);
             return Answer(*subscription_,
                           &av1::SubscriptionService::Stub::RemovePaymentMethod, r, s.wide);
           },
       .done =
           [this](Side& s) -> absl::Status {
             absl::StatusOr<av1::Account> account = SubscriptionAccount(s);
             if (!account.ok()) return account.status();
             if (account->has_payment_method()) {
               return absl::FailedPreconditionError(
                   absl::StrCat("a payment method is left: ", account->ShortDebugString()));
             }
             return absl::OkStatus();
           },
       .whole_account = true},
      {.rpc = "SubscriptionService.EnableAddOn",
       .call = [this](Side& s, const std::string& id) { return EnableAddOn(s, "website", id); }},
      {.rpc = "SubscriptionService.DisableAddOn",
       .before =
           [this](Side& s) {
             return EnableAddOn(s, "access-control", testing::NewRequestId()).status();
           },
       .call =
           [this](Side& s, const std::string& id) {
             av1::DisableAddOnRequest r;
             r.set_request_id(id);
             r.set_location_id(s.location_id);
             r.set_add_on("access-control");
             return Answer(*subscription_, &av1::SubscriptionService::Stub::DisableAddOn, r,
                           s.admin);
           },
       // Once both sides disabled it, the account looks the same to both.
       .done =
           [this](Side& s) -> absl::Status {
             absl::StatusOr<av1::Account> account = SubscriptionAccount(s);
             if (!account.ok()) return account.status();
             for (const av1::LocationAddOns& at : account->add_ons()) {
               if (at.location_id() == s.location_id &&
                   absl::c_linear_search(at.add_ons(), "access-control")) {
                 return absl::FailedPreconditionError(
                     absl::StrCat("still enabled: ", account->ShortDebugString()));
               }
             }
             return absl::OkStatus();
           }},
  };

  // Every mutating RPC (its request has a request_id) has a case, and every case is one.
  std::set<std::string> tabled;
  for (const Case& c : cases) tabled.insert(c.rpc);
  std::vector<std::string> missing;
  for (const char* file : kApiFiles) {
    const google::protobuf::FileDescriptor* api =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(file);
    ASSERT_NE(api, nullptr) << file;
    for (int i = 0; i < api->service_count(); ++i) {
      const google::protobuf::ServiceDescriptor* service = api->service(i);
      for (int j = 0; j < service->method_count(); ++j) {
        const google::protobuf::MethodDescriptor* method = service->method(j);
        if (method->input_type()->FindFieldByName("request_id") == nullptr) continue;
        const std::string rpc = absl::StrCat(service->name(), ".", method->name());
        if (tabled.erase(rpc) == 0) missing.push_back(rpc);
      }
    }
  }
  EXPECT_THAT(missing, IsEmpty()) << "mutating RPCs without a case";
  EXPECT_THAT(tabled, IsEmpty()) << "cases that are no mutating RPC";

  for (const Case& c : cases) Run(c);
}

// Tokens that no issuer signed as they are, or that break the claim rules, open no service: a
// customer session signed with a key that is not the customers service's session key, a token
// living longer than its kind may, one issued in the future beyond the clock skew, one for
// another audience. Each forgery copies a genuine token that the same call takes (a
// customer's session is refused by billing for its role, not as a token).
TEST_F(SecurityEveryService, ForgedTokensAreUnauthenticatedInEveryService) {
  const Side& a = a_;
  const std::string& member = a.MemberId();
  // One read of each service, which the member and an admin over every location may make.
  const std::vector<std::pair<std::string, std::function<absl::Status(const std::string&)>>>
      reads = {
          {"customers",
           [&](const std::string& token) { return GetCustomer(stubs(), token, member).status(); }},
          {"contracts",
           [&](const std::string& token) {
             cv1::ListPlansRequest r;
             r.set_location_id(a.location_id);
             return testing::Call(*plans_, &cv1::PlansService::Stub::ListPlans, r, token)
                 .status();
           }},
          {"bookings",
           [&](const std::string& token) {
             bv1::ListResourcesRequest r;
             r.set_location_id(a.location_id);
             return testing::Call(*resources_, &bv1::ResourcesService::Stub::ListResources, r,
                                  token)
                 .status();
           }},
          {"checkins",
           [&](const std::string& token) {
             kv1::GetPresenceRequest r;
             r.set_customer_id(member);
             return testing::Call(*checkins_stub_, &kv1::CheckinsService::Stub::GetPresence, r,
                                  token)
                 .status();
           }},
          {"helpdesk",
           [&](const std::string& token) {
             hv1::ListTicketsRequest r;
             r.set_customer_id(member);
             return testing::Call(*helpdesk_stub_, &hv1::HelpdeskService::Stub::ListTickets, r,
                                  token)
                 .status();
           }},
          {"billing",
           [&](const std::string& token) {
             return testing::Call(*subscription_, &av1::SubscriptionService::Stub::GetAccount,
                                  av1::GetAccountRequest(), token)
                 .status();
           }},
      };

  // The member's session as the customers service signed it (with the dev session key, in
  // --dev), and the same claims as the issuers write them.
  COWORK_ASSERT_OK_AND_ASSIGN(const google::protobuf::Struct claims, ClaimsOf(a.member.token()));
  const auth::SessionTokenSpec session{.operator_id = operator_id_,
                                       .customer_id = member,
                                       .session_id = StringClaim(claims, "sid"),
                                       .session_generation = IntClaim(claims, "gen"),
                                       .ttl = absl::Hours(1)};
  ASSERT_FALSE(session.session_id.empty());
  const std::string session_claims = absl::StrCat(
      R"("role":"customer","sub":")", member, R"(","op":")", operator_id_, R"(","sid":")",
      session.session_id, R"(","gen":)", session.session_generation);
  const std::string admin_claims = absl::StrCat(
      R"("role":"admin","sub":")", a.subject, R"(","op":")", operator_id_,
      R"(","locs":["*"],"perms":[")", absl::StrJoin(auth::AllPermissions(), R"(",")"), R"("])");
  const std::string& session_key = auth::DevSessionKeys().private_pem;
  const std::string& admin_key = auth::DevAdminKeys().private_pem;
  const auth::TokenLimits limits;
  const absl::Time now = RealClock::Get().Now();
  const absl::Time ahead = now + limits.clock_skew + absl::Minutes(5);
  auth::SessionTokenSpec long_session = session;
  long_session.ttl = limits.session + absl::Minutes(1);

  struct Forgery {
    std::string what;
    std::string forged;
    std::string genuine;  // the token it copies, which the same call takes
  };
  const std::vector<Forgery> forgeries = {
      {"a session signed with another key than the session key",
       auth::MintSessionToken(auth::NewEs256KeyPair().private_pem, session, now),
       auth::MintSessionToken(session_key, session, now)},
      {"a session living longer than a session may",
       auth::MintSessionToken(session_key, long_session, now),
       auth::MintSessionToken(session_key, session, now)},
      {"an admin token living longer than an admin token may",
       testing::MintDevAdminToken(operator_id_, {"*"}, {}, limits.admin + absl::Minutes(1),
                                  a.subject),
       a.wide},
      {"a session issued in the future beyond the clock skew",
       Craft(session_key, Claims(session_claims, ahead, ahead + absl::Hours(1))),
       Craft(session_key, Claims(session_claims, now, now + absl::Hours(1)))},
      {"an admin token issued in the future beyond the clock skew",
       Craft(admin_key, Claims(admin_claims, ahead, ahead + absl::Hours(1))),
       Craft(admin_key, Claims(admin_claims, now, now + absl::Hours(1)))},
      {"a session for another audience",
       Craft(session_key, Claims(session_claims, now, now + absl::Hours(1), "cowork-portal")),
       Craft(session_key, Claims(session_claims, now, now + absl::Hours(1)))},
      {"an admin token for another audience",
       Craft(admin_key, Claims(admin_claims, now, now + absl::Hours(1), "cowork-portal")),
       Craft(admin_key, Claims(admin_claims, now, now + absl::Hours(1)))},
  };

  for (const auto& [service, read] : reads) {
    // Billing learns sessions from the customers events too; until then it refuses them all.
    const absl::Status known =
        Until([&] { return read(a.member.token()); },
              [](const absl::Status& s) { return s.code() != kUnauthenticated; });
    ASSERT_NE(known.code(), kUnauthenticated) << service << ": " << known;
    for (const Forgery& f : forgeries) {
      SCOPED_TRACE(absl::StrCat(service, ": ", f.what));
      const absl::Status genuine = read(f.genuine);
      EXPECT_NE(genuine.code(), kUnauthenticated) << "the genuine token: " << genuine;
      const absl::Status forged = read(f.forged);
      EXPECT_EQ(forged.code(), kUnauthenticated) << "the forgery: " << forged;
    }
  }
}

// The production key variables: file paths of PEM keys (libs/auth/keys.h).
const std::vector<std::string>& KeyVariables() {
  static const auto* const vars = new std::vector<std::string>{
      "COWORK_SESSION_PUBLIC_KEY_FILE", "COWORK_SESSION_PRIVATE_KEY_FILE",
      "COWORK_PLATFORM_PUBLIC_KEY_FILE", "COWORK_ADMIN_PUBLIC_KEY_FILE"};
  return *vars;
}

// Starts cowork-customers on `options` and waits for it to exit; its log.
std::string ExitLog(const testing::TempDir& dir, const testing::ServiceOptions& options) {
  testing::SubprocessOptions sub;
  sub.program = testing::BinDir() + "/cowork-customers";
  sub.args = testing::CustomersArgs(options);
  sub.env = options.env;
  sub.unset_env = options.unset_env;
  sub.log_path = dir.Sub("customers.log");
  auto process = testing::Subprocess::Start(sub);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return "";
  auto exit = (*process)->WaitExit(absl::Seconds(30));
  EXPECT_TRUE(exit.ok()) << exit.status() << "\n" << (*process)->LogTail();
  if (!exit.ok()) return "";
  EXPECT_TRUE(exit->exited) << exit->ToString();
  EXPECT_EQ(exit->code, 2) << "a configuration error";
  return (*process)->Log();
}

// Without --dev and without keys the service refuses to start, naming every missing key.
TEST(SecurityStartup, WithoutDevModeAndKeysTheServiceExitsNamingEachKey) {
  testing::TempDir dir;
  auto broker = testing::StartDevBroker(dir.path());
  ASSERT_TRUE(broker.ok()) << broker.status();
  testing::ServiceOptions options;
  options.data_dir = dir.Sub("customers");
  options.bootstrap = broker->bootstrap;
  options.dev = false;
  options.unset_env = KeyVariables();
  options.unset_env.push_back("COWORK_DEV");
  const std::string log = ExitLog(dir, options);
  for (const std::string& var : KeyVariables()) EXPECT_THAT(log, HasSubstr(var)) << log;
  EXPECT_THAT(log, Not(HasSubstr("customers listening on")));
}

// Outside dev mode the customers service, which publishes its seal keys wrapped, needs the
// key-wrapping key: missing or not 64 hex digits, it does not start, naming the variable.
TEST(SecurityStartup, WithoutTheKeyWrappingKeyTheCustomersServiceDoesNotStart) {
  testing::TempDir dir;
  auto broker = testing::StartDevBroker(dir.path());
  ASSERT_TRUE(broker.ok()) << broker.status();
  const testing::ProductionKeys keys = testing::WriteProductionKeys(dir.path());
  testing::ServiceOptions options;
  options.data_dir = dir.Sub("customers");
  options.bootstrap = broker->bootstrap;
  options.dev = false;
  for (const auto& [var, value] : keys.EnvFor("customers")) {
    if (var != "COWORK_KEY_WRAPPING_KEY_FILE") options.env.emplace_back(var, value);
  }
  options.unset_env = {"COWORK_KEY_WRAPPING_KEY_FILE"};
  std::string log = ExitLog(dir, options);
  EXPECT_THAT(log, HasSubstr("COWORK_KEY_WRAPPING_KEY_FILE: not set")) << log;

  const std::string short_key = dir.Sub("short-key");
  std::ofstream(short_key) << "00ff00ff\n";
  options.unset_env.clear();
  options.env.emplace_back("COWORK_KEY_WRAPPING_KEY_FILE", short_key);
  log = ExitLog(dir, options);
  EXPECT_THAT(log, HasSubstr("must hold 64 hex digits")) << log;
  EXPECT_THAT(log, Not(HasSubstr("customers listening on")));
}

// A pod started in --dev by mistake, with its production keys mounted, does not start on the
// published dev keys.
TEST(SecurityStartup, DevModeRefusesProductionKeys) {
  testing::TempDir dir;
  auto broker = testing::StartDevBroker(dir.path());
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string key_file = dir.Sub("session-public-key.pem");
  std::ofstream(key_file) << auth::NewEs256KeyPair().public_pem;
  testing::ServiceOptions options;
  options.data_dir = dir.Sub("customers");
  options.bootstrap = broker->bootstrap;
  options.env = {{"COWORK_SESSION_PUBLIC_KEY_FILE", key_file}};
  const std::string log = ExitLog(dir, options);
  EXPECT_THAT(log, HasSubstr("COWORK_SESSION_PUBLIC_KEY_FILE: is a production key: --dev refuses"))
      << log;
}

// Outside dev mode tokens signed with the dev keys open nothing; the configured keys work,
// and sessions are signed with the configured session key.
TEST(SecurityStartup, OutsideDevModeDevTokensAreRefused) {
  testing::TempDir dir;
  auto broker = testing::StartDevBroker(dir.path());
  ASSERT_TRUE(broker.ok()) << broker.status();
  const testing::ProductionKeys keys = testing::WriteProductionKeys(dir.path());
  const auth::KeyPair& session = keys.session;
  const auth::KeyPair& platform = keys.platform;
  const auth::KeyPair& admin = keys.admin;
  testing::ServiceOptions options;
  options.data_dir = dir.Sub("customers");
  options.bootstrap = broker->bootstrap;
  options.dev = false;
  options.env = keys.EnvFor("customers");
  auto service = testing::StartCustomers(options);
  ASSERT_TRUE(service.ok()) << service.status();
  testing::CustomersStubs stubs = testing::CustomersStubs::Connect(service->address);

  customers::v1::CreateOperatorRequest op;
  op.set_request_id(testing::NewRequestId());
  op.set_name("Production Operator");
  EXPECT_EQ(CodeOf(testing::Call(*stubs.directory, &DirectoryService::Stub::CreateOperator, op,
                                 testing::MintDevPlatformToken())),
            kUnauthenticated);
  std::string real = auth::MintPlatformToken(platform.private_pem, "platform@example.test",
                                             RealClock::Get().Now(), absl::Minutes(10));
  auto created =
      testing::Call(*stubs.directory, &DirectoryService::Stub::CreateOperator, op, real);
  ASSERT_TRUE(created.ok()) << created.status();

  // A portal registration's session is signed with the configured session key.
  customers::v1::CreateLocationRequest loc;
  loc.set_request_id(testing::NewRequestId());
  loc.set_name("Main");
  loc.set_time_zone("Europe/Madrid");
  loc.set_currency("EUR");
  auth::AdminTokenSpec spec{.subject = "ops@example.test",
                            .operator_id = created->operator_id(),
                            .locations = {"*"},
                            .permissions = auth::AllPermissions(),
                            .ttl = absl::Minutes(10)};
  auto location = testing::Call(*stubs.directory, &DirectoryService::Stub::CreateLocation, loc,
                                auth::MintAdminToken(admin.private_pem, spec,
                                                     RealClock::Get().Now()));
  ASSERT_TRUE(location.ok()) << location.status();
  customers::v1::RegisterRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_operator_id(created->operator_id());
  r.set_location_id(location->location_id());
  r.set_first_name("Paula");
  r.set_last_name("Portal");
  r.set_email("paula@example.test");
  r.set_password(kPassword);
  auto registered = testing::Call(*stubs.accounts, &AccountsService::Stub::Register, r, "");
  ASSERT_TRUE(registered.ok()) << registered.status();
  auth::TokenVerifier with_configured({.session_public_key_pem = session.public_pem});
  EXPECT_TRUE(with_configured.Verify(registered->token(), RealClock::Get().Now()).ok());
  auth::TokenVerifier with_dev({.session_public_key_pem = auth::DevSessionKeys().public_pem});
  EXPECT_FALSE(with_dev.Verify(registered->token(), RealClock::Get().Now()).ok());
}

}  // namespace
}  // namespace cowork::e2e
