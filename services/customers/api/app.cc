#include "services/customers/api/app.h"

#include <unicode/unistr.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/server/logging.h"
#include "libs/server/server.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/validation.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"

namespace cowork::customers::api {
namespace {

using domain::CommandResult;
using eventstore::Decided;
using eventstore::PageOf;
using eventstore::PageSize;
using eventstore::Paginate;
using eventstore::ReadView;
using eventstore::Space;
using eventstore::WriteSet;
using projection::Loaded;

// Secrets on the unauthenticated paths (sign-in, setup codes) are bounded before any work.
constexpr size_t kMaxSecretBytes = 4 * domain::kMaxPasswordLength;

// `violations` (an INVALID_ARGUMENT from FieldErrors) with another code, keeping its details.
absl::Status WithCode(absl::StatusCode code, const absl::Status& violations) {
  absl::Status out(code, violations.message());
  if (absl::optional<absl::Cord> payload = violations.GetPayload(kBadRequestTypeUrl)) {
    out.SetPayload(kBadRequestTypeUrl, *payload);
  }
  return out;
}

absl::Status EmailTaken(absl::string_view field) {
  return WithCode(absl::StatusCode::kAlreadyExists,
                  InvalidField(std::string(field), "a customer with this email already exists"));
}

// The customers service's answers are ids (CommandResult) whose views are read afterwards
// through the usual authorization, so a replayed answer needs no check of its own.
constexpr auto kViewsAuthorizeTheAnswer = eventstore::NoReauthorization<CommandResult>;

absl::Status CheckRequest(absl::string_view request_id) {
  FieldErrors errors;
  domain::CheckRequestId(request_id, errors);
  return errors.ToStatus();
}

// An admin for `location_id` when it is a usable id; a missing or malformed id is left to the
// validation, which reports it with the other bad fields.
absl::Status RequireAdminFor(const auth::Principal& p, absl::string_view permission,
                             absl::string_view location_id) {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, permission));
  if (!domain::IsValidId(location_id)) return absl::OkStatus();
  return auth::RequireAdmin(p, permission, location_id);
}

// Anyone of an operator: its admins and customers.
absl::Status RequireOperatorMember(const auth::Principal& p) {
  if (p.is_platform() || p.operator_id.empty()) {
    return absl::PermissionDeniedError("this call needs a token of an operator");
  }
  return absl::OkStatus();
}

// The throttle key of an account: its address at the operator, known or not.
std::string AccountKey(absl::string_view operator_id, absl::string_view email) {
  return absl::StrCat(operator_id, "/",
                      domain::NormalizeEmail(email.substr(0, domain::kMaxEmailLength + 1)));
}

// Sign-in answers the same whether the email is unknown or the password wrong, and takes as
// long: an unknown email is checked against this hash.
const std::string& DummyHash() {
  static const std::string* const hash = [] {
    absl::StatusOr<std::string> h = crypto::HashPassword("cowork timing equaliser 0");
    return new std::string(h.ok() ? *h : std::string());
  }();
  return *hash;
}

// Unicode case folding (ICU), for case-insensitive name search in any alphabet.
std::string Fold(absl::string_view s) {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  u.foldCase();
  std::string out;
  u.toUTF8String(out);
  return out;
}

// A generated id, or the caller's (validated by the domain).
std::string IdOrNew(absl::string_view given, absl::string_view prefix) {
  return given.empty() ? crypto::NewId(prefix) : std::string(given);
}

std::vector<std::string> Paths(const google::protobuf::FieldMask& mask) {
  return {mask.paths().begin(), mask.paths().end()};
}

}  // namespace

App::App(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
         const auth::TokenVerifier& verifier, std::string session_private_key_pem,
         AppOptions options)
    : store_(store),
      directory_(directory),
      clock_(clock),
      verifier_(verifier),
      authn_(verifier, directory),
      session_private_key_pem_(std::move(session_private_key_pem)),
      options_(std::move(options)),
      projection_(store, directory),
      gate_(options_.password_gate),
      accounts_(options_.account_throttle, verifier.clock()),
      clients_(options_.client_throttle, verifier.clock()) {}

std::string App::ClientOf(const grpc::ServerContextBase& context) const {
  return server::ClientAddress(context, options_.client_address_header);
}

// ---------------------------------------------------------------- helpers

eventstore::EnvelopeContext App::Context(absl::string_view operator_id,
                                         absl::string_view request_id) const {
  return {.service = std::string(projection::kService),
          .operator_id = std::string(operator_id),
          .correlation_id = request_id.empty() ? crypto::NewUuid() : std::string(request_id),
          .causation_id = std::string(request_id),
          .now = clock_.Now()};
}

absl::StatusOr<Loaded<domain::CustomerState>> App::CustomerOf(const auth::Principal& p,
                                                              absl::string_view id,
                                                              absl::string_view field) const {
  if (id.empty()) return InvalidField(std::string(field), "is required");
  if (!domain::IsValidId(id)) return absl::NotFoundError("customer not found");
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> loaded, projection_.LoadCustomer(id));
  if (loaded.version == 0 || loaded.state.operator_id() != p.operator_id) {
    return absl::NotFoundError("customer not found");
  }
  return loaded;
}

absl::StatusOr<Loaded<domain::TeamState>> App::TeamOf(const auth::Principal& p,
                                                      absl::string_view id) const {
  if (id.empty()) return InvalidField("team_id", "is required");
  if (!domain::IsValidId(id)) return absl::NotFoundError("team not found");
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::TeamState> loaded, projection_.LoadTeam(id));
  if (loaded.version == 0 || loaded.state.operator_id() != p.operator_id) {
    return absl::NotFoundError("team not found");
  }
  return loaded;
}

absl::StatusOr<std::optional<Loaded<domain::CustomerState>>> App::FindAccount(
    absl::string_view operator_id, absl::string_view email) const {
  COWORK_ASSIGN_OR_RETURN(
      std::optional<std::string> owner,
      store_.ClaimOwner(projection::EmailClaim(operator_id, domain::NormalizeEmail(email))));
  if (!owner.has_value()) return std::nullopt;
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> loaded, projection_.LoadCustomer(*owner));
  if (loaded.version == 0 || loaded.state.operator_id() != operator_id) return std::nullopt;
  return loaded;
}

