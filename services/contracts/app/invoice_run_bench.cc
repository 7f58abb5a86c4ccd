// How long the invoice run at a billing period's end takes for many members: the contracts
// application layer over a real RocksDB store (durable by default), with a simulated clock.
//
// Sets up one location (Europe/Madrid), --members customers (fed to the directory as the
// customers consumer feeds it), a monthly plan and one contract per customer starting on
// 2026-05-01 (so everyone is a member), each with one waiting purchase when --with-charge.
// Then moves the clock past the period's end (2026-06-01 00:00:01 local) and times one
// App::RunDue (what the scheduler runs each second): every member gets one invoice, numbered
// by the location's invoice book. Prints the set-up and run times and members invoiced per
// second, and checks the numbers.
//
//   build/bin/contracts_invoice_run_bench --members 100000
// The store lives in a new directory under $TMPDIR (or /tmp), removed at the end unless --keep.

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cowork/customers/v1/events.pb.h"
#include "libs/clock/clock.h"
#include "libs/clock/proto_time.h"
#include "libs/eventstore/command.h"
#include "libs/testing/app_fixtures.h"
#include "services/contracts/app/app.h"

namespace cowork::contracts::app {
namespace {

constexpr char kOp[] = "op-bench";
constexpr char kLocation[] = "loc-bench";

auth::Principal Admin() { return testing::AdminOf(kOp, {"*"}); }

std::string CustomerId(int i) { return absl::StrCat("c-", i); }

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "error: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// Customers events, applied to the directory as the customers consumer applies them.
void FeedDirectory(eventstore::Store& store, directory::Directory& dir, absl::Time now,
                   int members) {
  const eventstore::EnvelopeContext context{.service = "customers", .operator_id = kOp, .now = now};
  eventstore::WriteSet writes;
  const customers::v1::LocationCreated location =
      testing::LocationEvent(kLocation, "Europe/Madrid", "EUR");
  Check(dir.Apply(eventstore::MakeEnvelope(context, "location", kLocation, 1, "", location),
                  location, writes),
        "location");
  for (int i = 0; i < members; ++i) {
    customers::v1::CustomerAdded added;
    added.set_customer_id(CustomerId(i));
    added.set_home_location_id(kLocation);
    Check(dir.Apply(eventstore::MakeEnvelope(context, "customer", CustomerId(i), 1, "", added),
                    added, writes),
          "customer");
    if (i % 1000 == 999) {
      Check(store.Commit(std::move(writes)), "commit customers");
      writes = eventstore::WriteSet();
    }
  }
  if (!writes.empty()) Check(store.Commit(std::move(writes)), "commit customers");
}

// Runs fn(i) for i in [0, n) on `threads` threads.
template <typename Fn>
void Parallel(int n, int threads, Fn fn) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) fn(i);
    });
  }
  for (std::thread& th : pool) th.join();
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

