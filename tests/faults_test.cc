// Faults: the customers service (and the bookings service) killed with SIGKILL in the middle of
// a stream of commands, and the Kafka brokers taken down while commands keep coming. The dev
// broker and the services are real processes; the test sees them only through gRPC and a plain
// Kafka consumer.
//
// What "applied once" means here: ApplyOnce (tests/support/e2e.h) walks the topic in partition
// order and applies an aggregate's sequence n only right after n-1; a gap, a step back or a
// conflicting copy fails the test. And there must be no copy at all, so a plain Kafka reader
// sees every event once: after a SIGKILL the relay reads the tails of its topics and does not
// send again a row delivered before the kill, and across a broker outage the idempotent
// producer sends none twice.

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/customers/v1/events.pb.h"
#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

using customers::v1::AddCustomerRequest;
using customers::v1::Customer;
using customers::v1::CustomersService;
using ::testing::IsEmpty;

// Letters only: names may hold no digits, so the n-th name spells n in letters.
std::string LetterName(int n) {
  std::string name = "Ka";
  do {
    name.push_back(static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n > 0);
  return name;
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = Suite::Start();
    ASSERT_TRUE(suite.ok()) << suite.status();
    suite_ = std::move(*suite);
    auto tenant = CreateTenant(suite_->stubs(), "Faulty Towers");
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = *tenant;
  }

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

// What a stream of commands left when its service was killed.
template <typename Request, typename Response>
struct CutOff {
  std::vector<std::pair<Request, Response>> acknowledged;
  std::vector<Request> unanswered;  // failed when the kill cut them off
};

// Four clients, each on its own channel as separate programs would be, send one command after
// another to `service` (`send`, the request of client c's i-th command from `request_for`);
// once `min_acks` are acknowledged the service is killed with SIGKILL while they still send.
template <typename Request, typename Response>
absl::StatusOr<CutOff<Request, Response>> KillMidStream(
    testing::Service& service, int min_acks, const std::function<Request(int, int)>& request_for,
    const std::function<absl::StatusOr<Response>(const std::shared_ptr<grpc::Channel>&,
                                                 const Request&)>& send) {
  constexpr int kClients = 4;
  constexpr int kMaxPerClient = 200;  // bounds each loop: far more than are sent before the kill
  absl::Mutex mu;
  CutOff<Request, Response> out;  // guarded by mu
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::shared_ptr<grpc::Channel> channel = testing::Connect(service.address);
      for (int i = 0; i < kMaxPerClient && !stop.load(); ++i) {
        Request request = request_for(c, i);
        absl::StatusOr<Response> answer = send(channel, request);
        absl::MutexLock lock(&mu);
        if (!answer.ok()) {
          out.unanswered.push_back(std::move(request));
          return;
        }
        out.acknowledged.emplace_back(std::move(request), *std::move(answer));
        acks.fetch_add(1);
      }
    });
  }
  absl::Status enough = testing::PollUntil([&] { return acks.load() >= min_acks; },
                                           absl::Seconds(60), "acknowledged commands");
  absl::StatusOr<testing::ExitStatus> killed = service.process->Kill9();
  stop.store(true);
  for (std::thread& t : clients) t.join();
  if (!enough.ok()) return enough;
  if (!killed.ok()) return killed.status();
  if (!killed->signaled || killed->signal != SIGKILL) {
    return absl::InternalError(absl::StrCat("not killed: ", killed->ToString()));
  }
  return out;
}

// Calls `call` until it answers anything but NOT_FOUND (a service learns locations and
// customers from the customers topic a moment after they are committed).
template <typename Response>
absl::StatusOr<Response> OnceKnown(const std::function<absl::StatusOr<Response>()>& call) {
  absl::StatusOr<Response> answer = absl::NotFoundError("not called");
  absl::Status known = testing::PollUntil(
      [&] {
        answer = call();
        return answer.status().code() != absl::StatusCode::kNotFound;
      },
      absl::Seconds(30), "the service to know the location and customer");
  if (!known.ok()) return known;
  return answer;
}

