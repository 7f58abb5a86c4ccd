#include "tools/loadgen/stats.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace cowork::loadgen {

void Samples::Merge(const Samples& other) {
  nanos_.insert(nanos_.end(), other.nanos_.begin(), other.nanos_.end());
  sorted_ = false;
}

absl::Duration Samples::Percentile(double q) {
  if (nanos_.empty()) return absl::ZeroDuration();
  if (!sorted_) {
    std::sort(nanos_.begin(), nanos_.end());
    sorted_ = true;
  }
  const double n = static_cast<double>(nanos_.size());
  // Nearest rank: ceil(q * n), 1-based; the small epsilon keeps 0.99 * 100 at rank 99.
  int64_t rank = static_cast<int64_t>(std::ceil(q * n - 1e-9));
  rank = std::clamp<int64_t>(rank, 1, static_cast<int64_t>(nanos_.size()));
  return absl::Nanoseconds(nanos_[rank - 1]);
}

Summary Samples::Summarize() {
  Summary s;
  s.count = nanos_.size();
  if (nanos_.empty()) return s;
  s.p50 = Percentile(0.50);
  s.p90 = Percentile(0.90);
  s.p99 = Percentile(0.99);
  s.p999 = Percentile(0.999);
  s.max = absl::Nanoseconds(nanos_.back());
  long double total = 0;
  for (int64_t v : nanos_) total += v;
  s.mean = absl::Nanoseconds(static_cast<int64_t>(total / nanos_.size()));
  return s;
}

std::string FormatMillis(absl::Duration d) {
  return absl::StrFormat("%.3f ms", absl::ToDoubleMilliseconds(d));
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

}  // namespace cowork::loadgen
