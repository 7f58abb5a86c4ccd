// Faults in every service but customers (faults_test has customers): each killed with SIGKILL
// in the middle of a stream of commands from four clients, and the Kafka brokers taken down
// while commands keep coming. After a restart every acknowledged command is there, a command
// cut off by the kill and retried with its request id happens once, and a plain Kafka reader
// finds every event once, in order per aggregate (ApplyOnce, tests/support/e2e.h, and no copy
// at all: the relay reads its topics' tails after a restart instead of sending again):
//  - bookings: no slot is sold twice;
//  - helpdesk: no ticket is lost or opened twice;
//  - contracts: invoices issued as purchases are made keep numbers without a gap or a repeat;
//  - checkins: no check-in is lost;
//  - billing, killed while it reads the invoices, counts every invoiced customer once.

#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
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
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "tests/support/e2e.h"
#include "tests/support/faults.h"

namespace cowork::e2e {
namespace {

using customers::v1::Customer;
namespace cv1 = ::cowork::contracts::v1;

// A one-off day pass at the tenant's location, with each of `buyers` invoiced as they buy (a
// purchase issues its invoice at once), through the contracts service at `address`.
absl::StatusOr<cv1::Product> DayPassInvoicedAtOnce(const std::string& address, const Tenant& tenant,
                                                   const std::vector<std::string>& buyers) {
  const std::shared_ptr<grpc::Channel> channel = testing::Connect(address);
  cv1::CreateProductRequest product;
  product.set_request_id(testing::NewRequestId());
  product.set_location_id(tenant.location_id);
  product.set_name("Day pass");
  product.set_price_minor(2500);
  product.set_kind(cv1::ONE_OFF);
  absl::StatusOr<cv1::Product> pass = OnceKnown<cv1::Product>([&] {
    return testing::Call(*cv1::ProductsService::NewStub(channel),
                         &cv1::ProductsService::Stub::CreateProduct, product, tenant.admin_token);
  });
  if (!pass.ok()) return pass.status();
  for (const std::string& buyer : buyers) {
    cv1::SetInvoicingPreferenceRequest preference;
    preference.set_request_id(testing::NewRequestId());
    preference.set_customer_id(buyer);
    preference.set_invoice_as_they_buy(true);
    absl::StatusOr<cv1::InvoicingPreference> set = OnceKnown<cv1::InvoicingPreference>([&] {
      return testing::Call(*cv1::InvoicesService::NewStub(channel),
                           &cv1::InvoicesService::Stub::SetInvoicingPreference, preference,
                           tenant.admin_token);
    });
    if (!set.ok()) return set.status();
  }
  return pass;
}

// The bookings service killed while clients book one room: every acknowledged booking is there
// after the restart, a booking cut off by the kill happens once when retried with its request
// id, no slot is sold twice, and every BookingCreated reaches the topic once.
TEST_F(Faults, BookingsKillNineMidStreamSellsNoSlotTwice) {
  namespace bv1 = ::cowork::bookings::v1;
  using testing::Call;
  const testing::ServiceOptions options{.data_dir = suite_->dir().Sub("bookings"),
                                        .bootstrap = suite_->bootstrap()};
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service bookings,
                              testing::StartService("bookings", options));
  COWORK_ASSERT_OK_AND_ASSIGN(Customer ana, AddCustomer(suite_->stubs(), tenant_.admin_token,
                                                        Individual(tenant_.location_id, "Ana",
                                                                   "Room", "ana@faults.example")));
  bv1::CreateResourceRequest room;
  room.set_request_id(testing::NewRequestId());
  room.set_location_id(tenant_.location_id);
  room.mutable_spec()->set_name("Room");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(4);
  auto resources = bv1::ResourcesService::NewStub(testing::Connect(bookings.address));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource resource, OnceKnown<bv1::Resource>([&] {
                                return Call(*resources,
                                            &bv1::ResourcesService::Stub::CreateResource, room,
                                            tenant_.admin_token);
                              }));
  // Slot n is the n-th quarter hour from midnight UTC a day or two ahead; slot -1 goes first,
  // until bookings knows Ana.
  const absl::Time midnight =
      absl::FromUnixSeconds((absl::ToUnixSeconds(absl::Now()) / 86400 + 2) * 86400);
  auto slot = [&](int n) {
    bv1::CreateBookingRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_resource_id(resource.resource_id());
    r.set_customer_id(ana.customer_id());
    const absl::Time start = midnight + absl::Minutes(15) * n;
    *r.mutable_start_time() = ToTimestamp(start);
    *r.mutable_end_time() = ToTimestamp(start + absl::Minutes(15));
    return r;
  };
  auto book = [&](const std::shared_ptr<grpc::Channel>& channel,
                  const bv1::CreateBookingRequest& r) {
    return Call(*bv1::BookingsService::NewStub(channel), &bv1::BookingsService::Stub::CreateBooking,
                r, tenant_.admin_token, absl::Seconds(10));
  };
  const std::shared_ptr<grpc::Channel> channel = testing::Connect(bookings.address);
  const bv1::CreateBookingRequest first = slot(-1);
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Booking first_booking,
                              OnceKnown<bv1::Booking>([&] { return book(channel, first); }));
  // Client c books slot 4 i + c: each asks for a free slot.
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto cut, (KillMidStream<bv1::CreateBookingRequest, bv1::Booking>(
                    bookings, 30, [&](int c, int i) { return slot(4 * i + c); }, book)));
  cut.acknowledged.emplace_back(first, first_booking);
  RecordProperty("acknowledged_before_kill", static_cast<int>(cut.acknowledged.size()));
  RecordProperty("cut_off_by_kill", static_cast<int>(cut.unanswered.size()));

  COWORK_ASSERT_OK_AND_ASSIGN(bookings, testing::StartService("bookings", options));
  auto stub = bv1::BookingsService::NewStub(testing::Connect(bookings.address));
  std::set<std::string> ids;
  for (const auto& [request, booking] : cut.acknowledged) {
    bv1::GetBookingRequest get;
    get.set_booking_id(booking.booking_id());
    COWORK_ASSERT_OK_AND_ASSIGN(
        bv1::Booking got,
        Call(*stub, &bv1::BookingsService::Stub::GetBooking, get, tenant_.admin_token));
    EXPECT_EQ(got.start_time().seconds(), request.start_time().seconds());
    ids.insert(booking.booking_id());
  }
  for (const bv1::CreateBookingRequest& request : cut.unanswered) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        bv1::Booking retried,
        Call(*stub, &bv1::BookingsService::Stub::CreateBooking, request, tenant_.admin_token));
    ids.insert(retried.booking_id());
  }
  // Each slot once: as many bookings of the room as slots asked for.
  bv1::ListBookingsRequest list;
  list.set_resource_id(resource.resource_id());
  list.set_page_size(500);
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::ListBookingsResponse listed,
      Call(*stub, &bv1::BookingsService::Stub::ListBookings, list, tenant_.admin_token));
  std::set<int64_t> starts;
  for (const bv1::Booking& b : listed.bookings()) {
    EXPECT_TRUE(starts.insert(b.start_time().seconds()).second) << "slot sold twice";
  }
  EXPECT_EQ(static_cast<size_t>(listed.bookings_size()), ids.size());
  ExpectEachOnce(suite_->bootstrap(), "cowork.bookings.events", ids, "BookingCreated");
}

