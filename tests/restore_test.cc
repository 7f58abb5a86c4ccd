// End to end: a service whose volume is lost comes back from its Kafka topics
// (--restore-from-topic). The customers, bookings and helpdesk services (real processes, the
// dev broker) get a mixed workload — customers, an erasure, a room with bookings (one
// cancelled), tickets with replies; then each service in turn is stopped, its data dir
// deleted, and started again with --restore-from-topic on the empty dir. Every list and get
// answer is the same as before; what is kept beside the views comes back too (the email
// claims, the schedules that keep a slot from being sold twice, the seal keys from the keys
// topics), and the erased customer stays unreadable. A restore over a data dir that holds
// anything is refused.

#include <signal.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace hv1 = ::cowork::helpdesk::v1;
namespace uv1 = ::cowork::customers::v1;
using testing::Call;

// What a service answers: one line per call, the response as text or the error's code.
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

template <typename Fn>
auto UntilKnown(Fn fn) -> decltype(fn()) {
  return Until(fn, [](const auto& r) { return Known(r); });
}

// Polls `answers` until they equal `want` (a restored service reads the other services'
// topics again after it starts), at most 30 s; returns the last answers.
Answers SameAgain(const std::function<Answers()>& answers, const Answers& want) {
  return Until(answers, [&](const Answers& a) { return a == want; });
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

  std::unique_ptr<Suite> suite_;
  Tenant tenant_;
};

