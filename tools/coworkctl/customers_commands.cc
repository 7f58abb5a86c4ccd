#include "tools/coworkctl/customers_commands.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cowork/customers/v1/customers.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::customers::v1;

const std::string kDirectory = "cowork.customers.v1.DirectoryService/";
const std::string kCustomers = "cowork.customers.v1.CustomersService/";
const std::string kAccounts = "cowork.customers.v1.AccountsService/";
const std::string kTeams = "cowork.customers.v1.TeamsService/";

const OutputSpec kLocationList{"locations",
                               {"location_id", "name", "time_zone", "currency", "create_time"}};
const OutputSpec kCustomerList{"customers",
                               {"customer_id", "type", "kind", "status", "first_name",
                                "last_name", "company_name", "email", "home_location_id"}};
const OutputSpec kTeamList{"teams",
                           {"team_id", "location_id", "name", "member_ids", "paying_member_id"}};

CLI::Option* BoolText(CLI::App& cmd, const std::string& flag, std::string* value,
                      const std::string& help) {
  return cmd.add_option(flag, *value, help)->check(CLI::IsMember({"true", "false"}));
}

// ---------------------------------------------------------------- operators, locations

void AddOperators(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("operators", "Operators (platform tokens only)");
  group->require_subcommand(1);
  AddCall<v1::CreateOperatorRequest, v1::Operator>(
      *group, ctx, "create", "Create an operator", kDirectory + "CreateOperator",
      [](CLI::App& cmd, v1::CreateOperatorRequest& r) -> Prepare {
        cmd.add_option("--name", *r.mutable_name(), "Operator's name")->required();
        cmd.add_option("--operator-id", *r.mutable_operator_id(), "Id (generated when empty)");
        return nullptr;
      });
}

void AddLocations(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("locations", "Locations of the token's operator");
  group->require_subcommand(1);
  AddCall<v1::CreateLocationRequest, v1::Location>(
      *group, ctx, "create", "Create a location", kDirectory + "CreateLocation",
      [](CLI::App& cmd, v1::CreateLocationRequest& r) -> Prepare {
        cmd.add_option("--name", *r.mutable_name(), "Location's name")->required();
        cmd.add_option("--time-zone", *r.mutable_time_zone(), "IANA zone, e.g. Europe/Madrid")
            ->required();
        cmd.add_option("--currency", *r.mutable_currency(), "ISO 4217 code, e.g. EUR")
            ->required();
        cmd.add_option("--location-id", *r.mutable_location_id(), "Id (generated when empty)");
        return nullptr;
      });
  AddCall<v1::GetLocationRequest, v1::Location>(
      *group, ctx, "get", "Show a location", kDirectory + "GetLocation",
      [](CLI::App& cmd, v1::GetLocationRequest& r) -> Prepare {
        RequiredId(cmd, "location_id", r.mutable_location_id(), "Location id");
        return nullptr;
      });
  AddListCall<v1::ListLocationsRequest, v1::ListLocationsResponse>(
      *group, ctx, "list", "List locations", kDirectory + "ListLocations", nullptr,
      kLocationList);
  AddCall<v1::UpdateLocationRequest, v1::Location>(
      *group, ctx, "update", "Change a location's name, time zone or currency",
      kDirectory + "UpdateLocation", [](CLI::App& cmd, v1::UpdateLocationRequest& r) -> Prepare {
        v1::Location* l = r.mutable_location();
        RequiredId(cmd, "location_id", l->mutable_location_id(), "Location id");
        auto mask = std::make_shared<UpdateMaskFlags>();
        mask->Add(cmd, "--name", l->mutable_name(), "name", "New name");
        mask->Add(cmd, "--time-zone", l->mutable_time_zone(), "time_zone", "New IANA zone");
        mask->Add(cmd, "--currency", l->mutable_currency(), "currency", "New currency code");
        return [mask, &r]() -> absl::Status {
          auto paths = mask->Given();
          if (!paths.ok()) return paths.status();
          r.mutable_update_mask()->Clear();
          for (const std::string& p : *paths) r.mutable_update_mask()->add_paths(p);
          return absl::OkStatus();
        };
      });
}

