#include "services/customers/domain/customer.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::domain {
namespace {

constexpr int kMaxCompanyNameLength = 100;
constexpr absl::string_view kCompanyRequired = "is required for company customers";
constexpr absl::string_view kCompanyOnly = "only company customers have a company name";
constexpr absl::string_view kPrimaryContactOnly = "only company customers have a primary contact";

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list, absl::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

absl::Status MustExist(const CustomerState& state) {
  if (state.customer_id().empty()) return absl::NotFoundError("customer not found");
  return absl::OkStatus();
}

// Exists and still holds personal data: what most commands need.
absl::Status MustBeLive(const CustomerState& state) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (state.erased()) {
    return absl::FailedPreconditionError("the customer was erased: nothing can change any more");
  }
  return absl::OkStatus();
}

void CheckLocation(absl::string_view location_id, bool exists, absl::string_view field,
                   FieldErrors& errors) {
  if (location_id.empty()) {
    errors.Add(std::string(field), "is required");
  } else if (!IsValidId(location_id)) {
    CheckId(location_id, field, errors);
  } else if (!exists) {
    errors.Add(std::string(field), "no such location");
  }
}

Event CustomerEvent(const google::protobuf::Message& payload, const CustomerState& state,
                    absl::Time now) {
  return MakeEvent(payload, state.operator_id(), now);
}

// A fresh setup code: its hash, usable for kSetupCodeLifetime from `now`.
void SetSetupCode(absl::string_view hash, absl::Time now, v1::Credentials& credentials) {
  credentials.set_setup_code_hash(std::string(hash));
  *credentials.mutable_setup_code_expire_time() = ToTimestamp(now + kSetupCodeLifetime);
}

}  // namespace

void CheckCustomerFields(v1::CustomerType type, absl::string_view first_name,
                         absl::string_view last_name, absl::string_view email,
                         absl::string_view phone, absl::string_view company_name,
                         FieldErrors& errors) {
  if (type != v1::INDIVIDUAL && type != v1::COMPANY) {
    errors.Add("type", "choose individual or company");
  }
  CheckFirstName(first_name, "first_name", errors);
  CheckLastName(last_name, "last_name", errors);
  CheckEmail(email, "email", errors);
  CheckPhone(phone, "phone", errors);
  if (type == v1::COMPANY) {
    if (TrimSpaces(company_name).empty()) {
      errors.Add("company_name", std::string(kCompanyRequired));
    } else {
      CheckLabel(company_name, "company_name", kMaxCompanyNameLength, errors);
    }
  } else if (!TrimSpaces(company_name).empty()) {
    errors.Add("company_name", std::string(kCompanyOnly));
  }
}

void CheckNewCustomer(const AddCustomer& c, absl::string_view location_field,
                      FieldErrors& errors) {
  CheckLocation(c.home_location_id, c.home_location_exists, location_field, errors);
  CheckCustomerFields(c.type, c.first_name, c.last_name, c.email, c.phone, c.company_name,
                      errors);
}

