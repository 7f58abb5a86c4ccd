#include "services/customers/app/app.h"

#include <unicode/unistr.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/validation.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"
#include "services/customers/app/internal.h"

namespace cowork::customers::app {

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

absl::Status RequireEmailFree(const eventstore::Store& store, absl::string_view operator_id,
                              absl::string_view normalized_email, absl::string_view field) {
  COWORK_ASSIGN_OR_RETURN(
      std::optional<std::string> owner,
      store.ClaimOwner(projection::EmailClaim(operator_id, normalized_email)));
  if (owner.has_value()) return EmailTaken(field);
  return absl::OkStatus();
}

absl::Status EmailRaceAsTaken(absl::Status status, absl::string_view field) {
  if (absl::IsAlreadyExists(status) && FieldViolationsOf(status).empty()) {
    return EmailTaken(field);
  }
  return status;
}

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

}  // namespace cowork::customers::app
