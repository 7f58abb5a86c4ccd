#include "services/customers/domain/customer.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'780'000'000);

AddCustomer Ana() {
  AddCustomer c;
  c.customer_id = "c-1";
  c.operator_id = "op-1";
  c.home_location_id = "loc-1";
  c.home_location_exists = true;
  c.type = v1::INDIVIDUAL;
  c.first_name = " Ana ";
  c.last_name = "López";
  c.email = "Ana.Lopez@Example.com";
  c.phone = "+34 600 000 000";
  return c;
}

// Given: the events of these commands, applied in order.
CustomerState Given(const AddCustomer& add) {
  absl::StatusOr<Events> events = Decide(CustomerState{}, add, kT0);
  EXPECT_TRUE(events.ok()) << events.status();
  return ApplyAll(CustomerState{}, *events);
}

template <typename Command>
CustomerState Then(CustomerState state, const Command& command) {
  absl::StatusOr<Events> events = Decide(state, command, kT0 + absl::Minutes(1));
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? ApplyAll(std::move(state), *events) : state;
}

std::vector<Event::PayloadCase> Cases(const Events& events) {
  std::vector<Event::PayloadCase> out;
  for (const Event& e : events) out.push_back(e.payload_case());
  return out;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

TEST(AddCustomerDecide, AddsAnIndividualWithItsPersonalDataInClearBesideTheEvent) {
  absl::StatusOr<Events> events = Decide(CustomerState{}, Ana(), kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerAdded));
  const Event& e = events->front();
  EXPECT_EQ(e.customer_added().customer_id(), "c-1");
  EXPECT_EQ(e.customer_added().type(), v1::INDIVIDUAL);
  EXPECT_EQ(e.customer_added().home_location_id(), "loc-1");
  EXPECT_EQ(e.customer_added().source(), v1::ADMIN);
  EXPECT_TRUE(e.customer_added().sealed_personal().empty()) << "sealing is the caller's job";
  EXPECT_EQ(e.personal().first_name(), "Ana");
  EXPECT_EQ(e.personal().email(), "ana.lopez@example.com");
  EXPECT_EQ(e.operator_id(), "op-1");
  EXPECT_EQ(FromTimestamp(e.occurred_at()), kT0);

  CustomerState s = ApplyAll(CustomerState{}, *events);
  EXPECT_EQ(s.customer_id(), "c-1");
  EXPECT_EQ(s.operator_id(), "op-1");
  EXPECT_FALSE(IsMember(s));
  EXPECT_FALSE(s.has_user_account());
  EXPECT_EQ(s.personal().last_name(), "López");
}

TEST(AddCustomerDecide, ReportsEveryBadFieldAtOnce) {
  AddCustomer c = Ana();
  c.type = v1::CUSTOMER_TYPE_UNSPECIFIED;
  c.home_location_exists = false;
  c.first_name = "A";
  c.last_name = "L0pez";
  c.email = "not-an-email";
  c.phone = "call me";
  absl::StatusOr<Events> events = Decide(CustomerState{}, c, kT0);
  ASSERT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(events.status()),
              UnorderedElementsAre("type", "home_location_id", "first_name", "last_name", "email",
                                   "phone"));
  std::vector<FieldViolation> v = FieldViolationsOf(events.status());
  EXPECT_THAT(v, testing::Contains(FieldViolation{"first_name", std::string(kFirstNameMessage)}));
  EXPECT_THAT(v, testing::Contains(FieldViolation{"last_name", std::string(kLastNameMessage)}));
  EXPECT_THAT(v, testing::Contains(FieldViolation{"home_location_id", "no such location"}));
}

