#include "tools/coworkctl/contracts_commands.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cowork/contracts/v1/contracts.pb.h"
#include "google/type/date.pb.h"
#include "libs/clock/proto_time.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::contracts::v1;

const std::string kPlans = "cowork.contracts.v1.PlansService/";
const std::string kContracts = "cowork.contracts.v1.ContractsService/";
const std::string kProducts = "cowork.contracts.v1.ProductsService/";
const std::string kPurchases = "cowork.contracts.v1.PurchasesService/";
const std::string kInvoices = "cowork.contracts.v1.InvoicesService/";

const OutputSpec kPlanList{"plans",
                           {"plan_id", "location_id", "name", "price.amount_minor",
                            "price.currency", "cycle", "booking_credit_minutes"}};
const OutputSpec kContractList{"contracts",
                               {"contract_id", "customer_id", "plan_id", "location_id",
                                "start_date", "end_date", "state", "price.amount_minor", "cycle"}};
const OutputSpec kProductList{
    "products",
    {"product_id", "location_id", "name", "price.amount_minor", "price.currency", "kind", "cycle"}};
const OutputSpec kPurchaseList{
    "purchases",
    {"purchase_id", "customer_id", "product_id", "name", "quantity", "unit_price.amount_minor",
     "kind", "state", "start_date", "end_date"}};
const OutputSpec kInvoiceList{"invoices",
                              {"invoice_id", "location_id", "customer_id", "number", "issue_date",
                               "state", "total.amount_minor", "total.currency"}};

// --customer / --location where the request takes exactly one of them.
Prepare CustomerOrLocation(CLI::App& cmd, std::string* customer_id, std::string* location_id,
                           const std::string& what) {
  CLI::Option* customer =
      cmd.add_option("--customer", *customer_id, absl::StrCat("Customer id: their ", what));
  CLI::Option* location =
      cmd.add_option("--location", *location_id, absl::StrCat("Location id: its ", what));
  customer->excludes(location);
  return [customer, location]() -> absl::Status {
    if (customer->count() + location->count() == 0) {
      return absl::InvalidArgumentError("give --customer or --location");
    }
    return absl::OkStatus();
  };
}

// ---------------------------------------------------------------- plans

void AddPlans(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("plans", "Plans a location sells contracts for");
  group->require_subcommand(1);
  const auto* cycle_enum = v1::BillingCycle_descriptor();

  AddCall<v1::CreatePlanRequest, v1::Plan>(
      *group, ctx, "create", "Create a plan", kPlans + "CreatePlan",
      [cycle_enum](CLI::App& cmd, v1::CreatePlanRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--name", *r.mutable_name(), "Plan's name")->required();
        cmd.add_option_function<int64_t>(
               "--price-minor", [&r](const int64_t& v) { r.set_price_minor(v); },
               "Price per cycle in minor units of the location's currency "
               "(5000 = 50.00)")
            ->required();
        auto cycle = AddEnumOption(cmd, "--cycle", cycle_enum, "Billing cycle (default monthly)");
        cmd.add_option_function<int64_t>(
            "--booking-credit-minutes", [&r](const int64_t& v) { r.set_booking_credit_minutes(v); },
            "Booking credit each cycle, in minutes");
        return [cycle, &r] {
          r.set_cycle(static_cast<v1::BillingCycle>(cycle()));
          return absl::OkStatus();
        };
      });

  AddCall<v1::GetPlanRequest, v1::Plan>(*group, ctx, "get", "Show a plan", kPlans + "GetPlan",
                                        [](CLI::App& cmd, v1::GetPlanRequest& r) -> Prepare {
                                          RequiredId(cmd, "plan_id", r.mutable_plan_id(),
                                                     "Plan id");
                                          return nullptr;
                                        });

  AddListCall<v1::ListPlansRequest, v1::ListPlansResponse>(
      *group, ctx, "list", "List a location's plans", kPlans + "ListPlans",
      [](CLI::App& cmd, v1::ListPlansRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      },
      kPlanList);

  AddCall<v1::UpdatePlanPriceRequest, v1::Plan>(
      *group, ctx, "update-price", "Change a plan's price (for contracts signed from now on)",
      kPlans + "UpdatePlanPrice", [](CLI::App& cmd, v1::UpdatePlanPriceRequest& r) -> Prepare {
        RequiredId(cmd, "plan_id", r.mutable_plan_id(), "Plan id");
        cmd.add_option_function<int64_t>(
               "--price-minor", [&r](const int64_t& v) { r.set_price_minor(v); },
               "New price per cycle in minor units")
            ->required();
        return nullptr;
      });
}

// ---------------------------------------------------------------- contracts

