// cowork-grpc-floor: how many unary gRPC calls per second this machine does at all, with the
// client on the same cores. One process hosts a callback-API server whose only method
// (TestClockService.GetTime) answers at once, with no interceptor, token or worker pool, and
// drives it with the load generator's own driver (clock mode). No service call can be faster:
// docs/PERFORMANCE.md compares the services with it.
//
//   build/bin/cowork-grpc-floor --clients 64 --duration 10s

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cowork/common/v1/test_clock.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tools/loadgen/driver.h"
#include "tools/loadgen/stats.h"

namespace cowork::loadgen {
namespace {

class EmptyClock final : public common::v1::TestClockService::CallbackService {
  grpc::ServerUnaryReactor* GetTime(grpc::CallbackServerContext* context,
                                    const common::v1::GetTimeRequest*,
                                    common::v1::ClockTime*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int Main(int argc, char** argv) {
  // As in the services and the load generator: no Mutex deadlock detector.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"cowork-grpc-floor: empty unary gRPC calls on loopback, client and server in one process"};
  int clients = 64;
  int channels = 4;
  std::string duration = "10s";
  std::string warmup = "2s";
  app.add_option("--clients", clients, "Concurrent calls")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--channels", channels, "gRPC channels (TCP connections)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--duration", duration, "Measured time")->capture_default_str();
  app.add_option("--warmup", warmup, "Unmeasured time first")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  DriverOptions o;
  if (!absl::ParseDuration(duration, &o.duration) || o.duration <= absl::ZeroDuration() ||
      !absl::ParseDuration(warmup, &o.warmup) || o.warmup < absl::ZeroDuration()) {
    std::cerr << "error: --duration and --warmup take durations such as 10s\n";
    return 2;
  }
  EmptyClock service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "error: cannot start the server on loopback\n";
    return 1;
  }

  o.target = absl::StrCat("127.0.0.1:", port);
  o.token = "unchecked";
  o.location_id = "unused";
  o.mode = Mode::kClock;
  o.clients = clients;
  o.channels = std::min(channels, clients);
  const double cpu_before = ProcessCpuSeconds();
  absl::StatusOr<DriverResult> r = RunLoad(o, nullptr);
  const double cpu = ProcessCpuSeconds() - cpu_before;
  server->Shutdown();
  if (!r.ok()) {
    std::cerr << "error: " << r.status() << "\n";
    return 2;
  }
  const double secs = absl::ToDoubleSeconds(r->window);
  const double cps = secs > 0 ? r->ok / secs : 0;
  Summary lat = r->latency.Summarize();
  const uint64_t calls = r->sent;  // warmup included, as the CPU time is
  std::printf("empty calls  %.1f/s  ok=%llu failed=%llu clients=%d channels=%d\n", cps,
              static_cast<unsigned long long>(r->ok), static_cast<unsigned long long>(r->failed),
              o.clients, o.channels);
  std::printf("latency      p50=%s p99=%s p999=%s max=%s\n", FormatMillis(lat.p50).c_str(),
              FormatMillis(lat.p99).c_str(), FormatMillis(lat.p999).c_str(),
              FormatMillis(lat.max).c_str());
  std::printf("cpu          %.1f us per call, client and server together (%.2f cores)\n",
              calls > 0 ? cpu * 1e6 / static_cast<double>(calls) : 0.0,
              cpu / absl::ToDoubleSeconds(o.warmup + o.duration));
  std::printf("RESULT mode=grpc_floor clients=%d cmd_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
              "us_per_call=%.1f failed=%llu\n",
              o.clients, cps, absl::ToDoubleMilliseconds(lat.p50),
              absl::ToDoubleMilliseconds(lat.p99),
              calls > 0 ? cpu * 1e6 / static_cast<double>(calls) : 0.0,
              static_cast<unsigned long long>(r->failed));
  return r->ok > 0 && r->failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cowork::loadgen

int main(int argc, char** argv) { return cowork::loadgen::Main(argc, argv); }