absl::StatusOr<bool> App::LocationExists(absl::string_view operator_id,
                                         absl::string_view location_id) const {
  if (!domain::IsValidId(location_id)) return false;
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::LocationState> loaded,
                             projection_.LoadLocation(location_id));
  return loaded.version > 0 && loaded.state.operator_id() == operator_id;
}

absl::StatusOr<domain::CustomerCheck> App::CheckCustomer(absl::string_view operator_id,
                                                         absl::string_view customer_id) const {
  if (!domain::IsValidId(customer_id)) return domain::CustomerCheck::kNotFound;
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> loaded,
                             projection_.LoadCustomer(customer_id));
  if (loaded.version == 0 || loaded.state.operator_id() != operator_id) {
    return domain::CustomerCheck::kNotFound;
  }
  return loaded.state.erased() ? domain::CustomerCheck::kErased : domain::CustomerCheck::kOk;
}

absl::StatusOr<v1::Customer> App::CustomerView(absl::string_view operator_id,
                                               absl::string_view customer_id) const {
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Customer> view,
      ReadView<v1::Customer>(store_, projection::CustomerKey(operator_id, customer_id)));
  if (!view.has_value()) return absl::NotFoundError("customer not found");
  return *std::move(view);
}

absl::StatusOr<v1::Team> App::TeamView(absl::string_view operator_id,
                                       absl::string_view team_id) const {
  COWORK_ASSIGN_OR_RETURN(std::optional<v1::Team> view,
                             ReadView<v1::Team>(store_, projection::TeamKey(operator_id, team_id)));
  if (!view.has_value()) return absl::NotFoundError("team not found");
  return *std::move(view);
}

absl::StatusOr<v1::Customer> App::CoveredCustomerView(const auth::Principal& p,
                                                      absl::string_view permission,
                                                      absl::string_view customer_id) const {
  COWORK_ASSIGN_OR_RETURN(v1::Customer view, CustomerView(p.operator_id, customer_id));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, permission, view.home_location_id()));
  return view;
}

absl::StatusOr<v1::Team> App::CoveredTeamView(const auth::Principal& p,
                                              absl::string_view team_id) const {
  COWORK_ASSIGN_OR_RETURN(v1::Team view, TeamView(p.operator_id, team_id));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersWrite, view.location_id()));
  return view;
}

absl::StatusOr<v1::Session> App::SessionFor(absl::string_view operator_id,
                                            const CommandResult& result) const {
  v1::Session session;
  COWORK_ASSIGN_OR_RETURN(*session.mutable_customer(), CustomerView(operator_id, result.id()));
  // A session is a token: dated on the clock tokens are checked against.
  const absl::Time now = verifier_.clock().Now();
  session.set_token(auth::MintSessionToken(
      session_private_key_pem_,
      {.operator_id = std::string(operator_id),
       .customer_id = result.id(),
       .session_id = result.session_id(),
       .session_generation = result.session_generation(),
       .ttl = options_.session_ttl},
      now));
  *session.mutable_expire_time() = domain::ToTimestamp(now + options_.session_ttl);
  return session;
}

template <typename Command>
absl::StatusOr<v1::Customer> App::CustomerCommand(const auth::Principal& p,
                                                  absl::string_view method,
                                                  const google::protobuf::Message& message,
                                                  absl::string_view customer_id,
                                                  absl::string_view permission,
                                                  const Command& command) {
  const eventstore::Request request = runtime::RequestOf(p, method, message);
  const std::string& request_id = request.request_id;
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, permission));
  COWORK_RETURN_IF_ERROR(CheckRequest(request_id));
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, request,
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                                   CustomerOf(p, customer_id, "customer_id"));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, permission, customer.state.home_location_id()));
        eventstore::EnvelopeContext context = Context(p.operator_id, request_id);
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(customer.state, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, customer, std::move(events), writes).status());
        CommandResult r;
        r.set_id(std::string(customer_id));
        return Decided<CommandResult>{std::move(writes), std::move(r)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return CoveredCustomerView(p, permission, result->id());
}

template <typename MakeCommand>
absl::StatusOr<v1::Team> App::TeamCommand(const auth::Principal& p, absl::string_view method,
                                          const google::protobuf::Message& message,
                                          absl::string_view team_id, MakeCommand make_command) {
  const eventstore::Request request = runtime::RequestOf(p, method, message);
  const std::string& request_id = request.request_id;
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersWrite));
  COWORK_RETURN_IF_ERROR(CheckRequest(request_id));
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, request,
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::TeamState> team, TeamOf(p, team_id));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kCustomersWrite, team.state.location_id()));
        COWORK_ASSIGN_OR_RETURN(auto command, make_command());
        eventstore::EnvelopeContext context = Context(p.operator_id, request_id);
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(team.state, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageTeam(context, team, std::move(events), writes).status());
        CommandResult r;
        r.set_id(std::string(team_id));
        return Decided<CommandResult>{std::move(writes), std::move(r)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return CoveredTeamView(p, result->id());
}

// ---------------------------------------------------------------- directory

absl::StatusOr<v1::Operator> App::CreateOperator(const auth::Principal& p,
                                                 const v1::CreateOperatorRequest& r) {
  if (!p.is_platform()) {
    return absl::PermissionDeniedError("only a platform token can create operators");
  }
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string id = IdOrNew(r.operator_id(), "op-");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateOperator", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        Loaded<domain::OperatorState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadOperator(id));
        }
        eventstore::EnvelopeContext context = Context(id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state, domain::CreateOperator{id, r.name()}, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageOperator(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Operator> view,
      ReadView<v1::Operator>(store_, projection::OperatorKey(result->id())));
  if (!view.has_value()) return absl::InternalError("operator view missing after its creation");
  return *std::move(view);
}

