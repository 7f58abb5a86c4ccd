#ifndef COWORK_LIBS_TESTING_APP_FIXTURES_H_
#define COWORK_LIBS_TESTING_APP_FIXTURES_H_

// For tests of a service's application layer over a real Store: principals as a verified
// token would give them, the customers events a service's directory is fed with (applied the
// way its customers consumer applies them), and AppTest, the fixture every service's App test
// starts from.
//
//   class BookingsAppTest : public cowork::testing::AppTest<App> {
//    protected:
//     BookingsAppTest() : AppTest(absl::FromCivil(...)) {}
//   };

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"
#include "libs/testing/process.h"

namespace cowork::testing {

// An admin of `operator_id` over `locations` ("*": all) holding every permission.
// What a service started with --dev (and no dev keys directory) verifies tokens with.
inline auth::VerifierOptions DevVerifierOptions() {
  return {.session_public_key_pem = auth::DevSessionKeys().public_pem,
          .platform_public_key_pem = auth::DevPlatformKeys().public_pem,
          .admin_public_key_pem = auth::DevAdminKeys().public_pem};
}

inline auth::Principal AdminOf(std::string operator_id, std::vector<std::string> locations) {
  auth::Principal p;
  p.role = auth::Role::kAdmin;
  p.subject = "admin-1";
  p.operator_id = std::move(operator_id);
  p.locations = std::move(locations);
  for (const std::string& perm : auth::AllPermissions()) p.permissions.insert(perm);
  return p;
}

// A customer's portal session.
inline auth::Principal CustomerOf(std::string operator_id, std::string customer_id) {
  auth::Principal p;
  p.role = auth::Role::kCustomer;
  p.subject = std::move(customer_id);
  p.operator_id = std::move(operator_id);
  return p;
}

inline customers::v1::LocationCreated LocationEvent(const std::string& id, const std::string& tz,
                                                    const std::string& currency) {
  customers::v1::LocationCreated e;
  e.set_location_id(id);
  e.set_name(id);
  e.set_time_zone(tz);
  e.set_currency(currency);
  return e;
}

// One customers event (aggregate `type`/`id` at `sequence`) applied to the directory and
// committed.
inline absl::Status FeedDirectory(eventstore::Store& store, const directory::Directory& directory,
                                  const eventstore::EnvelopeContext& context,
                                  const std::string& type, const std::string& id,
                                  int64_t sequence, const google::protobuf::Message& payload) {
  const common::v1::EventEnvelope envelope =
      eventstore::MakeEnvelope(context, type, id, sequence, "", payload);
  eventstore::WriteSet writes;
  if (absl::Status s = directory.Apply(envelope, payload, writes); !s.ok()) return s;
  return store.Commit(std::move(writes));
}

// An App (constructed from a Store, a Directory, a Clock and a TokenVerifier) over a Store in a
// temp dir, on a simulated clock from `start`, with operator kOperator's locations loc-mad
// (Europe/Madrid, EUR) and loc-nyc (America/New_York, USD) and customers c-1, c-2, c-3 at
// loc-mad in its directory.
template <typename App>
class AppTest : public ::testing::Test {
 protected:
  static constexpr char kOperator[] = "op-1";

  explicit AppTest(absl::Time start)
      : store_(*eventstore::Store::Open({.path = dir_.Sub("store"), .durable = false})),
        directory_(*store_),
        clock_(start),
        verifier_(DevVerifierOptions(), clock_),
        app_(*store_, directory_, clock_, verifier_) {
    Feed("location", "loc-mad", 1, LocationEvent("loc-mad", "Europe/Madrid", "EUR"));
    Feed("location", "loc-nyc", 1, LocationEvent("loc-nyc", "America/New_York", "USD"));
    for (const char* id : {"c-1", "c-2", "c-3"}) {
      customers::v1::CustomerAdded added;
      added.set_customer_id(id);
      added.set_home_location_id("loc-mad");
      Feed("customer", id, 1, added);
    }
  }

  // A customers event of kOperator as the customers consumer applies it.
  void Feed(const std::string& type, const std::string& id, int64_t sequence,
            const google::protobuf::Message& payload) {
    ASSERT_TRUE(FeedDirectory(*store_, directory_,
                              {.service = "customers", .operator_id = kOperator,
                               .now = clock_.Now()},
                              type, id, sequence, payload)
                    .ok());
  }

  // The payload type (message name without its package) of every event in the log, in
  // order, leaving out the events of aggregates of type `skip_aggregate`.
  std::vector<std::string> EventTypes(const std::string& skip_aggregate = "") {
    std::vector<std::string> out;
    EXPECT_TRUE(store_
                    ->ForEachEvent([&](const common::v1::EventEnvelope& e) {
                      if (e.aggregate_type() == skip_aggregate) return true;
                      const std::string& url = e.payload().type_url();
                      out.push_back(url.substr(url.rfind('.') + 1));
                      return true;
                    })
                    .ok());
    return out;
  }

  // Every read view (the directory's too).
  std::map<std::string, std::string> AllViews() {
    std::map<std::string, std::string> out;
    EXPECT_TRUE(store_
                    ->Scan(eventstore::Space::kViews, "", "",
                           [&](absl::string_view k, absl::string_view v) {
                             out.emplace(k, v);
                             return true;
                           })
                    .ok());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<eventstore::Store> store_;
  directory::Directory directory_;
  SimulatedClock clock_;
  auth::TokenVerifier verifier_;
  App app_;
};

}  // namespace cowork::testing

#endif  // COWORK_LIBS_TESTING_APP_FIXTURES_H_
