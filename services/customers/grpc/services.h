#ifndef COWORK_SERVICES_CUSTOMERS_GRPC_SERVICES_H_
#define COWORK_SERVICES_CUSTOMERS_GRPC_SERVICES_H_

// The four gRPC services of customers.proto on the callback API. Each handler authenticates
// (where the call needs a token) and runs the App method on the server kit's worker pool
// (server::Run), which maps the absl::Status to a gRPC status with field violations. A request
// protobuf cannot decode (invalid UTF-8 in a string field) never reaches a handler: the server
// kit answers it with INVALID_ARGUMENT naming the field.
//
// Thread-safe as the App is. The App must outlive the services.
//
//   api::App app(...);
//   api::CustomersServiceImpl customers(app);
//   server::Server::Start(options, {&directory, &customers, &accounts, &teams}, metrics);

#include "cowork/customers/v1/customers.grpc.pb.h"
#include "services/customers/app/app.h"

namespace cowork::customers::rpc {

using app::App;

class DirectoryServiceImpl final : public v1::DirectoryService::CallbackService {
 public:
  explicit DirectoryServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CreateOperator(grpc::CallbackServerContext* ctx,
      const v1::CreateOperatorRequest* request, v1::Operator* response) override;
  grpc::ServerUnaryReactor* CreateLocation(grpc::CallbackServerContext* ctx,
      const v1::CreateLocationRequest* request, v1::Location* response) override;
  grpc::ServerUnaryReactor* UpdateLocation(grpc::CallbackServerContext* ctx,
      const v1::UpdateLocationRequest* request, v1::Location* response) override;
  grpc::ServerUnaryReactor* GetLocation(grpc::CallbackServerContext* ctx,
      const v1::GetLocationRequest* request, v1::Location* response) override;
  grpc::ServerUnaryReactor* ListLocations(grpc::CallbackServerContext* ctx,
      const v1::ListLocationsRequest* request, v1::ListLocationsResponse* response) override;

 private:
  App& app_;
};

class CustomersServiceImpl final : public v1::CustomersService::CallbackService {
 public:
  explicit CustomersServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* AddCustomer(grpc::CallbackServerContext* ctx,
      const v1::AddCustomerRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* ctx,
      const v1::GetCustomerRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* ListCustomers(grpc::CallbackServerContext* ctx,
      const v1::ListCustomersRequest* request, v1::ListCustomersResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCustomer(grpc::CallbackServerContext* ctx,
      const v1::UpdateCustomerRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* ChangeCustomerType(grpc::CallbackServerContext* ctx,
      const v1::ChangeCustomerTypeRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* SuspendCustomer(grpc::CallbackServerContext* ctx,
      const v1::SuspendCustomerRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* ReactivateCustomer(grpc::CallbackServerContext* ctx,
      const v1::ReactivateCustomerRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* CreateUserAccount(grpc::CallbackServerContext* ctx,
      const v1::CreateUserAccountRequest* request, v1::Customer* response) override;
  grpc::ServerUnaryReactor* ImportCustomers(grpc::CallbackServerContext* ctx,
      const v1::ImportCustomersRequest* request, v1::ImportCustomersResponse* response) override;
  grpc::ServerUnaryReactor* EraseCustomer(grpc::CallbackServerContext* ctx,
      const v1::EraseCustomerRequest* request, v1::Customer* response) override;

 private:
  App& app_;
};

class AccountsServiceImpl final : public v1::AccountsService::CallbackService {
 public:
  explicit AccountsServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
      const v1::RegisterRequest* request, v1::Session* response) override;
  grpc::ServerUnaryReactor* SignIn(grpc::CallbackServerContext* ctx,
      const v1::SignInRequest* request, v1::Session* response) override;
  grpc::ServerUnaryReactor* ChangePassword(grpc::CallbackServerContext* ctx,
      const v1::ChangePasswordRequest* request, v1::Session* response) override;
  grpc::ServerUnaryReactor* SignOut(grpc::CallbackServerContext* ctx,
      const v1::SignOutRequest* request, v1::SignOutResponse* response) override;

 private:
  App& app_;
};

class TeamsServiceImpl final : public v1::TeamsService::CallbackService {
 public:
  explicit TeamsServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CreateTeam(grpc::CallbackServerContext* ctx,
      const v1::CreateTeamRequest* request, v1::Team* response) override;
  grpc::ServerUnaryReactor* GetTeam(grpc::CallbackServerContext* ctx,
      const v1::GetTeamRequest* request, v1::Team* response) override;
  grpc::ServerUnaryReactor* ListTeams(grpc::CallbackServerContext* ctx,
      const v1::ListTeamsRequest* request, v1::ListTeamsResponse* response) override;
  grpc::ServerUnaryReactor* AddTeamMember(grpc::CallbackServerContext* ctx,
      const v1::AddTeamMemberRequest* request, v1::Team* response) override;
  grpc::ServerUnaryReactor* RemoveTeamMember(grpc::CallbackServerContext* ctx,
      const v1::RemoveTeamMemberRequest* request, v1::Team* response) override;
  grpc::ServerUnaryReactor* SetPayingMember(grpc::CallbackServerContext* ctx,
      const v1::SetPayingMemberRequest* request, v1::Team* response) override;
  grpc::ServerUnaryReactor* UpdateTeamSharing(grpc::CallbackServerContext* ctx,
      const v1::UpdateTeamSharingRequest* request, v1::Team* response) override;

 private:
  App& app_;
};

}  // namespace cowork::customers::rpc

#endif  // COWORK_SERVICES_CUSTOMERS_GRPC_SERVICES_H_
