// The customers API in one process, with real parts: a Store in a temp dir, the dev broker
// (librdkafka's mock cluster over TCP), the outbox relay and the contracts consumer, the gRPC
// server on 127.0.0.1:0, and synchronous stubs. Tokens are minted with the dev secrets at the
// simulated clock's time.

#include "services/customers/app/api_test_fixture.h"

namespace cowork::customers::app {
namespace {

TEST_F(CustomersApiTest, AddGetListUpdateRoundTrip) {
  v1::AddCustomerRequest zoe = Person("Zoë", "Zoe@Example.com");
  zoe.set_request_id("req-zoe");
  zoe.set_phone("+34 600 000 000");
  auto added = Add(zoe);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->first_name(), "Zoë");
  EXPECT_EQ(added->email(), "zoe@example.com");
  EXPECT_EQ(added->operator_id(), "op-1");
  EXPECT_EQ(added->kind(), v1::CONTACT);
  EXPECT_EQ(added->status(), v1::ACTIVE);
  EXPECT_EQ(added->source(), v1::ADMIN);
  EXPECT_FALSE(added->has_user_account());

  // The same request again: the same customer, nothing twice.
  auto again = Add(zoe);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->customer_id(), added->customer_id());

  // Another customer with that email (any case): refused on the email field.
  auto twin = Add(Person("Zoe", "ZOE@example.com"));
  EXPECT_EQ(twin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Fields(twin.status()), ElementsAre("email"));

  v1::AddCustomerRequest company = Person("Jean-Luc", "jl@example.com", "bcn");
  company.set_type(v1::COMPANY);
  company.set_company_name("Acme & Co.");
  ASSERT_TRUE(Add(company).ok());
  ASSERT_TRUE(Add(Person("O'Brien", "ob@example.com")).ok());
  ASSERT_TRUE(Add(Person("Li", "li@example.com", "bcn")).ok());

  auto got = Get(added->customer_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->phone(), "+34 600 000 000");

  // Lists: filters and pages.
  auto list = [&](v1::ListCustomersRequest r) {
    std::vector<std::string> names;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = Call(*customers_stub_, &CustomersService::Stub::ListCustomers, admin_, r);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const v1::Customer& c : page->customers()) names.push_back(c.first_name());
      if (page->next_page_token().empty()) break;
      r.set_page_token(page->next_page_token());
    }
    return names;
  };
  v1::ListCustomersRequest all;
  all.set_page_size(1);
  EXPECT_THAT(list(all), UnorderedElementsAre("Zoë", "Jean-Luc", "O'Brien", "Li"));
  v1::ListCustomersRequest by_name;
  by_name.set_name("ZOË");
  EXPECT_THAT(list(by_name), ElementsAre("Zoë"));
  v1::ListCustomersRequest by_company;
  by_company.set_name("acme");
  EXPECT_THAT(list(by_company), ElementsAre("Jean-Luc"));
  v1::ListCustomersRequest at_bcn;
  at_bcn.set_location_id("bcn");
  at_bcn.set_page_size(1);
  EXPECT_THAT(list(at_bcn), UnorderedElementsAre("Jean-Luc", "Li"));
  v1::ListCustomersRequest companies;
  companies.set_type(v1::COMPANY);
  EXPECT_THAT(list(companies), ElementsAre("Jean-Luc"));
  v1::ListCustomersRequest by_email;
  by_email.set_email("OB@example.com");
  EXPECT_THAT(list(by_email), ElementsAre("O'Brien"));

  // Update with a mask: the email moves, the old one is free again.
  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_customer_id(added->customer_id());
  update.mutable_customer()->set_email("zoe.new@example.com");
  update.mutable_customer()->set_last_name("Ignored");
  update.mutable_update_mask()->add_paths("email");
  auto updated = Call(*customers_stub_, &CustomersService::Stub::UpdateCustomer, admin_, update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->email(), "zoe.new@example.com");
  EXPECT_EQ(updated->last_name(), "Tester");
  EXPECT_TRUE(Add(Person("Zoey", "zoe@example.com")).ok());

  // Suspend and reactivate.
  auto suspended = Suspend(added->customer_id());
  ASSERT_TRUE(suspended.ok());
  EXPECT_EQ(suspended->status(), v1::SUSPENDED);
  v1::ReactivateCustomerRequest reactivate;
  reactivate.set_customer_id(added->customer_id());
  auto active = Call(*customers_stub_, &CustomersService::Stub::ReactivateCustomer, admin_,
                     reactivate);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->status(), v1::ACTIVE);
}

