// The customers API in one process, with real parts: a Store in a temp dir, the dev broker
// (librdkafka's mock cluster over TCP), the outbox relay and the contracts consumer, the gRPC
// server on 127.0.0.1:0, and synchronous stubs. Tokens are minted with the dev secrets at the
// simulated clock's time.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "libs/kafka/dev_broker.h"
#include "libs/kafka/kafka.h"
#include "libs/server/grpc_status.h"
#include "libs/server/server.h"
#include "libs/status/field_errors.h"
#include "libs/testing/app_fixtures.h"
#include "libs/testing/process.h"
#include "services/customers/app/app.h"
#include "services/customers/app/contracts_consumer.h"
#include "services/customers/grpc/services.h"

namespace cowork::customers::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using v1::AccountsService;
using v1::CustomersService;
using v1::DirectoryService;
using v1::TeamsService;

const absl::Time kStart = absl::FromCivil(absl::CivilSecond(2026, 5, 4, 9, 0, 0), absl::UTCTimeZone());

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Call(Stub& stub,
                              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                           Response*),
                              absl::string_view token, const Request& request) {
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return server::FromGrpcStatus(status);
  return response;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolationsOf(status)) out.push_back(v.field);
  return out;
}

class CustomersApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = kafka::DevBroker::Start(
        {.topics = {"cowork.customers.events", "cowork.contracts.events"}, .partitions = 3});
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
    kafka_ = {.brokers = broker_->bootstrap(), .client_id = "customers-test"};

    auto store = eventstore::Store::Open({.path = dir_.Sub("store"), .durable = false});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    directory_ = std::make_unique<directory::Directory>(*store_);
    verifier_ = std::make_unique<auth::TokenVerifier>(testing::DevVerifierOptions(), clock_);
    app_ = std::make_unique<App>(*store_, *directory_, clock_, *verifier_,
                                 auth::DevSessionKeys().private_pem);
    auto relay = kafka::OutboxRelay::Start(*store_, kafka_);
    ASSERT_TRUE(relay.ok()) << relay.status();
    relay_ = *std::move(relay);
    store_->SetOutboxListener([r = relay_.get()] { r->Wake(); });
    consumer_ = NewContractsConsumer(*store_, kafka_, *app_, false);
    ASSERT_TRUE(consumer_->Start().ok());

    directory_service_ = std::make_unique<rpc::DirectoryServiceImpl>(*app_);
    customers_service_ = std::make_unique<rpc::CustomersServiceImpl>(*app_);
    accounts_service_ = std::make_unique<rpc::AccountsServiceImpl>(*app_);
    teams_service_ = std::make_unique<rpc::TeamsServiceImpl>(*app_);
    auto server = server::Server::Start(
        {.service = "customers", .listen = "127.0.0.1:0", .workers = 8, .log_requests = false},
        {directory_service_.get(), customers_service_.get(), accounts_service_.get(),
         teams_service_.get()},
        metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                       grpc::InsecureChannelCredentials());
    directory_stub_ = DirectoryService::NewStub(channel);
    customers_stub_ = CustomersService::NewStub(channel);
    accounts_stub_ = AccountsService::NewStub(channel);
    teams_stub_ = TeamsService::NewStub(channel);

    // The tenant: operator op-1 with locations mad and bcn; a second operator op-2 with one.
    ASSERT_NO_FATAL_FAILURE(Tenant("op-1", {"mad", "bcn"}));
    ASSERT_NO_FATAL_FAILURE(Tenant("op-2", {"lis"}));
    admin_ = Admin({"*"});
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    server_.reset();
    consumer_.reset();
    relay_.reset();
    app_.reset();
    directory_.reset();
    store_.reset();
    broker_.reset();
  }

  void Tenant(const std::string& op, const std::vector<std::string>& locations) {
    v1::CreateOperatorRequest create;
    create.set_operator_id(op);
    create.set_name("Operator " + op);
    auto created = Call(*directory_stub_, &DirectoryService::Stub::CreateOperator,
                        auth::MintPlatformToken(auth::DevPlatformKeys().private_pem, "platform", clock_.Now()),
                        create);
    ASSERT_TRUE(created.ok()) << created.status();
    for (const std::string& loc : locations) {
      v1::CreateLocationRequest l;
      l.set_location_id(loc);
      l.set_name("Centro " + loc);
      l.set_time_zone("Europe/Madrid");
      l.set_currency("EUR");
      auto location = Call(*directory_stub_, &DirectoryService::Stub::CreateLocation,
                           Admin({"*"}, auth::AllPermissions(), op), l);
      ASSERT_TRUE(location.ok()) << location.status();
    }
  }

  std::string Admin(std::vector<std::string> locations,
                    std::vector<std::string> permissions = auth::AllPermissions(),
                    std::string op = "op-1") {
    return auth::MintAdminToken(auth::DevAdminKeys().private_pem,
                                {.subject = "admin@example.com",
                                 .operator_id = std::move(op),
                                 .locations = std::move(locations),
                                 .permissions = std::move(permissions)},
                                clock_.Now());
  }

  static v1::AddCustomerRequest Person(absl::string_view first, absl::string_view email,
                                       absl::string_view location = "mad") {
    v1::AddCustomerRequest r;
    r.set_type(v1::INDIVIDUAL);
    r.set_home_location_id(std::string(location));
    r.set_first_name(std::string(first));
    r.set_last_name("Tester");
    r.set_email(std::string(email));
    return r;
  }

  absl::StatusOr<v1::Customer> Add(const v1::AddCustomerRequest& r, absl::string_view token = "") {
    return Call(*customers_stub_, &CustomersService::Stub::AddCustomer,
                token.empty() ? admin_ : token, r);
  }
  absl::StatusOr<v1::Customer> Get(absl::string_view id, absl::string_view token = "") {
    v1::GetCustomerRequest r;
    r.set_customer_id(std::string(id));
    return Call(*customers_stub_, &CustomersService::Stub::GetCustomer,
                token.empty() ? admin_ : token, r);
  }
  absl::StatusOr<v1::Session> Register(absl::string_view first, absl::string_view email,
                                       absl::string_view password) {
    v1::RegisterRequest r;
    r.set_operator_id("op-1");
    r.set_location_id("mad");
    r.set_first_name(std::string(first));
    r.set_last_name("Portal");
    r.set_email(std::string(email));
    r.set_password(std::string(password));
    return Call(*accounts_stub_, &AccountsService::Stub::Register, "", r);
  }
  absl::StatusOr<v1::Session> SignIn(absl::string_view email, absl::string_view password,
                                     absl::string_view op = "op-1") {
    v1::SignInRequest r;
    r.set_operator_id(std::string(op));
    r.set_email(std::string(email));
    r.set_password(std::string(password));
    return Call(*accounts_stub_, &AccountsService::Stub::SignIn, "", r);
  }
  absl::StatusOr<v1::Customer> Suspend(absl::string_view id) {
    v1::SuspendCustomerRequest r;
    r.set_customer_id(std::string(id));
    return Call(*customers_stub_, &CustomersService::Stub::SuspendCustomer, admin_, r);
  }

  // The clear welcome message of `customer_id`, opened from the store's own event log.
  std::string SetupCodeOf(absl::string_view customer_id) {
    std::string code;
    absl::Status s = store_->ForEachEvent([&](const common::v1::EventEnvelope& e) {
      if (e.aggregate_id() != customer_id) return true;
      auto event = app_->projection().FromEnvelope(e);
      if (event.ok() && event->has_value() && (*event)->has_welcome()) {
        code = (*event)->welcome().setup_code();
      }
      return true;
    });
    EXPECT_TRUE(s.ok()) << s;
    return code;
  }

  void ProduceContractEvent(const std::string& contract_id, int64_t sequence,
                            const google::protobuf::Message& payload, const std::string& op) {
    common::v1::EventEnvelope e;
    e.set_event_id(crypto::NewUuid());
    e.set_aggregate_type("contract");
    e.set_aggregate_id(contract_id);
    e.set_sequence(sequence);
    e.set_operator_id(op);
    e.set_location_id("mad");
    e.set_service("contracts");
    e.mutable_payload()->PackFrom(payload);
    absl::Status s = kafka::ProduceAll(kafka_, "cowork.contracts.events",
                                       {{contract_id, e.SerializeAsString()}});
    ASSERT_TRUE(s.ok()) << s;
  }

  testing::TempDir dir_{"customers-api"};
  SimulatedClock clock_{kStart};
  std::unique_ptr<kafka::DevBroker> broker_;
  kafka::KafkaOptions kafka_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<App> app_;
  std::unique_ptr<kafka::OutboxRelay> relay_;
  std::unique_ptr<kafka::EventConsumer> consumer_;
  server::Metrics metrics_;
  std::unique_ptr<rpc::DirectoryServiceImpl> directory_service_;
  std::unique_ptr<rpc::CustomersServiceImpl> customers_service_;
  std::unique_ptr<rpc::AccountsServiceImpl> accounts_service_;
  std::unique_ptr<rpc::TeamsServiceImpl> teams_service_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<DirectoryService::Stub> directory_stub_;
  std::unique_ptr<CustomersService::Stub> customers_stub_;
  std::unique_ptr<AccountsService::Stub> accounts_stub_;
  std::unique_ptr<TeamsService::Stub> teams_stub_;
  std::string admin_;
};

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