absl::StatusOr<v1::Location> App::CreateLocation(const auth::Principal& p,
                                                 const v1::CreateLocationRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kLocationsWrite, ""));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string id = IdOrNew(r.location_id(), "loc-");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateLocation", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::OperatorState> op,
                                   projection_.LoadOperator(p.operator_id));
        Loaded<domain::LocationState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadLocation(id));
        }
        // Location ids are aggregate ids: unique across operators. Another operator's id is
        // taken without saying whose it is.
        if (before.version > 0 && before.state.operator_id() != p.operator_id) {
          return absl::AlreadyExistsError(
              absl::StrCat("location id ", id, " is taken: choose another or leave it empty"));
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state,
                           domain::CreateLocation{.operator_id = p.operator_id,
                                                  .operator_exists = op.version > 0,
                                                  .location_id = id,
                                                  .name = r.name(),
                                                  .time_zone = r.time_zone(),
                                                  .currency = r.currency()},
                           context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageLocation(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  v1::GetLocationRequest get;
  get.set_location_id(result->id());
  return GetLocation(p, get);
}

absl::StatusOr<v1::Location> App::UpdateLocation(const auth::Principal& p,
                                                 const v1::UpdateLocationRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kLocationsWrite, ""));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const std::string& id = r.location().location_id();
  if (id.empty()) return InvalidField("location.location_id", "is required");
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "UpdateLocation", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        Loaded<domain::LocationState> before;
        if (domain::IsValidId(id)) {
          COWORK_ASSIGN_OR_RETURN(before, projection_.LoadLocation(id));
        }
        if (before.version == 0 || before.state.operator_id() != p.operator_id) {
          return absl::NotFoundError("location not found");
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(before.state,
                           domain::UpdateLocation{.paths = Paths(r.update_mask()),
                                                  .name = r.location().name(),
                                                  .time_zone = r.location().time_zone(),
                                                  .currency = r.location().currency()},
                           context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageLocation(context, before, std::move(events), writes).status());
        CommandResult out;
        out.set_id(id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  v1::GetLocationRequest get;
  get.set_location_id(result->id());
  return GetLocation(p, get);
}

absl::StatusOr<v1::Location> App::GetLocation(const auth::Principal& p,
                                              const v1::GetLocationRequest& r) const {
  COWORK_RETURN_IF_ERROR(RequireOperatorMember(p));
  if (r.location_id().empty()) return InvalidField("location_id", "is required");
  if (!domain::IsValidId(r.location_id())) return absl::NotFoundError("location not found");
  COWORK_ASSIGN_OR_RETURN(
      std::optional<v1::Location> view,
      ReadView<v1::Location>(store_, projection::LocationKey(p.operator_id, r.location_id())));
  if (!view.has_value()) return absl::NotFoundError("location not found");
  return *std::move(view);
}

absl::StatusOr<v1::ListLocationsResponse> App::ListLocations(
    const auth::Principal& p, const v1::ListLocationsRequest& r) const {
  COWORK_RETURN_IF_ERROR(RequireOperatorMember(p));
  COWORK_ASSIGN_OR_RETURN(const int page_size, PageSize(r.page_size()));
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Location> page,
      Paginate<v1::Location>(
          store_, projection::LocationPrefix(p.operator_id), r.page_token(), page_size,
          options_.max_scan, eventstore::ParseView<v1::Location>));
  v1::ListLocationsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_locations(), out);
  return out;
}

// ---------------------------------------------------------------- customers

absl::StatusOr<v1::Customer> App::AddCustomer(const auth::Principal& p,
                                              const v1::AddCustomerRequest& r) {
  COWORK_RETURN_IF_ERROR(RequireAdminFor(p, auth::kCustomersWrite, r.home_location_id()));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  domain::AddCustomer command;
  command.customer_id = crypto::NewId("c-");
  command.operator_id = p.operator_id;
  command.home_location_id = r.home_location_id();
  command.type = r.type();
  command.source = v1::ADMIN;
  command.first_name = r.first_name();
  command.last_name = r.last_name();
  command.email = r.email();
  command.phone = r.phone();
  command.company_name = r.company_name();
  if (r.send_welcome_message()) {
    command.welcome_setup_code = crypto::NewCode(options_.setup_code_length);
    COWORK_ASSIGN_OR_RETURN(command.welcome_setup_code_hash, gate_.Hash(command.welcome_setup_code));
  }
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "AddCustomer", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(command.home_location_exists,
                                   LocationExists(p.operator_id, r.home_location_id()));
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(domain::CustomerState{}, command, context.now));
        COWORK_ASSIGN_OR_RETURN(
            std::optional<std::string> owner,
            store_.ClaimOwner(projection::EmailClaim(p.operator_id,
                                                     domain::NormalizeEmail(command.email))));
        if (owner.has_value()) return EmailTaken("email");
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, {}, std::move(events), writes).status());
        CommandResult out;
        out.set_id(command.customer_id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  // A racing add with the same email took the claim between our check and our commit.
  if (absl::IsAlreadyExists(result.status()) && FieldViolationsOf(result.status()).empty()) {
    return EmailTaken("email");
  }
  if (!result.ok()) return result.status();
  return CoveredCustomerView(p, auth::kCustomersWrite, result->id());
}

absl::StatusOr<v1::Customer> App::GetCustomer(const auth::Principal& p,
                                              const v1::GetCustomerRequest& r) const {
  if (p.is_platform()) return absl::PermissionDeniedError("this call needs an operator's token");
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                             CustomerOf(p, r.customer_id(), "customer_id"));
  COWORK_RETURN_IF_ERROR(auth::RequireAdminOrSelf(
      p, auth::kCustomersRead, customer.state.home_location_id(), r.customer_id()));
  return CustomerView(p.operator_id, r.customer_id());
}