TEST(AddCustomerDecide, CompanyNeedsACompanyNameAndItsPrimaryContactIsThePerson) {
  AddCustomer c = Ana();
  c.type = v1::COMPANY;
  EXPECT_THAT(Fields(Decide(CustomerState{}, c, kT0).status()), ElementsAre("company_name"));
  c.company_name = "Acme & Co.";
  absl::StatusOr<Events> events = Decide(CustomerState{}, c, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  const v1::PersonalData& p = events->front().personal();
  EXPECT_EQ(p.company_name(), "Acme & Co.");
  EXPECT_EQ(p.primary_contact_name(), "Ana López");
  EXPECT_EQ(p.primary_contact_email(), "ana.lopez@example.com");
  EXPECT_EQ(events->front().customer_added().type(), v1::COMPANY);
}

TEST(AddCustomerDecide, IndividualsHaveNoCompanyName) {
  AddCustomer c = Ana();
  c.company_name = "Acme";
  EXPECT_THAT(FieldViolationsOf(Decide(CustomerState{}, c, kT0).status()),
              ElementsAre(FieldViolation{"company_name",
                                         "only company customers have a company name"}));
}

TEST(AddCustomerDecide, HostileInputIsInvalidArgument) {
  AddCustomer c = Ana();
  c.first_name = std::string(1 << 20, 'x');
  c.last_name = "\xFF\xFE";
  c.email = "'; DROP TABLE customers; --@x.com";
  c.phone = "<script>alert(1)</script>";
  absl::StatusOr<Events> events = Decide(CustomerState{}, c, kT0);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(events.status()),
              UnorderedElementsAre("first_name", "last_name", "email", "phone"));
}

TEST(AddCustomerDecide, AnExistingCustomerIsNotAddedTwice) {
  EXPECT_EQ(Decide(Given(Ana()), Ana(), kT0).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(AddCustomerDecide, WelcomeMessageCreatesAnAccountWithASetupCodeKeptHashed) {
  AddCustomer c = Ana();
  c.welcome_setup_code = "K7PQ2M9X";
  c.welcome_setup_code_hash = "$argon2id$code";
  absl::StatusOr<Events> events = Decide(CustomerState{}, c, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerAdded, Event::kUserAccountCreated,
                                          Event::kWelcomeMessageRequested));
  // The account keeps the hash, never the code; the welcome message (sealed) carries it.
  EXPECT_EQ((*events)[1].credentials().setup_code_hash(), "$argon2id$code");
  EXPECT_EQ((*events)[1].credentials().setup_code(), "");
  EXPECT_TRUE((*events)[1].credentials().password_hash().empty());
  EXPECT_EQ((*events)[2].welcome().email(), "ana.lopez@example.com");
  EXPECT_EQ((*events)[2].welcome().first_name(), "Ana");
  EXPECT_EQ((*events)[2].welcome().setup_code(), "K7PQ2M9X");
  CustomerState s = ApplyAll(CustomerState{}, *events);
  EXPECT_TRUE(s.has_user_account());
  EXPECT_EQ(s.credentials().setup_code_hash(), "$argon2id$code");
  EXPECT_EQ(FromTimestamp(s.credentials().setup_code_expire_time()), kT0 + kSetupCodeLifetime);
}

TEST(AddCustomerDecide, AdminAddedCustomersHaveNoAccountByDefault) {
  absl::StatusOr<Events> events = Decide(CustomerState{}, Ana(), kT0);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(Cases(*events), ElementsAre(Event::kCustomerAdded));
}

TEST(AddCustomerDecide, PortalRegistrationCreatesAccountAndSession) {
  AddCustomer c = Ana();
  c.source = v1::PORTAL;
  c.password_hash = "$argon2id$hash";
  c.session_id = "s-1";
  absl::StatusOr<Events> events = Decide(CustomerState{}, c, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerAdded, Event::kUserAccountCreated,
                                          Event::kCustomerSignedIn));
  EXPECT_EQ((*events)[1].credentials().password_hash(), "$argon2id$hash");
  EXPECT_EQ((*events)[2].customer_signed_in().session_id(), "s-1");
  EXPECT_EQ(ApplyAll(CustomerState{}, *events).source(), v1::PORTAL);
}

