#ifndef COWORK_TOOLS_REPLAY_ACTIVE_USERS_H_
#define COWORK_TOOLS_REPLAY_ACTIVE_USERS_H_

// The active users of a location in a month, recomputed from the raw streams with the billing
// service's own code: its projection (billing::app::App, fed with App::Apply as its consumer
// "billing.activity" feeds it) and the shared directory (fed with the customers events as its
// consumer "billing.customers" does) and the months billing closed (each MonthClosed of
// cowork.billing.events, as the view the close writes), over a RocksDB in a temporary
// directory that goes away with this object. Every event applies once and in order per
// aggregate, as the consumers apply them (SequenceCheck from the start of the topics). Once it
// has read what the billing service has read, Get answers exactly what GetActiveUsers answers
// (every page of it in one answer).
//
// Not thread-safe: one thread applies and asks.
// Errors: Apply returns the store's errors (UNAVAILABLE, INTERNAL); events the projection
// refuses are counted and skipped, as the service's consumers skip them. Get returns
// GetActiveUsers' errors (INVALID_ARGUMENT for a bad location id or month, NOT_FOUND for an
// unknown location).
//
//   ASSIGN_OR_RETURN(auto replay, ActiveUsersReplay::Create());
//   for (const kafka::Message& m : messages) RETURN_IF_ERROR(replay->Apply(m.topic, m.value));
//   ASSIGN_OR_RETURN(billing::v1::ActiveUsers users, replay->Get("loc-1", "2026-06"));

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cowork/billing/v1/billing.pb.h"
#include "libs/auth/auth.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/store.h"
#include "services/billing/app/app.h"
#include "tools/replay/replay.h"

namespace cowork::replay {

class ActiveUsersReplay {
 public:
  // What it skipped, besides the events it applied.
  struct Counts {
    int64_t applied = 0;
    int64_t duplicates = 0;
    int64_t ahead = 0;
    int64_t not_events = 0;  // not an envelope, or a payload type this build does not know
    int64_t refused = 0;     // the directory or the projection refused it
  };

  // The topics the billing service reads (customers, contracts, bookings) and its own, for
  // the months it closed.
  static std::vector<std::string> Topics();

  // Opens a store in a new directory under `parent` (empty: $TMPDIR, else /tmp).
  static absl::StatusOr<std::unique_ptr<ActiveUsersReplay>> Create(const std::string& parent = "");
  // Closes the store and deletes its directory.
  ~ActiveUsersReplay();
  ActiveUsersReplay(const ActiveUsersReplay&) = delete;
  ActiveUsersReplay& operator=(const ActiveUsersReplay&) = delete;

  // One message of one of Topics().
  absl::Status Apply(absl::string_view topic, absl::string_view value);

  // What GetActiveUsers answers an admin of the location's operator who holds
  // platform.invoices there. `month` is "YYYY-MM".
  absl::StatusOr<billing::v1::ActiveUsers> Get(absl::string_view location_id,
                                               absl::string_view month) const;

  const Counts& counts() const { return counts_; }
  const std::string& dir() const { return dir_; }

 private:
  explicit ActiveUsersReplay(std::string dir) : dir_(std::move(dir)), sequences_(true) {}

  std::string dir_;
  std::unique_ptr<eventstore::Store> store_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<auth::TokenVerifier> verifier_;  // App's authenticator; never used here
  std::unique_ptr<billing::app::App> app_;
  SequenceCheck sequences_;
  Counts counts_;
  // Location id -> its operator (location ids are unique across operators).
  std::map<std::string, std::string> operator_of_;
};

}  // namespace cowork::replay

#endif  // COWORK_TOOLS_REPLAY_ACTIVE_USERS_H_
