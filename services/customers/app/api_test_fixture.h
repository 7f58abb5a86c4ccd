#ifndef COWORK_SERVICES_CUSTOMERS_APP_API_TEST_FIXTURE_H_
#define COWORK_SERVICES_CUSTOMERS_APP_API_TEST_FIXTURE_H_

// The fixture of the customers service's gRPC-level tests (api_test.cc, accounts_test.cc):
// the App and its adapters behind a real gRPC server on loopback, over a real Store.

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

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using v1::AccountsService;
using v1::CustomersService;
using v1::DirectoryService;
using v1::TeamsService;

inline const absl::Time kStart = absl::FromCivil(absl::CivilSecond(2026, 5, 4, 9, 0, 0), absl::UTCTimeZone());

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

inline std::vector<std::string> Fields(const absl::Status& status) {
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

}  // namespace cowork::customers::app

#endif  // COWORK_SERVICES_CUSTOMERS_APP_API_TEST_FIXTURE_H_
