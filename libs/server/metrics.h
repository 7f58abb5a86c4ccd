#ifndef COWORK_LIBS_SERVER_METRICS_H_
#define COWORK_LIBS_SERVER_METRICS_H_

// Prometheus metrics: a small registry and the HTTP endpoint that serves it with /healthz.
//
// Thread-safe: Metrics may be used from any thread.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace cowork::server {

// A small Prometheus registry: counters and histograms with labels, gauges read at scrape.
class Metrics {
 public:
  // The # HELP text of a counter or histogram (default: its name). Gauges take theirs in
  // Gauge().
  void Describe(absl::string_view name, absl::string_view help);
  void Increment(absl::string_view name, const std::map<std::string, std::string>& labels,
                 double by = 1);
  // Histogram in seconds with fixed buckets (0.5 ms .. 10 s).
  void Observe(absl::string_view name, const std::map<std::string, std::string>& labels,
               double seconds);
  // A gauge whose value is read from `read` at each scrape.
  void Gauge(absl::string_view name, absl::string_view help, std::function<double()> read);
  // One labelled series of a gauge, e.g. cowork_consumer_lag{consumer="customers.contracts"}.
  void Gauge(absl::string_view name, absl::string_view help,
             const std::map<std::string, std::string>& labels, std::function<double()> read);
  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  struct Data;
  mutable absl::Mutex mu_;
  std::shared_ptr<Data> data_ ABSL_GUARDED_BY(mu_);
};

// Serves GET /metrics, GET /healthz and GET /livez on `address` until destroyed. /healthz
// answers 200 "ok" while `healthy()` holds (always, without it) and 503 "not serving"
// otherwise; /livez the same with `live()`: Kubernetes' readiness and liveness probes use
// them, since its gRPC probes cannot speak TLS.
class MetricsHttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      absl::string_view address, const Metrics& metrics, std::function<bool()> healthy = nullptr,
      std::function<bool()> live = nullptr);
  ~MetricsHttpServer();
  int port() const;

 private:
  struct Impl;
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_METRICS_H_