absl::StatusOr<v1::ListCustomersResponse> App::ListCustomers(
    const auth::Principal& p, const v1::ListCustomersRequest& r) const {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersRead));
  FieldErrors errors;
  absl::StatusOr<int> page_size = PageSize(r.page_size());
  if (!page_size.ok()) errors.Merge(page_size.status());
  if (!r.location_id().empty()) domain::CheckId(r.location_id(), "location_id", errors);
  if (r.name().size() > 4 * domain::kMaxNameLength) {
    errors.Add("name", "must have at most 400 bytes");
  }
  if (r.email().size() > domain::kMaxEmailLength) {
    errors.Add("email", "must have at most 254 characters");
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (!r.location_id().empty()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersRead, r.location_id()));
  }
  const std::string name = Fold(domain::TrimSpaces(r.name()));
  const std::string email = domain::NormalizeEmail(r.email());
  const auto matches = [&](const v1::Customer& c) {
    if (!p.CoversLocation(c.home_location_id())) return false;
    if (!r.location_id().empty() && c.home_location_id() != r.location_id()) return false;
    if (r.kind() != v1::CUSTOMER_KIND_UNSPECIFIED && c.kind() != r.kind()) return false;
    if (r.status() != v1::CUSTOMER_STATUS_UNSPECIFIED && c.status() != r.status()) return false;
    if (r.type() != v1::CUSTOMER_TYPE_UNSPECIFIED && c.type() != r.type()) return false;
    if (!email.empty() && c.email() != email) return false;
    if (!name.empty() && !absl::StrContains(Fold(c.first_name()), name) &&
        !absl::StrContains(Fold(c.last_name()), name) &&
        !absl::StrContains(Fold(c.company_name()), name)) {
      return false;
    }
    return true;
  };

  v1::ListCustomersResponse out;
  if (!email.empty()) {
    // The email index is the claim: at most one customer.
    COWORK_ASSIGN_OR_RETURN(std::optional<std::string> owner,
                               store_.ClaimOwner(projection::EmailClaim(p.operator_id, email)));
    if (owner.has_value()) {
      COWORK_ASSIGN_OR_RETURN(
          std::optional<v1::Customer> c,
          ReadView<v1::Customer>(store_, projection::CustomerKey(p.operator_id, *owner)));
      if (c.has_value() && matches(*c)) *out.add_customers() = *std::move(c);
    }
    return out;
  }
  const bool by_location = !r.location_id().empty();
  const std::string prefix = by_location
                                 ? projection::CustomersAtPrefix(p.operator_id, r.location_id())
                                 : projection::CustomerPrefix(p.operator_id);
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Customer> page,
      Paginate<v1::Customer>(
          store_, prefix, r.page_token(), *page_size, options_.max_scan,
          [&](absl::string_view key,
              absl::string_view value) -> absl::StatusOr<std::optional<v1::Customer>> {
            std::optional<v1::Customer> c;
            if (by_location) {
              const absl::string_view id = key.substr(prefix.size());
              COWORK_ASSIGN_OR_RETURN(
                  c, ReadView<v1::Customer>(store_, projection::CustomerKey(p.operator_id, id)));
            } else {
              COWORK_ASSIGN_OR_RETURN(c, eventstore::ParseView<v1::Customer>(key, value));
            }
            if (!c.has_value() || !matches(*c)) return std::optional<v1::Customer>();
            return c;
          }));
  eventstore::MovePage(std::move(page), *out.mutable_customers(), out);
  return out;
}

absl::StatusOr<v1::Customer> App::UpdateCustomer(const auth::Principal& p,
                                                 const v1::UpdateCustomerRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersWrite));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  const v1::Customer& c = r.customer();
  domain::UpdateCustomer command;
  command.paths = Paths(r.update_mask());
  command.first_name = c.first_name();
  command.last_name = c.last_name();
  command.email = c.email();
  command.phone = c.phone();
  command.company_name = c.company_name();
  command.primary_contact_name = c.primary_contact_name();
  command.primary_contact_email = c.primary_contact_email();
  command.home_location_id = c.home_location_id();
  const bool moves = command.paths.empty()
                         ? !c.home_location_id().empty()
                         : std::find(command.paths.begin(), command.paths.end(),
                                     "home_location_id") != command.paths.end();
  if (moves && domain::IsValidId(c.home_location_id())) {
    // Moving a customer needs the new location covered too.
    COWORK_RETURN_IF_ERROR(
        auth::RequireAdmin(p, auth::kCustomersWrite, c.home_location_id()));
  }
  bool email_claimed = false;
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "UpdateCustomer", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                                   CustomerOf(p, c.customer_id(), "customer.customer_id"));
        COWORK_RETURN_IF_ERROR(
            auth::RequireAdmin(p, auth::kCustomersWrite, customer.state.home_location_id()));
        COWORK_ASSIGN_OR_RETURN(command.home_location_exists,
                                   LocationExists(p.operator_id, c.home_location_id()));
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(customer.state, command, context.now));
        const std::string new_email = events.empty() ? "" : events.front().personal().email();
        email_claimed = !new_email.empty() && new_email != customer.state.personal().email();
        if (email_claimed) {
          COWORK_ASSIGN_OR_RETURN(
              std::optional<std::string> owner,
              store_.ClaimOwner(projection::EmailClaim(p.operator_id, new_email)));
          if (owner.has_value() && *owner != c.customer_id()) return EmailTaken("customer.email");
        }
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, customer, std::move(events), writes).status());
        CommandResult out;
        out.set_id(c.customer_id());
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (email_claimed && absl::IsAlreadyExists(result.status()) &&
      FieldViolationsOf(result.status()).empty()) {
    return EmailTaken("customer.email");
  }
  if (!result.ok()) return result.status();
  return CoveredCustomerView(p, auth::kCustomersWrite, result->id());
}

absl::StatusOr<v1::Customer> App::ChangeCustomerType(const auth::Principal& p,
                                                     const v1::ChangeCustomerTypeRequest& r) {
  return CustomerCommand(p, "ChangeCustomerType", r, r.customer_id(),
                         auth::kCustomersWrite,
                         domain::ChangeCustomerType{r.type(), r.company_name()});
}

absl::StatusOr<v1::Customer> App::SuspendCustomer(const auth::Principal& p,
                                                  const v1::SuspendCustomerRequest& r) {
  return CustomerCommand(p, "SuspendCustomer", r, r.customer_id(),
                         auth::kCustomersWrite, domain::SuspendCustomer{});
}

absl::StatusOr<v1::Customer> App::ReactivateCustomer(const auth::Principal& p,
                                                     const v1::ReactivateCustomerRequest& r) {
  return CustomerCommand(p, "ReactivateCustomer", r, r.customer_id(),
                         auth::kCustomersWrite, domain::ReactivateCustomer{});
}