absl::StatusOr<Events> Decide(const CustomerState& state, const AddCustomer& c, absl::Time now) {
  if (!state.customer_id().empty()) {
    return absl::AlreadyExistsError(absl::StrCat("customer ", c.customer_id, " already exists"));
  }
  if (c.customer_id.empty() || c.operator_id.empty()) {
    return absl::InvalidArgumentError("a new customer needs its id and operator");
  }
  FieldErrors errors;
  CheckNewCustomer(c, "home_location_id", errors);
  if (!errors.empty()) return errors.ToStatus();

  Event added_event;
  {
    v1::CustomerAdded added;
    added.set_customer_id(c.customer_id);
    added.set_type(c.type);
    added.set_home_location_id(c.home_location_id);
    added.set_source(c.source);
    added_event = MakeEvent(added, c.operator_id, now);
  }
  v1::PersonalData& personal = *added_event.mutable_personal();
  personal.set_first_name(std::string(TrimSpaces(c.first_name)));
  personal.set_last_name(std::string(TrimSpaces(c.last_name)));
  personal.set_email(NormalizeEmail(c.email));
  personal.set_phone(std::string(TrimSpaces(c.phone)));
  if (c.type == v1::COMPANY) {
    personal.set_company_name(std::string(TrimSpaces(c.company_name)));
    // The primary contact of a company is the person the admin entered.
    personal.set_primary_contact_name(
        absl::StrCat(personal.first_name(), " ", personal.last_name()));
    personal.set_primary_contact_email(personal.email());
  }
  Events events{added_event};

  if (!c.password_hash.empty() || !c.welcome_setup_code.empty()) {
    v1::UserAccountCreated account;
    account.set_customer_id(c.customer_id);
    account.set_session_generation(0);
    Event e = MakeEvent(account, c.operator_id, now);
    e.mutable_credentials()->set_password_hash(c.password_hash);
    if (!c.welcome_setup_code.empty()) {
      SetSetupCode(c.welcome_setup_code_hash, now, *e.mutable_credentials());
    }
    events.push_back(std::move(e));
  }
  if (!c.welcome_setup_code.empty()) {
    v1::WelcomeMessageRequested welcome;
    welcome.set_customer_id(c.customer_id);
    Event e = MakeEvent(welcome, c.operator_id, now);
    e.mutable_welcome()->set_email(personal.email());
    e.mutable_welcome()->set_first_name(personal.first_name());
    e.mutable_welcome()->set_setup_code(c.welcome_setup_code);
    events.push_back(std::move(e));
  }
  if (!c.session_id.empty()) {
    v1::CustomerSignedIn signed_in;
    signed_in.set_customer_id(c.customer_id);
    signed_in.set_session_id(c.session_id);
    events.push_back(MakeEvent(signed_in, c.operator_id, now));
  }
  return events;
}

