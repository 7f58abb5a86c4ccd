// End to end: the active users of the platform subscription (SPEC "Subscription billing:
// active users", reference 003). The dev broker and the customers, contracts, bookings,
// checkins and billing services run as real processes, every one on a simulated clock that
// the test moves forward together (the billing service learns everything from the
// customers, contracts and bookings topics; the check-ins only stand for visits, which count
// for nothing). Each worked scenario of reference 003 is one test:
//
//  1. a member invoiced in May, suspended a week after the invoice, counts in May;
//  2. a member on a free plan without bookings counts while the contract holds;
//  3. a contact without bookings in a team whose paying member holds a plan counts;
//  4. a contact who books in June for July, and buys in August a weekly pass used in
//     September, counts in June and August only;
//  5. a member of location A who books at B and visits C counts at A and B, not at C;
//  6. a contact who books in January with free credit for February counts in January only.
//
// Every answer is checked exactly (who is counted, with which criteria) once the billing
// service has learned what the scenario did, and every reason must cite events that are on
// the topics. Negative checks ("not counted in July") come after a positive one proving the
// billing service has read the events that could have wrongly counted the customer.
//
// The billing service's current month moves with the events it reads: after each move of
// the clocks the test adds a customer (a "clock marker", never active) so that an event of the
// new month is on the customers topic, as there would be in any live operator.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cowork/billing/v1/billing.grpc.pb.h"
#include "cowork/bookings/v1/bookings.grpc.pb.h"
#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"
#include "libs/clock/proto_time.h"
#include "libs/testing/suite.h"
#include "tests/support/e2e.h"