// The helpdesk service killed while clients open tickets: every acknowledged ticket is there,
// a cut-off one opens once when retried, and every TicketOpened reaches the topic once.
TEST_F(Faults, HelpdeskKillNineMidStreamLosesNoTicket) {
  namespace hv1 = ::cowork::helpdesk::v1;
  using testing::Call;
  const testing::ServiceOptions options{.data_dir = suite_->dir().Sub("helpdesk"),
                                        .bootstrap = suite_->bootstrap()};
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service helpdesk,
                              testing::StartService("helpdesk", options));
  COWORK_ASSERT_OK_AND_ASSIGN(Customer ana, AddCustomer(suite_->stubs(), tenant_.admin_token,
                                                        Individual(tenant_.location_id, "Ana",
                                                                   "Desk", "ana@faults.example")));
  auto ticket = [&](int c, int i) {
    hv1::OpenTicketRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(ana.customer_id());
    r.set_location_id(tenant_.location_id);
    r.set_subject(absl::StrCat("Ticket ", c, "-", i));
    r.set_message("The printer jams.");
    r.set_priority(hv1::NORMAL);
    return r;
  };
  auto open = [&](const std::shared_ptr<grpc::Channel>& channel, const hv1::OpenTicketRequest& r) {
    return Call(*hv1::HelpdeskService::NewStub(channel), &hv1::HelpdeskService::Stub::OpenTicket, r,
                tenant_.admin_token, absl::Seconds(10));
  };
  const std::shared_ptr<grpc::Channel> channel = testing::Connect(helpdesk.address);
  const hv1::OpenTicketRequest first = ticket(9, 9);
  COWORK_ASSERT_OK_AND_ASSIGN(hv1::Ticket first_ticket,
                              OnceKnown<hv1::Ticket>([&] { return open(channel, first); }));
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto cut, (KillMidStream<hv1::OpenTicketRequest, hv1::Ticket>(helpdesk, 30, ticket, open)));
  cut.acknowledged.emplace_back(first, first_ticket);

  COWORK_ASSERT_OK_AND_ASSIGN(helpdesk, testing::StartService("helpdesk", options));
  auto stub = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));
  std::set<std::string> ids;
  for (const auto& [request, opened] : cut.acknowledged) {
    hv1::GetTicketRequest get;
    get.set_ticket_id(opened.ticket_id());
    COWORK_ASSERT_OK_AND_ASSIGN(hv1::Ticket got, Call(*stub, &hv1::HelpdeskService::Stub::GetTicket,
                                                      get, tenant_.admin_token));
    EXPECT_EQ(got.subject(), request.subject());
    ids.insert(opened.ticket_id());
  }
  for (const hv1::OpenTicketRequest& request : cut.unanswered) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        hv1::Ticket retried,
        Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket, request, tenant_.admin_token));
    EXPECT_EQ(retried.subject(), request.subject());
    ids.insert(retried.ticket_id());
  }
  hv1::ListTicketsRequest list;
  list.set_location_id(tenant_.location_id);
  list.set_page_size(500);
  COWORK_ASSERT_OK_AND_ASSIGN(
      hv1::ListTicketsResponse listed,
      Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, list, tenant_.admin_token));
  std::set<std::string> subjects;
  for (const hv1::Ticket& t : listed.tickets()) {
    EXPECT_TRUE(subjects.insert(t.subject()).second) << t.subject() << " opened twice";
  }
  EXPECT_EQ(static_cast<size_t>(listed.tickets_size()), ids.size());
  ExpectEachOnce(suite_->bootstrap(), "cowork.helpdesk.events", ids, "TicketOpened");
}

