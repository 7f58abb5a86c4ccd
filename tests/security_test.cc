// Security: every refused call gets the right code and changes nothing. The dev broker and the
// customers service run as real processes; the test holds tokens as any client would.
//
// "Nothing changed" is checked two ways: a follow-up read through the API, and the topic —
// a marker command before and after the refused calls, and no event but the second marker's
// between them.

#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "httplib.h"
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