TEST_F(CustomersApiTest, EveryBadFieldAtOnceAndHostileInput) {
  v1::AddCustomerRequest bad;
  bad.set_home_location_id("nowhere");
  bad.set_first_name("R2");
  bad.set_last_name("O\x01Brien");
  bad.set_email("not an email");
  bad.set_phone("<script>");
  auto refused = Add(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(refused.status()),
              UnorderedElementsAre("type", "home_location_id", "first_name", "last_name", "email",
                                   "phone"));

  // Invalid UTF-8 in proto3 strings: protobuf refuses such a message as a whole, before any
  // handler runs; the server kit answers INVALID_ARGUMENT naming the field protobuf stopped at
  // (the first bad one, in field-number order), and nothing is written.
  v1::AddCustomerRequest invalid_utf8 = Person("Zo\xC3", "zo\x80@example.com");
  invalid_utf8.set_last_name("\xFF\xFE");
  auto refused_utf8 = Add(invalid_utf8);
  EXPECT_EQ(refused_utf8.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(refused_utf8.status()), ElementsAre("first_name"));
  v1::UpdateCustomerRequest nested;
  nested.mutable_customer()->set_customer_id("c-x");
  nested.mutable_customer()->set_first_name("\xC0\xAF");
  absl::Status nested_status =
      Call(*customers_stub_, &CustomersService::Stub::UpdateCustomer, admin_, nested).status();
  EXPECT_EQ(nested_status.code(), absl::StatusCode::kInvalidArgument)
      << "a nested message with invalid UTF-8 is refused too";
  EXPECT_THAT(Fields(nested_status), ElementsAre("first_name"));

  v1::AddCustomerRequest huge = Person(std::string(1 << 20, 'a'), "huge@example.com");
  EXPECT_EQ(Add(huge).status().code(), absl::StatusCode::kInvalidArgument);
  v1::AddCustomerRequest sql = Person("Robert'); DROP TABLE customers;--", "bobby@example.com");
  EXPECT_THAT(Fields(Add(sql).status()), ElementsAre("first_name"));
  v1::AddCustomerRequest rid = Person("Ana", "ana@example.com");
  rid.set_request_id(std::string(129, 'x'));
  EXPECT_THAT(Fields(Add(rid).status()), ElementsAre("request_id"));
  rid.set_request_id("a\nb");
  EXPECT_THAT(Fields(Add(rid).status()), ElementsAre("request_id"));

  v1::ListCustomersRequest list;
  list.set_page_token("not-a-token!");
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::ListCustomers, admin_, list)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  v1::GetCustomerRequest get;
  get.set_customer_id("../../etc/passwd");
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::GetCustomer, admin_, get)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CustomersApiTest, AuthenticationAndAuthorizationRefusals) {
  auto ana = Add(Person("Ana", "ana@example.com", "mad"));
  ASSERT_TRUE(ana.ok()) << ana.status();
  const std::string id = ana->customer_id();

  EXPECT_EQ(Get(id, "").status().code(), absl::StatusCode::kOk);  // the default admin
  v1::GetCustomerRequest get;
  get.set_customer_id(id);
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::GetCustomer, "", get).status().code(),
            absl::StatusCode::kUnauthenticated)
      << "no token";
  const std::string forged = auth::MintAdminToken(
      auth::NewEs256KeyPair().private_pem,
      {.subject = "x", .operator_id = "op-1", .locations = {"*"},
       .permissions = auth::AllPermissions()},
      clock_.Now());
  EXPECT_EQ(Get(id, forged).status().code(), absl::StatusCode::kUnauthenticated) << "bad signature";
  EXPECT_EQ(Get(id, Admin({"bcn"})).status().code(), absl::StatusCode::kPermissionDenied)
      << "another location";
  EXPECT_EQ(Add(Person("Bea", "bea@example.com", "mad"), Admin({"bcn"})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Get(id, Admin({"*"}, auth::AllPermissions(), "op-2")).status().code(),
            absl::StatusCode::kNotFound)
      << "an admin of another operator";
  EXPECT_EQ(Add(Person("Bea", "bea@example.com"), Admin({"*"}, {"customers.read"}))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied)
      << "read-only admin";
  EXPECT_EQ(Add(Person("Bea", "bea@example.com"),
                auth::MintPlatformToken(auth::DevPlatformKeys().private_pem, "platform", clock_.Now()))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  v1::CreateOperatorRequest op;
  op.set_name("Sneaky");
  EXPECT_EQ(Call(*directory_stub_, &DirectoryService::Stub::CreateOperator, admin_, op)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  v1::CreateLocationRequest loc;
  loc.set_name("Scoped");
  loc.set_time_zone("UTC");
  loc.set_currency("EUR");
  EXPECT_EQ(Call(*directory_stub_, &DirectoryService::Stub::CreateLocation, Admin({"mad"}), loc)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied)
      << "locations need every location";

  // A customer reads themself, never another customer.
  auto bea = Register("Bea", "bea@example.com", "correct horse 7");
  ASSERT_TRUE(bea.ok()) << bea.status();
  EXPECT_TRUE(Get(bea->customer().customer_id(), bea->token()).ok());
  EXPECT_EQ(Get(id, bea->token()).status().code(), absl::StatusCode::kPermissionDenied);
  v1::ListCustomersRequest list;
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::ListCustomers, bea->token(), list)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  // Expired tokens.
  clock_.Advance(absl::Hours(13));
  EXPECT_EQ(Get(id, admin_).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(CustomersApiTest, CsvImportIsPerRowAndIdempotent) {
  ASSERT_TRUE(Add(Person("Ana", "ana@example.com")).ok());
  v1::ImportCustomersRequest import;
  import.set_location_id("bcn");
  import.set_csv(
      "first_name,last_name,email,type,company_name\n"
      "Bob,Smith,bob@example.com,,\n"
      "Ana,Again,ANA@example.com,,\n"
      "X,Y,bad-email,,\n"
      "Carla,Co,carla@example.com,company,Carla Ltd\n"
      "Bob,Twice,bob@example.com,,\n");
  auto first = Call(*customers_stub_, &CustomersService::Stub::ImportCustomers, admin_, import);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->imported(), 2);
  EXPECT_EQ(first->already_imported(), 2);
  EXPECT_EQ(first->rejected(), 1);
  ASSERT_EQ(first->rows_size(), 5);
  EXPECT_EQ(first->rows(0).outcome(), v1::ImportCustomersResponse::Row::IMPORTED);
  EXPECT_EQ(first->rows(1).outcome(), v1::ImportCustomersResponse::Row::ALREADY_IMPORTED);
  EXPECT_EQ(first->rows(2).outcome(), v1::ImportCustomersResponse::Row::REJECTED);
  EXPECT_EQ(first->rows(2).row(), 3);
  EXPECT_THAT(first->rows(2).errors(),
              ElementsAre(::testing::StartsWith("first_name: "), "email: must be a valid email address"));
  EXPECT_EQ(first->rows(4).customer_id(), first->rows(0).customer_id());
  auto carla = Get(first->rows(3).customer_id());
  ASSERT_TRUE(carla.ok());
  EXPECT_EQ(carla->type(), v1::COMPANY);
  EXPECT_EQ(carla->source(), v1::IMPORT);
  EXPECT_EQ(carla->home_location_id(), "bcn");

  auto second = Call(*customers_stub_, &CustomersService::Stub::ImportCustomers, admin_, import);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->imported(), 0);
  EXPECT_EQ(second->already_imported(), 4);

  v1::ImportCustomersRequest broken = import;
  broken.set_csv("first_name,last_name,email\n\"Ana,Li,a@example.com\n");
  EXPECT_THAT(Fields(Call(*customers_stub_, &CustomersService::Stub::ImportCustomers, admin_,
                          broken)
                         .status()),
              ElementsAre("csv"));
}

TEST_F(CustomersApiTest, ErasureScrubsViewsAndFreesTheEmail) {
  auto eve = Add(Person("Eve", "eve.secret@example.com"));
  ASSERT_TRUE(eve.ok());
  v1::EraseCustomerRequest erase;
  erase.set_customer_id(eve->customer_id());
  EXPECT_EQ(Call(*customers_stub_, &CustomersService::Stub::EraseCustomer,
                 Admin({"*"}, {"customers.read", "customers.write"}), erase)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied)
      << "erasure needs customers.erase";
  auto erased = Call(*customers_stub_, &CustomersService::Stub::EraseCustomer, admin_, erase);
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_TRUE(erased->erased());
  EXPECT_EQ(erased->first_name(), "");
  EXPECT_EQ(erased->email(), "");
  EXPECT_EQ(erased->customer_id(), eve->customer_id());
  auto reused = Add(Person("Eva", "eve.secret@example.com"));
  EXPECT_TRUE(reused.ok()) << reused.status();

  // Everything published: no message of the topic carries the erased email in clear.
  ASSERT_TRUE(testing::PollUntil([&] { return store_->OutboxDepth() == 0; }, absl::Seconds(30),
                                 "outbox drained")
                  .ok());
  auto messages = kafka::ReadAll(kafka_, "cowork.customers.events");
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_FALSE(messages->empty());
  for (const kafka::Message& m : *messages) {
    EXPECT_EQ(m.value.find("eve.secret@example.com"), std::string::npos);
    EXPECT_EQ(m.value.find("Tester"), std::string::npos);
  }
}

TEST_F(CustomersApiTest, MemberOrContactFollowsTheContractsTopic) {
  auto ana = Add(Person("Ana", "ana@example.com"));
  ASSERT_TRUE(ana.ok());
  const std::string id = ana->customer_id();
  contracts::v1::ContractStarted started;
  started.set_contract_id("k-1");
  started.set_customer_id(id);
  ASSERT_NO_FATAL_FAILURE(ProduceContractEvent("k-1", 1, started, "op-1"));
  // The same customer id under another operator is not this customer: skipped.
  contracts::v1::ContractEnded foreign;
  foreign.set_contract_id("k-1");
  foreign.set_customer_id(id);
  ASSERT_NO_FATAL_FAILURE(ProduceContractEvent("k-9", 1, foreign, "op-2"));

  auto kind_is = [&](v1::CustomerKind kind) {
    auto c = Get(id);
    return c.ok() && c->kind() == kind;
  };
  ASSERT_TRUE(testing::PollUntil([&] { return kind_is(v1::MEMBER); }, absl::Seconds(30),
                                 "customer became a member")
                  .ok());
  // Wait until the foreign event has been consumed too (it changes nothing).
  ASSERT_TRUE(testing::PollUntil([&] { return consumer_->applied() + consumer_->skipped() >= 2; },
                                 absl::Seconds(30), "both events consumed")
                  .ok());
  EXPECT_TRUE(kind_is(v1::MEMBER));

  contracts::v1::ContractEnded ended;
  ended.set_contract_id("k-1");
  ended.set_customer_id(id);
  ASSERT_NO_FATAL_FAILURE(ProduceContractEvent("k-1", 2, ended, "op-1"));
  ASSERT_TRUE(testing::PollUntil([&] { return kind_is(v1::CONTACT); }, absl::Seconds(30),
                                 "customer became a contact")
                  .ok());
  auto c = Get(id);
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(c->active_contract_ids(), IsEmpty());
}

}  // namespace
}  // namespace cowork::customers::app