// Every one of `ids` has exactly one `type` event on `topic`, in order, and nothing is there
// twice.
void ExpectEachOnce(const std::string& bootstrap, const std::string& topic,
                    const std::set<std::string>& ids, absl::string_view type) {
  absl::StatusOr<std::vector<Event>> events = WaitForEvents(
      bootstrap, topic,
      [&](const std::vector<Event>& events) {
        for (const std::string& id : ids) {
          if (CountOf(events, id, type) < 1) return false;
        }
        return true;
      },
      absl::Seconds(30), absl::StrCat("a ", type, " for every one"));
  ASSERT_TRUE(events.ok()) << events.status();
  ApplyOnceResult applied = ApplyOnce(*events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on " << topic;
}

TEST_F(Faults, KillNineMidStreamLosesNoAcknowledgedCommand) {
  constexpr int kClients = 4;
  constexpr int kAcknowledgedBeforeKill = 60;
  // Bounds each client's loop: far more than are ever sent before the kill.
  constexpr int kMaxPerClient = 2000;

  absl::Mutex mu;
  std::vector<std::pair<AddCustomerRequest, Customer>> acknowledged;  // guarded by mu
  std::vector<std::pair<AddCustomerRequest, absl::Status>> unanswered;  // guarded by mu
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};

  // Each client has its own channel, as separate programs would, and sends one command after
  // another until a call fails (the kill) or the test stops it.
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      testing::CustomersStubs stubs = testing::CustomersStubs::Connect(suite_->address());
      for (int i = 0; i < kMaxPerClient && !stop.load(); ++i) {
        AddCustomerRequest request =
            Individual(tenant_.location_id, LetterName(c * kMaxPerClient + i), "Stream",
                       absl::StrCat("client", c, ".n", i, "@faults.example"));
        absl::StatusOr<Customer> added = testing::Call(
            *stubs.customers, &CustomersService::Stub::AddCustomer, request,
            tenant_.admin_token, absl::Seconds(10));
        absl::MutexLock lock(&mu);
        if (!added.ok()) {
          unanswered.emplace_back(request, added.status());
          return;
        }
        acknowledged.emplace_back(request, *added);
        acks.fetch_add(1);
      }
    });
  }
  absl::Status enough = testing::PollUntil([&] { return acks.load() >= kAcknowledgedBeforeKill; },
                                           absl::Seconds(30), "acknowledged commands");
  // Killed while the clients are still sending.
  absl::StatusOr<testing::ExitStatus> killed = suite_->customers().Kill9();
  stop.store(true);
  for (std::thread& t : clients) t.join();
  COWORK_ASSERT_OK(enough);
  COWORK_ASSERT_OK(killed);
  ASSERT_TRUE(killed->signaled && killed->signal == SIGKILL) << killed->ToString();
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kAcknowledgedBeforeKill));
  RecordProperty("acknowledged_before_kill", static_cast<int>(acknowledged.size()));
  RecordProperty("cut_off_by_kill", static_cast<int>(unanswered.size()));

  COWORK_ASSERT_OK(suite_->StartCustomersAgain());
  testing::CustomersStubs& stubs = suite_->stubs();
  const std::string& token = tenant_.admin_token;

  // Every acknowledged command is there.
  std::set<std::string> ids;
  for (const auto& [request, customer] : acknowledged) {
    SCOPED_TRACE(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(Customer got, GetCustomer(stubs, token, customer.customer_id()));
    EXPECT_EQ(got.email(), request.email());
    EXPECT_EQ(got.first_name(), request.first_name());
    ids.insert(customer.customer_id());
  }
  // A command cut off by the kill may or may not have happened; retried with its request id it
  // succeeds, and either way exactly one customer has its email.
  for (const auto& [request, status] : unanswered) {
    SCOPED_TRACE(absl::StrCat(request.email(), " first failed with ", status.ToString()));
    COWORK_ASSERT_OK_AND_ASSIGN(Customer retried, AddCustomer(stubs, token, request));
    EXPECT_EQ(retried.email(), request.email());
    ids.insert(retried.customer_id());
  }
  for (const auto& [request, customer] : acknowledged) {
    customers::v1::ListCustomersRequest by_email;
    by_email.set_email(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs, token, by_email));
    EXPECT_EQ(found.size(), 1u) << request.email();
  }
  for (const auto& [request, status] : unanswered) {
    customers::v1::ListCustomersRequest by_email;
    by_email.set_email(request.email());
    COWORK_ASSERT_OK_AND_ASSIGN(auto found, ListAllCustomers(stubs, token, by_email));
    EXPECT_EQ(found.size(), 1u) << request.email() << " after a retry with the same request id";
  }
  customers::v1::ListCustomersRequest at_location;
  at_location.set_location_id(tenant_.location_id);
  COWORK_ASSERT_OK_AND_ASSIGN(auto all, ListAllCustomers(stubs, token, at_location));
  EXPECT_EQ(all.size(), ids.size());

  // ... and published: every customer's CustomerAdded reaches the topic.
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            std::set<std::string> added;
            for (const Event& e : events) {
              if (e.type == "cowork.customers.v1.CustomerAdded") {
                added.insert(e.envelope.aggregate_id());
              }
            }
            for (const std::string& id : ids) {
              if (!added.contains(id)) return false;
            }
            return true;
          },
          absl::Seconds(30), "a CustomerAdded for every customer"));
  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on the topic";
  int customers_published = 0;
  for (const auto& [aggregate, list] : applied.applied) {
    if (list.front().envelope.aggregate_type() != "customer") continue;
    ++customers_published;
    EXPECT_TRUE(ids.contains(aggregate)) << "published customer " << aggregate << " is not listed";
    ASSERT_EQ(list.size(), 1u) << aggregate;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
  }
  EXPECT_EQ(customers_published, static_cast<int>(ids.size()));
}

