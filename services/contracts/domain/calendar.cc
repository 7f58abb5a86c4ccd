#include "services/contracts/domain/calendar.h"

namespace cowork::contracts::domain {

absl::CivilDay Today(absl::Time now, absl::TimeZone tz) { return absl::ToCivilDay(now, tz); }

absl::Time StartOfDay(absl::CivilDay day, absl::TimeZone tz) {
  const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(day));
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre;
}

}  // namespace cowork::contracts::domain
