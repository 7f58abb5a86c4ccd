// End to end: the dev broker, the customers, contracts and bookings services as real
// processes. Plan credit comes from the contracts events, suspension and teams from the
// customers events, and what credit does not cover reaches the member's account in the
// contracts service from the bookings events; 50 clients racing for one slot over gRPC leave
// exactly one booking.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/clock/proto_time.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
using testing::Call;

// Retries while the answer is NOT_FOUND: services learn locations, customers and contracts
// from the other services' events a moment after they are committed.
template <typename Fn>
auto UntilKnown(Fn fn) -> decltype(fn()) {
  return Until(fn, [](const auto& r) { return r.status().code() != absl::StatusCode::kNotFound; });
}

// Tomorrow at `hour` in Madrid (the tenant's location), on the quarter hour.
absl::Time TomorrowAt(int hour) {
  absl::TimeZone madrid;
  absl::LoadTimeZone("Europe/Madrid", &madrid);
  const absl::CivilDay tomorrow = absl::ToCivilDay(absl::Now(), madrid) + 1;
  return absl::FromCivil(absl::CivilHour(tomorrow.year(), tomorrow.month(), tomorrow.day(), hour),
                         madrid);
}

struct Bookings {
  testing::Service process;
  std::unique_ptr<bv1::ResourcesService::Stub> resources;
  std::unique_ptr<bv1::BookingsService::Stub> bookings;
  std::unique_ptr<bv1::CreditService::Stub> credit;
};

absl::StatusOr<Bookings> StartBookings(Suite& suite) {
  absl::StatusOr<testing::Service> process = testing::StartService(
      "bookings", {.data_dir = suite.dir().Sub("bookings"), .bootstrap = suite.bootstrap()});
  if (!process.ok()) return process.status();
  std::shared_ptr<grpc::Channel> channel = testing::Connect(process->address);
  return Bookings{*std::move(process), bv1::ResourcesService::NewStub(channel),
                  bv1::BookingsService::NewStub(channel), bv1::CreditService::NewStub(channel)};
}

absl::StatusOr<bv1::Resource> CreateRoom(Bookings& b, const Tenant& tenant, int capacity,
                                         int64_t price) {
  bv1::CreateResourceRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_location_id(tenant.location_id);
  r.mutable_spec()->set_name("Room " + std::to_string(capacity));
  r.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  r.mutable_spec()->set_capacity(capacity);
  r.mutable_spec()->set_hourly_price_minor(price);
  r.mutable_spec()->set_portal_bookable(true);
  return UntilKnown([&] {
    return Call(*b.resources, &bv1::ResourcesService::Stub::CreateResource, r, tenant.admin_token);
  });
}

bv1::CreateBookingRequest Booking(const std::string& resource, const std::string& customer,
                                  absl::Time start, absl::Time end) {
  bv1::CreateBookingRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_resource_id(resource);
  r.set_customer_id(customer);
  *r.mutable_start_time() = ToTimestamp(start);
  *r.mutable_end_time() = ToTimestamp(end);
  return r;
}

