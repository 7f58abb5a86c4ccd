#include "services/customers/api/services.h"

#include <optional>
#include <utility>

#include "libs/server/server.h"
#include "libs/service/handlers.h"

namespace cowork::customers::api {
namespace {

// The body of every handler that needs a token: `*response = (app.*method)(principal, *request)`.
template <typename Request, typename Response, typename Method>
grpc::ServerUnaryReactor* Authed(App& app, grpc::CallbackServerContext* ctx,
                                 const Request* request, Response* response, Method method) {
  return service::Authed(app.authenticator(), ctx, request, response,
                         [&app, method](const auth::Principal& p, const Request& r) {
                           return (app.*method)(p, r);
                         });
}

// Calls without a token (portal registration, sign-in).
template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* Public(grpc::CallbackServerContext* ctx, const Request* request,
                                 Response* response, Fn fn) {
  return server::Run(ctx, [request, response, fn]() -> absl::Status {
    absl::StatusOr<Response> result = fn(*request);
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

}  // namespace

// ---------------------------------------------------------------- directory

grpc::ServerUnaryReactor* DirectoryServiceImpl::CreateOperator(
    grpc::CallbackServerContext* ctx, const v1::CreateOperatorRequest* request, v1::Operator* response) {
  return Authed(app_, ctx, request, response, &App::CreateOperator);
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::CreateLocation(
    grpc::CallbackServerContext* ctx, const v1::CreateLocationRequest* request, v1::Location* response) {
  return Authed(app_, ctx, request, response, &App::CreateLocation);
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::UpdateLocation(
    grpc::CallbackServerContext* ctx, const v1::UpdateLocationRequest* request, v1::Location* response) {
  return Authed(app_, ctx, request, response, &App::UpdateLocation);
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::GetLocation(
    grpc::CallbackServerContext* ctx, const v1::GetLocationRequest* request, v1::Location* response) {
  return Authed(app_, ctx, request, response, &App::GetLocation);
}

grpc::ServerUnaryReactor* DirectoryServiceImpl::ListLocations(
    grpc::CallbackServerContext* ctx, const v1::ListLocationsRequest* request, v1::ListLocationsResponse* response) {
  return Authed(app_, ctx, request, response, &App::ListLocations);
}

// ---------------------------------------------------------------- customers

grpc::ServerUnaryReactor* CustomersServiceImpl::AddCustomer(
    grpc::CallbackServerContext* ctx, const v1::AddCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::AddCustomer);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::GetCustomer(
    grpc::CallbackServerContext* ctx, const v1::GetCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::GetCustomer);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::ListCustomers(
    grpc::CallbackServerContext* ctx, const v1::ListCustomersRequest* request, v1::ListCustomersResponse* response) {
  return Authed(app_, ctx, request, response, &App::ListCustomers);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::UpdateCustomer(
    grpc::CallbackServerContext* ctx, const v1::UpdateCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::UpdateCustomer);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::ChangeCustomerType(
    grpc::CallbackServerContext* ctx, const v1::ChangeCustomerTypeRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::ChangeCustomerType);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::SuspendCustomer(
    grpc::CallbackServerContext* ctx, const v1::SuspendCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::SuspendCustomer);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::ReactivateCustomer(
    grpc::CallbackServerContext* ctx, const v1::ReactivateCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::ReactivateCustomer);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::CreateUserAccount(
    grpc::CallbackServerContext* ctx, const v1::CreateUserAccountRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::CreateUserAccount);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::ImportCustomers(
    grpc::CallbackServerContext* ctx, const v1::ImportCustomersRequest* request, v1::ImportCustomersResponse* response) {
  return Authed(app_, ctx, request, response, &App::ImportCustomers);
}

grpc::ServerUnaryReactor* CustomersServiceImpl::EraseCustomer(
    grpc::CallbackServerContext* ctx, const v1::EraseCustomerRequest* request, v1::Customer* response) {
  return Authed(app_, ctx, request, response, &App::EraseCustomer);
}

// ---------------------------------------------------------------- accounts

grpc::ServerUnaryReactor* AccountsServiceImpl::Register(
    grpc::CallbackServerContext* ctx, const v1::RegisterRequest* request, v1::Session* response) {
  return Public(ctx, request, response,
                [this](const v1::RegisterRequest& r) { return app_.Register(r); });
}

grpc::ServerUnaryReactor* AccountsServiceImpl::SignIn(
    grpc::CallbackServerContext* ctx, const v1::SignInRequest* request, v1::Session* response) {
  return Public(ctx, request, response,
                [this](const v1::SignInRequest& r) { return app_.SignIn(r); });
}

grpc::ServerUnaryReactor* AccountsServiceImpl::ChangePassword(
    grpc::CallbackServerContext* ctx, const v1::ChangePasswordRequest* request, v1::Session* response) {
  return server::Run(ctx, [this, ctx, request, response]() -> absl::Status {
    // With a token: the customer themself. Without: the setup code of a welcome message.
    std::optional<auth::Principal> caller;
    if (server::BearerToken(*ctx).ok()) {
      absl::StatusOr<auth::Principal> p = app_.Authenticate(*ctx);
      if (!p.ok()) return p.status();
      caller = *std::move(p);
    }
    absl::StatusOr<v1::Session> result = app_.ChangePassword(caller, *request);
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AccountsServiceImpl::SignOut(
    grpc::CallbackServerContext* ctx, const v1::SignOutRequest* request, v1::SignOutResponse* response) {
  return Authed(app_, ctx, request, response, &App::SignOut);
}

// ---------------------------------------------------------------- teams

grpc::ServerUnaryReactor* TeamsServiceImpl::CreateTeam(
    grpc::CallbackServerContext* ctx, const v1::CreateTeamRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::CreateTeam);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::GetTeam(
    grpc::CallbackServerContext* ctx, const v1::GetTeamRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::GetTeam);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::ListTeams(
    grpc::CallbackServerContext* ctx, const v1::ListTeamsRequest* request, v1::ListTeamsResponse* response) {
  return Authed(app_, ctx, request, response, &App::ListTeams);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::AddTeamMember(
    grpc::CallbackServerContext* ctx, const v1::AddTeamMemberRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::AddTeamMember);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::RemoveTeamMember(
    grpc::CallbackServerContext* ctx, const v1::RemoveTeamMemberRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::RemoveTeamMember);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::SetPayingMember(
    grpc::CallbackServerContext* ctx, const v1::SetPayingMemberRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::SetPayingMember);
}

grpc::ServerUnaryReactor* TeamsServiceImpl::UpdateTeamSharing(
    grpc::CallbackServerContext* ctx, const v1::UpdateTeamSharingRequest* request, v1::Team* response) {
  return Authed(app_, ctx, request, response, &App::UpdateTeamSharing);
}

}  // namespace cowork::customers::api