TEST_F(Restore, EveryServiceComesBackFromItsTopicsWithTheSameAnswers) {
  // ---- customers: three, one of them erased at the end
  std::vector<std::string> customer_ids;
  for (const char* name : {"Ana", "Ben", "Cleo"}) {
    COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer c,
                                AddCustomer(suite_->stubs(), tenant_.admin_token,
                                            Individual(tenant_.location_id, name, "Lost",
                                                       absl::StrCat(name, "@lost.test"))));
    customer_ids.push_back(c.customer_id());
  }
  const std::string& ana = customer_ids[0];
  const std::string& ben = customer_ids[1];
  const std::string& cleo = customer_ids[2];

  // ---- helpdesk: a ticket each for Ana and Cleo, a reply on Ana's
  const testing::ServiceOptions helpdesk_options = OptionsOf("helpdesk");
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service helpdesk,
                              testing::StartService("helpdesk", helpdesk_options));
  std::vector<std::string> ticket_ids;
  for (const std::string& customer : {ana, cleo}) {
    hv1::OpenTicketRequest open;
    open.set_request_id(testing::NewRequestId());
    open.set_customer_id(customer);
    open.set_location_id(tenant_.location_id);
    open.set_subject(absl::StrCat("Wi-Fi for ", customer));
    open.set_message("It drops every hour.");
    open.set_priority(hv1::NORMAL);
    auto stub = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));
    COWORK_ASSERT_OK_AND_ASSIGN(hv1::Ticket ticket, UntilKnown([&] {
                                  return Call(*stub, &hv1::HelpdeskService::Stub::OpenTicket, open,
                                              tenant_.admin_token);
                                }));
    ticket_ids.push_back(ticket.ticket_id());
  }
  {
    hv1::ReplyToTicketRequest reply;
    reply.set_request_id(testing::NewRequestId());
    reply.set_ticket_id(ticket_ids[0]);
    reply.set_message("Restarted the access point.");
    auto stub = hv1::HelpdeskService::NewStub(testing::Connect(helpdesk.address));
    COWORK_ASSERT_OK(
        Call(*stub, &hv1::HelpdeskService::Stub::ReplyToTicket, reply, tenant_.admin_token));
  }

  // ---- bookings: a room, two bookings of Ana's, one of Ben's cancelled
  const testing::ServiceOptions bookings_options = OptionsOf("bookings");
  COWORK_ASSERT_OK_AND_ASSIGN(testing::Service bookings,
                              testing::StartService("bookings", bookings_options));
  bv1::CreateResourceRequest room;
  room.set_request_id(testing::NewRequestId());
  room.set_location_id(tenant_.location_id);
  room.mutable_spec()->set_name("Archive room");
  room.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  room.mutable_spec()->set_capacity(1);  // one booking at a time
  auto resources = bv1::ResourcesService::NewStub(testing::Connect(bookings.address));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource resource, UntilKnown([&] {
                                return Call(*resources,
                                            &bv1::ResourcesService::Stub::CreateResource, room,
                                            tenant_.admin_token);
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
  for (const auto& [customer, hour] :
       std::vector<std::pair<std::string, int>>{{ana, 9}, {ana, 11}, {ben, 13}}) {
    const bv1::CreateBookingRequest request = booking_of(customer, hour);
    auto stub = bv1::BookingsService::NewStub(testing::Connect(bookings.address));
    COWORK_ASSERT_OK_AND_ASSIGN(bv1::Booking booking, UntilKnown([&] {
                                  return Call(*stub, &bv1::BookingsService::Stub::CreateBooking,
                                              request, tenant_.admin_token);
                                }));
    booking_ids.push_back(booking.booking_id());
  }
  {
    bv1::CancelBookingRequest cancel;
    cancel.set_request_id(testing::NewRequestId());
    cancel.set_booking_id(booking_ids[2]);
    auto stub = bv1::BookingsService::NewStub(testing::Connect(bookings.address));
    COWORK_ASSERT_OK(
        Call(*stub, &bv1::BookingsService::Stub::CancelBooking, cancel, tenant_.admin_token));
  }

  // ---- Cleo is erased; the helpdesk learns it from the customers topic
  {
    uv1::EraseCustomerRequest erase;
    erase.set_request_id(testing::NewRequestId());
    erase.set_customer_id(cleo);
    COWORK_ASSERT_OK(Call(*suite_->stubs().customers, &uv1::CustomersService::Stub::EraseCustomer,
                          erase, tenant_.admin_token));
  }

  // ---- the answers of each service
  auto customers_answers = [&](testing::CustomersStubs& stubs) {
    Answers out;
    uv1::ListCustomersRequest list;
    list.set_location_id(tenant_.location_id);
    absl::StatusOr<std::vector<uv1::Customer>> all =
        ListAllCustomers(stubs, tenant_.admin_token, list);
    out["list"] = Outcome(all);
    for (const uv1::Customer& c : all.value_or(std::vector<uv1::Customer>())) {
      out["list"] += "\n" + c.ShortDebugString();
    }
    for (const std::string& id : customer_ids) {
      out[id] = Text(GetCustomer(stubs, tenant_.admin_token, id));
    }
    // The email claim: Ana's address is taken, Cleo's was freed by the erasure.
    out["ana's email again"] =
        Outcome(AddCustomer(stubs, tenant_.admin_token,
                            Individual(tenant_.location_id, "Ana", "Twice", "Ana@lost.test")));
    return out;
  };
  auto helpdesk_answers = [&](const testing::Service& service) {
    Answers out;
    auto stub = hv1::HelpdeskService::NewStub(testing::Connect(service.address));
    hv1::ListTicketsRequest list;
    list.set_location_id(tenant_.location_id);
    list.set_page_size(500);
    out["list"] =
        Text(Call(*stub, &hv1::HelpdeskService::Stub::ListTickets, list, tenant_.admin_token));
    for (const std::string& id : ticket_ids) {
      hv1::GetTicketRequest get;
      get.set_ticket_id(id);
      out[id] = Text(Call(*stub, &hv1::HelpdeskService::Stub::GetTicket, get, tenant_.admin_token));
    }
    return out;
  };
  auto bookings_answers = [&](const testing::Service& service) {
    Answers out;
    auto stub = bv1::BookingsService::NewStub(testing::Connect(service.address));
    auto resources = bv1::ResourcesService::NewStub(testing::Connect(service.address));
    bv1::ListResourcesRequest rooms;
    rooms.set_location_id(tenant_.location_id);
    out["resources"] = Text(
        Call(*resources, &bv1::ResourcesService::Stub::ListResources, rooms, tenant_.admin_token));
    bv1::ListBookingsRequest list;
    list.set_resource_id(resource.resource_id());
    list.set_page_size(500);
    out["list"] =
        Text(Call(*stub, &bv1::BookingsService::Stub::ListBookings, list, tenant_.admin_token));
    for (const std::string& id : booking_ids) {
      bv1::GetBookingRequest get;
      get.set_booking_id(id);
      out[id] =
          Text(Call(*stub, &bv1::BookingsService::Stub::GetBooking, get, tenant_.admin_token));
    }
    // The schedule: Ana's 9 o'clock slot is taken, whoever asks for it (with a new request id,
    // so nothing recorded answers for the schedule).
    out["9 o'clock again"] = Outcome(Call(*stub, &bv1::BookingsService::Stub::CreateBooking,
                                          booking_of(ben, 9), tenant_.admin_token));
    return out;
  };

  const Answers helpdesk_before =
      Until([&] { return helpdesk_answers(helpdesk); },
            [&](const Answers& a) {
              return a.at(ticket_ids[1]).find("erased: true") != std::string::npos;
            });
  ASSERT_NE(helpdesk_before.at(ticket_ids[1]).find("erased: true"), std::string::npos)
      << "the helpdesk did not learn of the erasure";
  ASSERT_NE(helpdesk_before.at(ticket_ids[0]).find("Wi-Fi for"), std::string::npos);
  const Answers bookings_before = bookings_answers(bookings);
  ASSERT_NE(bookings_before.at("9 o'clock again"), "ok") << "the slot is taken";
  const Answers customers_before = customers_answers(suite_->stubs());
  ASSERT_EQ(customers_before.at("ana's email again"), "error 6") << "ALREADY_EXISTS: claimed";
  ASSERT_NE(customers_before.at(ana).find("@lost.test"), std::string::npos)
      << customers_before.at(ana);

  // ---- each service loses its volume and comes back from its topics
  {
    ExpectOutboxEmpty(helpdesk);
    COWORK_ASSERT_OK_AND_ASSIGN(helpdesk,
                                LoseAndRestore("helpdesk", *helpdesk.process, helpdesk_options));
    EXPECT_EQ(SameAgain([&] { return helpdesk_answers(helpdesk); }, helpdesk_before),
              helpdesk_before);
  }
  {
    ExpectOutboxEmpty(bookings);
    COWORK_ASSERT_OK_AND_ASSIGN(bookings,
                                LoseAndRestore("bookings", *bookings.process, bookings_options));
    EXPECT_EQ(SameAgain([&] { return bookings_answers(bookings); }, bookings_before),
              bookings_before);
  }
  {
    ExpectOutboxEmpty(suite_->customers_service());
    COWORK_ASSERT_OK_AND_ASSIGN(
        testing::Service restored,
        LoseAndRestore("customers", suite_->customers(), suite_->options()));
    testing::CustomersStubs stubs = testing::CustomersStubs::Connect(restored.address);
    EXPECT_EQ(SameAgain([&] { return customers_answers(stubs); }, customers_before),
              customers_before);

    // A store that holds anything is never restored over.
    COWORK_ASSERT_OK(restored.process->Terminate());
    testing::ServiceOptions again = suite_->options();
    again.extra_args.push_back("--restore-from-topic");
    absl::StatusOr<testing::Service> refused = testing::StartCustomers(again);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("needs an empty --data-dir"), std::string::npos)
        << refused.status();
  }
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
