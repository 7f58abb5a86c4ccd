// The CustomersService half of the App: customers, their accounts, import and erasure.

#include "services/customers/app/app.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
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
    COWORK_ASSIGN_OR_RETURN(command.welcome_setup_code_hash,
                            gate_.Hash(command.welcome_setup_code));
  }
  absl::StatusOr<CommandResult> result = eventstore::Execute<CommandResult>(
      store_, runtime::RequestOf(p, "AddCustomer", r),
      [&]() -> absl::StatusOr<Decided<CommandResult>> {
        COWORK_ASSIGN_OR_RETURN(command.home_location_exists,
                                   LocationExists(p.operator_id, r.home_location_id()));
        eventstore::EnvelopeContext context = Context(p.operator_id, r.request_id());
        COWORK_ASSIGN_OR_RETURN(domain::Events events,
                                   domain::Decide(domain::CustomerState{}, command, context.now));
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, {}, std::move(events), writes).status());
        CommandResult out;
        out.set_id(command.customer_id);
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  // The address is another customer's: the commit lost its claim.
  COWORK_RETURN_IF_ERROR(EmailRaceAsTaken(result.status(), "email"));
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
        WriteSet writes;
        COWORK_RETURN_IF_ERROR(
            projection_.StageCustomer(context, customer, std::move(events), writes).status());
        CommandResult out;
        out.set_id(c.customer_id());
        return Decided<CommandResult>{std::move(writes), std::move(out)};
      },
      kViewsAuthorizeTheAnswer);
  if (email_claimed) COWORK_RETURN_IF_ERROR(EmailRaceAsTaken(result.status(), "customer.email"));
  if (!result.ok()) return result.status();
  return CoveredCustomerView(p, auth::kCustomersWrite, result->id());
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

}  // namespace cowork::customers::app