TEST(BookingsEndToEnd, PlanCreditChargesTeamsAndSuspension) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Bookings Co"));
  COWORK_ASSERT_OK_AND_ASSIGN(
      testing::Service contracts,
      testing::StartService("contracts", {.data_dir = suite->dir().Sub("contracts"),
                                          .bootstrap = suite->bootstrap()}));
  std::shared_ptr<grpc::Channel> contracts_channel = testing::Connect(contracts.address);
  auto plans = cv1::PlansService::NewStub(contracts_channel);
  auto contracts_stub = cv1::ContractsService::NewStub(contracts_channel);
  auto invoices = cv1::InvoicesService::NewStub(contracts_channel);
  COWORK_ASSERT_OK_AND_ASSIGN(Bookings b, StartBookings(*suite));

  COWORK_ASSERT_OK_AND_ASSIGN(
      customers::v1::Customer ana,
      AddCustomer(suite->stubs(), tenant.admin_token,
                  Individual(tenant.location_id, "Ana", "García", "ana@example.test")));
  COWORK_ASSERT_OK_AND_ASSIGN(
      customers::v1::Customer ben,
      AddCustomer(suite->stubs(), tenant.admin_token,
                  Individual(tenant.location_id, "Ben", "Okafor", "ben@example.test")));

  // Ana signs up today to a plan with an hour of booking credit per month.
  cv1::CreatePlanRequest plan_request;
  plan_request.set_request_id(testing::NewRequestId());
  plan_request.set_location_id(tenant.location_id);
  plan_request.set_name("Hot desk");
  plan_request.set_price_minor(15000);
  plan_request.set_booking_credit_minutes(60);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan plan, UntilKnown([&] {
                                return Call(*plans, &cv1::PlansService::Stub::CreatePlan,
                                            plan_request, tenant.admin_token);
                              }));
  cv1::CreateContractRequest sign;
  sign.set_request_id(testing::NewRequestId());
  sign.set_customer_id(ana.customer_id());
  sign.set_plan_id(plan.plan_id());
  COWORK_ASSERT_OK(UntilKnown([&] {
    return Call(*contracts_stub, &cv1::ContractsService::Stub::CreateContract, sign,
                tenant.admin_token);
  }));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room, CreateRoom(b, tenant, 1, 2000));

  // The bookings service learns the plan's credit from the contracts events.
  bv1::GetCreditRequest credit_of_ana;
  credit_of_ana.set_customer_id(ana.customer_id());
  credit_of_ana.set_location_id(tenant.location_id);
  *credit_of_ana.mutable_day() = ToDate(absl::ToCivilDay(TomorrowAt(10), absl::UTCTimeZone()));
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::CreditBalance balance,
      Until([&] { return Call(*b.credit, &bv1::CreditService::Stub::GetCredit, credit_of_ana,
                              tenant.admin_token); },
            [](const absl::StatusOr<bv1::CreditBalance>& r) {
              return r.ok() && r->available_minutes() == 60;
            }));
  EXPECT_EQ(balance.available_minutes(), 60);

  // Two hours tomorrow: one paid by credit, one charged at 20.00 — on Ana's account in the
  // contracts service, waiting for her period's end (she is a member).
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Booking booked,
      Call(*b.bookings, &bv1::BookingsService::Stub::CreateBooking,
           Booking(room.resource_id(), ana.customer_id(), TomorrowAt(10), TomorrowAt(12)),
           tenant.admin_token));
  EXPECT_EQ(booked.credit_minutes(), 60);
  EXPECT_EQ(booked.charge().amount_minor(), 2000);
  cv1::GetAccountRequest account;
  account.set_customer_id(ana.customer_id());
  account.set_location_id(tenant.location_id);
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Account waiting,
      Until([&] { return Call(*invoices, &cv1::InvoicesService::Stub::GetAccount, account,
                              tenant.admin_token); },
            [](const absl::StatusOr<cv1::Account>& r) {
              return r.ok() && r->uninvoiced_size() == 1;
            }));
  ASSERT_EQ(waiting.uninvoiced_size(), 1);
  EXPECT_EQ(waiting.uninvoiced(0).amount().amount_minor(), 2000);

  // Cancelled: the credit comes back and the charge is voided.
  bv1::CancelBookingRequest cancel;
  cancel.set_request_id(testing::NewRequestId());
  cancel.set_booking_id(booked.booking_id());
  COWORK_ASSERT_OK(Call(*b.bookings, &bv1::BookingsService::Stub::CancelBooking, cancel,
                        tenant.admin_token));
  COWORK_ASSERT_OK_AND_ASSIGN(
      waiting,
      Until([&] { return Call(*invoices, &cv1::InvoicesService::Stub::GetAccount, account,
                              tenant.admin_token); },
            [](const absl::StatusOr<cv1::Account>& r) {
              return r.ok() && r->uninvoiced_size() == 0;
            }));
  EXPECT_EQ(waiting.uninvoiced_size(), 0);
  COWORK_ASSERT_OK_AND_ASSIGN(balance, Call(*b.credit, &bv1::CreditService::Stub::GetCredit,
                                            credit_of_ana, tenant.admin_token));
  EXPECT_EQ(balance.available_minutes(), 60);

  // Ben, in a team with Ana that shares booking credit, books with her unused hour.
  customers::v1::CreateTeamRequest team;
  team.set_request_id(testing::NewRequestId());
  team.set_location_id(tenant.location_id);
  team.set_name("Acme");
  team.add_member_ids(ana.customer_id());
  team.add_member_ids(ben.customer_id());
  team.set_share_booking_credit(true);
  COWORK_ASSERT_OK(Call(*suite->stubs().teams, &customers::v1::TeamsService::Stub::CreateTeam,
                        team, tenant.admin_token));
  bv1::GetCreditRequest credit_of_ben = credit_of_ana;
  credit_of_ben.set_customer_id(ben.customer_id());
  COWORK_ASSERT_OK(Until(
      [&] { return Call(*b.credit, &bv1::CreditService::Stub::GetCredit, credit_of_ben,
                        tenant.admin_token); },
      [](const absl::StatusOr<bv1::CreditBalance>& r) {
        return r.ok() && r->team_minutes_left() == 60;
      }));
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Booking bens,
      Call(*b.bookings, &bv1::BookingsService::Stub::CreateBooking,
           Booking(room.resource_id(), ben.customer_id(), TomorrowAt(14), TomorrowAt(15)),
           tenant.admin_token));
  EXPECT_EQ(bens.credit_minutes(), 60);
  EXPECT_EQ(bens.charge().amount_minor(), 0);

  // Suspended in the customers service: the bookings service refuses Ben's next booking.
  customers::v1::SuspendCustomerRequest suspend;
  suspend.set_request_id(testing::NewRequestId());
  suspend.set_customer_id(ben.customer_id());
  COWORK_ASSERT_OK(Call(*suite->stubs().customers,
                        &customers::v1::CustomersService::Stub::SuspendCustomer, suspend,
                        tenant.admin_token));
  absl::StatusOr<bv1::Booking> refused = Until(
      [&] {
        return Call(*b.bookings, &bv1::BookingsService::Stub::CreateBooking,
                    Booking(room.resource_id(), ben.customer_id(), TomorrowAt(16),
                            TomorrowAt(17)),
                    tenant.admin_token);
      },
      [](const absl::StatusOr<bv1::Booking>& r) { return !r.ok(); });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  // On the topic: each event once and in order per aggregate, with a confirmation for each
  // booking made.
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          suite->bootstrap(), testing::kBookingsTopic,
          [&](const std::vector<Event>& all) {
            return CountOf(all, bens.booking_id(), "BookingConfirmationRequested") == 1;
          },
          absl::Seconds(30), "Ben's confirmation"));
  const ApplyOnceResult applied = ApplyOnce(events);
  EXPECT_THAT(applied.problems, ::testing::IsEmpty());
  std::vector<std::string> types;
  for (const Event& e : applied.applied.at(booked.booking_id())) types.push_back(e.type);
  EXPECT_THAT(types, ::testing::ElementsAre("cowork.bookings.v1.BookingCreated",
                                            "cowork.bookings.v1.BookingConfirmationRequested",
                                            "cowork.bookings.v1.BookingCancelled"));
}

