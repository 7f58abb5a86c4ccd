// The customers API in one process, with real parts: a Store in a temp dir, the dev broker
// (librdkafka's mock cluster over TCP), the outbox relay and the contracts consumer, the gRPC
// server on 127.0.0.1:0, and synchronous stubs. Tokens are minted with the dev secrets at the
// simulated clock's time.

#include "services/customers/app/api_test_fixture.h"

namespace cowork::customers::app {
namespace {

TEST_F(CustomersApiTest, AccountsSessionsAndPasswords) {
  auto session = Register("Ana", "ana@example.com", "first password 1");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->customer().source(), v1::PORTAL);
  EXPECT_EQ(session->customer().type(), v1::INDIVIDUAL);
  EXPECT_TRUE(session->customer().has_user_account());
  const std::string id = session->customer().customer_id();

  // A weak password is refused with the others fields' problems.
  auto weak = Register("B", "bad", "password");
  EXPECT_THAT(Fields(weak.status()), UnorderedElementsAre("first_name", "email", "password"));

  // Unknown email and wrong password look the same.
  auto unknown = SignIn("nobody@example.com", "first password 1");
  auto wrong = SignIn("ana@example.com", "wrong password 1");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().message(), wrong.status().message());
  EXPECT_EQ(SignIn("ana@example.com", "first password 1", "op-2").status().code(),
            absl::StatusCode::kUnauthenticated)
      << "emails are per operator";
  auto signed_in = SignIn("ANA@example.com", "first password 1");
  ASSERT_TRUE(signed_in.ok()) << signed_in.status();

  // Changing the password ends every session, at once.
  v1::ChangePasswordRequest change;
  change.set_current_password("first password 1");
  change.set_new_password("second password 2");
  auto changed = Call(*accounts_stub_, &AccountsService::Stub::ChangePassword,
                      signed_in->token(), change);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(Get(id, session->token()).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Get(id, signed_in->token()).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Get(id, changed->token()).ok());
  EXPECT_EQ(SignIn("ana@example.com", "first password 1").status().code(),
            absl::StatusCode::kUnauthenticated);
  auto fresh = SignIn("ana@example.com", "second password 2");
  ASSERT_TRUE(fresh.ok()) << fresh.status();

  // Signing out ends that session only.
  v1::SignOutRequest out;
  ASSERT_TRUE(Call(*accounts_stub_, &AccountsService::Stub::SignOut, fresh->token(), out).ok());
  EXPECT_EQ(Get(id, fresh->token()).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Get(id, changed->token()).ok());

  // Suspension ends every session and refuses sign-in.
  ASSERT_TRUE(Suspend(id).ok());
  EXPECT_EQ(Get(id, changed->token()).status().code(), absl::StatusCode::kUnauthenticated);
  // The right password gets the answer a wrong one gets: it is no oracle.
  const absl::Status right_password = SignIn("ana@example.com", "second password 2").status();
  const absl::Status wrong_password = SignIn("ana@example.com", "wrong password 3").status();
  EXPECT_EQ(right_password.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(right_password, wrong_password);
}

TEST_F(CustomersApiTest, WelcomeMessageSetupCodeAndCreateUserAccount) {
  v1::AddCustomerRequest r = Person("Ana", "ana@example.com");
  r.set_send_welcome_message(true);
  auto ana = Add(r);
  ASSERT_TRUE(ana.ok()) << ana.status();
  EXPECT_TRUE(ana->has_user_account());
  const std::string code = SetupCodeOf(ana->customer_id());
  ASSERT_FALSE(code.empty());

  v1::ChangePasswordRequest wrong;
  wrong.set_operator_id("op-1");
  wrong.set_email("ana@example.com");
  wrong.set_setup_code("WRONGCODE9");
  wrong.set_new_password("brand new pass 1");
  EXPECT_EQ(Call(*accounts_stub_, &AccountsService::Stub::ChangePassword, "", wrong)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  v1::ChangePasswordRequest set = wrong;
  set.set_setup_code(code);
  auto session = Call(*accounts_stub_, &AccountsService::Stub::ChangePassword, "", set);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE(Get(ana->customer_id(), session->token()).ok());
  // The code is single-use.
  EXPECT_EQ(Call(*accounts_stub_, &AccountsService::Stub::ChangePassword, "", set).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(SignIn("ana@example.com", "brand new pass 1").ok());

  // Admin-added customers have no account until asked; then only one.
  auto bob = Add(Person("Bob", "bob@example.com"));
  ASSERT_TRUE(bob.ok());
  EXPECT_FALSE(bob->has_user_account());
  v1::CreateUserAccountRequest account;
  account.set_customer_id(bob->customer_id());
  account.set_send_welcome_message(true);
  auto with_account =
      Call(*customers_stub_, &CustomersService::Stub::CreateUserAccount, admin_, account);
  ASSERT_TRUE(with_account.ok()) << with_account.status();
  EXPECT_TRUE(with_account->has_user_account());
  const std::string bob_code = SetupCodeOf(bob->customer_id());
  EXPECT_FALSE(bob_code.empty());
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::CreateUserAccount, admin_, account)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);

  // The store keeps the code's hash only, and the code expires after seven days.
  absl::StatusOr<eventstore::AggregateRecord> record = store_->Load("customer", bob->customer_id());
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(absl::StrContains(record->state, bob_code));
  clock_.Advance(absl::Hours(24 * 7));
  v1::ChangePasswordRequest late;
  late.set_operator_id("op-1");
  late.set_email("bob@example.com");
  late.set_setup_code(bob_code);
  late.set_new_password("brand new pass 2");
  const absl::Status expired =
      Call(*accounts_stub_, &AccountsService::Stub::ChangePassword, "", late).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.message(), "wrong email or setup code");
}

