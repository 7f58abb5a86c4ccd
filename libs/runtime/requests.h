#ifndef COWORK_LIBS_RUNTIME_REQUESTS_H_
#define COWORK_LIBS_RUNTIME_REQUESTS_H_

// The request record of an authenticated call: it belongs to the operator the token is for
// ("platform" for platform tokens) and to the caller (auth::CallerOf), so one caller's request
// id never reaches another caller's answer (eventstore::Execute).
//
// Thread-safe (a pure function).
//
//   eventstore::Execute<v1::Booking>(store_, runtime::RequestOf(p, "CancelBooking", r), ...);

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "libs/auth/auth.h"
#include "libs/eventstore/command.h"

namespace cowork::runtime {

inline eventstore::Request RequestOf(const auth::Principal& p, absl::string_view method,
                                     const google::protobuf::Message& request) {
  return eventstore::RequestOf(p.is_platform() ? "platform" : p.operator_id, auth::CallerOf(p),
                               method, request);
}

// The usual re-authorization of a recorded answer (eventstore::Execute's `reauthorize`): the
// caller must still be an admin holding `permission` at the answer's location_id().
template <typename Answer>
auto AdminAtAnswer(const auth::Principal& p, absl::string_view permission) {
  return [&p, permission](const Answer& answer) {
    return auth::RequireAdmin(p, permission, answer.location_id());
  };
}

// ... or the answer's customer_id() themself.
template <typename Answer>
auto AdminAtAnswerOrSelf(const auth::Principal& p, absl::string_view permission) {
  return [&p, permission](const Answer& answer) {
    return auth::RequireAdminOrSelf(p, permission, answer.location_id(), answer.customer_id());
  };
}

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_REQUESTS_H_