namespace cowork::e2e {
namespace {

namespace av1 = ::cowork::billing::v1;
namespace bv1 = ::cowork::bookings::v1;
namespace cv1 = ::cowork::contracts::v1;
namespace kv1 = ::cowork::checkins::v1;
namespace uv1 = ::cowork::customers::v1;
namespace common = ::cowork::common::v1;
using testing::Call;

// ---------------------------------------------------------------- time

absl::TimeZone Madrid() {
  absl::TimeZone tz;
  absl::LoadTimeZone("Europe/Madrid", &tz);
  return tz;
}

// A wall-clock time in Madrid (every location of these tests is there).
absl::Time At(int year, int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0), Madrid());
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

std::string MonthOf(int year, int month) { return absl::StrFormat("%04d-%02d", year, month); }

// ---------------------------------------------------------------- the running services

struct World {
  std::unique_ptr<Suite> suite;
  Tenant tenant;
  testing::Service contracts, bookings, checkins, billing;
  std::unique_ptr<cv1::PlansService::Stub> plans;
  std::unique_ptr<cv1::ContractsService::Stub> contracts_stub;
  std::unique_ptr<cv1::ProductsService::Stub> products;
  std::unique_ptr<cv1::PurchasesService::Stub> purchases;
  std::unique_ptr<cv1::InvoicesService::Stub> invoices;
  std::unique_ptr<bv1::ResourcesService::Stub> resources;
  std::unique_ptr<bv1::BookingsService::Stub> bookings_stub;
  std::unique_ptr<bv1::CreditService::Stub> credit;
  std::unique_ptr<kv1::CheckinsService::Stub> checkins_stub;
  std::unique_ptr<av1::ActiveUsersService::Stub> active;
  std::unique_ptr<av1::SubscriptionService::Stub> subscription;
  // Every service's simulated clock, by service name.
  std::vector<std::pair<std::string, std::unique_ptr<common::TestClockService::Stub>>> clocks;
  // Customer id -> first name, for readable failures.
  std::map<std::string, std::string> names;
  int markers = 0;
};

// Starts the broker and every service on a simulated clock at `start`, and creates the
// tenant (one location in Madrid, an admin token with every permission).
absl::StatusOr<std::unique_ptr<World>> StartWorld(absl::string_view name, absl::Time start) {
  auto w = std::make_unique<World>();
  const std::vector<std::string> clock = {"--simulated-clock", Rfc3339(start)};
  absl::StatusOr<std::unique_ptr<Suite>> suite = Suite::Start({.extra_args = clock});
  if (!suite.ok()) return suite.status();
  w->suite = *std::move(suite);
  auto start_service = [&](const std::string& service) {
    return testing::StartService(service, {.data_dir = w->suite->dir().Sub(service),
                                           .bootstrap = w->suite->bootstrap(),
                                           .extra_args = clock});
  };
  absl::StatusOr<testing::Service> contracts = start_service("contracts");
  if (!contracts.ok()) return contracts.status();
  w->contracts = *std::move(contracts);
  absl::StatusOr<testing::Service> bookings = start_service("bookings");
  if (!bookings.ok()) return bookings.status();
  w->bookings = *std::move(bookings);
  absl::StatusOr<testing::Service> checkins = start_service("checkins");
  if (!checkins.ok()) return checkins.status();
  w->checkins = *std::move(checkins);
  absl::StatusOr<testing::Service> billing = start_service("billing");
  if (!billing.ok()) return billing.status();
  w->billing = *std::move(billing);

  std::shared_ptr<grpc::Channel> contracts_channel = testing::Connect(w->contracts.address);
  w->plans = cv1::PlansService::NewStub(contracts_channel);
  w->contracts_stub = cv1::ContractsService::NewStub(contracts_channel);
  w->products = cv1::ProductsService::NewStub(contracts_channel);
  w->purchases = cv1::PurchasesService::NewStub(contracts_channel);
  w->invoices = cv1::InvoicesService::NewStub(contracts_channel);
  std::shared_ptr<grpc::Channel> bookings_channel = testing::Connect(w->bookings.address);
  w->resources = bv1::ResourcesService::NewStub(bookings_channel);
  w->bookings_stub = bv1::BookingsService::NewStub(bookings_channel);
  w->credit = bv1::CreditService::NewStub(bookings_channel);
  std::shared_ptr<grpc::Channel> checkins_channel = testing::Connect(w->checkins.address);
  w->checkins_stub = kv1::CheckinsService::NewStub(checkins_channel);
  std::shared_ptr<grpc::Channel> billing_channel = testing::Connect(w->billing.address);
  w->active = av1::ActiveUsersService::NewStub(billing_channel);
  w->subscription = av1::SubscriptionService::NewStub(billing_channel);
  w->clocks.emplace_back("customers", common::TestClockService::NewStub(w->suite->stubs().channel));
  w->clocks.emplace_back("contracts", common::TestClockService::NewStub(contracts_channel));
  w->clocks.emplace_back("bookings", common::TestClockService::NewStub(bookings_channel));
  w->clocks.emplace_back("checkins", common::TestClockService::NewStub(checkins_channel));
  w->clocks.emplace_back("billing", common::TestClockService::NewStub(billing_channel));

  absl::StatusOr<Tenant> tenant = CreateTenant(w->suite->stubs(), name);
  if (!tenant.ok()) return tenant.status();
  w->tenant = *std::move(tenant);
  return w;
}

// Moves every service's clock to `t`, then adds a clock marker (an inactive customer) so
// that an event of the new time is on the customers topic.
absl::Status MoveClocks(World& w, absl::Time t) {
  common::SetTimeRequest set;
  *set.mutable_time() = ToTimestamp(t);
  for (auto& [service, stub] : w.clocks) {
    absl::StatusOr<common::ClockTime> moved =
        Call(*stub, &common::TestClockService::Stub::SetTime, set, w.tenant.admin_token);
    if (!moved.ok()) {
      return absl::Status(moved.status().code(),
                          absl::StrCat("moving the clock of ", service, " to ", Rfc3339(t), ": ",
                                       moved.status().message()));
    }
  }
  ++w.markers;
  absl::StatusOr<uv1::Customer> marker = AddCustomer(
      w.suite->stubs(), w.tenant.admin_token,
      Individual(w.tenant.location_id, "Clock", "Marker",
                 absl::StrCat("marker", w.markers, "@markers.example")));
  return marker.status();
}

absl::StatusOr<uv1::Customer> AddPerson(World& w, const std::string& location_id,
                                        const std::string& first_name) {
  absl::StatusOr<uv1::Customer> c =
      AddCustomer(w.suite->stubs(), w.tenant.admin_token,
                  Individual(location_id, first_name, "Billing",
                             absl::StrCat(absl::AsciiStrToLower(first_name), "@example.test")));
  if (c.ok()) w.names[c->customer_id()] = first_name;
  return c;
}

absl::StatusOr<cv1::Plan> CreatePlan(World& w, const std::string& location_id,
                                     const std::string& name, int64_t price_minor) {
  cv1::CreatePlanRequest r;
  r.set_location_id(location_id);
  r.set_name(name);
  r.set_price_minor(price_minor);
  return UntilKnown([&] {
    r.set_request_id(testing::NewRequestId());
    return Call(*w.plans, &cv1::PlansService::Stub::CreatePlan, r, w.tenant.admin_token);
  });
}

// Signs `customer_id` up to `plan_id` from today, until `end` (inclusive) when given.
absl::StatusOr<cv1::Contract> Sign(World& w, const std::string& customer_id,
                                   const std::string& plan_id,
                                   std::optional<absl::CivilDay> end = std::nullopt) {
  cv1::CreateContractRequest r;
  r.set_customer_id(customer_id);
  r.set_plan_id(plan_id);
  if (end.has_value()) *r.mutable_end_date() = ToDate(*end);
  return UntilKnown([&] {
    r.set_request_id(testing::NewRequestId());
    return Call(*w.contracts_stub, &cv1::ContractsService::Stub::CreateContract, r,
                w.tenant.admin_token);
  });
}

absl::StatusOr<bv1::Resource> CreateRoom(World& w, const std::string& location_id,
                                         const std::string& name, int64_t hourly_price_minor) {
  bv1::CreateResourceRequest r;
  r.set_location_id(location_id);
  r.mutable_spec()->set_name(name);
  r.mutable_spec()->set_kind(bv1::MEETING_ROOM);
  r.mutable_spec()->set_capacity(4);
  r.mutable_spec()->set_hourly_price_minor(hourly_price_minor);
  return UntilKnown([&] {
    r.set_request_id(testing::NewRequestId());
    return Call(*w.resources, &bv1::ResourcesService::Stub::CreateResource, r,
                w.tenant.admin_token);
  });
}

// An admin books `resource_id` for `customer_id` from `start` to `end`.
absl::StatusOr<bv1::Booking> Book(World& w, const std::string& resource_id,
                                  const std::string& customer_id, absl::Time start,
                                  absl::Time end) {
  bv1::CreateBookingRequest r;
  r.set_resource_id(resource_id);
  r.set_customer_id(customer_id);
  *r.mutable_start_time() = ToTimestamp(start);
  *r.mutable_end_time() = ToTimestamp(end);
  return UntilKnown([&] {
    r.set_request_id(testing::NewRequestId());
    return Call(*w.bookings_stub, &bv1::BookingsService::Stub::CreateBooking, r,
                w.tenant.admin_token);
  });
}

// An admin checks `customer_id` in at `location_id` at the front desk (a visit).
absl::StatusOr<kv1::CheckInRecord> Visit(World& w, const std::string& customer_id,
                                         const std::string& location_id) {
  kv1::CheckInRequest r;
  r.set_customer_id(customer_id);
  r.set_location_id(location_id);
  r.set_method(kv1::MANUAL);
  return UntilKnown([&] {
    r.set_request_id(testing::NewRequestId());
    return Call(*w.checkins_stub, &kv1::CheckinsService::Stub::CheckIn, r, w.tenant.admin_token);
  });
}

absl::StatusOr<cv1::ListInvoicesResponse> InvoicesOf(World& w, const std::string& customer_id) {
  cv1::ListInvoicesRequest r;
  r.set_customer_id(customer_id);
  return Call(*w.invoices, &cv1::InvoicesService::Stub::ListInvoices, r, w.tenant.admin_token);
}

// Waits until the customer has `n` invoices (the contracts service issues them on its
// scheduler's next pass, or as a contact buys).
absl::StatusOr<cv1::ListInvoicesResponse> WaitForInvoices(World& w,
                                                          const std::string& customer_id,
                                                          int n) {
  absl::StatusOr<cv1::ListInvoicesResponse> r =
      Until([&] { return InvoicesOf(w, customer_id); },
            [n](const absl::StatusOr<cv1::ListInvoicesResponse>& r) {
              return r.ok() && r->invoices_size() == n;
            });
  if (r.ok() && r->invoices_size() != n) {
    return absl::DeadlineExceededError(absl::StrCat(customer_id, " has ", r->invoices_size(),
                                                    " invoices, not ", n));
  }
  return r;
}

absl::Status WaitForContractState(World& w, const std::string& contract_id,
                                  cv1::ContractState state) {
  cv1::GetContractRequest r;
  r.set_contract_id(contract_id);
  absl::StatusOr<cv1::Contract> c = Until(
      [&] {
        return Call(*w.contracts_stub, &cv1::ContractsService::Stub::GetContract, r,
                    w.tenant.admin_token);
      },
      [state](const absl::StatusOr<cv1::Contract>& c) { return c.ok() && c->state() == state; });
  if (!c.ok()) return c.status();
  if (c->state() != state) {
    return absl::DeadlineExceededError(absl::StrCat("contract ", contract_id, " is ",
                                                    cv1::ContractState_Name(c->state()),
                                                    ", not ", cv1::ContractState_Name(state)));
  }
  return absl::OkStatus();
}

absl::Status WaitForKind(World& w, const std::string& customer_id, uv1::CustomerKind kind) {
  absl::StatusOr<uv1::Customer> c =
      Until([&] { return GetCustomer(w.suite->stubs(), w.tenant.admin_token, customer_id); },
            [kind](const absl::StatusOr<uv1::Customer>& c) { return c.ok() && c->kind() == kind; });
  if (!c.ok()) return c.status();
  if (c->kind() != kind) {
    return absl::DeadlineExceededError(absl::StrCat("customer ", customer_id, " is ",
                                                    uv1::CustomerKind_Name(c->kind())));
  }
  return absl::OkStatus();
}

absl::StatusOr<uv1::Customer> Suspend(World& w, const std::string& customer_id) {
  uv1::SuspendCustomerRequest r;
  r.set_request_id(testing::NewRequestId());
  r.set_customer_id(customer_id);
  return Call(*w.suite->stubs().customers, &uv1::CustomersService::Stub::SuspendCustomer, r,
              w.tenant.admin_token);
}

// ---------------------------------------------------------------- what the billing service says

absl::StatusOr<av1::ActiveUsers> ActiveUsersOf(World& w, const std::string& location_id,
                                               const std::string& month,
                                               absl::string_view token = "") {
  av1::GetActiveUsersRequest r;
  r.set_location_id(location_id);
  r.set_month(month);
  return Call(*w.active, &av1::ActiveUsersService::Stub::GetActiveUsers, r,
              token.empty() ? absl::string_view(w.tenant.admin_token) : token);
}

// What a customer is expected to be counted for.
struct Expected {
  std::set<av1::Criterion> criteria;
  // false: `criteria` must hold, others may too.
  bool exact = true;
  // (criterion, id): the reason for `criterion` cites an event of aggregate `id` or whose
  // payload names `id` (a contract, a booking, an invoice, a team).
  std::vector<std::pair<av1::Criterion, std::string>> cites;
};
// Customer id -> what they are counted for; nobody else is counted.
using Expectation = std::map<std::string, Expected>;

std::set<av1::Criterion> CriteriaOf(const av1::ActiveUser& user) {
  std::set<av1::Criterion> out;
  for (const av1::Reason& reason : user.reasons()) out.insert(reason.criterion());
  return out;
}

bool Matches(const av1::ActiveUsers& got, const Expectation& want) {
  if (got.count() != static_cast<int64_t>(want.size()) ||
      got.users_size() != static_cast<int>(want.size())) {
    return false;
  }
  for (const av1::ActiveUser& user : got.users()) {
    auto it = want.find(user.customer_id());
    if (it == want.end()) return false;
    const std::set<av1::Criterion> criteria = CriteriaOf(user);
    if (it->second.exact ? criteria != it->second.criteria
                         : !std::includes(criteria.begin(), criteria.end(),
                                          it->second.criteria.begin(),
                                          it->second.criteria.end())) {
      return false;
    }
  }
  return true;
}

std::string NameOf(const World& w, const std::string& customer_id) {
  auto it = w.names.find(customer_id);
  return it == w.names.end() ? customer_id : absl::StrCat(it->second, " (", customer_id, ")");
}

std::string Describe(const World& w, const std::set<av1::Criterion>& criteria) {
  std::vector<std::string> names;
  for (av1::Criterion c : criteria) names.push_back(av1::Criterion_Name(c));
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

std::string Describe(const World& w, const av1::ActiveUsers& got) {
  std::string out = absl::StrCat("count ", got.count(), ", users [");
  for (const av1::ActiveUser& user : got.users()) {
    absl::StrAppend(&out, " ", NameOf(w, user.customer_id()), " ", Describe(w, CriteriaOf(user)));
  }
  return absl::StrCat(out, " ]");
}

std::string Describe(const World& w, const Expectation& want) {
  std::string out = absl::StrCat("count ", want.size(), ", users [");
  for (const auto& [customer_id, expected] : want) {
    absl::StrAppend(&out, " ", NameOf(w, customer_id), " ", Describe(w, expected.criteria),
                    expected.exact ? "" : " (at least)");
  }
  return absl::StrCat(out, " ]");
}

// Every event of the three topics the billing service reads, by event id.
using EventIndex = std::map<std::string, Event>;
absl::StatusOr<EventIndex> EventsById(World& w) {
  std::map<std::string, Event> out;
  for (absl::string_view topic :
       {testing::kCustomersTopic, testing::kContractsTopic, testing::kBookingsTopic}) {
    absl::StatusOr<std::vector<Event>> events = ReadEvents(w.suite->bootstrap(), topic);
    if (absl::IsNotFound(events.status())) continue;  // nothing written there yet
    if (!events.ok()) return events.status();
    for (Event& e : *events) out.emplace(e.envelope.event_id(), std::move(e));
  }
  return out;
}

// Polls GetActiveUsers(location, month) until it answers `want` (bounded), then asserts that
// it does and that every reason cites real events (and the ones `want` names).
void ExpectActiveUsers(World& w, const std::string& location_id, const std::string& month,
                       const Expectation& want) {
  SCOPED_TRACE(absl::StrCat("active users of ", location_id, " in ", month));
  absl::StatusOr<av1::ActiveUsers> got =
      Until([&] { return ActiveUsersOf(w, location_id, month); },
            [&](const absl::StatusOr<av1::ActiveUsers>& r) { return r.ok() && Matches(*r, want); });
  ASSERT_TRUE(got.ok()) << "GetActiveUsers(" << location_id << ", " << month
                        << "): " << got.status();
  EXPECT_EQ(got->location_id(), location_id);
  EXPECT_EQ(got->month(), month);
  ASSERT_TRUE(Matches(*got, want)) << "got      " << Describe(w, *got) << "\nexpected "
                                   << Describe(w, want);
  if (got->users().empty()) return;

  COWORK_ASSERT_OK_AND_ASSIGN(EventIndex events, EventsById(w));
  for (const av1::ActiveUser& user : got->users()) {
    std::set<av1::Criterion> seen;
    for (const av1::Reason& reason : user.reasons()) {
      const std::string what = absl::StrCat(NameOf(w, user.customer_id()), " ",
                                            av1::Criterion_Name(reason.criterion()));
      EXPECT_TRUE(seen.insert(reason.criterion()).second) << what << " given twice";
      EXPECT_FALSE(reason.event_ids().empty()) << what << " cites no event";
      for (const std::string& id : reason.event_ids()) {
        EXPECT_TRUE(events.contains(id)) << what << " cites " << id
                                         << ", which is on none of the three topics";
      }
      for (const auto& [criterion, subject] : want.at(user.customer_id()).cites) {
        if (criterion != reason.criterion()) continue;
        bool cited = false;
        std::vector<std::string> types;
        for (const std::string& id : reason.event_ids()) {
          auto it = events.find(id);
          if (it == events.end()) continue;
          types.push_back(absl::StrCat(it->second.type, " of ", it->second.envelope.aggregate_id()));
          cited = cited || it->second.envelope.aggregate_id() == subject ||
                  absl::StrContains(it->second.envelope.payload().value(), subject);
        }
        EXPECT_TRUE(cited) << what << " cites no event of " << subject << "; it cites ["
                           << absl::StrJoin(types, ", ") << "]";
      }
    }
  }
}

// ListActiveUserCounts(location, from..to) gives `expected` for the months in order, and
// agrees with GetActiveUsers month by month.
void ExpectMonthlyCounts(World& w, const std::string& location_id,
                         const std::vector<std::string>& months,
                         const std::vector<int64_t>& expected) {
  SCOPED_TRACE(absl::StrCat("counts of ", location_id, " from ", months.front(), " to ",
                            months.back()));
  ASSERT_EQ(months.size(), expected.size());
  av1::ListActiveUserCountsRequest r;
  r.set_location_id(location_id);
  r.set_from_month(months.front());
  r.set_to_month(months.back());
  auto counts_of = [](const av1::ListActiveUserCountsResponse& response) {
    std::vector<int64_t> out;
    for (const av1::MonthCount& c : response.counts()) out.push_back(c.count());
    return out;
  };
  absl::StatusOr<av1::ListActiveUserCountsResponse> listed = Until(
      [&] {
        return Call(*w.active, &av1::ActiveUsersService::Stub::ListActiveUserCounts, r,
                    w.tenant.admin_token);
      },
      [&](const absl::StatusOr<av1::ListActiveUserCountsResponse>& response) {
        return response.ok() && counts_of(*response) == expected;
      });
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(counts_of(*listed), ::testing::ElementsAreArray(expected));
  ASSERT_EQ(listed->counts_size(), static_cast<int>(months.size()));
  for (size_t i = 0; i < months.size(); ++i) {
    const av1::MonthCount& listed_count = listed->counts(static_cast<int>(i));
    EXPECT_EQ(listed_count.location_id(), location_id);
    EXPECT_EQ(listed_count.month(), months[i]);
    COWORK_ASSERT_OK_AND_ASSIGN(av1::ActiveUsers users, ActiveUsersOf(w, location_id, months[i]));
    EXPECT_EQ(users.count(), listed_count.count())
        << months[i] << ": GetActiveUsers and ListActiveUserCounts disagree";
    EXPECT_EQ(users.users_size(), users.count()) << months[i];
  }
}

// The id of the first invoice of `customer_id`, with its issue day checked.
void ExpectOneInvoice(World& w, const std::string& customer_id, absl::CivilDay issued_on,
                      std::string* invoice_id) {
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse invoices,
                              WaitForInvoices(w, customer_id, 1));
  ASSERT_EQ(invoices.invoices_size(), 1);
  EXPECT_EQ(FromDate(invoices.invoices(0).issue_date()), issued_on)
      << NameOf(w, customer_id) << "'s invoice";
  *invoice_id = invoices.invoices(0).invoice_id();
}

constexpr av1::Criterion kPlan = av1::ACTIVE_PLAN;
constexpr av1::Criterion kBooking = av1::BOOKING_MADE;
constexpr av1::Criterion kInvoiced = av1::INVOICED;
constexpr av1::Criterion kTeam = av1::TEAM_WITH_PLAN_HOLDER;

// ---------------------------------------------------------------- 1

// "A member was invoiced in May. They were suspended a week after their invoice became due.
// This customer is considered an active user for the month of May because they were
// invoiced, even if they are suspended."
//
// Ana holds an open-ended monthly plan from April 1st; Ben held one from April 1st to April
// 30th. Both are invoiced on May 1st for April (the contracts service invoices a period when
// it is over) and suspended on May 8th. In May Ben counts only because he was invoiced, Ana
// because she was invoiced and still holds her plan; suspension changes nothing, and Ana,
// suspended, still counts in June for her plan.
TEST(BillingEndToEnd, MemberInvoicedInMayCountsInMayAndSuspensionChangesNothing) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Invoiced Co", At(2026, 4, 1, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer ana, AddPerson(*w, a, "Ana"));
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer ben, AddPerson(*w, a, "Ben"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan plan, CreatePlan(*w, a, "Hot desk", 15000));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract anas, Sign(*w, ana.customer_id(), plan.plan_id()));
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Contract bens,
      Sign(*w, ben.customer_id(), plan.plan_id(), absl::CivilDay(2026, 4, 30)));
  EXPECT_EQ(anas.state(), cv1::ACTIVE);
  EXPECT_EQ(bens.state(), cv1::ENDING);
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 4),
      {{ana.customer_id(), {{kPlan}, true, {{kPlan, anas.contract_id()}}}},
       {ben.customer_id(), {{kPlan}, true, {{kPlan, bens.contract_id()}}}}}));

  // May 1st: April is over; both are invoiced for it, and Ben's contract has ended.
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 5, 1, 10)));
  std::string anas_invoice, bens_invoice;
  ASSERT_NO_FATAL_FAILURE(
      ExpectOneInvoice(*w, ana.customer_id(), absl::CivilDay(2026, 5, 1), &anas_invoice));
  ASSERT_NO_FATAL_FAILURE(
      ExpectOneInvoice(*w, ben.customer_id(), absl::CivilDay(2026, 5, 1), &bens_invoice));
  COWORK_ASSERT_OK(WaitForContractState(*w, bens.contract_id(), cv1::ENDED));
  const Expectation may = {
      {ana.customer_id(), {{kPlan, kInvoiced}, true, {{kInvoiced, anas_invoice}}}},
      {ben.customer_id(), {{kInvoiced}, true, {{kInvoiced, bens_invoice}}}}};
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 5), may));

  // A week after the invoices were due, both are suspended.
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 5, 8, 10)));
  for (const uv1::Customer& c : {ana, ben}) {
    COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer suspended, Suspend(*w, c.customer_id()));
    EXPECT_EQ(suspended.status(), uv1::SUSPENDED);
  }
  COWORK_ASSERT_OK(WaitForEvents(
                       w->suite->bootstrap(), testing::kCustomersTopic,
                       [&](const std::vector<Event>& all) {
                         return CountOf(all, ana.customer_id(), "CustomerSuspended") == 1 &&
                                CountOf(all, ben.customer_id(), "CustomerSuspended") == 1;
                       },
                       absl::Seconds(30), "the suspensions")
                       .status());

  // June: Ana, suspended, still holds her plan (and is invoiced for May); Ben is gone.
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 6, 2, 10)));
  COWORK_ASSERT_OK(WaitForInvoices(*w, ana.customer_id(), 2).status());
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 6), {{ana.customer_id(), {{kPlan, kInvoiced}, true, {}}}}));
  // May is as it was before the suspensions.
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 5), may));
  ExpectMonthlyCounts(*w, a, {MonthOf(2026, 4), MonthOf(2026, 5), MonthOf(2026, 6)}, {2, 2, 1});
}

