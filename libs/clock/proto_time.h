#ifndef COWORK_LIBS_CLOCK_PROTO_TIME_H_
#define COWORK_LIBS_CLOCK_PROTO_TIME_H_

// Conversions between Abseil's time types and the protobuf ones the APIs and events use:
// google.protobuf.Timestamp / Duration for instants and spans, google.type.Date for calendar
// dates (in a location's time zone).
//
// Thread-safe (pure functions).

#include <optional>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/type/date.pb.h"

namespace cowork {

// Exact for every instant a Timestamp can hold (years 1 to 9999).
google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& t);
// Whether `t` is a Timestamp as google/protobuf/timestamp.proto defines it: 0001-01-01T00:00:00Z
// to 9999-12-31T23:59:59.999999999Z, nanos 0 to 999,999,999.
bool IsValidTimestamp(const google::protobuf::Timestamp& t);
absl::Duration FromDurationProto(const google::protobuf::Duration& d);

google::type::Date ToDate(absl::CivilDay day);
// nullopt unless year, month and day name a real calendar day (years 1..9999).
std::optional<absl::CivilDay> FromDate(const google::type::Date& date);
// "2026-05-31"
std::string FormatDay(absl::CivilDay day);

}  // namespace cowork

#endif  // COWORK_LIBS_CLOCK_PROTO_TIME_H_