void AddContracts(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("contracts", "Customers' contracts on plans");
  group->require_subcommand(1);

  AddCall<v1::CreateContractRequest, v1::Contract>(
      *group, ctx, "create", "Sign a customer up to a plan", kContracts + "CreateContract",
      [](CLI::App& cmd, v1::CreateContractRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option("--plan", *r.mutable_plan_id(), "Plan id")->required();
        DateOption(
            cmd, "--start-date", [&r] { return r.mutable_start_date(); },
            "First day (default today; earlier days backdate)");
        DateOption(
            cmd, "--end-date", [&r] { return r.mutable_end_date(); },
            "Last day, inclusive (default open-ended)");
        return nullptr;
      });

  AddCall<v1::GetContractRequest, v1::Contract>(
      *group, ctx, "get", "Show a contract", kContracts + "GetContract",
      [](CLI::App& cmd, v1::GetContractRequest& r) -> Prepare {
        RequiredId(cmd, "contract_id", r.mutable_contract_id(), "Contract id");
        return nullptr;
      });

  AddListCall<v1::ListContractsRequest, v1::ListContractsResponse>(
      *group, ctx, "list", "List the contracts of a customer or of a location",
      kContracts + "ListContracts",
      [](CLI::App& cmd, v1::ListContractsRequest& r) -> Prepare {
        return CustomerOrLocation(cmd, r.mutable_customer_id(), r.mutable_location_id(),
                                  "contracts");
      },
      kContractList);

  AddCall<v1::CancelContractRequest, v1::Contract>(
      *group, ctx, "cancel", "End a contract (it holds through its end date)",
      kContracts + "CancelContract", [](CLI::App& cmd, v1::CancelContractRequest& r) -> Prepare {
        RequiredId(cmd, "contract_id", r.mutable_contract_id(), "Contract id");
        DateOption(
            cmd, "--end-date", [&r] { return r.mutable_end_date(); },
            "Last day, inclusive (default today)");
        return nullptr;
      });
}

// ---------------------------------------------------------------- products

void AddProducts(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("products", "Products a location sells");
  group->require_subcommand(1);

  AddCall<v1::CreateProductRequest, v1::Product>(
      *group, ctx, "create", "Create a product", kProducts + "CreateProduct",
      [](CLI::App& cmd, v1::CreateProductRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--name", *r.mutable_name(), "Product's name")->required();
        cmd.add_option_function<int64_t>(
               "--price-minor", [&r](const int64_t& v) { r.set_price_minor(v); },
               "Price per unit (one-off) or per cycle (recurring), in minor units")
            ->required();
        auto kind = AddEnumOption(cmd, "--kind", v1::ProductKind_descriptor(), "Product kind");
        cmd.get_option("--kind")->required();
        auto cycle = AddEnumOption(cmd, "--cycle", v1::BillingCycle_descriptor(),
                                   "Billing cycle of a recurring product (default monthly)");
        return [kind, cycle, &r] {
          r.set_kind(static_cast<v1::ProductKind>(kind()));
          r.set_cycle(static_cast<v1::BillingCycle>(cycle()));
          return absl::OkStatus();
        };
      });

  AddCall<v1::GetProductRequest, v1::Product>(
      *group, ctx, "get", "Show a product", kProducts + "GetProduct",
      [](CLI::App& cmd, v1::GetProductRequest& r) -> Prepare {
        RequiredId(cmd, "product_id", r.mutable_product_id(), "Product id");
        return nullptr;
      });

  AddListCall<v1::ListProductsRequest, v1::ListProductsResponse>(
      *group, ctx, "list", "List products", kProducts + "ListProducts",
      [](CLI::App& cmd, v1::ListProductsRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id");
        return nullptr;
      },
      kProductList);
}

// ---------------------------------------------------------------- purchases

void AddPurchases(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("purchases", "Customers' purchases of products");
  group->require_subcommand(1);

  AddCall<v1::BuyRequest, v1::Purchase>(
      *group, ctx, "buy", "Buy a product for a customer (charged at once)", kPurchases + "Buy",
      [](CLI::App& cmd, v1::BuyRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option("--product", *r.mutable_product_id(), "Product id")->required();
        cmd.add_option_function<int32_t>(
            "--quantity", [&r](const int32_t& v) { r.set_quantity(v); },
            "Units (default 1; recurring products: 1)");
        return nullptr;
      });

  AddCall<v1::GetPurchaseRequest, v1::Purchase>(
      *group, ctx, "get", "Show a purchase", kPurchases + "GetPurchase",
      [](CLI::App& cmd, v1::GetPurchaseRequest& r) -> Prepare {
        RequiredId(cmd, "purchase_id", r.mutable_purchase_id(), "Purchase id");
        return nullptr;
      });

  AddListCall<v1::ListPurchasesRequest, v1::ListPurchasesResponse>(
      *group, ctx, "list", "List purchases", kPurchases + "ListPurchases",
      [](CLI::App& cmd, v1::ListPurchasesRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id");
        return nullptr;
      },
      kPurchaseList);

  AddCall<v1::CancelPurchaseRequest, v1::Purchase>(
      *group, ctx, "cancel", "Stop a recurring purchase (no cycle starts after its end date)",
      kPurchases + "CancelPurchase", [](CLI::App& cmd, v1::CancelPurchaseRequest& r) -> Prepare {
        RequiredId(cmd, "purchase_id", r.mutable_purchase_id(), "Purchase id");
        DateOption(
            cmd, "--end-date", [&r] { return r.mutable_end_date(); },
            "Last day, inclusive (default today)");
        return nullptr;
      });
}

