// End to end: a service whose volume is lost comes back from its Kafka topics
// (--restore-from-topic). Every service (real processes, the dev broker) gets a mixed
// workload: customers and an erasure; a plan, a contract, purchases invoiced as they are made;
// a room with bookings, one cancelled; a check-in and visitors, one erased; tickets with a
// reply. Then each service in turn is stopped, its data dir deleted, and started again with
// --restore-from-topic on the empty dir. Every list and get answer is the same as before, and
// what each service keeps beside its views comes back too: the email claims, the schedules
// that keep a slot from being sold twice, the invoice books (the next invoice takes the next
// number), the seal keys from the keys topics (the erased customer and visitor stay
// unreadable). A restore over a data dir that holds anything, or after one that did not
// finish, is refused.

#include <signal.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.grpc.pb.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace av1 = ::cowork::billing::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace hv1 = ::cowork::helpdesk::v1;
namespace kv1 = ::cowork::checkins::v1;
namespace uv1 = ::cowork::customers::v1;
using testing::Call;

// What a service answers: one entry per call, the response as text or the error's code.
using Answers = std::map<std::string, std::string>;

template <typename T>
std::string Text(const absl::StatusOr<T>& r) {
  return r.ok() ? r->ShortDebugString() : absl::StrCat("error ", r.status().code());
}

// Only whether a command was taken, or its error's code.
template <typename T>
std::string Outcome(const absl::StatusOr<T>& r) {
  return r.ok() ? "ok" : absl::StrCat("error ", r.status().code());
}

// Waits until the service has published everything it committed.
void ExpectOutboxEmpty(const testing::Service& service) {
  EXPECT_TRUE(testing::PollUntil(
                  [&] {
                    absl::StatusOr<double> depth =
                        testing::MetricValue(service, "cowork_outbox_depth");
                    return depth.ok() && *depth == 0;
                  },
                  absl::Seconds(30), "the outbox to empty")
                  .ok());
}

