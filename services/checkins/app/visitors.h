#ifndef COWORK_SERVICES_CHECKINS_APP_VISITORS_H_
#define COWORK_SERVICES_CHECKINS_APP_VISITORS_H_

// The VisitorsService half of the application layer of the checkins service (SPEC
// "Visitors"): one method per RPC; rules in domain/visitors.h.
//
// Personal data: a visitor's name and email are sealed with the visitor's own key
// (eventstore::KeyVault, created in the commit that registers them) when staged
// (projection/). Events, views and stored request answers hold only the sealed bytes; they
// are opened to answer. EraseVisitor deletes the key in the same commit as VisitorErased.
//
// Authorization: admins with checkins.write at the visitor's location register, log arrivals
// and departures, cancel and erase; checkins.read to read. A customer registers their own
// visitors as host, cancels them before arrival, and reads only those; another host's
// visitor is NOT_FOUND to them, as is another operator's to anyone.
//
// Thread-safe: methods may run concurrently (the Store serialises what must be).

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cowork/checkins/v1/checkins.pb.h"
#include "libs/auth/auth.h"
#include "libs/clock/clock.h"
#include "libs/directory/directory.h"
#include "libs/eventstore/key_vault.h"
#include "libs/eventstore/store.h"
#include "libs/runtime/authenticator.h"
#include "services/checkins/domain/state.pb.h"

namespace cowork::checkins::app {

class VisitorsApp {
 public:
  // Everything referenced must outlive the VisitorsApp.
  VisitorsApp(eventstore::Store& store, const directory::Directory& directory, const Clock& clock,
              const auth::TokenVerifier& verifier);

  const runtime::Authenticator& authenticator() const { return authn_; }

  absl::StatusOr<v1::Visitor> RegisterVisitor(const auth::Principal& p,
                                              const v1::RegisterVisitorRequest& r);
  absl::StatusOr<v1::Visitor> GetVisitor(const auth::Principal& p,
                                         const v1::GetVisitorRequest& r) const;
  absl::StatusOr<v1::ListVisitorsResponse> ListVisitors(const auth::Principal& p,
                                                        const v1::ListVisitorsRequest& r) const;
  absl::StatusOr<v1::Visitor> RecordVisitorArrival(const auth::Principal& p,
                                                   const v1::RecordVisitorArrivalRequest& r);
  absl::StatusOr<v1::Visitor> RecordVisitorDeparture(const auth::Principal& p,
                                                     const v1::RecordVisitorDepartureRequest& r);
  absl::StatusOr<v1::Visitor> CancelVisitor(const auth::Principal& p,
                                            const v1::CancelVisitorRequest& r);
  absl::StatusOr<v1::Visitor> EraseVisitor(const auth::Principal& p,
                                           const v1::EraseVisitorRequest& r);

 private:
  // Who may change a visitor: admins with checkins.write at its location, and for
  // kFrontDeskOrHost the host customer too.
  enum class Who { kFrontDesk, kFrontDeskOrHost };
  // Loads the visitor, checks `who`, decides with `decide` and commits; answers the state.
  template <typename Request, typename Decide>
  absl::StatusOr<v1::Visitor> Change(const auth::Principal& p, absl::string_view method,
                                     const Request& request, Who who, Decide decide);
  eventstore::Store& store_;
  const directory::Directory& directory_;
  const Clock& clock_;
  mutable eventstore::KeyVault vault_;
  const runtime::Authenticator authn_;
};

}  // namespace cowork::checkins::app

#endif  // COWORK_SERVICES_CHECKINS_APP_VISITORS_H_