// ---------------------------------------------------------------- 2

// "A member signed up to a free plan and doesn't make any bookings. This customer will be
// added to the active users count because they have an active plan."
//
// Cara holds a free plan (price 0) from March 10th to May 20th and never books: she counts in
// March, April and May for her plan, and neither in February (before it) nor in June (after).
// A free plan is never invoiced.
TEST(BillingEndToEnd, MemberOnAFreePlanWithoutBookingsCountsWhileThePlanHolds) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Free Plan Co", At(2026, 2, 20, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer cara, AddPerson(*w, a, "Cara"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan free, CreatePlan(*w, a, "Community", 0));
  EXPECT_EQ(free.price().amount_minor(), 0);

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 3, 10, 10)));
  COWORK_ASSERT_OK_AND_ASSIGN(
      cv1::Contract contract,
      Sign(*w, cara.customer_id(), free.plan_id(), absl::CivilDay(2026, 5, 20)));
  COWORK_ASSERT_OK(WaitForKind(*w, cara.customer_id(), uv1::MEMBER));

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 4, 15, 10)));
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 6, 10, 10)));
  COWORK_ASSERT_OK(WaitForContractState(*w, contract.contract_id(), cv1::ENDED));
  COWORK_ASSERT_OK(WaitForKind(*w, cara.customer_id(), uv1::CONTACT));

  const Expected plan_only = {{kPlan}, true, {{kPlan, contract.contract_id()}}};
  for (int month : {3, 4, 5}) {
    ASSERT_NO_FATAL_FAILURE(
        ExpectActiveUsers(*w, a, MonthOf(2026, month), {{cara.customer_id(), plan_only}}));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 6), {}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 2), {}));
  ExpectMonthlyCounts(*w, a,
                      {MonthOf(2026, 2), MonthOf(2026, 3), MonthOf(2026, 4), MonthOf(2026, 5),
                       MonthOf(2026, 6)},
                      {0, 1, 1, 1, 0});

  // No bookings, no invoices: the plan alone counted.
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse invoices,
                              InvoicesOf(*w, cara.customer_id()));
  EXPECT_EQ(invoices.invoices_size(), 0);
  bv1::ListBookingsRequest bookings;
  bookings.set_customer_id(cara.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::ListBookingsResponse booked,
                              Call(*w->bookings_stub, &bv1::BookingsService::Stub::ListBookings,
                                   bookings, w->tenant.admin_token));
  EXPECT_EQ(booked.bookings_size(), 0);
}

