#ifndef COWORK_LIBS_TESTING_APP_FIXTURES_H_
#define COWORK_LIBS_TESTING_APP_FIXTURES_H_

// For tests of a service's application layer over a real Store: principals as a verified
// token would give them, and the customers events a service's directory is fed with, applied
// the way its customers consumer applies them.
//
//   FeedDirectory(*store, directory, {.service = "customers", .operator_id = "op-1", .now = t},
//                 "location", "loc-mad", 1, LocationEvent("loc-mad", "Europe/Madrid", "EUR"));

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cowork/customers/v1/events.pb.h"
#include "google/protobuf/message.h"
#include "libs/auth/auth.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"

namespace cowork::testing {

// An admin of `operator_id` over `locations` ("*": all) holding every permission.
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

}  // namespace cowork::testing

#endif  // COWORK_LIBS_TESTING_APP_FIXTURES_H_