// The contracts service killed while four customers buy day passes, each purchase invoiced as
// it is made: every acknowledged purchase has its invoice, a cut-off purchase retried happens
// once, and the location's invoice numbers run 1, 2, 3, ... without a gap or a repeat. The
// billing service, killed while it reads those invoices, then counts each buyer once.
TEST_F(Faults, ContractsKillNineMidStreamKeepsInvoiceNumbersGapless) {
  namespace av1 = ::cowork::billing::v1;
  using testing::Call;
  const std::string& admin = tenant_.admin_token;
  const testing::ServiceOptions options{.data_dir = suite_->dir().Sub("contracts"),
                                        .bootstrap = suite_->bootstrap()};
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service contracts,
                              testing::StartService("contracts", options));
  const testing::ServiceOptions billing_options{.data_dir = suite_->dir().Sub("billing"),
                                                .bootstrap = suite_->bootstrap()};
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service billing,
                              testing::StartService("billing", billing_options));
  constexpr int kClients = 4;
  std::vector<std::string> buyers;
  for (int c = 0; c < kClients; ++c) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer buyer, AddCustomer(suite_->stubs(), admin,
                                    Individual(tenant_.location_id, LetterName(c), "Buyer",
                                               absl::StrCat("buyer", c, "@faults.example"))));
    buyers.push_back(buyer.customer_id());
  }
  auto invoices = [&](const testing::Service& service) {
    return cv1::InvoicesService::NewStub(testing::Connect(service.address));
  };
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Product pass,
                              DayPassInvoicedAtOnce(contracts.address, tenant_, buyers));
  auto purchase = [&](int c, int) {
    cv1::BuyRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(buyers[c]);
    r.set_product_id(pass.product_id());
    return r;
  };
  auto buy = [&](const std::shared_ptr<grpc::Channel>& channel, const cv1::BuyRequest& r) {
    return Call(*cv1::PurchasesService::NewStub(channel), &cv1::PurchasesService::Stub::Buy, r,
                admin, absl::Seconds(10));
  };
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto cut, (KillMidStream<cv1::BuyRequest, cv1::Purchase>(contracts, 30, purchase, buy)));
  RecordProperty("acknowledged_before_kill", static_cast<int>(cut.acknowledged.size()));
  RecordProperty("cut_off_by_kill", static_cast<int>(cut.unanswered.size()));

  COWORK_ASSERT_OK_AND_ASSIGN(contracts, testing::StartService("contracts", options));
  const std::shared_ptr<grpc::Channel> channel = testing::Connect(contracts.address);
  std::set<std::string> purchases;
  for (const auto& [request, made] : cut.acknowledged) purchases.insert(made.purchase_id());
  for (const cv1::BuyRequest& request : cut.unanswered) {
    COWORK_ASSERT_OK_AND_ASSIGN(cv1::Purchase retried, buy(channel, request));
    purchases.insert(retried.purchase_id());
  }
  // Each purchase on exactly one invoice; the numbers 1..n, each once.
  cv1::ListInvoicesRequest list;
  list.set_location_id(tenant_.location_id);
  list.set_page_size(500);
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::ListInvoicesResponse listed,
      Call(*invoices(contracts), &cv1::InvoicesService::Stub::ListInvoices, list, admin));
  std::vector<int64_t> numbers;
  std::multiset<std::string> invoiced;
  std::set<std::string> invoice_ids;
  for (const cv1::Invoice& invoice : listed.invoices()) {
    numbers.push_back(invoice.number());
    invoice_ids.insert(invoice.invoice_id());
    for (const cv1::InvoiceLine& line : invoice.lines()) invoiced.insert(line.charge_id());
  }
  std::sort(numbers.begin(), numbers.end());
  std::vector<int64_t> gapless(numbers.size());
  for (size_t i = 0; i < gapless.size(); ++i) gapless[i] = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(numbers, gapless);
  EXPECT_EQ(numbers.size(), purchases.size()) << "one invoice per purchase, as they are made";
  EXPECT_EQ(invoiced.size(), purchases.size());
  EXPECT_EQ(std::set<std::string>(invoiced.begin(), invoiced.end()).size(), invoiced.size())
      << "a charge invoiced twice";
  // Invoices are events of the location's invoice book: one InvoiceIssued per invoice.
  ExpectCountOnce(suite_->bootstrap(), "cowork.contracts.events", tenant_.location_id,
                  "InvoiceIssued", static_cast<int>(invoice_ids.size()));

  // Billing, killed while it reads them, counts each buyer once (an invoiced one-off product
  // makes its buyer active).
  COWORK_ASSERT_OK(billing.process->Kill9().status());
  COWORK_ASSERT_OK_AND_ASSIGN(billing, testing::StartService("billing", billing_options));
  av1::GetActiveUsersRequest active;
  active.set_location_id(tenant_.location_id);
  active.set_month(absl::FormatTime("%Y-%m", absl::Now(), absl::UTCTimeZone()));
  auto users = av1::ActiveUsersService::NewStub(testing::Connect(billing.address));
  absl::StatusOr<av1::ActiveUsers> counted = Until(
      [&] { return Call(*users, &av1::ActiveUsersService::Stub::GetActiveUsers, active, admin); },
      [&](const absl::StatusOr<av1::ActiveUsers>& r) { return r.ok() && r->count() == kClients; });
  COWORK_ASSERT_OK(counted);
  std::set<std::string> active_ids;
  for (const av1::ActiveUser& user : counted->users()) active_ids.insert(user.customer_id());
  EXPECT_EQ(active_ids, std::set<std::string>(buyers.begin(), buyers.end()));
}