TEST(UpdateCustomerDecide, UpdatesTheMaskedFieldsAndCarriesTheWholePersonalData) {
  UpdateCustomer u;
  u.paths = {"email", "phone"};
  u.email = "ANA@new.example.org";
  u.phone = "";
  u.first_name = "Ignored";  // not in the mask
  absl::StatusOr<Events> events = Decide(Given(Ana()), u, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerUpdated));
  const v1::PersonalData& p = events->front().personal();
  EXPECT_EQ(p.email(), "ana@new.example.org");
  EXPECT_EQ(p.phone(), "");
  EXPECT_EQ(p.first_name(), "Ana");
  EXPECT_EQ(events->front().customer_updated().home_location_id(), "loc-1");
}

TEST(UpdateCustomerDecide, EmptyMaskUpdatesTheFieldsGiven) {
  UpdateCustomer u;
  u.last_name = "García";
  u.home_location_id = "loc-2";
  u.home_location_exists = true;
  CustomerState s = Then(Given(Ana()), u);
  EXPECT_EQ(s.personal().last_name(), "García");
  EXPECT_EQ(s.personal().first_name(), "Ana");
  EXPECT_EQ(s.home_location_id(), "loc-2");
}

TEST(UpdateCustomerDecide, ReportsEveryBadFieldAndUnknownPaths) {
  UpdateCustomer u;
  u.paths = {"first_name", "email", "company_name", "status", "home_location_id"};
  u.first_name = "9";
  u.email = "x@";
  u.company_name = "Acme";
  u.home_location_id = "loc-9";
  absl::StatusOr<Events> events = Decide(Given(Ana()), u, kT0);
  EXPECT_THAT(Fields(events.status()),
              UnorderedElementsAre("customer.first_name", "customer.email",
                                   "customer.company_name", "update_mask",
                                   "customer.home_location_id"));
}

TEST(UpdateCustomerDecide, NothingChangedNothingRecorded) {
  UpdateCustomer u;
  u.paths = {"first_name"};
  u.first_name = "Ana";
  absl::StatusOr<Events> events = Decide(Given(Ana()), u, kT0);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(*events, IsEmpty());
}

TEST(UpdateCustomerDecide, UnknownCustomerIsNotFound) {
  UpdateCustomer u;
  u.first_name = "Ana";
  EXPECT_EQ(Decide(CustomerState{}, u, kT0).status().code(), absl::StatusCode::kNotFound);
}

TEST(ChangeCustomerTypeDecide, ToCompanyNeedsACompanyNameAndSetsThePrimaryContact) {
  ChangeCustomerType to_company{v1::COMPANY, ""};
  EXPECT_THAT(Fields(Decide(Given(Ana()), to_company, kT0).status()),
              ElementsAre("company_name"));
  to_company.company_name = "Acme";
  absl::StatusOr<Events> events = Decide(Given(Ana()), to_company, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerTypeChanged, Event::kCustomerUpdated));
  CustomerState s = ApplyAll(Given(Ana()), *events);
  EXPECT_EQ(s.type(), v1::COMPANY);
  EXPECT_EQ(s.personal().company_name(), "Acme");
  EXPECT_EQ(s.personal().primary_contact_name(), "Ana López");

  // And back: an individual keeps no company fields.
  absl::StatusOr<Events> back = Decide(s, ChangeCustomerType{v1::INDIVIDUAL, ""}, kT0);
  ASSERT_TRUE(back.ok());
  CustomerState t = ApplyAll(s, *back);
  EXPECT_EQ(t.type(), v1::INDIVIDUAL);
  EXPECT_EQ(t.personal().company_name(), "");
  EXPECT_EQ(t.personal().primary_contact_email(), "");
}