class Restore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(suite_->stubs(), "Lost Volumes");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
  }

  testing::ServiceOptions OptionsOf(absl::string_view service) {
    return {.data_dir = suite_->dir().Sub(std::string(service)), .bootstrap = suite_->bootstrap()};
  }

  // Stops the service, deletes its data dir and starts it with --restore-from-topic.
  absl::StatusOr<testing::Service> LoseAndRestore(absl::string_view name,
                                                  testing::Subprocess& running,
                                                  testing::ServiceOptions options) {
    absl::StatusOr<testing::ExitStatus> stopped = running.Terminate();
    if (!stopped.ok()) return stopped.status();
    std::filesystem::remove_all(options.data_dir);
    options.extra_args.push_back("--restore-from-topic");
    return name == "customers" ? testing::StartCustomers(options)
                               : testing::StartService(name, options);
  }

  // Restores the service and expects `answers` of it to come back as `before` (polled: a
  // restored service reads the other services' topics again after it starts).
  void ExpectSameAfterRestore(absl::string_view name, testing::Service& service,
                              const std::function<Answers(const std::string& address)>& answers,
                              const Answers& before) {
    ExpectOutboxEmpty(service);
    COWORK_ASSERT_OK_AND_ASSIGN(service, LoseAndRestore(name, *service.process, OptionsOf(name)));
    const Answers after = Until([&] { return answers(service.address); },
                                [&](const Answers& a) { return a == before; });
    EXPECT_EQ(after, before) << name;
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

TEST_F(Restore, EveryServiceComesBackFromItsTopicsWithTheSameAnswers) {
  const std::string& admin = tenant_.admin_token;
  // ---- customers: three, Cleo erased once the others know her
  std::vector<std::string> customer_ids;
  for (const char* name : {"Ana", "Ben", "Cleo"}) {
    COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer c,
                                AddCustomer(suite_->stubs(), admin,
                                            Individual(tenant_.location_id, name, "Lost",
                                                       absl::StrCat(name, "@lost.test"))));
    customer_ids.push_back(c.customer_id());
  }
  const std::string& ana = customer_ids[0];
  const std::string& ben = customer_ids[1];
  const std::string& cleo = customer_ids[2];

  // ---- helpdesk: a ticket each for Ana and Cleo, a reply on Ana's
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service helpdesk,
                              testing::StartService("helpdesk", OptionsOf("helpdesk")));
  std::vector<std::string> ticket_ids;
  {
    auto stub = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));
    for (const std::string& customer : {ana, cleo}) {
      hv1::OpenTicketRequest open;
      open.set_request_id(testing::NewRequestId());
      open.set_customer_id(customer);
      open.set_location_id(tenant_.location_id);
      open.set_subject(absl::StrCat("Wi-Fi for ", customer));
      open.set_message("It drops every hour.");
      open.set_priority(hv1::NORMAL);
      COWORK_ASSERT_OK_AND_ASSIGN(hv1::Ticket ticket, UntilKnown([&] {
                                    return Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket,
                                                open, admin);
                                  }));
      ticket_ids.push_back(ticket.ticket_id());
    }
    hv1::ReplyToTicketRequest reply;
    reply.set_request_id(testing::NewRequestId());
    reply.set_ticket_id(ticket_ids[0]);
    reply.set_message("Restarted the access point.");
    COWORK_ASSERT_OK(Call(*stub, &hv1::HelpdeskService::Stub::ReplyToTicket, reply, admin));
  }

  // ---- bookings: a room for one, two bookings of Ana's, Ben's cancelled
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service bookings,
                              testing::StartService("bookings", OptionsOf("bookings")));
  bv1::CreateResourceRequest room;
  room.set_request_id(testing::NewRequestId());
  room.set_location_id(tenant_.location_id);
  room.mutable_spec()->set_name("Archive room");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(1);  // one booking at a time
  auto resources = bv1::ResourcesService::NewStub(testing::Connect(bookings.address));
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Resource resource, UntilKnown([&] {
        return Call(*resources, &bv1::ResourcesService::Stub::CreateResource, room, admin);
      }));
  const absl::Time midnight =
      absl::FromUnixSeconds((absl::ToUnixSeconds(absl::Now()) / 86400 + 2) * 86400);
  auto booking_of = [&](const std::string& customer, int hour) {
    bv1::CreateBookingRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_resource_id(resource.resource_id());
    r.set_customer_id(customer);
    *r.mutable_start_time() = ToTimestamp(midnight + absl::Hours(hour));
    *r.mutable_end_time() = ToTimestamp(midnight + absl::Hours(hour + 1));
    return r;
  };
  std::vector<std::string> booking_ids;
  {
    auto stub = bv1::BookingsService::NewStub(testing::Connect(bookings.address));
    for (const auto& [customer, hour] :
         std::vector<std::pair<std::string, int>>{{ana, 9}, {ana, 11}, {ben, 13}}) {
      const bv1::CreateBookingRequest request = booking_of(customer, hour);
      COWORK_ASSERT_OK_AND_ASSIGN(bv1::Booking booking, UntilKnown([&] {
                                    return Call(*stub, &bv1::BookingsService::Stub::CreateBooking,
                                                request, admin);
                                  }));
      booking_ids.push_back(booking.booking_id());
    }
    bv1::CancelBookingRequest cancel;
    cancel.set_request_id(testing::NewRequestId());
    cancel.set_booking_id(booking_ids[2]);
    COWORK_ASSERT_OK(Call(*stub, &bv1::BookingsService::Stub::CancelBooking, cancel, admin));
  }

  // ---- contracts: a plan and Ben's contract; Ana's purchases invoiced as she buys
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service contracts,
                              testing::StartService("contracts", OptionsOf("contracts")));
  std::string contract_id, product_id;
  {
    auto channel = testing::Connect(contracts.address);
    cv1::CreatePlanRequest plan;
    plan.set_location_id(tenant_.location_id);
    plan.set_name("Hot desk");
    plan.set_price_minor(15000);
    COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan created, UntilKnown([&] {
                                  plan.set_request_id(testing::NewRequestId());
                                  return Call(*cv1::PlansService::NewStub(channel),
                                              &cv1::PlansService::Stub::CreatePlan, plan, admin);
                                }));
    cv1::CreateContractRequest contract;
    contract.set_customer_id(ben);
    contract.set_plan_id(created.plan_id());
    COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract signed_up, UntilKnown([&] {
                                  contract.set_request_id(testing::NewRequestId());
                                  return Call(*cv1::ContractsService::NewStub(channel),
                                              &cv1::ContractsService::Stub::CreateContract,
                                              contract, admin);
                                }));
    contract_id = signed_up.contract_id();
    cv1::CreateProductRequest product;
    product.set_request_id(testing::NewRequestId());
    product.set_location_id(tenant_.location_id);
    product.set_name("Day pass");
    product.set_price_minor(2500);
    product.set_kind(cv1::ONE_OFF);
    COWORK_ASSERT_OK_AND_ASSIGN(cv1::Product made,
                                Call(*cv1::ProductsService::NewStub(channel),
                                     &cv1::ProductsService::Stub::CreateProduct, product, admin));
    product_id = made.product_id();
    cv1::SetInvoicingPreferenceRequest preference;
    preference.set_request_id(testing::NewRequestId());
    preference.set_customer_id(ana);
    preference.set_invoice_as_they_buy(true);
    COWORK_ASSERT_OK(Call(*cv1::InvoicesService::NewStub(channel),
                          &cv1::InvoicesService::Stub::SetInvoicingPreference, preference, admin));
  }
  auto buy_day_pass = [&](const std::string& address) {
    cv1::BuyRequest buy;
    buy.set_request_id(testing::NewRequestId());
    buy.set_customer_id(ana);
    buy.set_product_id(product_id);
    return Call(*cv1::PurchasesService::NewStub(testing::Connect(address)),
                &cv1::PurchasesService::Stub::Buy, buy, admin);
  };
  for (int i = 0; i < 2; ++i) COWORK_ASSERT_OK(buy_day_pass(contracts.address));

  // ---- check-ins: Ana is in; two visitors of hers, Pavel erased
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service checkins,
                              testing::StartService("checkins", OptionsOf("checkins")));
  std::vector<std::string> visitor_ids;
  {
    auto channel = testing::Connect(checkins.address);
    kv1::CheckInRequest in;
    in.set_request_id(testing::NewRequestId());
    in.set_customer_id(ana);
    in.set_location_id(tenant_.location_id);
    in.set_method(kv1::MANUAL);
    COWORK_ASSERT_OK(UntilKnown([&] {
      return Call(*kv1::CheckinsService::NewStub(channel), &kv1::CheckinsService::Stub::CheckIn, in,
                  admin);
    }));
    for (const char* name : {"Olga Kuznetsova", "Pavel Ivanov"}) {
      kv1::RegisterVisitorRequest visitor;
      visitor.set_request_id(testing::NewRequestId());
      visitor.set_location_id(tenant_.location_id);
      visitor.set_host_customer_id(ana);
      visitor.set_name(name);
      visitor.set_email(absl::StrCat(std::string(1, name[0]), "@visitors.test"));
      *visitor.mutable_expected_arrival() = ToTimestamp(absl::Now() + absl::Hours(2));
      COWORK_ASSERT_OK_AND_ASSIGN(
          kv1::Visitor registered,
          Call(*kv1::VisitorsService::NewStub(channel),
               &kv1::VisitorsService::Stub::RegisterVisitor, visitor, admin));
      visitor_ids.push_back(registered.visitor_id());
    }
    kv1::EraseVisitorRequest erase;
    erase.set_request_id(testing::NewRequestId());
    erase.set_visitor_id(visitor_ids[1]);
    COWORK_ASSERT_OK(Call(*kv1::VisitorsService::NewStub(channel),
                          &kv1::VisitorsService::Stub::EraseVisitor, erase, admin));
  }

  // ---- billing: counts who was active this month from the other topics
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service billing,
                              testing::StartService("billing", OptionsOf("billing")));

  // ---- Cleo is erased; the helpdesk learns it from the customers topic
  {
    uv1::EraseCustomerRequest erase;
    erase.set_request_id(testing::NewRequestId());
    erase.set_customer_id(cleo);
    COWORK_ASSERT_OK(Call(*suite_->stubs().customers, &uv1::CustomersService::Stub::EraseCustomer,
                          erase, admin));
  }

  // ---- the answers of each service
  auto customers_answers = [&](const std::string& address) {
    testing::CustomersStubs stubs = testing::CustomersStubs::Connect(address);
    Answers out;
    uv1::ListCustomersRequest list;
    list.set_location_id(tenant_.location_id);
    absl::StatusOr<std::vector<uv1::Customer>> all = ListAllCustomers(stubs, admin, list);
    out["list"] = Outcome(all);
    for (const uv1::Customer& c : all.value_or(std::vector<uv1::Customer>())) {
      out["list"] += "\n" + c.ShortDebugString();
    }
    for (const std::string& id : customer_ids) out[id] = Text(GetCustomer(stubs, admin, id));
    // The email claim: Ana's address is taken.
    out["ana's email again"] = Outcome(AddCustomer(
        stubs, admin, Individual(tenant_.location_id, "Ana", "Twice", "Ana@lost.test")));
    return out;
  };
  auto helpdesk_answers = [&](const std::string& address) {
    auto stub = hv1::HelpdeskService::NewStub(testing::Connect(address));
    Answers out;
    hv1::ListTicketsRequest list;
    list.set_location_id(tenant_.location_id);
    list.set_page_size(500);
    out["list"] = Text(Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, list, admin));
    for (const std::string& id : ticket_ids) {
      hv1::GetTicketRequest get;
      get.set_ticket_id(id);
      out[id] = Text(Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, admin));
    }
    return out;
  };
  auto bookings_answers = [&](const std::string& address) {
    auto channel = testing::Connect(address);
    auto stub = bv1::BookingsService::NewStub(channel);
    Answers out;
    bv1::ListResourcesRequest rooms;
    rooms.set_location_id(tenant_.location_id);
    out["resources"] = Text(Call(*bv1::ResourcesService::NewStub(channel),
                                 &bv1::ResourcesService::Stub::ListResources, rooms, admin));
    bv1::ListBookingsRequest list;
    list.set_resource_id(resource.resource_id());
    list.set_page_size(500);
    out["list"] = Text(Call(*stub, &bv1::BookingsService::Stub::ListBookings, list, admin));
    for (const std::string& id : booking_ids) {
      bv1::GetBookingRequest get;
      get.set_booking_id(id);
      out[id] = Text(Call(*stub, &bv1::BookingsService::Stub::GetBooking, get, admin));
    }
    // The schedule: Ana's 9 o'clock slot is taken, whoever asks for it (a new request id each
    // time, so no recorded answer stands in for the schedule).
    out["9 o'clock again"] =
        Outcome(Call(*stub, &bv1::BookingsService::Stub::CreateBooking, booking_of(ben, 9), admin));
    return out;
  };
  auto contracts_answers = [&](const std::string& address) {
    auto channel = testing::Connect(address);
    Answers out;
    cv1::ListInvoicesRequest invoices;
    invoices.set_location_id(tenant_.location_id);
    invoices.set_page_size(100);
    out["invoices"] = Text(Call(*cv1::InvoicesService::NewStub(channel),
                                &cv1::InvoicesService::Stub::ListInvoices, invoices, admin));
    cv1::ListContractsRequest list;
    list.set_location_id(tenant_.location_id);
    out["contracts"] = Text(Call(*cv1::ContractsService::NewStub(channel),
                                 &cv1::ContractsService::Stub::ListContracts, list, admin));
    cv1::GetContractRequest get;
    get.set_contract_id(contract_id);
    out[contract_id] = Text(Call(*cv1::ContractsService::NewStub(channel),
                                 &cv1::ContractsService::Stub::GetContract, get, admin));
    cv1::ListPurchasesRequest purchases;
    purchases.set_customer_id(ana);
    out["purchases"] = Text(Call(*cv1::PurchasesService::NewStub(channel),
                                 &cv1::PurchasesService::Stub::ListPurchases, purchases, admin));
    return out;
  };
  auto checkins_answers = [&](const std::string& address) {
    auto channel = testing::Connect(address);
    auto stub = kv1::CheckinsService::NewStub(channel);
    auto visitors = kv1::VisitorsService::NewStub(channel);
    Answers out;
    kv1::ListPresentRequest present;
    present.set_location_id(tenant_.location_id);
    out["present"] = Text(Call(*stub, &kv1::CheckinsService::Stub::ListPresent, present, admin));
    kv1::GetPresenceRequest presence;
    presence.set_customer_id(ana);
    out["ana"] = Text(Call(*stub, &kv1::CheckinsService::Stub::GetPresence, presence, admin));
    kv1::ListCheckinsRequest history;
    history.set_customer_id(ana);
    out["history"] = Text(Call(*stub, &kv1::CheckinsService::Stub::ListCheckins, history, admin));
    kv1::ListVisitorsRequest hosted;
    hosted.set_host_customer_id(ana);
    out["visitors"] =
        Text(Call(*visitors, &kv1::VisitorsService::Stub::ListVisitors, hosted, admin));
    for (const std::string& id : visitor_ids) {
      kv1::GetVisitorRequest get;
      get.set_visitor_id(id);
      out[id] = Text(Call(*visitors, &kv1::VisitorsService::Stub::GetVisitor, get, admin));
    }
    return out;
  };
  auto billing_answers = [&](const std::string& address) {
    av1::GetActiveUsersRequest active;
    active.set_location_id(tenant_.location_id);
    active.set_month(absl::FormatTime("%Y-%m", absl::Now(), absl::UTCTimeZone()));
    return Answers{{"active users",
                    Text(Call(*av1::ActiveUsersService::NewStub(testing::Connect(address)),
                              &av1::ActiveUsersService::Stub::GetActiveUsers, active, admin))}};
  };

  // ---- before: each service has seen everything (polled where it learns from a topic)
  const Answers helpdesk_before =
      Until([&] { return helpdesk_answers(helpdesk.address); },
            [&](const Answers& a) {
              return a.at(ticket_ids[1]).find("erased: true") != std::string::npos;
            });
  ASSERT_NE(helpdesk_before.at(ticket_ids[1]).find("erased: true"), std::string::npos)
      << "the helpdesk did not learn of the erasure";
  ASSERT_NE(helpdesk_before.at(ticket_ids[0]).find("Wi-Fi for"), std::string::npos);
  const Answers bookings_before = bookings_answers(bookings.address);
  ASSERT_NE(bookings_before.at("9 o'clock again"), "ok") << "the slot is taken";
  const Answers contracts_before = contracts_answers(contracts.address);
  ASSERT_NE(contracts_before.at("invoices").find("number: 2"), std::string::npos)
      << contracts_before.at("invoices");
  const Answers checkins_before = checkins_answers(checkins.address);
  ASSERT_NE(checkins_before.at(visitor_ids[0]).find("Olga Kuznetsova"), std::string::npos);
  ASSERT_EQ(checkins_before.at(visitor_ids[1]).find("Pavel"), std::string::npos);
  const Answers billing_before =
      Until([&] { return billing_answers(billing.address); },
            [&](const Answers& a) { return a.at("active users").find(ana) != std::string::npos; });
  ASSERT_NE(billing_before.at("active users").find(ana), std::string::npos)
      << billing_before.at("active users");
  const Answers customers_before = customers_answers(suite_->address());
  ASSERT_EQ(customers_before.at("ana's email again"), "error 6") << "ALREADY_EXISTS: claimed";
  ASSERT_NE(customers_before.at(ana).find("@lost.test"), std::string::npos)
      << customers_before.at(ana);

  // ---- each service loses its volume and comes back from its topics
  ExpectSameAfterRestore("helpdesk", helpdesk, helpdesk_answers, helpdesk_before);
  ExpectSameAfterRestore("bookings", bookings, bookings_answers, bookings_before);
  ExpectSameAfterRestore("contracts", contracts, contracts_answers, contracts_before);
  ExpectSameAfterRestore("checkins", checkins, checkins_answers, checkins_before);
  ExpectSameAfterRestore("billing", billing, billing_answers, billing_before);
  {
    testing::Service customers{.address = suite_->address()};
    ExpectOutboxEmpty(suite_->customers_service());
    COWORK_ASSERT_OK_AND_ASSIGN(
        customers, LoseAndRestore("customers", suite_->customers(), suite_->options()));
    const Answers after = Until([&] { return customers_answers(customers.address); },
                                [&](const Answers& a) { return a == customers_before; });
    EXPECT_EQ(after, customers_before);

    // A store that holds anything is never restored over.
    COWORK_ASSERT_OK(customers.process->Terminate());
    testing::ServiceOptions again = suite_->options();
    again.extra_args.push_back("--restore-from-topic");
    absl::StatusOr<testing::Service> refused = testing::StartCustomers(again);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("needs an empty --data-dir"), std::string::npos)
        << refused.status();
  }

  // ---- the restored invoice book goes on without a gap: the next invoice is number 3
  COWORK_ASSERT_OK(buy_day_pass(contracts.address));
  const Answers contracts_after = contracts_answers(contracts.address);
  EXPECT_NE(contracts_after.at("invoices").find("number: 3"), std::string::npos)
      << contracts_after.at("invoices");
  EXPECT_EQ(contracts_after.at("invoices").find("number: 4"), std::string::npos)
      << contracts_after.at("invoices");
}