// ---------------------------------------------------------------- 3

// "A contact doesn't make any bookings in October. They are part of a team who has paying
// member with an active plan. This customer will be added to the active users count in
// October."
//
// Paula holds a paid plan from September 20th and is the paying member of the team "Studio"
// with Cole, a contact who never books: Cole counts in October for his team. Dex, in a team
// with Paula that has no paying member, does not count.
TEST(BillingEndToEnd, ContactInATeamWhosePayingMemberHoldsAPlanCounts) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Team Co", At(2026, 9, 20, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer paula, AddPerson(*w, a, "Paula"));
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer cole, AddPerson(*w, a, "Cole"));
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer dex, AddPerson(*w, a, "Dex"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan plan, CreatePlan(*w, a, "Office", 40000));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract contract,
                              Sign(*w, paula.customer_id(), plan.plan_id()));
  COWORK_ASSERT_OK(WaitForKind(*w, paula.customer_id(), uv1::MEMBER));

  auto create_team = [&](const std::string& name, const uv1::Customer& other) {
    uv1::CreateTeamRequest r;
    r.set_request_id(testing::NewRequestId());
    r.set_location_id(a);
    r.set_name(name);
    r.add_member_ids(paula.customer_id());
    r.add_member_ids(other.customer_id());
    return Call(*w->suite->stubs().teams, &uv1::TeamsService::Stub::CreateTeam, r,
                w->tenant.admin_token);
  };
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Team studio, create_team("Studio", cole));
  uv1::SetPayingMemberRequest paying;
  paying.set_request_id(testing::NewRequestId());
  paying.set_team_id(studio.team_id());
  paying.set_customer_id(paula.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(studio, Call(*w->suite->stubs().teams,
                                           &uv1::TeamsService::Stub::SetPayingMember, paying,
                                           w->tenant.admin_token));
  EXPECT_EQ(studio.paying_member_id(), paula.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Team friends, create_team("Friends", dex));
  EXPECT_EQ(friends.paying_member_id(), "");

  // October 15th, before Paula's first period closes (October 20th): no invoices yet.
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 10, 15, 10)));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 10),
      {{paula.customer_id(), {{kPlan}, false, {{kPlan, contract.contract_id()}}}},
       {cole.customer_id(), {{kTeam}, true, {{kTeam, studio.team_id()}}}}}));

  // Cole is a contact without bookings; Dex is not counted at all.
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer cole_now,
                              GetCustomer(w->suite->stubs(), w->tenant.admin_token,
                                          cole.customer_id()));
  EXPECT_EQ(cole_now.kind(), uv1::CONTACT);
  bv1::ListBookingsRequest bookings;
  bookings.set_customer_id(cole.customer_id());
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::ListBookingsResponse booked,
                              Call(*w->bookings_stub, &bv1::BookingsService::Stub::ListBookings,
                                   bookings, w->tenant.admin_token));
  EXPECT_EQ(booked.bookings_size(), 0);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse invoices,
                              InvoicesOf(*w, cole.customer_id()));
  EXPECT_EQ(invoices.invoices_size(), 0);
}