// ---------------------------------------------------------------- invoices

void AddInvoices(CLI::App& app, Context& ctx) {
  CLI::App* group =
      app.add_subcommand("invoices", "Invoices, customers' accounts and locations' tax rates");
  group->require_subcommand(1);

  AddCall<v1::GetInvoiceRequest, v1::Invoice>(
      *group, ctx, "get", "Show an invoice", kInvoices + "GetInvoice",
      [](CLI::App& cmd, v1::GetInvoiceRequest& r) -> Prepare {
        RequiredId(cmd, "invoice_id", r.mutable_invoice_id(), "Invoice id");
        return nullptr;
      });

  AddListCall<v1::ListInvoicesRequest, v1::ListInvoicesResponse>(
      *group, ctx, "list", "List the invoices of a customer or of a location",
      kInvoices + "ListInvoices",
      [](CLI::App& cmd, v1::ListInvoicesRequest& r) -> Prepare {
        return CustomerOrLocation(cmd, r.mutable_customer_id(), r.mutable_location_id(),
                                  "invoices");
      },
      kInvoiceList);

  AddCall<v1::PayInvoiceRequest, v1::Invoice>(
      *group, ctx, "pay", "Mark an invoice paid", kInvoices + "PayInvoice",
      [](CLI::App& cmd, v1::PayInvoiceRequest& r) -> Prepare {
        RequiredId(cmd, "invoice_id", r.mutable_invoice_id(), "Invoice id");
        return nullptr;
      });

  AddCall<v1::VoidInvoiceRequest, v1::Invoice>(
      *group, ctx, "void", "Void an invoice", kInvoices + "VoidInvoice",
      [](CLI::App& cmd, v1::VoidInvoiceRequest& r) -> Prepare {
        RequiredId(cmd, "invoice_id", r.mutable_invoice_id(), "Invoice id");
        cmd.add_option("--reason", *r.mutable_reason(), "Why (1..200 characters)")->required();
        return nullptr;
      });

  AddCall<v1::GetAccountRequest, v1::Account>(
      *group, ctx, "account", "Show a customer's uninvoiced charges at a location",
      kInvoices + "GetAccount", [](CLI::App& cmd, v1::GetAccountRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      });

  AddCall<v1::SetTaxRateRequest, v1::TaxRate>(
      *group, ctx, "set-tax-rate", "Set a location's tax rate for invoices issued from now on",
      kInvoices + "SetTaxRate", [](CLI::App& cmd, v1::SetTaxRateRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option_function<int64_t>(
               "--tax-rate-ppm", [&r](const int64_t& v) { r.set_tax_rate_ppm(v); },
               "Parts per million, 0..1000000 (210000 = 21%)")
            ->required();
        return nullptr;
      });

  AddCall<v1::GetTaxRateRequest, v1::TaxRate>(
      *group, ctx, "get-tax-rate", "Show a location's tax rate", kInvoices + "GetTaxRate",
      [](CLI::App& cmd, v1::GetTaxRateRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        return nullptr;
      });

  AddCall<v1::SetInvoicingPreferenceRequest, v1::InvoicingPreference>(
      *group, ctx, "set-preference", "Choose when a customer's charges are invoiced",
      kInvoices + "SetInvoicingPreference",
      [](CLI::App& cmd, v1::SetInvoicingPreferenceRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(), "Customer id")->required();
        cmd.add_option_function<std::string>(
               "--invoice-as-they-buy",
               [&r](const std::string& v) { r.set_invoice_as_they_buy(v == "true"); },
               "true: an invoice per purchase; false: charges wait for the periodic invoice")
            ->check(CLI::IsMember({"true", "false"}))
            ->required();
        return nullptr;
      });
}

}  // namespace

void AddContractsCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "contracts", "cowork.contracts.v1", "127.0.0.1:50052");
  AddPlans(app, ctx);
  AddContracts(app, ctx);
  AddProducts(app, ctx);
  AddPurchases(app, ctx);
  AddInvoices(app, ctx);
}

}  // namespace cowork::ctl
