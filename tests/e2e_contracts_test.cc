// End to end: the dev broker, the customers service and the contracts service (on a
// simulated clock) as real processes. A contact signed up today is a member today; when the
// clock passes the contract's last day, the contract ends and the customer is a contact again.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cowork/bookings/v1/events.pb.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/kafka/kafka.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace cv1 = ::cowork::contracts::v1;
namespace common = ::cowork::common::v1;
using testing::Call;

// Retries `fn` while it answers NOT_FOUND (the contracts service learns locations and
// customers from the customers events, a moment after they are committed).
template <typename Fn>
auto UntilKnown(Fn fn) -> decltype(fn()) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    auto result = fn();
    if (result.status().code() != absl::StatusCode::kNotFound || absl::Now() > deadline) {
      return result;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// Polls the customer until its kind is `kind` (bounded).
absl::Status WaitForKind(testing::CustomersStubs& stubs, const std::string& token,
                         const std::string& customer_id, customers::v1::CustomerKind kind) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  customers::v1::CustomerKind last = customers::v1::CUSTOMER_KIND_UNSPECIFIED;
  while (absl::Now() < deadline) {
    absl::StatusOr<customers::v1::Customer> c = GetCustomer(stubs, token, customer_id);
    if (!c.ok()) return c.status();
    last = c->kind();
    if (last == kind) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat("customer ", customer_id, " is still ",
                                                  customers::v1::CustomerKind_Name(last)));
}

// Waits until `scheduler` of `service` has run two more passes: the second began after this
// call, so it saw whatever the caller changed before (a simulated clock's move).
absl::Status TwoMorePasses(const testing::Service& service, absl::string_view scheduler) {
  const std::string series =
      absl::StrCat("cowork_scheduler_passes_total{scheduler=\"", scheduler, "\"}");
  absl::StatusOr<double> before = testing::MetricValue(service, series);
  if (!before.ok()) return before.status();
  return testing::PollUntil(
      [&] {
        absl::StatusOr<double> now = testing::MetricValue(service, series);
        return now.ok() && *now >= *before + 2;
      },
      absl::Seconds(30), absl::StrCat("two more passes of ", series));
}