// The checkins service killed while customers check in: every acknowledged check-in is there
// after the restart, a cut-off one retried happens once, and each CheckedIn is on the topic once.
TEST_F(Faults, CheckinsKillNineMidStreamLosesNoCheckIn) {
  namespace kv1 = ::cowork::checkins::v1;
  using testing::Call;
  const std::string& admin = tenant_.admin_token;
  constexpr int kClients = 4;
  constexpr int kPerClient = 40;  // customers per client: each checks in once
  const testing::ServiceOptions options{.data_dir = suite_->dir().Sub("checkins"),
                                        .bootstrap = suite_->bootstrap()};
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service checkins,
                              testing::StartService("checkins", options));
  std::vector<std::string> members;
  for (int n = 0; n < kClients * kPerClient; ++n) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer member, AddCustomer(suite_->stubs(), admin,
                                     Individual(tenant_.location_id, LetterName(n), "Member",
                                                absl::StrCat("member", n, "@faults.example"))));
    members.push_back(member.customer_id());
  }
  auto check_in_of = [&](int c, int i) {
    kv1::CheckInRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_customer_id(members[c * kPerClient + i]);
    r.set_location_id(tenant_.location_id);
    r.set_method(kv1::MANUAL);
    return r;
  };
  auto check_in = [&](const std::shared_ptr<grpc::Channel>& channel, const kv1::CheckInRequest& r) {
    return Call(*kv1::CheckinsService::NewStub(channel), &kv1::CheckinsService::Stub::CheckIn, r,
                admin, absl::Seconds(10));
  };
  // The service knows every member before the stream starts (it learns them from the
  // customers topic, whose partitions it reads in no particular order): each has been in and
  // out once.
  const std::shared_ptr<grpc::Channel> first_channel = testing::Connect(checkins.address);
  for (int n = 0; n < kClients * kPerClient; ++n) {
    COWORK_ASSERT_OK(OnceKnown<kv1::CheckInRecord>(
        [&] { return check_in(first_channel, check_in_of(n / kPerClient, n % kPerClient)); }));
    kv1::CheckOutRequest out;
    out.set_request_id(testing::NewRequestId());
    out.set_customer_id(members[n]);
    COWORK_ASSERT_OK(Call(*kv1::CheckinsService::NewStub(first_channel),
                          &kv1::CheckinsService::Stub::CheckOut, out, admin));
  }
  COWORK_ASSERT_OK_AND_ASSIGN(auto cut, (KillMidStream<kv1::CheckInRequest, kv1::CheckInRecord>(
                                            checkins, 30, check_in_of, check_in, kPerClient)));
  RecordProperty("acknowledged_before_kill", static_cast<int>(cut.acknowledged.size()));
  RecordProperty("cut_off_by_kill", static_cast<int>(cut.unanswered.size()));

  COWORK_ASSERT_OK_AND_ASSIGN(checkins, testing::StartService("checkins", options));
  const std::shared_ptr<grpc::Channel> channel = testing::Connect(checkins.address);
  std::set<std::string> in;
  for (const auto& [request, record] : cut.acknowledged) in.insert(request.customer_id());
  for (const kv1::CheckInRequest& request : cut.unanswered) {
    // As a client does after a crash: again, with the same request id, while the answer says
    // "try again" (the restarted service may still be opening up).
    COWORK_ASSERT_OK(Until([&] { return check_in(channel, request); },
                           [](const absl::StatusOr<kv1::CheckInRecord>& r) {
                             return !absl::IsUnavailable(r.status()) &&
                                    !absl::IsAborted(r.status()) &&
                                    !absl::IsDeadlineExceeded(r.status());
                           }));
    in.insert(request.customer_id());
  }
  for (const std::string& customer : in) {
    kv1::GetPresenceRequest get;
    get.set_customer_id(customer);
    COWORK_ASSERT_OK_AND_ASSIGN(kv1::Presence presence,
                                Call(*kv1::CheckinsService::NewStub(channel),
                                     &kv1::CheckinsService::Stub::GetPresence, get, admin));
    EXPECT_EQ(presence.checkin().location_id(), tenant_.location_id) << customer << " is not in";
  }
  kv1::ListPresentRequest present;
  present.set_location_id(tenant_.location_id);
  present.set_page_size(500);
  COWORK_ASSERT_OK_AND_ASSIGN(kv1::ListPresentResponse listed,
                              Call(*kv1::CheckinsService::NewStub(channel),
                                   &kv1::CheckinsService::Stub::ListPresent, present, admin));
  EXPECT_EQ(listed.count(), static_cast<int64_t>(in.size()));
  ExpectEachOnce(suite_->bootstrap(), "cowork.checkins.events", in, "CheckedIn");
}