TEST(ChangeCustomerTypeDecide, SameTypeChangesNothingAndTypeIsRequired) {
  absl::StatusOr<Events> same = Decide(Given(Ana()), ChangeCustomerType{v1::INDIVIDUAL, ""}, kT0);
  ASSERT_TRUE(same.ok());
  EXPECT_THAT(*same, IsEmpty());
  EXPECT_THAT(Fields(Decide(Given(Ana()), ChangeCustomerType{}, kT0).status()),
              ElementsAre("type"));
}

TEST(SuspensionDecide, SuspendBumpsTheGenerationReactivateKeepsIt) {
  CustomerState s = Given(Ana());
  absl::StatusOr<Events> suspend = Decide(s, SuspendCustomer{}, kT0);
  ASSERT_TRUE(suspend.ok());
  ASSERT_THAT(Cases(*suspend), ElementsAre(Event::kCustomerSuspended));
  EXPECT_EQ(suspend->front().customer_suspended().session_generation(), 1);
  s = ApplyAll(s, *suspend);
  EXPECT_TRUE(s.suspended());
  EXPECT_EQ(s.session_generation(), 1);

  // Suspending again records nothing.
  absl::StatusOr<Events> again = Decide(s, SuspendCustomer{}, kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, IsEmpty());

  s = Then(s, ReactivateCustomer{});
  EXPECT_FALSE(s.suspended());
  EXPECT_EQ(s.session_generation(), 1);
  absl::StatusOr<Events> reactivate_again = Decide(s, ReactivateCustomer{}, kT0);
  ASSERT_TRUE(reactivate_again.ok());
  EXPECT_THAT(*reactivate_again, IsEmpty());
}

TEST(SuspensionDecide, SuspensionLosesNothing) {
  CustomerState s = Then(Given(Ana()), StartContract{"k-1"});
  s = Then(s, SuspendCustomer{});
  EXPECT_TRUE(IsMember(s));
  EXPECT_EQ(s.personal().email(), "ana.lopez@example.com");
}

CustomerState WithAccount() {
  AddCustomer c = Ana();
  c.password_hash = "hash-1";
  return Given(c);
}

TEST(SignInDecide, ASuspendedCustomerIsRefusedAsAWrongPasswordIs) {
  CustomerState s = Then(WithAccount(), SuspendCustomer{});
  for (const absl::Status& refused : {CheckCanSignIn(s), Decide(s, SignIn{"s-1"}, kT0).status()}) {
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(refused.message(), kSignInRefused);
  }
  s = Then(s, ReactivateCustomer{});
  absl::StatusOr<Events> events = Decide(s, SignIn{"s-2"}, kT0);
  ASSERT_TRUE(events.ok());
  EXPECT_THAT(Cases(*events), ElementsAre(Event::kCustomerSignedIn));
}

TEST(SignInDecide, NoAccountUnknownOrErasedGiveTheSameRefusal) {
  for (const CustomerState& s :
       {CustomerState{}, Given(Ana()), Then(WithAccount(), EraseCustomer{})}) {
    absl::Status status = Decide(s, SignIn{"s-1"}, kT0).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(status.message(), kSignInRefused);
  }
}

TEST(SetupCodeCheck, UsableForSevenDaysUnlessReplacedOrKeptInClear) {
  AddCustomer c = Ana();
  c.welcome_setup_code = "K7PQ2M9X";
  c.welcome_setup_code_hash = "$argon2id$code";
  CustomerState s = Given(c);
  EXPECT_EQ(kSetupCodeLifetime, absl::Hours(24 * 7));
  EXPECT_TRUE(CheckSetupCodeUsable(s, kT0 + kSetupCodeLifetime - absl::Seconds(1)).ok());
  const absl::Status expired = CheckSetupCodeUsable(s, kT0 + kSetupCodeLifetime);
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.message(), kSetupCodeRefused);
  // A password replaces the code.
  EXPECT_FALSE(CheckSetupCodeUsable(Then(s, ChangePassword{"hash-2", "s-1"}), kT0).ok());
  // A code kept in clear (before codes were hashed) is not accepted; nor is none at all.
  CustomerState legacy = WithAccount();
  legacy.mutable_credentials()->set_setup_code("OLDCODE23");
  EXPECT_FALSE(CheckSetupCodeUsable(legacy, kT0).ok());
  EXPECT_FALSE(CheckSetupCodeUsable(Given(Ana()), kT0).ok());
}

