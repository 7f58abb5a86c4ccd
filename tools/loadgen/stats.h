#ifndef COWORK_TOOLS_LOADGEN_STATS_H_
#define COWORK_TOOLS_LOADGEN_STATS_H_

// Exact latency percentiles for the load generator: every sample is kept (a run of 20 s at
// 30,000 calls/s is 600,000 int64s, under 5 MB), sorted once, read by nearest rank.
//
// Not thread-safe: each producer fills its own Samples; Merge them at the end.
//
//   Samples s;
//   s.Add(absl::Microseconds(850));
//   Summary sum = s.Summarize();  // sum.p99 ...

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace cowork::loadgen {

struct Summary {
  size_t count = 0;
  absl::Duration p50;
  absl::Duration p90;
  absl::Duration p99;
  absl::Duration p999;
  absl::Duration max;
  absl::Duration mean;
};

class Samples {
 public:
  void Add(absl::Duration d) { nanos_.push_back(absl::ToInt64Nanoseconds(d)); }
  void Merge(const Samples& other);
  size_t size() const { return nanos_.size(); }
  // Nearest-rank percentiles (the smallest sample with at least q of all samples at or
  // below it). Zeros when empty.
  Summary Summarize();
  // One percentile, 0 < q <= 1 (sorts the samples first).
  absl::Duration Percentile(double q);

 private:
  std::vector<int64_t> nanos_;
  bool sorted_ = false;
};

// "1.234 ms": milliseconds with three decimals.
std::string FormatMillis(absl::Duration d);

// CPU time (user + system) this process has used so far, in seconds.
double ProcessCpuSeconds();

}  // namespace cowork::loadgen

#endif  // COWORK_TOOLS_LOADGEN_STATS_H_
