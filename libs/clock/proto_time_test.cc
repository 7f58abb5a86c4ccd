#include "libs/clock/proto_time.h"

#include "gtest/gtest.h"

namespace cowork {
namespace {

TEST(ProtoTime, TimestampRoundTripsIncludingBefore1970) {
  for (absl::Time t : {absl::UnixEpoch(), absl::FromUnixMillis(1'780'000'000'123),
                       absl::FromUnixNanos(-1), absl::FromUnixSeconds(-86'400) + absl::Nanoseconds(5)}) {
    const google::protobuf::Timestamp ts = ToTimestamp(t);
    EXPECT_GE(ts.nanos(), 0);
    EXPECT_LT(ts.nanos(), 1'000'000'000);
    EXPECT_EQ(FromTimestamp(ts), t);
  }
}

TEST(ProtoTime, NothingSaturatesUpToTheYear9999) {
  // A count of nanoseconds since 1970 ends in 2262; whole seconds and nanos do not.
  for (absl::Time t :
       {absl::FromCivil(absl::CivilSecond(2263, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
        absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()) +
            absl::Nanoseconds(999'999'999),
        absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone())}) {
    const google::protobuf::Timestamp ts = ToTimestamp(t);
    EXPECT_TRUE(IsValidTimestamp(ts)) << t;
    EXPECT_EQ(FromTimestamp(ts), t);
  }
}

TEST(ProtoTime, ValidTimestampsAreYearsOneTo9999WithNanosInRange) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(IsValidTimestamp(t));
  t.set_seconds(253'402'300'800);  // 10000-01-01
  EXPECT_FALSE(IsValidTimestamp(t));
  t.set_seconds(-62'135'596'801);  // before 0001-01-01
  EXPECT_FALSE(IsValidTimestamp(t));
  t.set_seconds(0);
  t.set_nanos(1'000'000'000);
  EXPECT_FALSE(IsValidTimestamp(t));
  t.set_nanos(-1);
  EXPECT_FALSE(IsValidTimestamp(t));
}

TEST(ProtoTime, DatesMustBeRealDays) {
  EXPECT_EQ(FromDate(ToDate(absl::CivilDay(2028, 2, 29))), absl::CivilDay(2028, 2, 29));
  google::type::Date d;
  d.set_year(2026);
  d.set_month(2);
  d.set_day(29);
  EXPECT_FALSE(FromDate(d).has_value());  // 2026 is not a leap year
  d.set_month(13);
  d.set_day(1);
  EXPECT_FALSE(FromDate(d).has_value());
  EXPECT_FALSE(FromDate(google::type::Date()).has_value());
  EXPECT_EQ(FormatDay(absl::CivilDay(2026, 5, 1)), "2026-05-01");
}

}  // namespace
}  // namespace cowork