// ---------------------------------------------------------------- customers

void AddCustomers(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("customers", "Customers (individuals and companies)");
  group->require_subcommand(1);
  const auto* type_enum = v1::CustomerType_descriptor();

  AddCall<v1::AddCustomerRequest, v1::Customer>(
      *group, ctx, "add", "Add a customer", kCustomers + "AddCustomer",
      [type_enum](CLI::App& cmd, v1::AddCustomerRequest& r) -> Prepare {
        auto type = AddEnumOption(cmd, "--type", type_enum, "Customer type (default individual)",
                                  v1::INDIVIDUAL);
        cmd.add_option("--location", *r.mutable_home_location_id(), "Home location id")
            ->required();
        cmd.add_option("--first-name", *r.mutable_first_name(),
                       "First name (of the primary contact, for a company)");
        cmd.add_option("--last-name", *r.mutable_last_name(), "Last name");
        cmd.add_option("--email", *r.mutable_email(), "Email");
        cmd.add_option("--phone", *r.mutable_phone(), "Phone");
        cmd.add_option("--company-name", *r.mutable_company_name(), "Company name (companies)");
        auto welcome = std::make_shared<bool>(false);
        cmd.add_flag("--send-welcome", *welcome,
                     "Create a user account and send a welcome message");
        return [type, welcome, &r] {
          r.set_type(static_cast<v1::CustomerType>(type()));
          r.set_send_welcome_message(*welcome);
          return absl::OkStatus();
        };
      });

  AddCall<v1::GetCustomerRequest, v1::Customer>(
      *group, ctx, "get", "Show a customer", kCustomers + "GetCustomer",
      [](CLI::App& cmd, v1::GetCustomerRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddListCall<v1::ListCustomersRequest, v1::ListCustomersResponse>(
      *group, ctx, "list", "List and search customers", kCustomers + "ListCustomers",
      [type_enum](CLI::App& cmd, v1::ListCustomersRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Home location id");
        cmd.add_option("--name", *r.mutable_name(),
                       "Case-insensitive part of first, last or company name");
        cmd.add_option("--email", *r.mutable_email(), "Email (exact, case-insensitive)");
        auto kind = AddEnumOption(cmd, "--kind", v1::CustomerKind_descriptor(), "member|contact");
        auto status =
            AddEnumOption(cmd, "--status", v1::CustomerStatus_descriptor(), "active|suspended");
        auto type = AddEnumOption(cmd, "--type", type_enum, "individual|company");
        return [kind, status, type, &r] {
          r.set_kind(static_cast<v1::CustomerKind>(kind()));
          r.set_status(static_cast<v1::CustomerStatus>(status()));
          r.set_type(static_cast<v1::CustomerType>(type()));
          return absl::OkStatus();
        };
      },
      kCustomerList);

  AddCall<v1::UpdateCustomerRequest, v1::Customer>(
      *group, ctx, "update", "Change a customer's details (only the flags given)",
      kCustomers + "UpdateCustomer", [](CLI::App& cmd, v1::UpdateCustomerRequest& r) -> Prepare {
        v1::Customer* c = r.mutable_customer();
        RequiredId(cmd, "customer_id", c->mutable_customer_id(), "Customer id");
        auto mask = std::make_shared<UpdateMaskFlags>();
        mask->Add(cmd, "--first-name", c->mutable_first_name(), "first_name", "First name");
        mask->Add(cmd, "--last-name", c->mutable_last_name(), "last_name", "Last name");
        mask->Add(cmd, "--email", c->mutable_email(), "email", "Email");
        mask->Add(cmd, "--phone", c->mutable_phone(), "phone", "Phone");
        mask->Add(cmd, "--company-name", c->mutable_company_name(), "company_name",
                  "Company name");
        mask->Add(cmd, "--primary-contact-name", c->mutable_primary_contact_name(),
                  "primary_contact_name", "Company's primary contact");
        mask->Add(cmd, "--primary-contact-email", c->mutable_primary_contact_email(),
                  "primary_contact_email", "Primary contact's email");
        mask->Add(cmd, "--location", c->mutable_home_location_id(), "home_location_id",
                  "Home location id");
        return [mask, &r]() -> absl::Status {
          auto paths = mask->Given();
          if (!paths.ok()) return paths.status();
          r.mutable_update_mask()->Clear();
          for (const std::string& p : *paths) r.mutable_update_mask()->add_paths(p);
          return absl::OkStatus();
        };
      });

  AddCall<v1::ChangeCustomerTypeRequest, v1::Customer>(
      *group, ctx, "change-type", "Turn an individual into a company or back",
      kCustomers + "ChangeCustomerType",
      [type_enum](CLI::App& cmd, v1::ChangeCustomerTypeRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        auto type = AddEnumOption(cmd, "--type", type_enum, "New type");
        cmd.get_option("--type")->required();
        cmd.add_option("--company-name", *r.mutable_company_name(),
                       "Company name (when changing to company)");
        return [type, &r] {
          r.set_type(static_cast<v1::CustomerType>(type()));
          return absl::OkStatus();
        };
      });

  AddCall<v1::SuspendCustomerRequest, v1::Customer>(
      *group, ctx, "suspend", "Suspend a customer (ends every session)",
      kCustomers + "SuspendCustomer", [](CLI::App& cmd, v1::SuspendCustomerRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddCall<v1::ReactivateCustomerRequest, v1::Customer>(
      *group, ctx, "reactivate", "Reactivate a suspended customer",
      kCustomers + "ReactivateCustomer",
      [](CLI::App& cmd, v1::ReactivateCustomerRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddCall<v1::CreateUserAccountRequest, v1::Customer>(
      *group, ctx, "create-account", "Create the customer's user account",
      kCustomers + "CreateUserAccount",
      [](CLI::App& cmd, v1::CreateUserAccountRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        auto no_welcome = std::make_shared<bool>(false);
        cmd.add_flag("--no-welcome", *no_welcome, "Do not send the welcome message");
        return [no_welcome, &r] {
          r.set_send_welcome_message(!*no_welcome);
          return absl::OkStatus();
        };
      });

  AddCall<v1::ImportCustomersRequest, v1::ImportCustomersResponse>(
      *group, ctx, "import",
      "Import customers from CSV (header row; columns first_name, last_name, email, phone, "
      "type, company_name). Re-importing the same file creates nothing twice",
      kCustomers + "ImportCustomers", [](CLI::App& cmd, v1::ImportCustomersRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Home location of every row")
            ->required();
        auto file = std::make_shared<std::string>();
        cmd.add_option("--file", *file, "CSV file")->required()->check(CLI::ExistingFile);
        return [file, &r]() -> absl::Status {
          std::ifstream in(*file, std::ios::binary);
          std::stringstream text;
          text << in.rdbuf();
          if (!in.good() && !in.eof()) {
            return absl::InvalidArgumentError(absl::StrCat("cannot read ", *file));
          }
          r.set_csv(text.str());
          return absl::OkStatus();
        };
      });

  AddCall<v1::EraseCustomerRequest, v1::Customer>(
      *group, ctx, "erase",
      "Erase a customer's personal data everywhere (irreversible; needs --yes)",
      kCustomers + "EraseCustomer", [](CLI::App& cmd, v1::EraseCustomerRequest& r) -> Prepare {
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        auto yes = std::make_shared<bool>(false);
        cmd.add_flag("--yes", *yes, "Confirm: the personal data cannot be recovered");
        return [yes]() -> absl::Status {
          if (!*yes) {
            return absl::InvalidArgumentError(
                "erasure cannot be undone: add --yes to confirm");
          }
          return absl::OkStatus();
        };
      });
}

// ---------------------------------------------------------------- teams

void AddTeams(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("teams", "Teams of customers");
  group->require_subcommand(1);

  AddCall<v1::CreateTeamRequest, v1::Team>(
      *group, ctx, "create", "Create a team", kTeams + "CreateTeam",
      [](CLI::App& cmd, v1::CreateTeamRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--name", *r.mutable_name(), "Team name")->required();
        auto members = std::make_shared<std::vector<std::string>>();
        cmd.add_option("--member", *members, "Customer id of a member (repeatable)");
        auto booking = std::make_shared<bool>(false);
        auto printing = std::make_shared<bool>(false);
        auto access = std::make_shared<bool>(false);
        cmd.add_flag("--share-booking-credit", *booking, "Members share booking credit");
        cmd.add_flag("--share-printing-credit", *printing, "Members share printing credit");
        cmd.add_flag("--share-access", *access, "Members share access");
        return [members, booking, printing, access, &r] {
          r.clear_member_ids();
          for (const std::string& m : *members) r.add_member_ids(m);
          r.set_share_booking_credit(*booking);
          r.set_share_printing_credit(*printing);
          r.set_share_access(*access);
          return absl::OkStatus();
        };
      });

  AddCall<v1::GetTeamRequest, v1::Team>(*group, ctx, "get", "Show a team", kTeams + "GetTeam",
                                        [](CLI::App& cmd, v1::GetTeamRequest& r) -> Prepare {
                                          RequiredId(cmd, "team_id", r.mutable_team_id(),
                                                     "Team id");
                                          return nullptr;
                                        });

  AddListCall<v1::ListTeamsRequest, v1::ListTeamsResponse>(
      *group, ctx, "list", "List teams", kTeams + "ListTeams",
      [](CLI::App& cmd, v1::ListTeamsRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id");
        cmd.add_option("--member", *r.mutable_member_id(), "Teams this customer is in");
        return nullptr;
      },
      kTeamList);

  AddCall<v1::AddTeamMemberRequest, v1::Team>(
      *group, ctx, "add-member", "Add a customer to a team", kTeams + "AddTeamMember",
      [](CLI::App& cmd, v1::AddTeamMemberRequest& r) -> Prepare {
        RequiredId(cmd, "team_id", r.mutable_team_id(), "Team id");
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddCall<v1::RemoveTeamMemberRequest, v1::Team>(
      *group, ctx, "remove-member", "Remove a customer from a team", kTeams + "RemoveTeamMember",
      [](CLI::App& cmd, v1::RemoveTeamMemberRequest& r) -> Prepare {
        RequiredId(cmd, "team_id", r.mutable_team_id(), "Team id");
        RequiredId(cmd, "customer_id", r.mutable_customer_id(), "Customer id");
        return nullptr;
      });

  AddCall<v1::SetPayingMemberRequest, v1::Team>(
      *group, ctx, "set-paying-member",
      "Make a member the team's paying member (no customer id: clear it)",
      kTeams + "SetPayingMember", [](CLI::App& cmd, v1::SetPayingMemberRequest& r) -> Prepare {
        RequiredId(cmd, "team_id", r.mutable_team_id(), "Team id");
        cmd.add_option("customer_id", *r.mutable_customer_id(),
                       "Customer id of a member (omit to clear)");
        return nullptr;
      });

  // UpdateTeamSharing sets all three switches; a switch not given keeps its current value,
  // which this command reads first.
  auto request = std::make_shared<v1::UpdateTeamSharingRequest>();
  auto booking = std::make_shared<std::string>();
  auto printing = std::make_shared<std::string>();
  auto access = std::make_shared<std::string>();
  CLI::App* sharing = group->add_subcommand(
      "sharing", "Switch what members share (switches not given stay as they are)");
  RequiredId(*sharing, "team_id", request->mutable_team_id(), "Team id");
  CLI::Option* b = BoolText(*sharing, "--booking-credit", booking.get(), "true|false");
  CLI::Option* p = BoolText(*sharing, "--printing-credit", printing.get(), "true|false");
  CLI::Option* a = BoolText(*sharing, "--access", access.get(), "true|false");
  sharing->callback([&ctx, request, booking, printing, access, b, p, a] {
    ctx.SetAction([&ctx, request, booking, printing, access, b, p, a] {
      if (b->count() + p->count() + a->count() == 0) {
        return ctx.PrintUsageError(absl::InvalidArgumentError(
            "nothing to change: give --booking-credit, --printing-credit or --access"));
      }
      if (b->count() == 0 || p->count() == 0 || a->count() == 0) {
        v1::GetTeamRequest get;
        get.set_team_id(request->team_id());
        v1::Team team;
        absl::Status status = ctx.CallQuiet(kTeams + "GetTeam", get, team);
        if (!status.ok()) return ctx.PrintError(status);
        request->set_share_booking_credit(team.share_booking_credit());
        request->set_share_printing_credit(team.share_printing_credit());
        request->set_share_access(team.share_access());
      }
      if (b->count() > 0) request->set_share_booking_credit(*booking == "true");
      if (p->count() > 0) request->set_share_printing_credit(*printing == "true");
      if (a->count() > 0) request->set_share_access(*access == "true");
      v1::Team team;
      return ctx.Call(kTeams + "UpdateTeamSharing", *request, team);
    });
  });
}

// ---------------------------------------------------------------- accounts

void AddAccounts(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("accounts", "Customers' user accounts and sessions");
  group->require_subcommand(1);

  AddCall<v1::RegisterRequest, v1::Session>(
      *group, ctx, "register", "Self-register as an individual customer (no token needed)",
      kAccounts + "Register", [&ctx](CLI::App& cmd, v1::RegisterRequest& r) -> Prepare {
        cmd.add_option("--operator", *r.mutable_operator_id(), "Operator id")->required();
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--first-name", *r.mutable_first_name(), "First name");
        cmd.add_option("--last-name", *r.mutable_last_name(), "Last name");
        cmd.add_option("--email", *r.mutable_email(), "Email")->required();
        cmd.add_option("--phone", *r.mutable_phone(), "Phone");
        return AddPasswordOption(cmd, ctx, "password", r.mutable_password(), "Password", true);
      });

  AddCall<v1::SignInRequest, v1::Session>(
      *group, ctx, "sign-in", "Sign in; prints the session token", kAccounts + "SignIn",
      [&ctx](CLI::App& cmd, v1::SignInRequest& r) -> Prepare {
        cmd.add_option("--operator", *r.mutable_operator_id(), "Operator id")->required();
        cmd.add_option("--email", *r.mutable_email(), "Email")->required();
        return AddPasswordOption(cmd, ctx, "password", r.mutable_password(), "Password", true);
      });

  AddCall<v1::ChangePasswordRequest, v1::Session>(
      *group, ctx, "change-password",
      "Change the password: with the customer's token and --current-password, or with "
      "--operator, --email and the welcome --setup-code. Ends every other session",
      kAccounts + "ChangePassword", [&ctx](CLI::App& cmd, v1::ChangePasswordRequest& r) -> Prepare {
        cmd.add_option("--operator", *r.mutable_operator_id(), "Operator id (with --setup-code)");
        cmd.add_option("--email", *r.mutable_email(), "Email (with --setup-code)");
        CLI::Option* code =
            cmd.add_option("--setup-code", *r.mutable_setup_code(), "Code from the welcome message");
        Prepare current = AddPasswordOption(cmd, ctx, "current-password",
                                            r.mutable_current_password(), "Current password",
                                            false);
        Prepare fresh =
            AddPasswordOption(cmd, ctx, "new-password", r.mutable_new_password(), "New password",
                              true);
        return [current, fresh, code, &r]() -> absl::Status {
          absl::Status s = current();
          if (!s.ok()) return s;
          s = fresh();
          if (!s.ok()) return s;
          if (code->count() > 0 && (r.operator_id().empty() || r.email().empty())) {
            return absl::InvalidArgumentError("--setup-code needs --operator and --email");
          }
          return absl::OkStatus();
        };
      });

  AddCall<v1::SignOutRequest, v1::SignOutResponse>(
      *group, ctx, "sign-out", "End the session of the token given", kAccounts + "SignOut",
      nullptr);
}

}  // namespace

void AddCustomersCommands(CLI::App& app, Context& ctx) {
  AddOperators(app, ctx);
  AddLocations(app, ctx);
  AddCustomers(app, ctx);
  AddTeams(app, ctx);
  AddAccounts(app, ctx);
}

}  // namespace cowork::ctl