// ---------------------------------------------------------------- 4

// "A contact makes a booking in June for July. They also purchase a weekly pass in August
// that they use in September. This customer will be added to the location's active users
// count in June and August. They won't be counted as an active user in July and September."
//
// Dana books a free room on June 10th for July 10th (counted in June: the day it was made,
// not the day it takes place), buys a weekly pass (a one-off product) on August 5th and is
// invoiced at once as a contact (counted in August), and visits with it on September 8th.
TEST(BillingEndToEnd, ContactCountsWhenBookingAndWhenInvoicedNotWhenUsing) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Pass Co", At(2026, 6, 10, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer dana, AddPerson(*w, a, "Dana"));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room, CreateRoom(*w, a, "Garden room", 0));
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Booking booking,
      Book(*w, room.resource_id(), dana.customer_id(), At(2026, 7, 10, 10), At(2026, 7, 10, 11)));
  EXPECT_EQ(booking.charge().amount_minor(), 0);

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 7, 15, 10)));  // the booking took place

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 8, 5, 10)));
  cv1::CreateProductRequest product_request;
  product_request.set_location_id(a);
  product_request.set_name("Weekly pass");
  product_request.set_price_minor(6000);
  product_request.set_kind(cv1::ONE_OFF);
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Product pass, UntilKnown([&] {
                                product_request.set_request_id(testing::NewRequestId());
                                return Call(*w->products,
                                            &cv1::ProductsService::Stub::CreateProduct,
                                            product_request, w->tenant.admin_token);
                              }));
  cv1::BuyRequest buy;
  buy.set_customer_id(dana.customer_id());
  buy.set_product_id(pass.product_id());
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Purchase purchase, UntilKnown([&] {
                                buy.set_request_id(testing::NewRequestId());
                                return Call(*w->purchases, &cv1::PurchasesService::Stub::Buy,
                                            buy, w->tenant.admin_token);
                              }));
  EXPECT_EQ(purchase.state(), cv1::BOUGHT);
  std::string invoice_id;
  ASSERT_NO_FATAL_FAILURE(
      ExpectOneInvoice(*w, dana.customer_id(), absl::CivilDay(2026, 8, 5), &invoice_id));

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 9, 8, 10)));
  COWORK_ASSERT_OK(Visit(*w, dana.customer_id(), a).status());

  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 6),
      {{dana.customer_id(), {{kBooking}, true, {{kBooking, booking.booking_id()}}}}}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 8),
      {{dana.customer_id(), {{kInvoiced}, true, {{kInvoiced, invoice_id}}}}}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 7), {}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 9), {}));
  ExpectMonthlyCounts(*w, a,
                      {MonthOf(2026, 6), MonthOf(2026, 7), MonthOf(2026, 8), MonthOf(2026, 9)},
                      {1, 0, 1, 0});
}