int Run(int members, bool durable, bool with_charge, int setup_threads, bool keep) {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base ? base : "/tmp", "/contracts_invoice_run.XXXXXX");
  const std::string dir = mkdtemp(pattern.data());
  absl::StatusOr<std::unique_ptr<eventstore::Store>> opened =
      eventstore::Store::Open({.path = dir + "/store", .durable = durable});
  Check(opened.status(), "open store");
  eventstore::Store& store = **opened;
  directory::Directory directory(store);
  absl::TimeZone madrid;
  if (!absl::LoadTimeZone("Europe/Madrid", &madrid)) Check(absl::InternalError("tz"), "tz");
  SimulatedClock clock(absl::FromCivil(absl::CivilSecond(2026, 5, 1, 9, 0, 0), madrid));
  const auth::TokenVerifier verifier(
      testing::DevVerifierOptions());
  App app(store, directory, clock, verifier);

  std::printf("members=%d durable=%s with_charge=%s setup_threads=%d store=%s\n", members,
              durable ? "true" : "false", with_charge ? "true" : "false", setup_threads,
              dir.c_str());
  const absl::Time t0 = absl::Now();
  FeedDirectory(store, directory, clock.Now(), members);
  v1::CreatePlanRequest plan_request;
  plan_request.set_location_id(kLocation);
  plan_request.set_name("Hot desk");
  plan_request.set_price_minor(15000);
  absl::StatusOr<v1::Plan> plan = app.CreatePlan(Admin(), plan_request);
  Check(plan.status(), "plan");
  v1::CreateProductRequest product_request;
  product_request.set_location_id(kLocation);
  product_request.set_name("Day pass");
  product_request.set_price_minor(1500);
  product_request.set_kind(v1::ONE_OFF);
  absl::StatusOr<v1::Product> product = app.CreateProduct(Admin(), product_request);
  Check(product.status(), "product");
  Parallel(members, setup_threads, [&](int i) {
    v1::CreateContractRequest r;
    r.set_customer_id(CustomerId(i));
    r.set_plan_id(plan->plan_id());
    Check(app.CreateContract(Admin(), r).status(), "contract");
    if (with_charge) {
      v1::BuyRequest buy;
      buy.set_customer_id(CustomerId(i));
      buy.set_product_id(product->product_id());
      buy.set_quantity(1);
      Check(app.Buy(Admin(), buy).status(), "buy");
    }
  });
  const absl::Duration setup = absl::Now() - t0;
  std::printf("setup: %d members signed in %.1f s\n", members, Seconds(setup));

  // The first period (1-31 May) ends: the run invoices every member.
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 6, 1, 0, 0, 1), madrid));
  const absl::Time r0 = absl::Now();
  absl::StatusOr<int> invoiced = app.RunDue();
  Check(invoiced.status(), "RunDue");
  const absl::Duration run = absl::Now() - r0;

  // Every member invoiced once, numbered 1..members without a gap.
  v1::ListInvoicesRequest list;
  list.set_location_id(kLocation);
  list.set_page_size(1000);
  int64_t expected_number = 1, expected_total = 15000 + (with_charge ? 1500 : 0);
  do {
    absl::StatusOr<v1::ListInvoicesResponse> page = app.ListInvoices(Admin(), list);
    Check(page.status(), "list invoices");
    for (const v1::Invoice& inv : page->invoices()) {
      if (inv.number() != expected_number++ || inv.total().amount_minor() != expected_total) {
        Check(absl::InternalError(absl::StrCat("unexpected invoice ", inv.ShortDebugString())),
              "check");
      }
    }
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());
  if (expected_number - 1 != members) {
    Check(absl::InternalError(absl::StrCat(expected_number - 1, " invoices for ", members)),
          "check");
  }

  std::printf(
      "RESULT members=%d durable=%s with_charge=%s invoiced=%d run_s=%.2f members_per_s=%.0f "
      "per_member_us=%.0f\n",
      members, durable ? "true" : "false", with_charge ? "true" : "false", *invoiced, Seconds(run),
      *invoiced / Seconds(run), absl::ToDoubleMicroseconds(run) / std::max(*invoiced, 1));
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cowork::contracts::app

int main(int argc, char** argv) {
  int members = 100'000;
  bool durable = true, with_charge = true, keep = false;
  int setup_threads = 4;
  CLI::App app{"contracts_invoice_run_bench: time the invoice run at a period's end"};
  app.add_option("--members", members, "Members to invoice")->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_flag("--durable,!--no-durable", durable, "fsync the WAL on every commit")
      ->capture_default_str();
  app.add_flag("--with-charge,!--no-charge", with_charge,
               "each member buys a day pass before the period ends")
      ->capture_default_str();
  app.add_option("--setup-threads", setup_threads, "Threads signing contracts")
      ->capture_default_str()->check(CLI::Range(1, 64));
  app.add_flag("--keep", keep, "Keep the store");
  CLI11_PARSE(app, argc, argv);
  // As in the running service (libs/runtime/runtime.cc): no Mutex deadlock detector.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return cowork::contracts::app::Run(members, durable, with_charge, setup_threads, keep);
}