absl::StatusOr<v1::Customer> App::CreateUserAccount(const auth::Principal& p,
                                                    const v1::CreateUserAccountRequest& r) {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersWrite));
  domain::CreateUserAccount command{.setup_code = crypto::NewCode(options_.setup_code_length),
                                    .send_welcome_message = r.send_welcome_message()};
  COWORK_ASSIGN_OR_RETURN(command.setup_code_hash, gate_.Hash(command.setup_code));
  return CustomerCommand(p, "CreateUserAccount", r, r.customer_id(), auth::kCustomersWrite,
                         command);
}

absl::StatusOr<v1::Customer> App::EraseCustomer(const auth::Principal& p,
                                                const v1::EraseCustomerRequest& r) {
  return CustomerCommand(p, "EraseCustomer", r, r.customer_id(),
                         auth::kCustomersErase, domain::EraseCustomer{});
}

absl::StatusOr<v1::ImportCustomersResponse> App::ImportCustomers(
    const auth::Principal& p, const v1::ImportCustomersRequest& r) {
  COWORK_RETURN_IF_ERROR(RequireAdminFor(p, auth::kCustomersWrite, r.location_id()));
  FieldErrors errors;
  domain::CheckRequestId(r.request_id(), errors);
  domain::CheckId(r.location_id(), "location_id", errors);
  if (errors.empty()) {
    COWORK_ASSIGN_OR_RETURN(const bool exists, LocationExists(p.operator_id, r.location_id()));
    if (!exists) errors.Add("location_id", "no such location");
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  COWORK_ASSIGN_OR_RETURN(const std::vector<domain::CsvCustomerRow> rows,
                             domain::ParseCustomersCsv(r.csv(), options_.csv_limits));

  const auto attempt = [&]() -> absl::StatusOr<Decided<v1::ImportCustomersResponse>> {
    WriteSet writes;
    v1::ImportCustomersResponse out;
    std::map<std::string, std::string> imported;  // email -> customer id, within this file
    eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
    for (const domain::CsvCustomerRow& row : rows) {
      v1::ImportCustomersResponse::Row* result = out.add_rows();
      result->set_row(row.row);
      if (!row.errors.empty()) {
        result->set_outcome(v1::ImportCustomersResponse::Row::REJECTED);
        for (const std::string& e : row.errors) result->add_errors(e);
        out.set_rejected(out.rejected() + 1);
        continue;
      }
      const std::string email = domain::NormalizeEmail(row.email);
      std::string existing;
      if (auto it = imported.find(email); it != imported.end()) {
        existing = it->second;
      } else {
        COWORK_ASSIGN_OR_RETURN(std::optional<std::string> owner,
                                   store_.ClaimOwner(projection::EmailClaim(p.operator_id, email)));
        existing = owner.value_or("");
      }
      if (!existing.empty()) {
        // Importing the same file again creates no duplicates.
        result->set_outcome(v1::ImportCustomersResponse::Row::ALREADY_IMPORTED);
        result->set_customer_id(existing);
        out.set_already_imported(out.already_imported() + 1);
        continue;
      }
      domain::AddCustomer command;
      command.customer_id = crypto::NewId("c-");
      command.operator_id = p.operator_id;
      command.home_location_id = r.location_id();
      command.home_location_exists = true;
      command.type = row.type;
      command.source = v1::IMPORT;
      command.first_name = row.first_name;
      command.last_name = row.last_name;
      command.email = row.email;
      command.phone = row.phone;
      command.company_name = row.company_name;
      absl::StatusOr<domain::Events> events =
          domain::Decide(domain::CustomerState{}, command, context.now);
      if (!events.ok()) {
        result->set_outcome(v1::ImportCustomersResponse::Row::REJECTED);
        for (const FieldViolation& v : FieldViolationsOf(events.status())) {
          result->add_errors(absl::StrCat(v.field, ": ", v.description));
        }
        if (result->errors().empty()) result->add_errors(std::string(events.status().message()));
        out.set_rejected(out.rejected() + 1);
        continue;
      }
      COWORK_RETURN_IF_ERROR(projection_
                                    .StageCustomer(context, {}, *std::move(events), writes)
                                    .status());
      imported[email] = command.customer_id;
      result->set_outcome(v1::ImportCustomersResponse::Row::IMPORTED);
      result->set_customer_id(command.customer_id);
      out.set_imported(out.imported() + 1);
    }
    return Decided<v1::ImportCustomersResponse>{std::move(writes), std::move(out)};
  };
  // A concurrent add may take one of the file's emails between our check and our commit: the
  // next attempt sees it and reports that row as already imported.
  absl::StatusOr<v1::ImportCustomersResponse> response;
  for (int i = 0; i < 4; ++i) {
    response = eventstore::Execute<v1::ImportCustomersResponse>(
        store_, runtime::RequestOf(p, "ImportCustomers", r), attempt,
        [&](const v1::ImportCustomersResponse&) {
          return auth::RequireAdmin(p, auth::kCustomersWrite, r.location_id());
        });
    if (!absl::IsAlreadyExists(response.status())) break;
  }
  return response;
}

// ---------------------------------------------------------------- accounts

absl::StatusOr<v1::Session> App::Register(const v1::RegisterRequest& r) {
  FieldErrors errors;
  domain::CheckRequestId(r.request_id(), errors);
  domain::CheckId(r.operator_id(), "operator_id", errors);
  domain::AddCustomer command;
  command.customer_id = crypto::NewId("c-");
  command.operator_id = r.operator_id();
  command.home_location_id = r.location_id();
  command.type = v1::INDIVIDUAL;
  command.source = v1::PORTAL;
  command.first_name = r.first_name();
  command.last_name = r.last_name();
  command.email = r.email();
  command.phone = r.phone();
  if (errors.empty()) {
    COWORK_ASSIGN_OR_RETURN(Loaded<domain::OperatorState> op,
                               projection_.LoadOperator(r.operator_id()));
    if (op.version == 0) errors.Add("operator_id", "no such operator");
    COWORK_ASSIGN_OR_RETURN(command.home_location_exists,
                               LocationExists(r.operator_id(), r.location_id()));
  }
  domain::CheckNewCustomer(command, "location_id", errors);
  domain::CheckPassword(r.password(), r.email(), "password", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());

  const std::string claim =
      projection::EmailClaim(r.operator_id(), domain::NormalizeEmail(r.email()));
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> owner, store_.ClaimOwner(claim));
  // A retry of a registration that succeeded finds its own claim: Execute answers it below.
  if (owner.has_value() && r.request_id().empty()) return EmailTaken("email");
  // argon2id is slow on purpose: hashed before the command, never under a lock.
  COWORK_ASSIGN_OR_RETURN(command.password_hash, gate_.Hash(r.password()));
  command.session_id = crypto::NewId("s-");
  const std::string email = domain::NormalizeEmail(r.email());
  // A registration is its caller's by the address it is for; the password stays out of the
  // request record (a retry proves it again below).
  v1::RegisterRequest asked = r;
  asked.clear_password();
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_,
      eventstore::RequestOf(r.operator_id(), absl::StrCat("register:", email), "Register", asked),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(std::optional<std::string> taken, store_.ClaimOwner(claim));
        if (taken.has_value()) return EmailTaken("email");
        eventstore::EnvelopeContext context = Context(r.operator_id(), r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(domain::CustomerState{}, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, {}, std::move(events), writes).status());
        CommandResult out;
        out.set_id(command.customer_id);
        out.set_session_id(command.session_id);
        out.set_session_generation(0);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      [&](const CommandResult& answer) -> absl::Status {
        // A replayed answer opens a session: only for the password it was registered with.
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> registered,
                                projection_.LoadCustomer(answer.id()));
        const std::string& hash = registered.state.credentials().password_hash();
        if (hash.empty()) {
          return InvalidField("request_id", "was already used for a different request");
        }
        COWORK_ASSIGN_OR_RETURN(const bool right, gate_.Verify(hash, r.password()));
        if (!right) return InvalidField("request_id", "was already used for a different request");
        return absl::OkStatus();
      });
  if (absl::IsAlreadyExists(result.status()) && FieldViolationsOf(result.status()).empty()) {
    return EmailTaken("email");
  }
  if (!result.ok()) return result.status();
  return SessionFor(r.operator_id(), *result);
}

