#ifndef COWORK_SERVICES_CUSTOMERS_APP_APP_H_
#define COWORK_SERVICES_CUSTOMERS_APP_APP_H_

// The application layer of the customers service: one method per RPC, taking the caller's
// authenticated principal and the request, returning the response or an absl::Status that
// server::ToGrpcStatus maps. Each method authorizes, turns the request into a domain
// command, and commits through eventstore::Execute (idempotent by request id) and the
// projection's write path. The gRPC classes (services.h) and the contracts consumer
// (contracts_consumer.h) are thin adapters over it.
//
// Authorization:
//  - platform tokens: CreateOperator only;
//  - admins of the token's operator: customers.read (Get/List), customers.write (mutations and
//    teams), customers.erase (Erase), locations.write over "*" (locations); they see and touch
//    only customers and teams whose (home) location their token covers. Resources of another
//    operator are NOT_FOUND.
//  - customers: GetCustomer of themselves, ChangePassword, SignOut, and the locations of their
//    operator; anything else is PERMISSION_DENIED.
//
// Idempotency: the request log keeps only ids (domain::CommandResult); a retry with the same
// request id does nothing again and answers from the current views of the same resource (a
// session answer is minted again for the same session).
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cowork/contracts/v1/events.pb.h"
#include "cowork/customers/v1/customers.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/auth/throttle.h"
#include "libs/crypto/password_gate.h"
#include "libs/eventstore/store.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/authenticator.h"
#include "services/customers/domain/csv_import.h"
#include "services/customers/domain/state.pb.h"
#include "services/customers/domain/team.h"
#include "services/customers/projection/projection.h"

namespace cowork::customers::app {

struct AppOptions {
  // Lifetime of a customer session token. Default 7 days.
  absl::Duration session_ttl = absl::Hours(24 * 7);
  // Bounds of one CSV import (8 MiB, 10,000 rows by default).
  domain::CsvLimits csv_limits;
  // Length of the one-time setup codes sent in welcome messages. Default 10.
  int setup_code_length = 10;
  // List calls look at most this many stored entries before answering with what they found
  // (and a page token to continue), so a selective filter cannot make one call unbounded.
  int max_scan = eventstore::kMaxScan;
  // Every password and setup code is hashed and checked through this gate.
  crypto::PasswordGateOptions password_gate;
  // Failed sign-ins and setup codes, per account (operator and address, known or not) and per
  // client address (many people may share one: an office, a frontend).
  auth::ThrottleOptions account_throttle = {.max_in_flight = 1};
  auth::ThrottleOptions client_throttle = {.free_failures = 20, .max_in_flight = 2};
  // Metadata header naming the client's address, set by trusted frontends (e.g.
  // "x-forwarded-for"); empty: the connection's address (server::ClientAddress).
  std::string client_address_header;
};

class App {
 public:
  // Everything referenced must outlive the App. `session_private_key_pem` signs customer
  // sessions (ES256; auth/keys.h).
  App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
      const auth::TokenVerifier& verifier, std::string session_private_key_pem,
      AppOptions options = {});

  // Bearer tokens verified; customer sessions checked against the directory (password
  // changed, suspended, signed out, erased: UNAUTHENTICATED).
  const runtime::Authenticator& authenticator() const { return authn_; }

  // DirectoryService
  absl::StatusOr<v1::Operator> CreateOperator(const auth::Principal& p,
                                              const v1::CreateOperatorRequest& r);
  absl::StatusOr<v1::Location> CreateLocation(const auth::Principal& p,
                                              const v1::CreateLocationRequest& r);
  absl::StatusOr<v1::Location> UpdateLocation(const auth::Principal& p,
                                              const v1::UpdateLocationRequest& r);
  absl::StatusOr<v1::Location> GetLocation(const auth::Principal& p,
                                           const v1::GetLocationRequest& r) const;
  absl::StatusOr<v1::ListLocationsResponse> ListLocations(const auth::Principal& p,
                                                          const v1::ListLocationsRequest& r) const;

  // CustomersService
  absl::StatusOr<v1::Customer> AddCustomer(const auth::Principal& p,
                                           const v1::AddCustomerRequest& r);
  absl::StatusOr<v1::Customer> GetCustomer(const auth::Principal& p,
                                           const v1::GetCustomerRequest& r) const;
  absl::StatusOr<v1::ListCustomersResponse> ListCustomers(const auth::Principal& p,
                                                          const v1::ListCustomersRequest& r) const;
  absl::StatusOr<v1::Customer> UpdateCustomer(const auth::Principal& p,
                                              const v1::UpdateCustomerRequest& r);
  absl::StatusOr<v1::Customer> ChangeCustomerType(const auth::Principal& p,
                                                  const v1::ChangeCustomerTypeRequest& r);
  absl::StatusOr<v1::Customer> SuspendCustomer(const auth::Principal& p,
                                               const v1::SuspendCustomerRequest& r);
  absl::StatusOr<v1::Customer> ReactivateCustomer(const auth::Principal& p,
                                                  const v1::ReactivateCustomerRequest& r);
  absl::StatusOr<v1::Customer> CreateUserAccount(const auth::Principal& p,
                                                 const v1::CreateUserAccountRequest& r);
  absl::StatusOr<v1::ImportCustomersResponse> ImportCustomers(
      const auth::Principal& p, const v1::ImportCustomersRequest& r);
  absl::StatusOr<v1::Customer> EraseCustomer(const auth::Principal& p,
                                             const v1::EraseCustomerRequest& r);

