#ifndef COWORK_SERVICES_CUSTOMERS_DOMAIN_EVENTS_H_
#define COWORK_SERVICES_CUSTOMERS_DOMAIN_EVENTS_H_

// Helpers around the domain's Event (state.proto): building one from a payload, reading the
// payload back, and time conversions. Pure; thread-safe.
//
//   Event e = MakeEvent(payload, "op-1", now);
//   const google::protobuf::Message* p = PayloadOf(e);  // the CustomerAdded, ...

#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/clock/proto_time.h"
#include "services/customers/domain/state.pb.h"

namespace cowork::customers::domain {

using Events = std::vector<Event>;

using ::cowork::FromTimestamp;
using ::cowork::ToTimestamp;

// Puts `payload` into the matching oneof case of `event`. False when the payload's type is
// not one of the customers events (the event is left unchanged).
bool SetPayload(Event& event, const google::protobuf::Message& payload);
// The payload of `event`, or nullptr when none is set.
const google::protobuf::Message* PayloadOf(const Event& event);
// A mutable pointer to the payload, or nullptr (the application layer fills sealed bytes).
google::protobuf::Message* MutablePayloadOf(Event& event);

// An Event carrying `payload` for `operator_id` at `now`. `payload` must be a customers
// event (checked: anything else is a programming error and crashes).
Event MakeEvent(const google::protobuf::Message& payload, absl::string_view operator_id,
                absl::Time now);

}  // namespace cowork::customers::domain

#endif  // COWORK_SERVICES_CUSTOMERS_DOMAIN_EVENTS_H_
