#include "tools/coworkctl/billing_commands.h"

#include <string>
#include <vector>

#include "cowork/billing/v1/billing.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::billing::v1;

const std::string kActiveUsers = "cowork.billing.v1.ActiveUsersService/";
const std::string kSubscription = "cowork.billing.v1.SubscriptionService/";
const OutputSpec kInvoiceList{"invoices",
                              {"invoice_id", "location_id", "month", "active_users",
                               "total.amount_minor", "total.currency"}};

// --location and --add-on of EnableAddOn and DisableAddOn.
template <typename Request>
Prepare BindAddOn(CLI::App& cmd, Request& r) {
  cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
  cmd.add_option("--add-on", *r.mutable_add_on(), "Add-on id (see the price table)")->required();
  return nullptr;
}

}  // namespace

void AddBillingCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "billing", "cowork.billing.v1", "127.0.0.1:50056");
  CLI::App* group =
      app.add_subcommand("active-users", "Active users per location per month, and why");
  group->require_subcommand(1);

  AddListCall<v1::GetActiveUsersRequest, v1::ActiveUsers>(
      *group, ctx, "get", "The active users of a location in a month, with their criteria",
      kActiveUsers + "GetActiveUsers",
      [](CLI::App& cmd, v1::GetActiveUsersRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--month", *r.mutable_month(), "YYYY-MM")->required();
        return nullptr;
      },
      {.paged_field = "users"});

  AddCall<v1::ListActiveUserCountsRequest, v1::ListActiveUserCountsResponse>(
      *group, ctx, "counts", "Counts per month of a location, or of every location",
      kActiveUsers + "ListActiveUserCounts",
      [](CLI::App& cmd, v1::ListActiveUserCountsRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id (default: all)");
        cmd.add_option("--from", *r.mutable_from_month(), "First month, YYYY-MM")->required();
        cmd.add_option("--to", *r.mutable_to_month(), "Last month, YYYY-MM")->required();
        return nullptr;
      });

  CLI::App* sub = app.add_subcommand(
      "subscription", "The platform subscription: invoices, add-ons, payment method");
  sub->require_subcommand(1);
  AddCall<v1::GetAccountRequest, v1::Account>(
      *sub, ctx, "account", "Payment method, add-ons and invoices issued",
      kSubscription + "GetAccount", nullptr);
  AddCall<v1::SetPaymentMethodRequest, v1::Account>(
      *sub, ctx, "set-card", "Pay by card: the processor's token, never the card number",
      kSubscription + "SetPaymentMethod",
      [](CLI::App& cmd, v1::SetPaymentMethodRequest& r) -> Prepare {
        v1::Card* card = r.mutable_method()->mutable_card();
        cmd.add_option("--token", *card->mutable_processor_token(),
                       "The payment processor's card token")->required();
        cmd.add_option("--brand", *card->mutable_brand(), "visa, mastercard, ...")->required();
        cmd.add_option("--last-four", *card->mutable_last_four(), "Last four digits")->required();
        cmd.add_option("--expiry-month", [card](const std::vector<std::string>& v) {
             card->set_expiry_month(std::stoi(v.at(0)));
             return true;
           }, "1..12")->required()->check(CLI::Range(1, 12));
        cmd.add_option("--expiry-year", [card](const std::vector<std::string>& v) {
             card->set_expiry_year(std::stoi(v.at(0)));
             return true;
           }, "e.g. 2028")->required()->check(CLI::Range(2000, 2200));
        return nullptr;
      });
  AddCall<v1::SetPaymentMethodRequest, v1::Account>(
      *sub, ctx, "set-direct-debit", "Pay by direct debit (a processor's mandate)",
      kSubscription + "SetPaymentMethod",
      [](CLI::App& cmd, v1::SetPaymentMethodRequest& r) -> Prepare {
        v1::DirectDebit* debit = r.mutable_method()->mutable_direct_debit();
        cmd.add_option("--mandate", *debit->mutable_mandate_reference(),
                       "The processor's mandate reference")->required();
        cmd.add_option("--bank", *debit->mutable_bank_name(), "Bank name")->required();
        cmd.add_option("--account-last-four", *debit->mutable_account_last_four(),
                       "Last four digits of the account")->required();
        return nullptr;
      });
  AddCall<v1::SetPaymentMethodRequest, v1::Account>(
      *sub, ctx, "set-manual", "Pay invoices by hand (transfer, PayPal)",
      kSubscription + "SetPaymentMethod",
      [](CLI::App&, v1::SetPaymentMethodRequest& r) -> Prepare {
        r.mutable_method()->mutable_manual();
        return nullptr;
      });
  AddCall<v1::RemovePaymentMethodRequest, v1::Account>(
      *sub, ctx, "remove-payment-method", "Remove the payment method",
      kSubscription + "RemovePaymentMethod", nullptr);
  AddCall<v1::EnableAddOnRequest, v1::Account>(
      *sub, ctx, "enable-add-on", "Enable an add-on at a location (charged monthly)",
      kSubscription + "EnableAddOn", BindAddOn<v1::EnableAddOnRequest>);
  AddCall<v1::DisableAddOnRequest, v1::Account>(
      *sub, ctx, "disable-add-on", "Disable an add-on at a location",
      kSubscription + "DisableAddOn", BindAddOn<v1::DisableAddOnRequest>);
  AddListCall<v1::ListSubscriptionInvoicesRequest, v1::ListSubscriptionInvoicesResponse>(
      *sub, ctx, "invoices", "The platform's invoices, newest first",
      kSubscription + "ListSubscriptionInvoices",
      [](CLI::App& cmd, v1::ListSubscriptionInvoicesRequest& r) -> Prepare {
        cmd.add_option("--location", *r.mutable_location_id(), "Location id (default: all)");
        return nullptr;
      },
      kInvoiceList);
  AddCall<v1::GetSubscriptionInvoiceRequest, v1::SubscriptionInvoice>(
      *sub, ctx, "invoice", "One invoice with its lines", kSubscription + "GetSubscriptionInvoice",
      [](CLI::App& cmd, v1::GetSubscriptionInvoiceRequest& r) -> Prepare {
        RequiredId(cmd, "invoice_id", r.mutable_invoice_id(), "Invoice id");
        return nullptr;
      });
  AddCall<v1::DownloadSubscriptionInvoiceRequest, v1::InvoiceDocument>(
      *sub, ctx, "download", "The invoice as a CSV document (content in base64 with --output json)",
      kSubscription + "DownloadSubscriptionInvoice",
      [](CLI::App& cmd, v1::DownloadSubscriptionInvoiceRequest& r) -> Prepare {
        RequiredId(cmd, "invoice_id", r.mutable_invoice_id(), "Invoice id");
        return nullptr;
      });
}

}  // namespace cowork::ctl
