// The AccountsService half of the App: registration, sign-in, passwords, sessions.

#include "services/customers/app/app.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/crypto/crypto.h"
#include "libs/eventstore/views.h"
#include "libs/runtime/requests.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/directory.h"
#include "services/customers/domain/validation.h"
#include "services/customers/projection/keys.h"
#include "services/customers/projection/views.h"
#include "services/customers/app/internal.h"

namespace cowork::customers::app {

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

  const std::string email = domain::NormalizeEmail(r.email());
  // Before the slow hash (a retry of a registration that succeeded finds its own claim:
  // Execute answers it below).
  if (r.request_id().empty()) {
    COWORK_RETURN_IF_ERROR(RequireEmailFree(store_, r.operator_id(), email, "email"));
  }
  // argon2id is slow on purpose: hashed before the command, never under a lock.
  COWORK_ASSIGN_OR_RETURN(command.password_hash, gate_.Hash(r.password()));
  command.session_id = crypto::NewId("s-");
  // A registration is its caller's by the address it is for; the password stays out of the
  // request record (a retry proves it again below).
  v1::RegisterRequest asked = r;
  asked.clear_password();
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_,
      eventstore::RequestOf(r.operator_id(), absl::StrCat("register:", email), "Register", asked),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
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
  COWORK_RETURN_IF_ERROR(EmailRaceAsTaken(result.status(), "email"));
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

}  // namespace cowork::customers::app