TEST(ContractsEndToEnd, MemberWhileTheContractHoldsContactAfterItEnds) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Contracts Co"));
  // 2026-05-20 10:00 in Madrid (the tenant's location).
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service contracts,
      testing::StartService("contracts",
                            {.data_dir = suite->dir().Sub("contracts"),
                             .bootstrap = suite->bootstrap(),
                             .extra_args = {"--simulated-clock", "2026-05-20T08:00:00Z"}}));
  std::shared_ptr<grpc::Channel> channel = testing::Connect(contracts.address);
  auto plans = cv1::PlansService::NewStub(channel);
  auto contracts_stub = cv1::ContractsService::NewStub(channel);
  auto clock = common::TestClockService::NewStub(channel);

  COWORK_ASSERT_OK_AND_ASSIGN(
      customers::v1::Customer ana,
      AddCustomer(suite->stubs(), tenant.admin_token,
                  Individual(tenant.location_id, "Ana", "García", "ana@example.test")));
  EXPECT_EQ(ana.kind(), customers::v1::CONTACT);

  cv1::CreatePlanRequest plan_request;
  plan_request.set_request_id(testing::NewRequestId());
  plan_request.set_location_id(tenant.location_id);
  plan_request.set_name("Hot desk");
  plan_request.set_price_minor(15000);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan plan, UntilKnown([&] {
                                return Call(*plans, &cv1::PlansService::Stub::CreatePlan,
                                            plan_request, tenant.admin_token);
                              }));
  EXPECT_EQ(plan.price().currency(), "EUR");

  // Signed up today, until tomorrow: a member at once.
  cv1::CreateContractRequest sign;
  sign.set_request_id(testing::NewRequestId());
  sign.set_customer_id(ana.customer_id());
  sign.set_plan_id(plan.plan_id());
  *sign.mutable_end_date() = ToDate(absl::CivilDay(2026, 5, 21));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract contract, UntilKnown([&] {
                                return Call(*contracts_stub,
                                            &cv1::ContractsService::Stub::CreateContract, sign,
                                            tenant.admin_token);
                              }));
  EXPECT_EQ(contract.state(), cv1::ENDING);
  COWORK_ASSERT_OK(
      WaitForKind(suite->stubs(), tenant.admin_token, ana.customer_id(), customers::v1::MEMBER));

  // Still a member through May 21st (Madrid); a contact from May 22nd.
  common::SetTimeRequest set;
  *set.mutable_time() = ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 5, 21, 21, 59, 0),
                                                    absl::UTCTimeZone()));
  COWORK_ASSERT_OK(Call(*clock, &common::TestClockService::Stub::SetTime, set, tenant.admin_token));
  COWORK_ASSERT_OK(TwoMorePasses(contracts, "contracts"));
  cv1::GetContractRequest get;
  get.set_contract_id(contract.contract_id());
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract held,
                              Call(*contracts_stub, &cv1::ContractsService::Stub::GetContract,
                                   get, tenant.admin_token));
  EXPECT_EQ(held.state(), cv1::ENDING);

  *set.mutable_time() = ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 5, 21, 22, 0, 0),
                                                    absl::UTCTimeZone()));
  COWORK_ASSERT_OK(Call(*clock, &common::TestClockService::Stub::SetTime, set, tenant.admin_token));
  COWORK_ASSERT_OK(
      WaitForKind(suite->stubs(), tenant.admin_token, ana.customer_id(), customers::v1::CONTACT));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract ended,
                              Call(*contracts_stub, &cv1::ContractsService::Stub::GetContract,
                                   get, tenant.admin_token));
  EXPECT_EQ(ended.state(), cv1::ENDED);

  // The clock never goes back, and a service on the real clock refuses to move it.
  COWORK_ASSERT_OK(
      Call(*clock, &common::TestClockService::Stub::GetTime, common::GetTimeRequest(),
           tenant.admin_token));
  *set.mutable_time() = ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 5, 1, 0, 0, 0),
                                                    absl::UTCTimeZone()));
  EXPECT_EQ(Call(*clock, &common::TestClockService::Stub::SetTime, set, tenant.admin_token)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto customers_clock = common::TestClockService::NewStub(suite->stubs().channel);
  EXPECT_EQ(Call(*customers_clock, &common::TestClockService::Stub::SetTime, set,
                 tenant.admin_token)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  // The events on the topic, each once and in order per aggregate.
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite->bootstrap(), testing::kContractsTopic,
          [&](const std::vector<Event>& all) {
            return CountOf(all, contract.contract_id(), "ContractEnded") == 1;
          },
          absl::Seconds(30), "ContractEnded"));
  const ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  std::vector<std::string> types;
  for (const Event& e : applied.applied.at(contract.contract_id())) types.push_back(e.type);
  EXPECT_THAT(types, ::testing::ElementsAre("cowork.contracts.v1.ContractSigned",
                                            "cowork.contracts.v1.ContractStarted",
                                            "cowork.contracts.v1.ContractEnded",
                                            "cowork.contracts.v1.ContractPeriodClosed"));

  // The billing period ended with the contract: its fee, prorated (2 of 31 days), invoiced.
  auto invoices = cv1::InvoicesService::NewStub(channel);
  cv1::ListInvoicesRequest list;
  list.set_customer_id(ana.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse issued,
                              Call(*invoices, &cv1::InvoicesService::Stub::ListInvoices, list,
                                   tenant.admin_token));
  ASSERT_EQ(issued.invoices_size(), 1);
  EXPECT_EQ(issued.invoices(0).number(), 1);
  EXPECT_EQ(issued.invoices(0).total().amount_minor(), 968);

  // A paid booking, produced on the bookings topic: Ana is a contact now, so it is invoiced at
  // once; its cancellation refunds it on the next invoice.
  bookings::v1::BookingCreated booked;
  booked.set_booking_id("bk-e2e-1");
  booked.set_resource_id("room-1");
  booked.set_location_id(tenant.location_id);
  booked.set_customer_id(ana.customer_id());
  booked.mutable_charge()->set_amount_minor(2500);
  booked.mutable_charge()->set_currency("EUR");
  bookings::v1::BookingCancelled cancelled;
  cancelled.set_booking_id("bk-e2e-1");
  cancelled.set_location_id(tenant.location_id);
  cancelled.set_customer_id(ana.customer_id());
  const eventstore::EnvelopeContext context{.service = "bookings",
                                            .operator_id = tenant.operator_id,
                                            .now = absl::Now()};
  std::vector<std::pair<std::string, std::string>> messages;
  int64_t sequence = 0;
  for (const google::protobuf::Message* payload :
       std::initializer_list<const google::protobuf::Message*>{&booked, &cancelled}) {
    messages.emplace_back("bk-e2e-1", eventstore::MakeEnvelope(context, "booking", "bk-e2e-1",
                                                               ++sequence, tenant.location_id,
                                                               *payload)
                                          .SerializeAsString());
  }
  COWORK_ASSERT_OK(kafka::ProduceAll({.brokers = suite->bootstrap(), .client_id = "e2e"},
                                     "cowork.bookings.events", messages));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    COWORK_ASSERT_OK_AND_ASSIGN(issued, Call(*invoices, &cv1::InvoicesService::Stub::ListInvoices,
                                             list, tenant.admin_token));
    if (issued.invoices_size() >= 3) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  ASSERT_EQ(issued.invoices_size(), 3);
  std::vector<int64_t> totals;
  for (const cv1::Invoice& invoice : issued.invoices()) totals.push_back(invoice.total().amount_minor());
  EXPECT_THAT(totals, ::testing::UnorderedElementsAre(968, 2500, -2500));
}