// ---------------------------------------------------------------- 5

// "A customer is a member in location A. They also make bookings in location B. They simply
// visit location C using the passes from their plan in location A. This customer will be
// added to the active users count of location A and B. They won't be included in the active
// users count of location C."
TEST(BillingEndToEnd, NetworkMemberCountsWhereACriterionHoldsAndOnlyThere) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Network Co", At(2026, 3, 2, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Location location_b,
                              CreateLocation(w->suite->stubs(), w->tenant.admin_token, "B"));
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Location location_c,
                              CreateLocation(w->suite->stubs(), w->tenant.admin_token, "C"));
  const std::string b = location_b.location_id();
  const std::string c = location_c.location_id();

  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer max, AddPerson(*w, a, "Max"));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Plan plan, CreatePlan(*w, a, "Resident", 25000));
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::Contract contract, Sign(*w, max.customer_id(), plan.plan_id()));
  COWORK_ASSERT_OK(WaitForKind(*w, max.customer_id(), uv1::MEMBER));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room_b, CreateRoom(*w, b, "B room", 0));

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 3, 9, 10)));
  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Booking booking,
      Book(*w, room_b.resource_id(), max.customer_id(), At(2026, 3, 20, 15), At(2026, 3, 20, 16)));
  EXPECT_EQ(booking.location_id(), b);
  COWORK_ASSERT_OK_AND_ASSIGN(kv1::CheckInRecord visit, Visit(*w, max.customer_id(), c));
  EXPECT_EQ(visit.location_id(), c);

  const std::string march = MonthOf(2026, 3);
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, march, {{max.customer_id(), {{kPlan}, true, {{kPlan, contract.contract_id()}}}}}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, b, march,
      {{max.customer_id(), {{kBooking}, true, {{kBooking, booking.booking_id()}}}}}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, c, march, {}));

  // Every location of the operator at once: A and B count Max, C nobody.
  av1::ListActiveUserCountsRequest all;
  all.set_from_month(march);
  all.set_to_month(march);
  COWORK_ASSERT_OK_AND_ASSIGN(
      av1::ListActiveUserCountsResponse counts,
      Call(*w->active, &av1::ActiveUsersService::Stub::ListActiveUserCounts, all,
           w->tenant.admin_token));
  std::map<std::string, int64_t> by_location;
  for (const av1::MonthCount& count : counts.counts()) {
    EXPECT_EQ(count.month(), march);
    EXPECT_TRUE(by_location.emplace(count.location_id(), count.count()).second)
        << count.location_id() << " listed twice";
  }
  EXPECT_EQ(by_location[a], 1);
  EXPECT_EQ(by_location[b], 1);
  EXPECT_EQ(by_location[c], 0);  // listed with 0, or not listed
}