TEST(SignOutDecide, RecordsTheSession) {
  absl::StatusOr<Events> events = Decide(WithAccount(), SignOut{"s-7"}, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerSignedOut));
  EXPECT_EQ(events->front().customer_signed_out().session_id(), "s-7");
}

TEST(ChangePasswordDecide, BumpsTheGenerationReplacesTheSetupCodeAndSignsIn) {
  AddCustomer c = Ana();
  c.welcome_setup_code = "CODE2345";
  c.welcome_setup_code_hash = "$argon2id$code";
  CustomerState s = Given(c);
  absl::StatusOr<Events> events = Decide(s, ChangePassword{"hash-2", "s-9"}, kT0);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kPasswordChanged, Event::kCustomerSignedIn));
  EXPECT_EQ(events->front().password_changed().session_generation(), 1);
  s = ApplyAll(s, *events);
  EXPECT_EQ(s.credentials().password_hash(), "hash-2");
  EXPECT_EQ(s.credentials().setup_code_hash(), "");
  EXPECT_EQ(s.session_generation(), 1);

  // A second change bumps again: every earlier session ends.
  s = Then(s, ChangePassword{"hash-3", "s-10"});
  EXPECT_EQ(s.session_generation(), 2);
}

TEST(ChangePasswordDecide, NeedsAnAccountAndAnActiveCustomer) {
  EXPECT_EQ(Decide(Given(Ana()), ChangePassword{"h", "s"}, kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(Then(WithAccount(), SuspendCustomer{}), ChangePassword{"h", "s"}, kT0)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CreateUserAccountDecide, OnceOnlyWithOptionalWelcome) {
  absl::StatusOr<Events> quiet =
      Decide(Given(Ana()), CreateUserAccount{"CODE", "$argon2id$code", false}, kT0);
  ASSERT_TRUE(quiet.ok());
  EXPECT_THAT(Cases(*quiet), ElementsAre(Event::kUserAccountCreated));
  EXPECT_EQ(quiet->front().credentials().setup_code_hash(), "$argon2id$code");
  EXPECT_EQ(quiet->front().credentials().setup_code(), "");
  absl::StatusOr<Events> welcome =
      Decide(Given(Ana()), CreateUserAccount{"CODE", "$argon2id$code", true}, kT0);
  ASSERT_TRUE(welcome.ok());
  EXPECT_THAT(Cases(*welcome),
              ElementsAre(Event::kUserAccountCreated, Event::kWelcomeMessageRequested));
  EXPECT_EQ(welcome->back().welcome().setup_code(), "CODE");
  EXPECT_EQ(
      Decide(WithAccount(), CreateUserAccount{"CODE", "$argon2id$code", true}, kT0).status().code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Decide(Given(Ana()), CreateUserAccount{"CODE", "", true}, kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemberContactDecide, FirstContractMakesAMember) {
  absl::StatusOr<Events> events = Decide(Given(Ana()), StartContract{"k-1"}, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events),
              ElementsAre(Event::kCustomerContractActivated, Event::kCustomerBecameMember));
  EXPECT_EQ((*events)[1].customer_became_member().contract_id(), "k-1");
  EXPECT_TRUE(IsMember(ApplyAll(Given(Ana()), *events)));
}

TEST(MemberContactDecide, SecondContractKeepsAMemberAndEndingOneOfTwoToo) {
  CustomerState s = Then(Given(Ana()), StartContract{"k-1"});
  absl::StatusOr<Events> second = Decide(s, StartContract{"k-2"}, kT0);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Cases(*second), ElementsAre(Event::kCustomerContractActivated));
  s = ApplyAll(s, *second);
  EXPECT_THAT(s.active_contract_ids(), ElementsAre("k-1", "k-2"));

  absl::StatusOr<Events> end_one = Decide(s, EndContract{"k-1"}, kT0);
  ASSERT_TRUE(end_one.ok());
  EXPECT_THAT(Cases(*end_one), ElementsAre(Event::kCustomerContractDeactivated));
  s = ApplyAll(s, *end_one);
  EXPECT_TRUE(IsMember(s));

  absl::StatusOr<Events> end_last = Decide(s, EndContract{"k-2"}, kT0);
  ASSERT_TRUE(end_last.ok());
  ASSERT_THAT(Cases(*end_last),
              ElementsAre(Event::kCustomerContractDeactivated, Event::kCustomerBecameContact));
  EXPECT_EQ((*end_last)[1].customer_became_contact().contract_id(), "k-2");
  s = ApplyAll(s, *end_last);
  EXPECT_FALSE(IsMember(s));
}

TEST(MemberContactDecide, RepeatedAndLateContractEventsChangeNothing) {
  CustomerState s = Then(Given(Ana()), StartContract{"k-1"});
  for (const auto& events : {Decide(s, StartContract{"k-1"}, kT0)}) {
    ASSERT_TRUE(events.ok());
    EXPECT_THAT(*events, IsEmpty());
  }
  s = Then(s, EndContract{"k-1"});
  absl::StatusOr<Events> end_again = Decide(s, EndContract{"k-1"}, kT0);
  ASSERT_TRUE(end_again.ok());
  EXPECT_THAT(*end_again, IsEmpty());
  absl::StatusOr<Events> late_start = Decide(s, StartContract{"k-1"}, kT0);
  ASSERT_TRUE(late_start.ok());
  EXPECT_THAT(*late_start, IsEmpty());
  EXPECT_FALSE(IsMember(s));
}

TEST(MemberContactDecide, AnEndOfAnUnseenContractIsRememberedAndChangesNoKind) {
  absl::StatusOr<Events> end = Decide(Given(Ana()), EndContract{"k-9"}, kT0);
  ASSERT_TRUE(end.ok());
  EXPECT_THAT(Cases(*end), ElementsAre(Event::kCustomerContractDeactivated));
  CustomerState s = ApplyAll(Given(Ana()), *end);
  absl::StatusOr<Events> start = Decide(s, StartContract{"k-9"}, kT0);
  ASSERT_TRUE(start.ok());
  EXPECT_THAT(*start, IsEmpty());
}

TEST(EraseDecide, ErasesPersonalDataKeepsIdsAndContractsAndEndsSessions) {
  CustomerState s = Then(WithAccount(), StartContract{"k-1"});
  absl::StatusOr<Events> events = Decide(s, EraseCustomer{}, kT0);
  ASSERT_TRUE(events.ok());
  ASSERT_THAT(Cases(*events), ElementsAre(Event::kCustomerErased));
  EXPECT_EQ(events->front().customer_erased().session_generation(), 1);
  s = ApplyAll(s, *events);
  EXPECT_TRUE(s.erased());
  EXPECT_EQ(s.customer_id(), "c-1");
  EXPECT_FALSE(s.has_personal());
  EXPECT_FALSE(s.has_credentials());
  EXPECT_FALSE(s.has_user_account());
  EXPECT_THAT(s.active_contract_ids(), ElementsAre("k-1"));

  absl::StatusOr<Events> again = Decide(s, EraseCustomer{}, kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, IsEmpty());
  UpdateCustomer u;
  u.first_name = "Ana";
  EXPECT_EQ(Decide(s, u, kT0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Decide(s, SuspendCustomer{}, kT0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Contracts still end: the ids stay usable.
  s = Then(s, EndContract{"k-1"});
  EXPECT_FALSE(IsMember(s));
}

}  // namespace
}  // namespace cowork::customers::domain
