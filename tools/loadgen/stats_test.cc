#include "tools/loadgen/stats.h"

#include "gtest/gtest.h"

namespace cowork::loadgen {
namespace {

TEST(Samples, NearestRankPercentilesOfOneToOneThousand) {
  Samples s;
  // Added in reverse so the sort matters.
  for (int i = 1000; i >= 1; --i) s.Add(absl::Microseconds(i));
  Summary sum = s.Summarize();
  EXPECT_EQ(sum.count, 1000u);
  EXPECT_EQ(sum.p50, absl::Microseconds(500));
  EXPECT_EQ(sum.p90, absl::Microseconds(900));
  EXPECT_EQ(sum.p99, absl::Microseconds(990));
  EXPECT_EQ(sum.p999, absl::Microseconds(999));
  EXPECT_EQ(sum.max, absl::Microseconds(1000));
  EXPECT_EQ(sum.mean, absl::Nanoseconds(500500));
}

TEST(Samples, SmallSetsRoundUp) {
  Samples s;
  s.Add(absl::Milliseconds(1));
  s.Add(absl::Milliseconds(9));
  EXPECT_EQ(s.Percentile(0.5), absl::Milliseconds(1));
  EXPECT_EQ(s.Percentile(0.51), absl::Milliseconds(9));
  EXPECT_EQ(s.Percentile(0.99), absl::Milliseconds(9));
}

TEST(Samples, MergeThenSummarize) {
  Samples a;
  Samples b;
  a.Add(absl::Milliseconds(3));
  b.Add(absl::Milliseconds(1));
  b.Add(absl::Milliseconds(2));
  EXPECT_EQ(a.Percentile(1.0), absl::Milliseconds(3));
  a.Merge(b);
  Summary sum = a.Summarize();
  EXPECT_EQ(sum.count, 3u);
  EXPECT_EQ(sum.p50, absl::Milliseconds(2));
  EXPECT_EQ(sum.max, absl::Milliseconds(3));
}

TEST(Samples, EmptyIsZero) {
  Samples s;
  Summary sum = s.Summarize();
  EXPECT_EQ(sum.count, 0u);
  EXPECT_EQ(sum.p99, absl::ZeroDuration());
}

TEST(FormatMillis, ThreeDecimals) {
  EXPECT_EQ(FormatMillis(absl::Microseconds(1234)), "1.234 ms");
  EXPECT_EQ(FormatMillis(absl::ZeroDuration()), "0.000 ms");
}

}  // namespace
}  // namespace cowork::loadgen