// ---------------------------------------------------------------- 6

// "A contact gets a free booking credit in January and books a resource with that credit.
// Their booking is in February. This customer will be added to the active users count in
// January because of their booking. They won't be added to the February active user count."
TEST(BillingEndToEnd, BookingWithFreeCreditCountsInTheMonthItWasMade) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Credit Co", At(2026, 1, 12, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer eva, AddPerson(*w, a, "Eva"));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room, CreateRoom(*w, a, "Board room", 3000));

  bv1::GrantCreditRequest grant;
  grant.set_customer_id(eva.customer_id());
  grant.set_location_id(a);
  grant.set_minutes(60);
  grant.set_reason("Welcome hour");
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::CreditBalance balance, UntilKnown([&] {
                                grant.set_request_id(testing::NewRequestId());
                                return Call(*w->credit, &bv1::CreditService::Stub::GrantCredit,
                                            grant, w->tenant.admin_token);
                              }));
  EXPECT_EQ(balance.granted_minutes_left(), 60);

  COWORK_ASSERT_OK_AND_ASSIGN(
      bv1::Booking booking,
      Book(*w, room.resource_id(), eva.customer_id(), At(2026, 2, 10, 10), At(2026, 2, 10, 11)));
  EXPECT_EQ(booking.credit_minutes(), 60);
  EXPECT_EQ(booking.charge().amount_minor(), 0);

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 2, 16, 10)));  // the booking took place

  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 1),
      {{eva.customer_id(), {{kBooking}, true, {{kBooking, booking.booking_id()}}}}}));
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, MonthOf(2026, 2), {}));
  // Paid with credit: nothing was invoiced.
  COWORK_ASSERT_OK_AND_ASSIGN(cv1::ListInvoicesResponse invoices,
                              InvoicesOf(*w, eva.customer_id()));
  EXPECT_EQ(invoices.invoices_size(), 0);
}

// ---------------------------------------------------------------- who may read

// Only admins of the operator holding "invoices from the platform" at the location read its
// active users.
TEST(BillingEndToEnd, OnlyAdminsHoldingPlatformInvoicesReadActiveUsers) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Permissions Co", At(2026, 4, 14, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Location other,
                              CreateLocation(w->suite->stubs(), w->tenant.admin_token, "Other"));
  const std::string month = MonthOf(2026, 4);
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(*w, a, month, {}));

  const std::string invoices_here = testing::MintDevAdminToken(
      w->tenant.operator_id, {a}, {std::string(auth::kPlatformInvoices)});
  COWORK_ASSERT_OK(ActiveUsersOf(*w, a, month, invoices_here).status());

  std::vector<std::string> all_but_invoices;
  for (const std::string& p : auth::AllPermissions()) {
    if (p != auth::kPlatformInvoices) all_but_invoices.push_back(p);
  }
  const std::string without = testing::MintDevAdminToken(w->tenant.operator_id, {"*"},
                                                         all_but_invoices);
  EXPECT_EQ(ActiveUsersOf(*w, a, month, without).status().code(),
            absl::StatusCode::kPermissionDenied);
  const std::string invoices_elsewhere = testing::MintDevAdminToken(
      w->tenant.operator_id, {other.location_id()}, {std::string(auth::kPlatformInvoices)});
  EXPECT_EQ(ActiveUsersOf(*w, a, month, invoices_elsewhere).status().code(),
            absl::StatusCode::kPermissionDenied);
  const std::string other_operator =
      testing::MintDevAdminToken("op-someone-else", {"*"});
  const absl::StatusCode foreign = ActiveUsersOf(*w, a, month, other_operator).status().code();
  EXPECT_TRUE(foreign == absl::StatusCode::kPermissionDenied ||
              foreign == absl::StatusCode::kNotFound)
      << foreign;
}

// ---------------------------------------------------------------- the subscription

absl::StatusOr<av1::ListSubscriptionInvoicesResponse> SubscriptionInvoices(
    World& w, absl::string_view token = "") {
  return Call(*w.subscription, &av1::SubscriptionService::Stub::ListSubscriptionInvoices,
              av1::ListSubscriptionInvoicesRequest(),
              token.empty() ? absl::string_view(w.tenant.admin_token) : token);
}

// Waits until the billing service has issued `n` subscription invoices.
absl::StatusOr<av1::ListSubscriptionInvoicesResponse> WaitForSubscriptionInvoices(World& w,
                                                                                 int n) {
  return Until([&] { return SubscriptionInvoices(w); },
               [n](const absl::StatusOr<av1::ListSubscriptionInvoicesResponse>& r) {
                 return !r.ok() || r->invoices_size() >= n;
               });
}