TEST_F(CustomersApiTest, TeamsAndPayingMember) {
  auto ana = Add(Person("Ana", "ana@example.com"));
  auto bob = Add(Person("Bob", "bob@example.com"));
  auto eve = Add(Person("Eve", "eve@example.com", "bcn"));
  ASSERT_TRUE(ana.ok() && bob.ok() && eve.ok());

  v1::CreateTeamRequest create;
  create.set_location_id("mad");
  create.set_name("Acme");
  create.add_member_ids(ana->customer_id());
  create.add_member_ids(bob->customer_id());
  create.set_share_booking_credit(true);
  auto team = Call(*teams_stub_, &TeamsService::Stub::CreateTeam, admin_, create);
  ASSERT_TRUE(team.ok()) << team.status();
  EXPECT_THAT(team->member_ids(), ElementsAre(ana->customer_id(), bob->customer_id()));
  EXPECT_TRUE(team->share_booking_credit());

  v1::CreateTeamRequest second = create;
  second.set_name("Acme Labs");
  second.clear_member_ids();
  second.add_member_ids(ana->customer_id());
  second.add_member_ids("c-unknown");
  EXPECT_THAT(Fields(Call(*teams_stub_, &TeamsService::Stub::CreateTeam, admin_, second).status()),
              ElementsAre("member_ids[1]"));
  second.mutable_member_ids()->RemoveLast();
  auto labs = Call(*teams_stub_, &TeamsService::Stub::CreateTeam, admin_, second);
  ASSERT_TRUE(labs.ok()) << labs.status();

  v1::SetPayingMemberRequest paying;
  paying.set_team_id(team->team_id());
  paying.set_customer_id(eve->customer_id());
  EXPECT_EQ(Call(*teams_stub_, &TeamsService::Stub::SetPayingMember, admin_, paying)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  paying.set_customer_id(bob->customer_id());
  auto paid = Call(*teams_stub_, &TeamsService::Stub::SetPayingMember, admin_, paying);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->paying_member_id(), bob->customer_id());

  v1::RemoveTeamMemberRequest remove;
  remove.set_team_id(team->team_id());
  remove.set_customer_id(bob->customer_id());
  auto removed = Call(*teams_stub_, &TeamsService::Stub::RemoveTeamMember, admin_, remove);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->paying_member_id(), "");
  EXPECT_THAT(removed->member_ids(), ElementsAre(ana->customer_id()));

  v1::AddTeamMemberRequest add;
  add.set_team_id(team->team_id());
  add.set_customer_id(eve->customer_id());
  ASSERT_TRUE(Call(*teams_stub_, &TeamsService::Stub::AddTeamMember, admin_, add).ok());

  v1::UpdateTeamSharingRequest sharing;
  sharing.set_team_id(team->team_id());
  sharing.set_share_access(true);
  auto shared = Call(*teams_stub_, &TeamsService::Stub::UpdateTeamSharing, admin_, sharing);
  ASSERT_TRUE(shared.ok());
  EXPECT_FALSE(shared->share_booking_credit());
  EXPECT_TRUE(shared->share_access());

  v1::ListTeamsRequest of_ana;
  of_ana.set_member_id(ana->customer_id());
  auto teams = Call(*teams_stub_, &TeamsService::Stub::ListTeams, admin_, of_ana);
  ASSERT_TRUE(teams.ok());
  std::vector<std::string> names;
  for (const v1::Team& t : teams->teams()) names.push_back(t.name());
  EXPECT_THAT(names, UnorderedElementsAre("Acme", "Acme Labs"));

  v1::GetTeamRequest get;
  get.set_team_id(team->team_id());
  EXPECT_EQ(Call(*teams_stub_, &TeamsService::Stub::GetTeam, Admin({"bcn"}), get).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(*teams_stub_, &TeamsService::Stub::GetTeam,
                 Admin({"*"}, auth::AllPermissions(), "op-2"), get)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cowork::customers::app