  // AccountsService. `caller` is empty for calls without a token.
  // `client`: the caller's address (ClientOf), for the throttle of failed attempts.
  absl::StatusOr<v1::Session> Register(const v1::RegisterRequest& r);
  absl::StatusOr<v1::Session> SignIn(const v1::SignInRequest& r, absl::string_view client);
  absl::StatusOr<v1::Session> ChangePassword(const std::optional<auth::Principal>& caller,
                                             const v1::ChangePasswordRequest& r,
                                             absl::string_view client);
  // The metadata header naming a call's client address (AppOptions); empty: the peer.
  const std::string& client_address_header() const { return options_.client_address_header; }
  // Refusals of the password gate since start.
  int64_t password_gate_refusals() const { return gate_.refused(); }
  absl::StatusOr<v1::SignOutResponse> SignOut(const auth::Principal& p,
                                              const v1::SignOutRequest& r);

  // TeamsService
  absl::StatusOr<v1::Team> CreateTeam(const auth::Principal& p, const v1::CreateTeamRequest& r);
  absl::StatusOr<v1::Team> GetTeam(const auth::Principal& p, const v1::GetTeamRequest& r) const;
  absl::StatusOr<v1::ListTeamsResponse> ListTeams(const auth::Principal& p,
                                                  const v1::ListTeamsRequest& r) const;
  absl::StatusOr<v1::Team> AddTeamMember(const auth::Principal& p,
                                         const v1::AddTeamMemberRequest& r);
  absl::StatusOr<v1::Team> RemoveTeamMember(const auth::Principal& p,
                                            const v1::RemoveTeamMemberRequest& r);
  absl::StatusOr<v1::Team> SetPayingMember(const auth::Principal& p,
                                           const v1::SetPayingMemberRequest& r);
  absl::StatusOr<v1::Team> UpdateTeamSharing(const auth::Principal& p,
                                             const v1::UpdateTeamSharingRequest& r);

  // Contracts consumer handlers: member/contact follows the contracts topic. Events of
  // unknown customers (or of another operator) are skipped with a log line.
  absl::Status OnContractStarted(const common::v1::EventEnvelope& envelope,
                                 const contracts::v1::ContractStarted& event,
                                 eventstore::WriteSet& writes);
  absl::Status OnContractEnded(const common::v1::EventEnvelope& envelope,
                               const contracts::v1::ContractEnded& event,
                               eventstore::WriteSet& writes);

  const projection::Projection& projection() const { return projection_; }

 private:
  eventstore::EnvelopeContext Context(absl::string_view operator_id,
                                      absl::string_view request_id) const;
  // The customer / team `id` of the caller's operator: NOT_FOUND otherwise.
  absl::StatusOr<projection::Loaded<domain::CustomerState>> CustomerOf(
      const auth::Principal& p, absl::string_view id, absl::string_view field) const;
  absl::StatusOr<projection::Loaded<domain::TeamState>> TeamOf(const auth::Principal& p,
                                                               absl::string_view id) const;
  absl::StatusOr<bool> LocationExists(absl::string_view operator_id,
                                      absl::string_view location_id) const;
  absl::StatusOr<domain::CustomerCheck> CheckCustomer(absl::string_view operator_id,
                                                      absl::string_view customer_id) const;
  absl::StatusOr<v1::Customer> CustomerView(absl::string_view operator_id,
                                            absl::string_view customer_id) const;
  absl::StatusOr<v1::Team> TeamView(absl::string_view operator_id,
                                    absl::string_view team_id) const;
  // The view, if the admin `p` covers its location with `permission` (a replayed answer of
  // another admin's request is checked like a fresh one).
  absl::StatusOr<v1::Customer> CoveredCustomerView(const auth::Principal& p,
                                                   absl::string_view permission,
                                                   absl::string_view customer_id) const;
  absl::StatusOr<v1::Team> CoveredTeamView(const auth::Principal& p,
                                           absl::string_view team_id) const;
  // The customer of the operator whose address `email` is, if any.
  absl::StatusOr<std::optional<projection::Loaded<domain::CustomerState>>> FindAccount(
      absl::string_view operator_id, absl::string_view email) const;
  absl::StatusOr<v1::Session> SessionFor(absl::string_view operator_id,
                                         const domain::CommandResult& result) const;
  // Load, authorize (`permission` over the home location), decide `command`, commit.
  template <typename Command>
  absl::StatusOr<v1::Customer> CustomerCommand(const auth::Principal& p,
                                               absl::string_view method,
                                               const google::protobuf::Message& request,
                                               absl::string_view customer_id,
                                               absl::string_view permission,
                                               const Command& command);
  // Load, authorize (customers.write over the team's location), decide, commit.
  template <typename MakeCommand>
  absl::StatusOr<v1::Team> TeamCommand(const auth::Principal& p, absl::string_view method,
                                       const google::protobuf::Message& request,
                                       absl::string_view team_id, MakeCommand make_command);
  absl::Status OnContract(const common::v1::EventEnvelope& envelope,
                          absl::string_view customer_id, absl::string_view contract_id,
                          bool started, eventstore::WriteSet& writes);

  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  const auth::TokenVerifier& verifier_;  // its clock dates the sessions and the throttles
  const runtime::Authenticator authn_;
  const std::string session_private_key_pem_;
  const AppOptions options_;
  projection::Projection projection_;
  crypto::PasswordGate gate_;
  auth::FailureThrottle accounts_;  // keys "<operator>/<normalized email>"
  auth::FailureThrottle clients_;   // keys: client addresses
};

}  // namespace cowork::customers::app

#endif  // COWORK_SERVICES_CUSTOMERS_APP_APP_H_