absl::StatusOr<v1::Session> App::SignIn(const v1::SignInRequest& r, absl::string_view client) {
  const absl::Status refused = absl::UnauthenticatedError(domain::kSignInRefused);
  // The account is its address at the operator, whether or not it exists: the throttle, like
  // every answer here, is the same for an unknown address.
  COWORK_ASSIGN_OR_RETURN(auth::FailureThrottle::Attempt from_client, clients_.Begin(client));
  COWORK_ASSIGN_OR_RETURN(auth::FailureThrottle::Attempt for_account,
                          accounts_.Begin(AccountKey(r.operator_id(), r.email())));
  std::optional<Loaded<domain::CustomerState>> customer;
  if (domain::IsValidId(r.operator_id()) && r.email().size() <= domain::kMaxEmailLength &&
      r.password().size() <= kMaxSecretBytes) {
    COWORK_ASSIGN_OR_RETURN(customer, FindAccount(r.operator_id(), r.email()));
  }
  const std::string hash = customer.has_value() && domain::CheckCanSignIn(customer->state).ok()
                               ? customer->state.credentials().password_hash()
                               : std::string();
  // Unknown email, no account, no password yet, suspended: as slow as a wrong password.
  COWORK_ASSIGN_OR_RETURN(
      const bool right,
      gate_.Verify(hash.empty() ? DummyHash() : hash, r.password().substr(0, kMaxSecretBytes)));
  if (hash.empty() || !right) {
    from_client.Failed();
    for_account.Failed();
    return refused;
  }
  for_account.Succeeded();

  const std::string customer_id = customer->state.customer_id();
  const std::string session_id = crypto::NewId("s-");
  absl::StatusOr<CommandResult> result = eventstore::ExecuteUnrecorded<CommandResult>(
      store_, "SignIn",
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> now,
                                   projection_.LoadCustomer(customer_id));
        // The password changed (or the account went) since it was verified.
        if (now.state.credentials().password_hash() != hash) return refused;
        eventstore::EnvelopeContext context = Context(r.operator_id(), "");
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(now.state, domain::SignIn{session_id}, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, now, std::move(events), writes).status());
        CommandResult out;
        out.set_id(customer_id);
        out.set_session_id(session_id);
        out.set_session_generation(now.state.session_generation());
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      });
  if (!result.ok()) return result.status();
  return SessionFor(r.operator_id(), *result);
}