// The brokers go down while bookings, helpdesk, contracts and checkins take commands: every
// command succeeds, and once the brokers are back every event reaches its topic, each once and
// in order per aggregate.
TEST_F(Faults, BrokerOutageLosesNoEventOfAnyService) {
  namespace bv1 = ::cowork::bookings::v1;
  namespace hv1 = ::cowork::helpdesk::v1;
  namespace kv1 = ::cowork::checkins::v1;
  using testing::Call;
  const std::string& admin = tenant_.admin_token;
  std::map<std::string, testing::Service> services;
  for (const char* name : {"bookings", "helpdesk", "contracts", "checkins"}) {
    COWORK_ASSERT_OK_AND_ASSIGN(services[name],
                                testing::StartService(name, {.data_dir = suite_->dir().Sub(name),
                                                             .bootstrap = suite_->bootstrap()}));
  }
  auto channel = [&](const char* name) { return testing::Connect(services[name].address); };
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer ana,
      AddCustomer(suite_->stubs(), admin,
                  Individual(tenant_.location_id, "Ana", "Outage", "ana@outage.example")));
  const std::string& id = ana.customer_id();

  // Before the outage: what the commands need, each service knowing Ana.
  bv1::CreateResourceRequest room;
  room.set_request_id(testing::NewRequestId());
  room.set_location_id(tenant_.location_id);
  room.mutable_spec()->set_name("Room");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(1);
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource resource, OnceKnown<bv1::Resource>([&] {
                                return Call(*bv1::ResourcesService::NewStub(channel("bookings")),
                                            &bv1::ResourcesService::Stub::CreateResource, room,
                                            admin);
                              }));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Product pass,
                              DayPassInvoicedAtOnce(services["contracts"].address, tenant_, {id}));
  hv1::OpenTicketRequest open;
  open.set_customer_id(id);
  open.set_location_id(tenant_.location_id);
  open.set_message("The door sticks.");
  open.set_priority(hv1::NORMAL);
  const absl::Time midnight =
      absl::FromUnixSeconds((absl::ToUnixSeconds(absl::Now()) / 86400 + 2) * 86400);
  std::set<std::string> bookings, tickets;
  // One round of commands, one or two to each service. `wait_known`: retried until the
  // service knows Ana (it learns her from the customers topic).
  auto round = [&](int n, bool wait_known) -> absl::Status {
    auto call = [&](auto fn) { return wait_known ? UntilKnown(fn) : fn(); };
    bv1::CreateBookingRequest booking;
    booking.set_request_id(testing::NewRequestId());
    booking.set_resource_id(resource.resource_id());
    booking.set_customer_id(id);
    *booking.mutable_start_time() = ToTimestamp(midnight + absl::Hours(8 + n));
    *booking.mutable_end_time() = ToTimestamp(midnight + absl::Hours(9 + n));
    absl::StatusOr<bv1::Booking> made = call([&] {
      return Call(*bv1::BookingsService::NewStub(channel("bookings")),
                  &bv1::BookingsService::Stub::CreateBooking, booking, admin, absl::Seconds(10));
    });
    if (!made.ok()) return made.status();
    bookings.insert(made->booking_id());

    open.set_request_id(testing::NewRequestId());
    open.set_subject(absl::StrCat("Round ", n));
    absl::StatusOr<hv1::Ticket> ticket = call([&] {
      return Call(*hv1::HelpdeskService::NewStub(channel("helpdesk")),
                  &hv1::HelpdeskService::Stub::OpenTicket, open, admin, absl::Seconds(10));
    });
    if (!ticket.ok()) return ticket.status();
    tickets.insert(ticket->ticket_id());

    cv1::BuyRequest buy;
    buy.set_request_id(testing::NewRequestId());
    buy.set_customer_id(id);
    buy.set_product_id(pass.product_id());
    absl::StatusOr<cv1::Purchase> bought = call([&] {
      return Call(*cv1::PurchasesService::NewStub(channel("contracts")),
                  &cv1::PurchasesService::Stub::Buy, buy, admin, absl::Seconds(10));
    });
    if (!bought.ok()) return bought.status();

    kv1::CheckInRequest in;
    in.set_request_id(testing::NewRequestId());
    in.set_customer_id(id);
    in.set_location_id(tenant_.location_id);
    in.set_method(kv1::MANUAL);
    absl::StatusOr<kv1::CheckInRecord> arrived = call([&] {
      return Call(*kv1::CheckinsService::NewStub(channel("checkins")),
                  &kv1::CheckinsService::Stub::CheckIn, in, admin, absl::Seconds(10));
    });
    if (!arrived.ok()) return arrived.status();
    kv1::CheckOutRequest out;
    out.set_request_id(testing::NewRequestId());
    out.set_customer_id(id);
    return Call(*kv1::CheckinsService::NewStub(channel("checkins")),
                &kv1::CheckinsService::Stub::CheckOut, out, admin, absl::Seconds(10))
        .status();
  };
  COWORK_ASSERT_OK(round(0, /*wait_known=*/true));

  size_t log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR1));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: down$", absl::Seconds(10), log_offset));

  // During the outage every command still succeeds.
  constexpr int kRounds = 3;
  for (int n = 1; n <= kRounds; ++n) COWORK_ASSERT_OK(round(n, /*wait_known=*/false));
  std::set<std::string> invoices;
  cv1::ListInvoicesRequest list;
  list.set_customer_id(id);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse listed,
                              Call(*cv1::InvoicesService::NewStub(channel("contracts")),
                                   &cv1::InvoicesService::Stub::ListInvoices, list, admin));
  for (const cv1::Invoice& invoice : listed.invoices()) invoices.insert(invoice.invoice_id());
  EXPECT_EQ(invoices.size(), static_cast<size_t>(kRounds + 1));

  log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR2));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: up$", absl::Seconds(10), log_offset));
  ExpectEachOnce(suite_->bootstrap(), "cowork.bookings.events", bookings, "BookingCreated");
  ExpectEachOnce(suite_->bootstrap(), "cowork.helpdesk.events", tickets, "TicketOpened");
  ExpectCountOnce(suite_->bootstrap(), "cowork.contracts.events", tenant_.location_id,
                  "InvoiceIssued", static_cast<int>(invoices.size()));
  ExpectCountOnce(suite_->bootstrap(), "cowork.checkins.events", id, "CheckedOut", kRounds + 1);
  COWORK_ASSERT_OK_AND_ASSIGN(std::vector<Event> checkins,
                              ReadEvents(suite_->bootstrap(), "cowork.checkins.events"));
  EXPECT_EQ(CountOf(checkins, id, "CheckedIn"), kRounds + 1);
}

}  // namespace
}  // namespace cowork::e2e