// A restore cut off (here: the brokers are down, so the topics cannot be read) leaves a store
// that refuses to serve until it is deleted and restored again.
TEST_F(Restore, AnUnfinishedRestoreNeverServes) {
  testing::ServiceOptions options = suite_->options();
  COWORK_ASSERT_OK(suite_->customers().Terminate());
  std::filesystem::remove_all(options.data_dir);
  size_t log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR1));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: down$", absl::Seconds(10), log_offset));
  testing::ServiceOptions restoring = options;
  restoring.extra_args.push_back("--restore-from-topic");
  restoring.timeout = absl::Seconds(90);
  absl::StatusOr<testing::Service> cut = testing::StartCustomers(restoring);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cannot restore from the topics"), std::string::npos)
      << cut.status();
  log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR2));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: up$", absl::Seconds(10), log_offset));

  absl::StatusOr<testing::Service> half = testing::StartCustomers(options);
  ASSERT_FALSE(half.ok()) << "a half-restored store served";
  EXPECT_NE(half.status().message().find("did not finish"), std::string::npos) << half.status();

  std::filesystem::remove_all(options.data_dir);
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service restored, testing::StartCustomers(restoring));
  testing::CustomersStubs stubs = testing::CustomersStubs::Connect(restored.address);
  uv1::GetLocationRequest get;
  get.set_location_id(tenant_.location_id);
  COWORK_ASSERT_OK(
      Call(*stubs.directory, &uv1::DirectoryService::Stub::GetLocation, get, tenant_.admin_token));
}

}  // namespace
}  // namespace cowork::e2e
