#include <sys/socket.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "libs/server/metrics.h"

namespace cowork::server {
namespace {

using Labels = std::map<std::string, std::string>;

constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// Shortest text that reads back as the same double (Prometheus parses Go floats).
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Plain decimals in the usual range ("0.0005", not "5e-04"); exponents beyond it.
  const double magnitude = std::fabs(v);
  const bool fixed = v == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

std::string EscapeLabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// {a="1",b="2"} with an optional extra label appended (le for buckets); "" when empty.
std::string FormatLabels(const Labels& labels, absl::string_view extra_name = "",
                         absl::string_view extra_value = "") {
  std::string out;
  for (const auto& [k, v] : labels) {
    absl::StrAppend(&out, out.empty() ? "" : ",", k, "=\"", EscapeLabelValue(v), "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", extra_name, "=\"", extra_value, "\"");
  }
  return out.empty() ? out : absl::StrCat("{", out, "}");
}

struct Histogram {
  std::array<uint64_t, kBuckets.size()> counts{};  // not cumulative; summed at render
  uint64_t count = 0;
  double sum = 0;
};

}  // namespace

struct Metrics::Data {
  std::map<std::string, std::string> help;
  std::map<std::string, std::map<Labels, double>> counters;
  std::map<std::string, std::map<Labels, Histogram>> histograms;
  struct GaugeFamily {
    std::string help;
    std::map<Labels, std::function<double()>> series;
  };
  std::map<std::string, GaugeFamily> gauges;
};

void Metrics::Describe(absl::string_view name, absl::string_view help) {
  absl::MutexLock lock(&mu_);
  if (data_ == nullptr) data_ = std::make_shared<Data>();
  data_->help[std::string(name)] = std::string(help);
}

void Metrics::Increment(absl::string_view name, const Labels& labels, double by) {
  absl::MutexLock lock(&mu_);
  if (data_ == nullptr) data_ = std::make_shared<Data>();
  data_->counters[std::string(name)][labels] += by;
}

void Metrics::Observe(absl::string_view name, const Labels& labels, double seconds) {
  absl::MutexLock lock(&mu_);
  if (data_ == nullptr) data_ = std::make_shared<Data>();
  Histogram& h = data_->histograms[std::string(name)][labels];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::Gauge(absl::string_view name, absl::string_view help,
                    std::function<double()> read) {
  Gauge(name, help, {}, std::move(read));
}

void Metrics::Gauge(absl::string_view name, absl::string_view help, const Labels& labels,
                    std::function<double()> read) {
  absl::MutexLock lock(&mu_);
  if (data_ == nullptr) data_ = std::make_shared<Data>();
  Data::GaugeFamily& family = data_->gauges[std::string(name)];
  family.help = std::string(help);
  family.series[labels] = std::move(read);
}

std::string Metrics::Render() const {
  std::string out;
  std::vector<std::pair<std::string, Data::GaugeFamily>> gauges;
  {
    absl::MutexLock lock(&mu_);
    if (data_ == nullptr) return out;
    const auto help_of = [&](const std::string& name, absl::string_view fallback) {
      auto it = data_->help.find(name);
      return EscapeHelp(it == data_->help.end() ? fallback : it->second);
    };
    for (const auto& [name, series] : data_->counters) {
      absl::StrAppend(&out, "# HELP ", name, " ", help_of(name, name), "\n# TYPE ", name,
                      " counter\n");
      for (const auto& [labels, value] : series) {
        absl::StrAppend(&out, name, FormatLabels(labels), " ", FormatValue(value), "\n");
      }
    }
    for (const auto& [name, series] : data_->histograms) {
      absl::StrAppend(&out, "# HELP ", name, " ", help_of(name, name), "\n# TYPE ", name,
                      " histogram\n");
      for (const auto& [labels, h] : series) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
          cumulative += h.counts[i];
          absl::StrAppend(&out, name, "_bucket",
                          FormatLabels(labels, "le", FormatValue(kBuckets[i])), " ", cumulative,
                          "\n");
        }
        absl::StrAppend(&out, name, "_bucket", FormatLabels(labels, "le", "+Inf"), " ", h.count,
                        "\n");
        absl::StrAppend(&out, name, "_sum", FormatLabels(labels), " ", FormatValue(h.sum), "\n");
        absl::StrAppend(&out, name, "_count", FormatLabels(labels), " ", h.count, "\n");
      }
    }
    gauges.assign(data_->gauges.begin(), data_->gauges.end());
  }
  // Gauge readers may take locks of their own (a store, a consumer): call them unlocked.
  for (const auto& [name, family] : gauges) {
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(family.help), "\n# TYPE ", name,
                    " gauge\n");
    for (const auto& [labels, read] : family.series) {
      absl::StrAppend(&out, name, FormatLabels(labels), " ", FormatValue(read()), "\n");
    }
  }
  return out;
}

// ---------------------------------------------------------------- HTTP

struct MetricsHttpServer::Impl {
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> exited{false};
  int port = 0;
};

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsHttpServer::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    absl::string_view address, const Metrics& metrics, std::function<bool()> healthy,
    std::function<bool()> live) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", address, "\": expected host:port"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";

  auto impl = std::make_unique<Impl>();
  // httplib's default is SO_REUSEPORT, which lets a second process bind the same port and
  // take half the scrapes. SO_REUSEADDR alone still allows a quick restart.
  impl->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl->http.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  const auto probe = [](std::function<bool()> holds) {
    return [holds = std::move(holds)](const httplib::Request&, httplib::Response& res) {
      if (holds && !holds()) {
        res.status = 503;
        res.set_content("not serving\n", "text/plain");
        return;
      }
      res.set_content("ok\n", "text/plain");
    };
  };
  impl->http.Get("/healthz", probe(std::move(healthy)));
  impl->http.Get("/livez", probe(std::move(live)));
  if (port == 0) {
    impl->port = impl->http.bind_to_any_port(host);
    if (impl->port <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot bind metrics server on ", host));
    }
  } else {
    if (!impl->http.bind_to_port(host, port)) {
      return absl::UnavailableError(absl::StrCat("cannot bind metrics server on ", address));
    }
    impl->port = port;
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->http.listen_after_bind();
    raw->exited = true;
  });
  // httplib's stop() does nothing until the listening loop has started, so the server is
  // only handed out once it runs (and can therefore be stopped by the destructor).
  while (!impl->http.is_running() && !impl->exited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!impl->http.is_running()) {
    impl->thread.join();
    return absl::UnavailableError(absl::StrCat("metrics server on ", address, " did not start"));
  }
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl)));
}

}  // namespace cowork::server