absl::StatusOr<v1::Session> App::ChangePassword(const std::optional<auth::Principal>& caller,
                                                const v1::ChangePasswordRequest& r,
                                                absl::string_view client) {
  std::string operator_id;
  std::optional<Loaded<domain::CustomerState>> customer;
  if (caller.has_value()) {
    if (!caller->is_customer()) {
      return absl::PermissionDeniedError("only the customer can change their password");
    }
    operator_id = caller->operator_id;
    COWORK_ASSIGN_OR_RETURN(customer, CustomerOf(*caller, caller->subject, "customer_id"));
  } else {
    if (r.setup_code().empty()) {
      return absl::UnauthenticatedError(
          "a bearer token, or operator_id, email and setup_code, is required");
    }
    operator_id = r.operator_id();
  }
  FieldErrors errors;
  domain::CheckRequestId(r.request_id(), errors);
  domain::CheckPassword(r.new_password(),
                        customer.has_value() ? customer->state.personal().email() : r.email(),
                        "new_password", errors);
  if (caller.has_value() && r.current_password().empty() && r.setup_code().empty()) {
    errors.Add("current_password", "is required");
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());

  if (!caller.has_value()) {
    // A setup code proves the caller: throttled like a sign-in, and answered alike whether
    // the address is known, the code wrong or expired.
    COWORK_ASSIGN_OR_RETURN(auth::FailureThrottle::Attempt from_client, clients_.Begin(client));
    COWORK_ASSIGN_OR_RETURN(auth::FailureThrottle::Attempt for_account,
                            accounts_.Begin(AccountKey(r.operator_id(), r.email())));
    if (domain::IsValidId(r.operator_id()) && r.email().size() <= domain::kMaxEmailLength &&
        r.setup_code().size() <= kMaxSecretBytes) {
      COWORK_ASSIGN_OR_RETURN(customer, FindAccount(r.operator_id(), r.email()));
    }
    const bool usable =
        customer.has_value() && domain::CheckSetupCodeUsable(customer->state, clock_.Now()).ok();
    COWORK_ASSIGN_OR_RETURN(
        const bool right,
        gate_.Verify(usable ? customer->state.credentials().setup_code_hash() : DummyHash(),
                     r.setup_code().substr(0, kMaxSecretBytes)));
    if (!usable || !right) {
      from_client.Failed();
      for_account.Failed();
      return absl::UnauthenticatedError(domain::kSetupCodeRefused);
    }
    for_account.Succeeded();
  } else {
    COWORK_ASSIGN_OR_RETURN(
        auth::FailureThrottle::Attempt for_account,
        accounts_.Begin(AccountKey(operator_id, customer->state.personal().email())));
    const v1::Credentials& credentials = customer->state.credentials();
    bool proved = false;
    if (!r.setup_code().empty() &&
        domain::CheckSetupCodeUsable(customer->state, clock_.Now()).ok() &&
        r.setup_code().size() <= kMaxSecretBytes) {
      COWORK_ASSIGN_OR_RETURN(proved,
                              gate_.Verify(credentials.setup_code_hash(), r.setup_code()));
    }
    if (!proved && !credentials.password_hash().empty() &&
        r.current_password().size() <= kMaxSecretBytes) {
      COWORK_ASSIGN_OR_RETURN(proved,
                              gate_.Verify(credentials.password_hash(), r.current_password()));
    }
    if (!proved) {
      for_account.Failed();
      return InvalidField("current_password", "does not match the current password");
    }
    for_account.Succeeded();
  }

  const std::string customer_id = customer->state.customer_id();
  const v1::Credentials verified = customer->state.credentials();
  COWORK_ASSIGN_OR_RETURN(const std::string new_hash, gate_.Hash(r.new_password()));
  const std::string session_id = crypto::NewId("s-");
  // The customer's own request; passwords and codes stay out of its record.
  v1::ChangePasswordRequest asked = r;
  asked.clear_current_password();
  asked.clear_new_password();
  asked.clear_setup_code();
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_,
      eventstore::RequestOf(operator_id, absl::StrCat("customer:", customer_id),
                            "ChangePassword", asked),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> now,
                                   projection_.LoadCustomer(customer_id));
        if (now.state.credentials().password_hash() != verified.password_hash() ||
            now.state.credentials().setup_code_hash() != verified.setup_code_hash()) {
          return absl::FailedPreconditionError(
              "the credentials changed meanwhile: sign in again and retry");
        }
        eventstore::EnvelopeContext context = Context(operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(now.state, domain::ChangePassword{new_hash, session_id}, context.now));
        WriteSet writes;
        COWORK_ASSIGN_OR_RETURN(
            domain::CustomerState after,
            projection_.StageCustomer(context, now, std::move(events), writes));
        CommandResult out;
        out.set_id(customer_id);
        out.set_session_id(session_id);
        out.set_session_generation(after.session_generation());
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      // The caller proved who they are above; the answer is their new session.
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return SessionFor(operator_id, *result);
}

absl::StatusOr<v1::SignOutResponse> App::SignOut(const auth::Principal& p,
                                                 const v1::SignOutRequest& r) {
  if (!p.is_customer()) return absl::PermissionDeniedError("only a customer session can sign out");
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  return eventstore::Execute<v1::SignOutResponse>(
      store_, runtime::RequestOf(p, "SignOut", r),
      [&]() -> absl::StatusOr<Decided<v1::SignOutResponse>> {
        COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                                   CustomerOf(p, p.subject, "customer_id"));
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(
            domain::Events events,
            domain::Decide(customer.state, domain::SignOut{p.session_id}, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, customer, std::move(events), writes).status());
        return Decided<v1::SignOutResponse>{std::move(writes), v1::SignOutResponse()};
      },
      eventstore::NoReauthorization<v1::SignOutResponse>);
}

// ---------------------------------------------------------------- teams

absl::StatusOr<v1::Team> App::CreateTeam(const auth::Principal& p,
                                         const v1::CreateTeamRequest& r) {
  COWORK_RETURN_IF_ERROR(RequireAdminFor(p, auth::kCustomersWrite, r.location_id()));
  COWORK_RETURN_IF_ERROR(CheckRequest(r.request_id()));
  domain::CreateTeam command;
  command.team_id = crypto::NewId("t-");
  command.operator_id = p.operator_id;
  command.location_id = r.location_id();
  command.name = r.name();
  command.member_ids.assign(r.member_ids().begin(), r.member_ids().end());
  command.share_booking_credit = r.share_booking_credit();
  command.share_printing_credit = r.share_printing_credit();
  command.share_access = r.share_access();
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "CreateTeam", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(command.location_exists,
                                   LocationExists(p.operator_id, r.location_id()));
        command.members.clear();
        if (command.member_ids.size() <= static_cast<size_t>(domain::kMaxTeamMembers)) {
          for (const std::string& id : command.member_ids) {
            COWORK_ASSIGN_OR_RETURN(command.members[id], CheckCustomer(p.operator_id, id));
          }
        }
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(domain::TeamState{}, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageTeam(context, {}, std::move(events), writes).status());
        CommandResult out;
        out.set_id(command.team_id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (!result.ok()) return result.status();
  return CoveredTeamView(p, result->id());
}

absl::StatusOr<v1::Team> App::GetTeam(const auth::Principal& p,
                                      const v1::GetTeamRequest& r) const {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersRead));
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::TeamState> team, TeamOf(p, r.team_id()));
  COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersRead, team.state.location_id()));
  return TeamView(p.operator_id, r.team_id());
}

