#include "services/customers/grpc/services.h"

#include <optional>
#include <utility>

#include "libs/server/server.h"
#include "libs/runtime/handlers.h"

namespace cowork::customers::rpc {
namespace {

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

COWORK_AUTHED_HANDLER(DirectoryServiceImpl, CreateOperator, v1::CreateOperatorRequest, v1::Operator)

COWORK_AUTHED_HANDLER(DirectoryServiceImpl, CreateLocation, v1::CreateLocationRequest, v1::Location)

COWORK_AUTHED_HANDLER(DirectoryServiceImpl, UpdateLocation, v1::UpdateLocationRequest, v1::Location)

COWORK_AUTHED_HANDLER(DirectoryServiceImpl, GetLocation, v1::GetLocationRequest, v1::Location)

COWORK_AUTHED_HANDLER(DirectoryServiceImpl, ListLocations, v1::ListLocationsRequest, v1::ListLocationsResponse)

// ---------------------------------------------------------------- customers

COWORK_AUTHED_HANDLER(CustomersServiceImpl, AddCustomer, v1::AddCustomerRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, GetCustomer, v1::GetCustomerRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, ListCustomers, v1::ListCustomersRequest, v1::ListCustomersResponse)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, UpdateCustomer, v1::UpdateCustomerRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, ChangeCustomerType, v1::ChangeCustomerTypeRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, SuspendCustomer, v1::SuspendCustomerRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, ReactivateCustomer, v1::ReactivateCustomerRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, CreateUserAccount, v1::CreateUserAccountRequest, v1::Customer)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, ImportCustomers, v1::ImportCustomersRequest, v1::ImportCustomersResponse)

COWORK_AUTHED_HANDLER(CustomersServiceImpl, EraseCustomer, v1::EraseCustomerRequest, v1::Customer)

// ---------------------------------------------------------------- accounts

grpc::ServerUnaryReactor* AccountsServiceImpl::Register(
    grpc::CallbackServerContext* ctx, const v1::RegisterRequest* request, v1::Session* response) {
  return Public(ctx, request, response,
                [this](const v1::RegisterRequest& r) { return app_.Register(r); });
}

grpc::ServerUnaryReactor* AccountsServiceImpl::SignIn(
    grpc::CallbackServerContext* ctx, const v1::SignInRequest* request, v1::Session* response) {
  return Public(ctx, request, response,
                [this, ctx](const v1::SignInRequest& r) {
                  return app_.SignIn(r, server::ClientAddress(*ctx, app_.client_address_header()));
                });
}

grpc::ServerUnaryReactor* AccountsServiceImpl::ChangePassword(
    grpc::CallbackServerContext* ctx, const v1::ChangePasswordRequest* request, v1::Session* response) {
  return server::Run(ctx, [this, ctx, request, response]() -> absl::Status {
    // With a token: the customer themself. Without: the setup code of a welcome message.
    std::optional<auth::Principal> caller;
    if (server::BearerToken(*ctx).ok()) {
      absl::StatusOr<auth::Principal> p = runtime::Authenticate(app_.authenticator(), *ctx);
      if (!p.ok()) return p.status();
      caller = *std::move(p);
    }
    absl::StatusOr<v1::Session> result =
        app_.ChangePassword(caller, *request, server::ClientAddress(*ctx, app_.client_address_header()));
    if (!result.ok()) return result.status();
    *response = *std::move(result);
    return absl::OkStatus();
  });
}

COWORK_AUTHED_HANDLER(AccountsServiceImpl, SignOut, v1::SignOutRequest, v1::SignOutResponse)

// ---------------------------------------------------------------- teams

COWORK_AUTHED_HANDLER(TeamsServiceImpl, CreateTeam, v1::CreateTeamRequest, v1::Team)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, GetTeam, v1::GetTeamRequest, v1::Team)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, ListTeams, v1::ListTeamsRequest, v1::ListTeamsResponse)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, AddTeamMember, v1::AddTeamMemberRequest, v1::Team)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, RemoveTeamMember, v1::RemoveTeamMemberRequest, v1::Team)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, SetPayingMember, v1::SetPayingMemberRequest, v1::Team)

COWORK_AUTHED_HANDLER(TeamsServiceImpl, UpdateTeamSharing, v1::UpdateTeamSharingRequest, v1::Team)

}  // namespace cowork::customers::rpc