// At the end of each month (the location's midnight plus the close delay) the billing service
// closes it by the clock: the count is frozen and the platform's invoice for the location is
// issued, numbered without gaps; the operator does nothing. Only admins holding "invoices
// from the platform" list and download the invoices. The card on file expires at the end of
// May (UTC) and goes by the clock, as an event. A restart that rebuilds every view closes
// nothing twice, and the next month closes with the next number.
TEST(BillingEndToEnd, EachMonthClosesByTheClockWithItsSubscriptionInvoice) {
  COWORK_ASSERT_OK_AND_ASSIGN(std::unique_ptr<World> w,
                              StartWorld("Subscription Co", At(2026, 5, 10, 10)));
  const std::string a = w->tenant.location_id;
  COWORK_ASSERT_OK_AND_ASSIGN(uv1::Customer ana, AddPerson(*w, a, "Ana"));
  COWORK_ASSERT_OK_AND_ASSIGN(bv1::Resource room, CreateRoom(*w, a, "Sala Mayo", 1500));
  COWORK_ASSERT_OK(Book(*w, room.resource_id(), ana.customer_id(), At(2026, 5, 20, 10),
                        At(2026, 5, 20, 11))
                       .status());
  ASSERT_NO_FATAL_FAILURE(ExpectActiveUsers(
      *w, a, MonthOf(2026, 5),
      {{ana.customer_id(), {.criteria = {av1::BOOKING_MADE}, .exact = false}}}));

  av1::SetPaymentMethodRequest card;
  card.set_request_id(testing::NewRequestId());
  card.mutable_method()->mutable_card()->set_processor_token("pm_1Nv0FGQ9RKHgCVdK");
  card.mutable_method()->mutable_card()->set_brand("visa");
  card.mutable_method()->mutable_card()->set_last_four("4242");
  card.mutable_method()->mutable_card()->set_expiry_month(5);
  card.mutable_method()->mutable_card()->set_expiry_year(2026);
  av1::SetPaymentMethodRequest full_number = card;
  full_number.mutable_method()->mutable_card()->set_processor_token("4242424242424242");
  EXPECT_EQ(Call(*w->subscription, &av1::SubscriptionService::Stub::SetPaymentMethod,
                 full_number, w->tenant.admin_token)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  COWORK_ASSERT_OK(Call(*w->subscription, &av1::SubscriptionService::Stub::SetPaymentMethod,
                        card, w->tenant.admin_token)
                       .status());

  // June 1st, 02:30 in Madrid: May has ended there (and the card's month in UTC).
  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 6, 1, 2, 30)));
  COWORK_ASSERT_OK_AND_ASSIGN(av1::ListSubscriptionInvoicesResponse invoices,
                              WaitForSubscriptionInvoices(*w, 1));
  ASSERT_EQ(invoices.invoices_size(), 1);
  const av1::SubscriptionInvoice& may = invoices.invoices(0);
  EXPECT_EQ(may.number(), 1);
  EXPECT_EQ(may.location_id(), a);
  EXPECT_EQ(may.month(), "2026-05");
  EXPECT_EQ(may.active_users(), 1);
  EXPECT_EQ(may.total().amount_minor(), 4900 + 300);
  EXPECT_EQ(may.total().currency(), "EUR");
  COWORK_ASSERT_OK_AND_ASSIGN(av1::ActiveUsers frozen, ActiveUsersOf(*w, a, MonthOf(2026, 5)));
  EXPECT_TRUE(frozen.closed());
  EXPECT_EQ(frozen.count(), 1);
  COWORK_ASSERT_OK_AND_ASSIGN(
      av1::Account account,
      Until([&] {
        return Call(*w->subscription, &av1::SubscriptionService::Stub::GetAccount,
                    av1::GetAccountRequest(), w->tenant.admin_token);
      },
            [](const absl::StatusOr<av1::Account>& r) {
              return !r.ok() || !r->has_payment_method();
            }));
  EXPECT_FALSE(account.has_payment_method()) << "the expired card is removed";
  EXPECT_EQ(account.invoices_issued(), 1);

  // Who may list and download.
  av1::DownloadSubscriptionInvoiceRequest download;
  download.set_invoice_id(may.invoice_id());
  COWORK_ASSERT_OK_AND_ASSIGN(
      av1::InvoiceDocument document,
      Call(*w->subscription, &av1::SubscriptionService::Stub::DownloadSubscriptionInvoice,
           download, w->tenant.admin_token));
  EXPECT_THAT(document.content(), ::testing::HasSubstr("\"Total\",,,52.00,\"EUR\""));
  std::vector<std::string> all_but_invoices;
  for (const std::string& p : auth::AllPermissions()) {
    if (p != auth::kPlatformInvoices) all_but_invoices.push_back(p);
  }
  const std::string without =
      testing::MintDevAdminToken(w->tenant.operator_id, {"*"}, all_but_invoices);
  EXPECT_EQ(SubscriptionInvoices(*w, without).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(*w->subscription, &av1::SubscriptionService::Stub::DownloadSubscriptionInvoice,
                 download, without)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);

  // The events, on cowork.billing.events.
  const std::string operator_id = w->tenant.operator_id;
  COWORK_ASSERT_OK_AND_ASSIGN(
      std::vector<Event> events,
      WaitForEvents(
          w->suite->bootstrap(), "cowork.billing.events",
          [&](const std::vector<Event>& e) {
            return CountOf(e, operator_id, "PaymentMethodRemoved") == 1 &&
                   CountOf(e, operator_id, "SubscriptionInvoiceIssued") == 1;
          },
          absl::Seconds(30), "the billing events"));
  EXPECT_EQ(CountOf(events, operator_id, "MonthClosed"), 1);
  EXPECT_EQ(CountOf(events, operator_id, "PaymentMethodSet"), 1);

  // A restart rebuilding every view: nothing closes twice; June closes with number 2.
  const absl::Time now = At(2026, 6, 1, 2, 31);
  COWORK_ASSERT_OK(w->billing.process->Terminate().status());
  COWORK_ASSERT_OK_AND_ASSIGN(
      w->billing,
      testing::StartService("billing",
                            {.data_dir = w->suite->dir().Sub("billing"),
                             .bootstrap = w->suite->bootstrap(),
                             .extra_args = {"--simulated-clock", Rfc3339(now),
                                            "--rebuild-projections"}}));
  std::shared_ptr<grpc::Channel> billing_channel = testing::Connect(w->billing.address);
  w->active = av1::ActiveUsersService::NewStub(billing_channel);
  w->subscription = av1::SubscriptionService::NewStub(billing_channel);
  for (auto& [service, stub] : w->clocks) {
    if (service == "billing") stub = common::TestClockService::NewStub(billing_channel);
  }
  COWORK_ASSERT_OK_AND_ASSIGN(invoices, Until([&] { return SubscriptionInvoices(*w); },
                                              [](const auto& r) { return Known(r); }));
  EXPECT_EQ(invoices.invoices_size(), 1);
  // The projection is read again from offset zero: May comes back as it closed (the location
  // is NOT_FOUND until the rebuilt directory has it again).
  COWORK_ASSERT_OK_AND_ASSIGN(frozen, Until([&] { return ActiveUsersOf(*w, a, MonthOf(2026, 5)); },
                                            [](const absl::StatusOr<av1::ActiveUsers>& r) {
                                              return Known(r) && (!r.ok() || r->count() == 1);
                                            }));
  EXPECT_TRUE(frozen.closed());
  EXPECT_EQ(frozen.count(), 1);

  COWORK_ASSERT_OK(MoveClocks(*w, At(2026, 7, 1, 3, 0)));
  COWORK_ASSERT_OK_AND_ASSIGN(invoices, WaitForSubscriptionInvoices(*w, 2));
  ASSERT_EQ(invoices.invoices_size(), 2);
  EXPECT_EQ(invoices.invoices(0).number(), 2);  // newest first
  EXPECT_EQ(invoices.invoices(0).month(), "2026-06");
  EXPECT_EQ(invoices.invoices(0).active_users(), 0);
  EXPECT_EQ(invoices.invoices(0).total().amount_minor(), 4900);
}

}  // namespace
}  // namespace cowork::e2e