TEST_F(Faults, BrokerOutageDelaysEventsAndLosesNone) {
  testing::CustomersStubs& stubs = suite_->stubs();
  const std::string& token = tenant_.admin_token;
  std::vector<std::string> early;
  for (int i = 0; i < 4; ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer c, AddCustomer(stubs, token,
                                Individual(tenant_.location_id, LetterName(i), "Before",
                                           absl::StrCat("before", i, "@outage.example"))));
    early.push_back(c.customer_id());
  }
  COWORK_ASSERT_OK(WaitForEvents(
      suite_->bootstrap(), testing::kCustomersTopic,
      [&](const std::vector<Event>& events) {
        for (const std::string& id : early) {
          if (CountOf(events, id, "CustomerAdded") != 1) return false;
        }
        return true;
      },
      absl::Seconds(20), "the events before the outage"));

  // Brokers down: the dev broker says so, and a plain consumer cannot read any more.
  size_t log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR1));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: down$", absl::Seconds(10), log_offset));
  EXPECT_FALSE(
      ReadTopicFromZero(suite_->bootstrap(), testing::kCustomersTopic, absl::Seconds(2)).ok())
      << "the topic is still readable with the brokers down";

  // Commands keep succeeding.
  constexpr int kUpdates = 3;
  for (int round = 1; round <= kUpdates; ++round) {
    for (const std::string& id : early) {
      customers::v1::UpdateCustomerRequest update;
      update.set_request_id(testing::NewRequestId());
      update.mutable_customer()->set_customer_id(id);
      update.mutable_customer()->set_phone(absl::StrCat("+34 600 000 00", round));
      update.mutable_update_mask()->add_paths("phone");
      COWORK_ASSERT_OK(testing::Call(*stubs.customers, &CustomersService::Stub::UpdateCustomer,
                                     update, token, absl::Seconds(10)));
    }
  }
  std::vector<std::string> during;
  for (int i = 0; i < 6; ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        Customer c, AddCustomer(stubs, token,
                                Individual(tenant_.location_id, LetterName(100 + i), "During",
                                           absl::StrCat("during", i, "@outage.example"))));
    during.push_back(c.customer_id());
  }
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(during[0]);
  COWORK_ASSERT_OK(testing::Call(*stubs.customers, &CustomersService::Stub::SuspendCustomer,
                                 suspend, token, absl::Seconds(10)));
  // Reads answer from the service's own store meanwhile.
  COWORK_ASSERT_OK_AND_ASSIGN(Customer read, GetCustomer(stubs, token, early[0]));
  EXPECT_EQ(read.phone(), "+34 600 000 003");

  // Brokers up: every event arrives, in order per aggregate, none missing.
  log_offset = suite_->broker().LogSize();
  COWORK_ASSERT_OK(suite_->broker().Signal(SIGUSR2));
  COWORK_ASSERT_OK(suite_->broker().WaitForLine("^brokers: up$", absl::Seconds(10), log_offset));
  COWORK_ASSERT_OK_AND_ASSIGN(
      auto events,
      WaitForEvents(
          suite_->bootstrap(), testing::kCustomersTopic,
          [&](const std::vector<Event>& events) {
            for (const std::string& id : early) {
              if (CountOf(events, id, "CustomerUpdated") < kUpdates) return false;
            }
            for (const std::string& id : during) {
              if (CountOf(events, id, "CustomerAdded") < 1) return false;
            }
            return CountOf(events, during[0], "CustomerSuspended") >= 1;
          },
          absl::Seconds(45), "every event written during the outage"));

  ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, IsEmpty());
  EXPECT_EQ(applied.duplicates, 0) << "copies of delivered events on the topic";
  for (const std::string& id : early) {
    const std::vector<Event>& list = applied.applied[id];
    ASSERT_EQ(list.size(), 1u + kUpdates) << id;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
    for (int round = 1; round <= kUpdates; ++round) {
      EXPECT_EQ(list[round].type, "cowork.customers.v1.CustomerUpdated");
      EXPECT_EQ(list[round].envelope.sequence(), 1 + round);
    }
  }
  for (const std::string& id : during) {
    const std::vector<Event>& list = applied.applied[id];
    ASSERT_FALSE(list.empty()) << id;
    EXPECT_EQ(list[0].type, "cowork.customers.v1.CustomerAdded");
    EXPECT_EQ(list.size(), id == during[0] ? 2u : 1u) << id;
  }

  // And the service keeps publishing after the outage.
  COWORK_ASSERT_OK_AND_ASSIGN(
      Customer after, AddCustomer(stubs, token,
                                  Individual(tenant_.location_id, "Lastly", "After",
                                             "after@outage.example")));
  COWORK_ASSERT_OK(WaitForEvents(
      suite_->bootstrap(), testing::kCustomersTopic,
      [&](const std::vector<Event>& events) {
        return CountOf(events, after.customer_id(), "CustomerAdded") == 1;
      },
      absl::Seconds(20), "an event after the outage"));
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

}  // namespace
}  // namespace cowork::e2e