absl::StatusOr<Events> Decide(const CustomerState& state, const UpdateCustomer& c,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  std::vector<std::string> paths = c.paths;
  if (paths.empty()) {
    const std::pair<absl::string_view, const std::string*> given[] = {
        {"first_name", &c.first_name},
        {"last_name", &c.last_name},
        {"email", &c.email},
        {"phone", &c.phone},
        {"company_name", &c.company_name},
        {"primary_contact_name", &c.primary_contact_name},
        {"primary_contact_email", &c.primary_contact_email},
        {"home_location_id", &c.home_location_id}};
    for (const auto& [path, value] : given) {
      if (!value->empty()) paths.emplace_back(path);
    }
  }
  FieldErrors errors;
  if (paths.empty()) errors.Add("update_mask", "names no field to update");
  const bool company = state.type() == v1::COMPANY;
  v1::PersonalData personal = state.personal();
  std::string home = state.home_location_id();
  for (const std::string& path : paths) {
    const std::string field = absl::StrCat("customer.", path);
    if (path == "first_name") {
      CheckFirstName(c.first_name, field, errors);
      personal.set_first_name(std::string(TrimSpaces(c.first_name)));
    } else if (path == "last_name") {
      CheckLastName(c.last_name, field, errors);
      personal.set_last_name(std::string(TrimSpaces(c.last_name)));
    } else if (path == "email") {
      CheckEmail(c.email, field, errors);
      personal.set_email(NormalizeEmail(c.email));
    } else if (path == "phone") {
      CheckPhone(c.phone, field, errors);
      personal.set_phone(std::string(TrimSpaces(c.phone)));
    } else if (path == "company_name") {
      if (!company) {
        if (!TrimSpaces(c.company_name).empty()) errors.Add(field, std::string(kCompanyOnly));
      } else if (TrimSpaces(c.company_name).empty()) {
        errors.Add(field, std::string(kCompanyRequired));
      } else {
        CheckLabel(c.company_name, field, kMaxCompanyNameLength, errors);
        personal.set_company_name(std::string(TrimSpaces(c.company_name)));
      }
    } else if (path == "primary_contact_name") {
      if (!company) {
        if (!TrimSpaces(c.primary_contact_name).empty()) {
          errors.Add(field, std::string(kPrimaryContactOnly));
        }
      } else {
        CheckFullName(c.primary_contact_name, field, errors);
        personal.set_primary_contact_name(std::string(TrimSpaces(c.primary_contact_name)));
      }
    } else if (path == "primary_contact_email") {
      if (!company) {
        if (!TrimSpaces(c.primary_contact_email).empty()) {
          errors.Add(field, std::string(kPrimaryContactOnly));
        }
      } else {
        CheckEmail(c.primary_contact_email, field, errors);
        personal.set_primary_contact_email(NormalizeEmail(c.primary_contact_email));
      }
    } else if (path == "home_location_id") {
      CheckLocation(c.home_location_id, c.home_location_exists, field, errors);
      home = c.home_location_id;
    } else {
      errors.Add("update_mask",
                 absl::StrCat("cannot update '", path,
                              "'; updatable: first_name, last_name, email, phone, company_name, "
                              "primary_contact_name, primary_contact_email, home_location_id"));
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  if (home == state.home_location_id() &&
      google::protobuf::util::MessageDifferencer::Equals(personal, state.personal())) {
    return Events{};
  }
  v1::CustomerUpdated updated;
  updated.set_customer_id(state.customer_id());
  updated.set_home_location_id(home);
  Event e = CustomerEvent(updated, state, now);
  *e.mutable_personal() = std::move(personal);
  return Events{std::move(e)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const ChangeCustomerType& c,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  FieldErrors errors;
  if (c.type != v1::INDIVIDUAL && c.type != v1::COMPANY) {
    errors.Add("type", "choose individual or company");
  }
  const absl::string_view company_name = TrimSpaces(c.company_name);
  if (c.type == v1::COMPANY) {
    if (company_name.empty() && state.personal().company_name().empty()) {
      errors.Add("company_name", "is required when changing to a company customer");
    } else if (!company_name.empty()) {
      CheckLabel(company_name, "company_name", kMaxCompanyNameLength, errors);
    }
  } else if (c.type == v1::INDIVIDUAL && !company_name.empty()) {
    errors.Add("company_name", std::string(kCompanyOnly));
  }
  if (!errors.empty()) return errors.ToStatus();

  Events events;
  if (c.type != state.type()) {
    v1::CustomerTypeChanged changed;
    changed.set_customer_id(state.customer_id());
    changed.set_type(c.type);
    events.push_back(CustomerEvent(changed, state, now));
  }
  v1::PersonalData personal = state.personal();
  if (c.type == v1::COMPANY) {
    if (!company_name.empty()) personal.set_company_name(std::string(company_name));
    if (personal.primary_contact_name().empty()) {
      personal.set_primary_contact_name(
          absl::StrCat(personal.first_name(), " ", personal.last_name()));
    }
    if (personal.primary_contact_email().empty()) {
      personal.set_primary_contact_email(personal.email());
    }
  } else {
    // An individual has no company: its company fields go with the type.
    personal.clear_company_name();
    personal.clear_primary_contact_name();
    personal.clear_primary_contact_email();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(personal, state.personal())) {
    v1::CustomerUpdated updated;
    updated.set_customer_id(state.customer_id());
    updated.set_home_location_id(state.home_location_id());
    Event e = CustomerEvent(updated, state, now);
    *e.mutable_personal() = std::move(personal);
    events.push_back(std::move(e));
  }
  return events;
}

absl::StatusOr<Events> Decide(const CustomerState& state, const SuspendCustomer&,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  if (state.suspended()) return Events{};
  v1::CustomerSuspended suspended;
  suspended.set_customer_id(state.customer_id());
  suspended.set_session_generation(state.session_generation() + 1);
  return Events{CustomerEvent(suspended, state, now)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const ReactivateCustomer&,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  if (!state.suspended()) return Events{};
  v1::CustomerReactivated reactivated;
  reactivated.set_customer_id(state.customer_id());
  return Events{CustomerEvent(reactivated, state, now)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const EraseCustomer&, absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (state.erased()) return Events{};
  v1::CustomerErased erased;
  erased.set_customer_id(state.customer_id());
  erased.set_session_generation(state.session_generation() + 1);
  return Events{CustomerEvent(erased, state, now)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const CreateUserAccount& c,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  if (state.has_user_account()) {
    return absl::AlreadyExistsError("the customer already has a user account");
  }
  if (c.setup_code.empty() || c.setup_code_hash.empty()) {
    return absl::InvalidArgumentError("a new account needs a setup code and its hash");
  }
  v1::UserAccountCreated account;
  account.set_customer_id(state.customer_id());
  account.set_session_generation(state.session_generation());
  Event account_event = CustomerEvent(account, state, now);
  SetSetupCode(c.setup_code_hash, now, *account_event.mutable_credentials());
  Events events{std::move(account_event)};
  if (c.send_welcome_message) {
    v1::WelcomeMessageRequested welcome;
    welcome.set_customer_id(state.customer_id());
    Event e = CustomerEvent(welcome, state, now);
    e.mutable_welcome()->set_email(state.personal().email());
    e.mutable_welcome()->set_first_name(state.personal().first_name());
    e.mutable_welcome()->set_setup_code(c.setup_code);
    events.push_back(std::move(e));
  }
  return events;
}

absl::StatusOr<Events> Decide(const CustomerState& state, const ChangePassword& c,
                              absl::Time now) {
  if (absl::Status s = MustBeLive(state); !s.ok()) return s;
  if (!state.has_user_account()) {
    return absl::FailedPreconditionError("the customer has no user account");
  }
  if (state.suspended()) {
    return absl::FailedPreconditionError("the customer is suspended");
  }
  if (c.new_password_hash.empty() || c.session_id.empty()) {
    return absl::InvalidArgumentError("a password change needs the new hash and a session");
  }
  v1::PasswordChanged changed;
  changed.set_customer_id(state.customer_id());
  changed.set_session_generation(state.session_generation() + 1);
  Event e = CustomerEvent(changed, state, now);
  // The setup code is single-use: a password replaces it.
  e.mutable_credentials()->set_password_hash(c.new_password_hash);
  v1::CustomerSignedIn signed_in;
  signed_in.set_customer_id(state.customer_id());
  signed_in.set_session_id(c.session_id);
  return Events{std::move(e), CustomerEvent(signed_in, state, now)};
}

absl::Status CheckCanSignIn(const CustomerState& state) {
  if (state.customer_id().empty() || state.erased() || !state.has_user_account() ||
      state.suspended()) {
    return absl::UnauthenticatedError(kSignInRefused);
  }
  return absl::OkStatus();
}

absl::Status CheckSetupCodeUsable(const CustomerState& state, absl::Time now) {
  const v1::Credentials& c = state.credentials();
  if (state.customer_id().empty() || state.erased() || c.setup_code_hash().empty() ||
      !c.has_setup_code_expire_time() || FromTimestamp(c.setup_code_expire_time()) <= now) {
    return absl::UnauthenticatedError(kSetupCodeRefused);
  }
  return absl::OkStatus();
}

absl::StatusOr<Events> Decide(const CustomerState& state, const SignIn& c, absl::Time now) {
  if (absl::Status s = CheckCanSignIn(state); !s.ok()) return s;
  if (c.session_id.empty()) return absl::InvalidArgumentError("a sign-in needs a session id");
  v1::CustomerSignedIn signed_in;
  signed_in.set_customer_id(state.customer_id());
  signed_in.set_session_id(c.session_id);
  return Events{CustomerEvent(signed_in, state, now)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const SignOut& c, absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (c.session_id.empty()) return absl::InvalidArgumentError("a sign-out needs a session id");
  v1::CustomerSignedOut signed_out;
  signed_out.set_customer_id(state.customer_id());
  signed_out.set_session_id(c.session_id);
  return Events{CustomerEvent(signed_out, state, now)};
}

absl::StatusOr<Events> Decide(const CustomerState& state, const StartContract& c,
                              absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (c.contract_id.empty()) return absl::InvalidArgumentError("contract_id is required");
  if (Contains(state.active_contract_ids(), c.contract_id) ||
      Contains(state.ended_contract_ids(), c.contract_id)) {
    return Events{};  // a repeated or late start: nothing changes
  }
  v1::CustomerContractActivated activated;
  activated.set_customer_id(state.customer_id());
  activated.set_contract_id(c.contract_id);
  Events events{CustomerEvent(activated, state, now)};
  if (!IsMember(state)) {
    v1::CustomerBecameMember member;
    member.set_customer_id(state.customer_id());
    member.set_contract_id(c.contract_id);
    events.push_back(CustomerEvent(member, state, now));
  }
  return events;
}

absl::StatusOr<Events> Decide(const CustomerState& state, const EndContract& c, absl::Time now) {
  if (absl::Status s = MustExist(state); !s.ok()) return s;
  if (c.contract_id.empty()) return absl::InvalidArgumentError("contract_id is required");
  if (Contains(state.ended_contract_ids(), c.contract_id)) return Events{};
  // An end of a contract never seen starting is still recorded, so that a late start of it
  // cannot make the customer a member.
  const bool held = Contains(state.active_contract_ids(), c.contract_id);
  v1::CustomerContractDeactivated deactivated;
  deactivated.set_customer_id(state.customer_id());
  deactivated.set_contract_id(c.contract_id);
  Events events{CustomerEvent(deactivated, state, now)};
  if (held && state.active_contract_ids_size() == 1) {
    v1::CustomerBecameContact contact;
    contact.set_customer_id(state.customer_id());
    contact.set_contract_id(c.contract_id);
    events.push_back(CustomerEvent(contact, state, now));
  }
  return events;
}

CustomerState Apply(CustomerState state, const Event& event) {
  const auto touch = [&] { *state.mutable_update_time() = event.occurred_at(); };
  switch (event.payload_case()) {
    case Event::kCustomerAdded: {
      const v1::CustomerAdded& e = event.customer_added();
      state.set_customer_id(e.customer_id());
      state.set_operator_id(event.operator_id());
      state.set_type(e.type());
      state.set_home_location_id(e.home_location_id());
      state.set_source(e.source());
      *state.mutable_personal() = event.personal();
      *state.mutable_create_time() = event.occurred_at();
      touch();
      break;
    }
    case Event::kCustomerUpdated: {
      const v1::CustomerUpdated& e = event.customer_updated();
      if (!e.home_location_id().empty()) state.set_home_location_id(e.home_location_id());
      *state.mutable_personal() = event.personal();
      touch();
      break;
    }
    case Event::kCustomerTypeChanged:
      state.set_type(event.customer_type_changed().type());
      touch();
      break;
    case Event::kCustomerSuspended:
      state.set_suspended(true);
      state.set_session_generation(event.customer_suspended().session_generation());
      touch();
      break;
    case Event::kCustomerReactivated:
      state.set_suspended(false);
      touch();
      break;
    case Event::kUserAccountCreated:
      state.set_has_user_account(true);
      *state.mutable_credentials() = event.credentials();
      state.set_session_generation(event.user_account_created().session_generation());
      touch();
      break;
    case Event::kPasswordChanged:
      *state.mutable_credentials() = event.credentials();
      state.set_session_generation(event.password_changed().session_generation());
      break;
    case Event::kCustomerContractActivated: {
      const std::string& id = event.customer_contract_activated().contract_id();
      if (!Contains(state.active_contract_ids(), id)) state.add_active_contract_ids(id);
      touch();
      break;
    }
    case Event::kCustomerContractDeactivated: {
      const std::string& id = event.customer_contract_deactivated().contract_id();
      auto* active = state.mutable_active_contract_ids();
      active->erase(std::remove(active->begin(), active->end(), id), active->end());
      if (!Contains(state.ended_contract_ids(), id)) state.add_ended_contract_ids(id);
      touch();
      break;
    }
    case Event::kCustomerErased:
      state.set_erased(true);
      state.clear_personal();
      state.clear_credentials();
      state.set_has_user_account(false);
      state.set_session_generation(event.customer_erased().session_generation());
      touch();
      break;
    default:
      // Sign-ins, sign-outs, welcome messages and the member/contact notifications change
      // nothing the aggregate keeps.
      break;
  }
  return state;
}

CustomerState ApplyAll(CustomerState state, const Events& events) {
  for (const Event& e : events) state = Apply(std::move(state), e);
  return state;
}

}  // namespace cowork::customers::domain