TEST(BookingsEndToEnd, FiftyClientsRaceForOneSlotAndExactlyOneWins) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Suite> suite, Suite::Start());
  COWORK_ASSERT_OK_AND_ASSIGN(Tenant tenant, CreateTenant(suite->stubs(), "Race Co"));
  COWORK_ASSERT_OK_AND_ASSIGN(Bookings b, StartBookings(*suite));
  std::vector<std::string> customers;
  for (int i = 0; i < 5; ++i) {
    COWORK_ASSERT_OK_AND_ASSIGN(
        customers::v1::Customer c,
        AddCustomer(suite->stubs(), tenant.admin_token,
                    Individual(tenant.location_id, "Racer", "Number",
                               "racer" + std::to_string(i) + "@example.test")));
    customers.push_back(c.customer_id());
  }
  for (int capacity : {1, 4}) {
    COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room, CreateRoom(b, tenant, capacity, 0));
    // Every customer is known before the race starts.
    for (const std::string& c : customers) {
      bv1::GetCreditRequest known;
      known.set_customer_id(c);
      known.set_location_id(tenant.location_id);
      COWORK_ASSERT_OK(UntilKnown([&] {
        return Call(*b.credit, &bv1::CreditService::Stub::GetCredit, known, tenant.admin_token);
      }));
    }
    std::atomic<int> won{0}, lost{0};
    std::vector<std::string> other;
    absl::Mutex mu;
    std::vector<std::thread> clients;
    for (int i = 0; i < 50; ++i) {
      clients.emplace_back([&, i] {
        // Each client on its own channel: 50 connections, 50 calls in flight.
        auto stub = bv1::BookingsService::NewStub(testing::Connect(b.process.address));
        absl::StatusOr<bv1::Booking> r =
            Call(*stub, &bv1::BookingsService::Stub::CreateBooking,
                 Booking(room.resource_id(), customers[i % customers.size()], TomorrowAt(9),
                         TomorrowAt(10)),
                 tenant.admin_token);
        if (r.ok()) {
          ++won;
        } else if (r.status().code() == absl::StatusCode::kAborted ||
                   r.status().code() == absl::StatusCode::kFailedPrecondition) {
          ++lost;
        } else {
          absl::MutexLock lock(&mu);
          other.push_back(r.status().ToString());
        }
      });
    }
    for (std::thread& t : clients) t.join();
    EXPECT_EQ(won.load(), capacity);
    EXPECT_EQ(lost.load(), 50 - capacity);
    EXPECT_THAT(other, ::testing::IsEmpty());
    bv1::ListBookingsRequest list;
    list.set_resource_id(room.resource_id());
    COWORK_ASSERT_OK_AND_ASSIGN(bv1::ListBookingsResponse held,
                                Call(*b.bookings, &bv1::BookingsService::Stub::ListBookings,
                                     list, tenant.admin_token));
    EXPECT_EQ(held.bookings_size(), capacity);
  }
}

}  // namespace
}  // namespace cowork::e2e