TEST(ContractsEndToEnd, SimulatedClockNeedsDevMode) {
  testing::TempDir dir;
  COWORK_ASSERT_OK_AND_ASSIGN(testing::DevBroker broker, testing::StartDevBroker(dir.path()));
  absl::StatusOr<testing::Service> refused = testing::StartService(
      "contracts", {.data_dir = dir.Sub("contracts"),
                    .bootstrap = broker.bootstrap,
                    .dev = false,
                    .extra_args = {"--simulated-clock", "now"},
                    .env = testing::WriteProductionKeys(dir.path()).EnvFor("contracts"),
                    .timeout = absl::Seconds(10)});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("needs --dev"));
}

// Ten thousand cheap purchases by a member whose purchases wait for the next invoice: every
// 500th is invoiced at once with the 499 before it (an account never holds more), so the
// invoices carry at most 500 lines, are numbered one after the other without a gap, and each
// is small enough for the topic (every InvoiceIssued reaches it); each purchase stays as cheap
// as the first. Without the cap the one invoice of ten thousand lines would be over the
// topic's maximum message size, and the purchase that issued it would fail.
TEST(ContractsEndToEnd, TenThousandChargesMakeInvoicesOfAtMostFiveHundredLines) {
  constexpr int kCharges = 10'000;
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Many Charges"));
  const std::string& admin = tenant.admin_token;
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service contracts,
      testing::StartService("contracts", {.data_dir = suite->dir().Sub("contracts"),
                                          .bootstrap = suite->bootstrap(),
                                          .durable = false}));
  COWORK_ASSERT_OK_AND_ASSIGN(
      customers::v1::Customer buyer,
      AddCustomer(suite->stubs(), admin,
                  Individual(tenant.location_id, "Ana", "Buyer", "ana@charges.example")));
  auto channel = testing::Connect(contracts.address);
  cv1::CreateProductRequest product;
  product.set_request_id(testing::NewRequestId());
  product.set_location_id(tenant.location_id);
  product.set_name("Coffee");
  product.set_price_minor(1);
  product.set_kind(cv1::ONE_OFF);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Product coffee, UntilKnown([&] {
                                return Call(*cv1::ProductsService::NewStub(channel),
                                            &cv1::ProductsService::Stub::CreateProduct, product,
                                            admin);
                              }));
  // A member's purchases wait for the next invoice (a customer without a plan is invoiced as
  // they buy).
  cv1::CreatePlanRequest plan;
  plan.set_request_id(testing::NewRequestId());
  plan.set_location_id(tenant.location_id);
  plan.set_name("Hot desk");
  plan.set_price_minor(15000);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan desk,
                              Call(*cv1::PlansService::NewStub(channel),
                                   &cv1::PlansService::Stub::CreatePlan, plan, admin));
  cv1::CreateContractRequest contract;
  contract.set_request_id(testing::NewRequestId());
  contract.set_customer_id(buyer.customer_id());
  contract.set_plan_id(desk.plan_id());
  COWORK_ASSERT_OK(UntilKnown([&] {
    return Call(*cv1::ContractsService::NewStub(channel),
                &cv1::ContractsService::Stub::CreateContract, contract, admin);
  }));
  cv1::ListInvoicesRequest list;
  list.set_customer_id(buyer.customer_id());
  list.set_page_size(500);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse signed_up,
                              Call(*cv1::InvoicesService::NewStub(channel),
                                   &cv1::InvoicesService::Stub::ListInvoices, list, admin));
  const int before = signed_up.invoices_size();  // the first plan fee's, if any

  auto buy = [&](const std::shared_ptr<grpc::Channel>& on) {
    cv1::BuyRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(buyer.customer_id());
    r.set_product_id(coffee.product_id());
    return Call(*cv1::PurchasesService::NewStub(on), &cv1::PurchasesService::Stub::Buy, r, admin,
                absl::Seconds(10));
  };
  // One buyer after another: concurrent purchases of one account would only contend on it.
  COWORK_ASSERT_OK(UntilKnown([&] { return buy(channel); }));
  for (int i = 1; i < kCharges; ++i) COWORK_ASSERT_OK(buy(channel));
  const int charges = kCharges;

  // Every 500th purchase was invoiced with the 499 before it; the rest wait.
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse while_buying,
                              Call(*cv1::InvoicesService::NewStub(channel),
                                   &cv1::InvoicesService::Stub::ListInvoices, list, admin));
  EXPECT_EQ(while_buying.invoices_size(), before + charges / 500);
  // Invoiced as she buys from now on: the next purchase takes the waiting ones along.
  cv1::SetInvoicingPreferenceRequest preference;
  preference.set_request_id(testing::NewRequestId());
  preference.set_customer_id(buyer.customer_id());
  preference.set_invoice_as_they_buy(true);
  COWORK_ASSERT_OK(Call(*cv1::InvoicesService::NewStub(channel),
                        &cv1::InvoicesService::Stub::SetInvoicingPreference, preference, admin));
  COWORK_ASSERT_OK(buy(channel));

  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse listed,
                              Call(*cv1::InvoicesService::NewStub(channel),
                                   &cv1::InvoicesService::Stub::ListInvoices, list, admin));
  const int expected = before + (charges + 1 + 499) / 500;
  ASSERT_EQ(listed.invoices_size(), expected);
  std::set<int64_t> numbers;
  int charge_lines = 0;
  for (const cv1::Invoice& invoice : listed.invoices()) {
    EXPECT_LE(invoice.lines_size(), 500);
    for (const cv1::InvoiceLine& line : invoice.lines()) charge_lines += !line.charge_id().empty();
    numbers.insert(invoice.number());
  }
  EXPECT_EQ(charge_lines, charges + 1);
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), expected) << "numbers without a gap";
  EXPECT_EQ(numbers.size(), static_cast<size_t>(expected));
  COWORK_ASSERT_OK(WaitForEvents(
      suite->bootstrap(), "cowork.contracts.events",
      [&](const std::vector<Event>& events) {
        // Invoices are events of the location's invoice book.
        return CountOf(events, tenant.location_id, "InvoiceIssued") == expected;
      },
      absl::Seconds(60), "every InvoiceIssued on the topic"));
}

}  // namespace
}  // namespace cowork::e2e