absl::StatusOr<v1::ListTeamsResponse> App::ListTeams(const auth::Principal& p,
                                                     const v1::ListTeamsRequest& r) const {
  COWORK_RETURN_IF_ERROR(auth::RequirePermission(p, auth::kCustomersRead));
  FieldErrors errors;
  absl::StatusOr<int> page_size = PageSize(r.page_size());
  if (!page_size.ok()) errors.Merge(page_size.status());
  if (!r.location_id().empty()) domain::CheckId(r.location_id(), "location_id", errors);
  if (!r.member_id().empty()) domain::CheckId(r.member_id(), "member_id", errors);
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  if (!r.location_id().empty()) {
    COWORK_RETURN_IF_ERROR(auth::RequireAdmin(p, auth::kCustomersRead, r.location_id()));
  }
  // An index names the teams: by member, by location, or all of the operator's.
  std::string prefix;
  bool indexed = true;
  if (!r.member_id().empty()) {
    prefix = projection::TeamsOfPrefix(p.operator_id, r.member_id());
  } else if (!r.location_id().empty()) {
    prefix = projection::TeamsAtPrefix(p.operator_id, r.location_id());
  } else {
    prefix = projection::TeamPrefix(p.operator_id);
    indexed = false;
  }
  COWORK_ASSIGN_OR_RETURN(
      PageOf<v1::Team> page,
      Paginate<v1::Team>(
          store_, prefix, r.page_token(), *page_size, options_.max_scan,
          [&](absl::string_view key,
              absl::string_view value) -> absl::StatusOr<std::optional<v1::Team>> {
            std::optional<v1::Team> t;
            if (indexed) {
              COWORK_ASSIGN_OR_RETURN(
                  t, ReadView<v1::Team>(store_, projection::TeamKey(p.operator_id,
                                                                     key.substr(prefix.size()))));
            } else {
              COWORK_ASSIGN_OR_RETURN(t, eventstore::ParseView<v1::Team>(key, value));
            }
            if (!t.has_value() || !p.CoversLocation(t->location_id()) ||
                (!r.location_id().empty() && t->location_id() != r.location_id())) {
              return std::optional<v1::Team>();
            }
            return t;
          }));
  v1::ListTeamsResponse out;
  eventstore::MovePage(std::move(page), *out.mutable_teams(), out);
  return out;
}

absl::StatusOr<v1::Team> App::AddTeamMember(const auth::Principal& p,
                                            const v1::AddTeamMemberRequest& r) {
  return TeamCommand(p, "AddTeamMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::AddTeamMember> {
                       if (r.customer_id().empty()) {
                         return InvalidField("customer_id", "is required");
                       }
                       COWORK_ASSIGN_OR_RETURN(domain::CustomerCheck check,
                                                  CheckCustomer(p.operator_id, r.customer_id()));
                       return domain::AddTeamMember{r.customer_id(), check};
                     });
}

absl::StatusOr<v1::Team> App::RemoveTeamMember(const auth::Principal& p,
                                               const v1::RemoveTeamMemberRequest& r) {
  return TeamCommand(p, "RemoveTeamMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::RemoveTeamMember> {
                       if (r.customer_id().empty()) {
                         return InvalidField("customer_id", "is required");
                       }
                       return domain::RemoveTeamMember{r.customer_id()};
                     });
}

absl::StatusOr<v1::Team> App::SetPayingMember(const auth::Principal& p,
                                              const v1::SetPayingMemberRequest& r) {
  return TeamCommand(p, "SetPayingMember", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::SetPayingMember> {
                       return domain::SetPayingMember{r.customer_id()};
                     });
}

absl::StatusOr<v1::Team> App::UpdateTeamSharing(const auth::Principal& p,
                                                const v1::UpdateTeamSharingRequest& r) {
  return TeamCommand(p, "UpdateTeamSharing", r, r.team_id(),
                     [&]() -> absl::StatusOr<domain::UpdateTeamSharing> {
                       return domain::UpdateTeamSharing{r.share_booking_credit(),
                                                        r.share_printing_credit(),
                                                        r.share_access()};
                     });
}

// ---------------------------------------------------------------- contracts consumer

absl::Status App::OnContract(const common::v1::EventEnvelope& envelope,
                             absl::string_view customer_id, absl::string_view contract_id,
                             bool started, WriteSet& writes) {
  const auto skip = [&](absl::string_view why) {
    server::LogJson("warning", "contract event skipped",
                    {{"reason", std::string(why)},
                     {"customer_id", std::string(customer_id.substr(0, 64))},
                     {"contract_id", std::string(contract_id.substr(0, 64))},
                     {"event_id", envelope.event_id()}});
    return absl::OkStatus();
  };
  if (!domain::IsValidId(customer_id) || contract_id.empty()) return skip("malformed event");
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                             projection_.LoadCustomer(customer_id));
  if (customer.version == 0 || customer.state.operator_id() != envelope.operator_id()) {
    return skip("unknown customer");
  }
  eventstore::EnvelopeContext context = Context(envelope.operator_id(), "");
  context.correlation_id =
      envelope.correlation_id().empty() ? envelope.event_id() : envelope.correlation_id();
  context.causation_id = envelope.event_id();
  absl::StatusOr<domain::Events> events =
      started ? domain::Decide(customer.state, domain::StartContract{std::string(contract_id)},
                               context.now)
              : domain::Decide(customer.state, domain::EndContract{std::string(contract_id)},
                               context.now);
  if (!events.ok()) return skip(events.status().message());
  return projection_.StageCustomer(context, customer, *std::move(events), writes).status();
}

absl::Status App::OnContractStarted(const common::v1::EventEnvelope& envelope,
                                    const contracts::v1::ContractStarted& event,
                                    WriteSet& writes) {
  return OnContract(envelope, event.customer_id(), event.contract_id(), true, writes);
}

absl::Status App::OnContractEnded(const common::v1::EventEnvelope& envelope,
                                  const contracts::v1::ContractEnded& event, WriteSet& writes) {
  return OnContract(envelope, event.customer_id(), event.contract_id(), false, writes);
}

}  // namespace cowork::customers::api
