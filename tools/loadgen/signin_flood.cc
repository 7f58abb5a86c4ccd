#include "tools/loadgen/signin_flood.h"

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "cowork/customers/v1/customers.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/clock/clock.h"
#include "libs/crypto/crypto.h"
#include "libs/server/grpc_status.h"
#include "libs/status/retry.h"

namespace cowork::loadgen {
namespace {

namespace v1 = ::cowork::customers::v1;

// "VmRSS:  123456 kB" -> 123456; 0 when the line is missing.
int64_t ReadKib(int pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(std::string(field) + ":", 0) != 0) continue;
    std::istringstream value(line.substr(field.size() + 1));
    int64_t kib = 0;
    value >> kib;
    return kib;
  }
  return 0;
}

// A fresh client address for each call, from the benchmarking block 198.18.0.0/15 (RFC 2544):
// only a label in a header, never contacted.
std::string NextAddress() {
  static std::atomic<uint32_t> counter{0};
  const uint32_t n = counter.fetch_add(1) % (1u << 17);
  return absl::StrCat("198.", 18 + (n >> 16), ".", (n >> 8) & 255, ".", n & 255);
}

absl::Status SignIn(v1::AccountsService::Stub& stub, const std::string& operator_id,
                    const std::string& email, const std::string& password,
                    const std::string& header, const std::string& address) {
  v1::SignInRequest r;
  r.set_operator_id(operator_id);
  r.set_email(email);
  r.set_password(password);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(RealClock::Get().Now() + absl::Seconds(30)));
  if (!header.empty()) context.AddMetadata(header, address);
  v1::Session session;
  return server::FromGrpcStatus(stub.SignIn(&context, r, &session));
}

}  // namespace

absl::StatusOr<SigninFloodResult> RunSigninFlood(const SigninFloodOptions& options) {
  auto channel = grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(absl::ToChronoTime(RealClock::Get().Now() + absl::Seconds(10)))) {
    return absl::UnavailableError(absl::StrCat("cannot reach ", options.target));
  }
  auto stub = v1::AccountsService::NewStub(channel);
  const absl::Time end = RealClock::Get().Now() + options.duration;
  const auto running = [&] { return RealClock::Get().Now() < end; };

  SigninFloodResult result;
  absl::Mutex mu;
  const std::string attacker = "203.0.113.66";
  std::vector<std::thread> threads;
  for (int i = 0; i < options.flood_clients; ++i) {
    threads.emplace_back([&] {
      std::map<std::string, int64_t> codes;
      int64_t calls = 0, retry_infos = 0;
      while (running()) {
        const std::string random = crypto::NewUuid();
        const absl::Status s =
            SignIn(*stub, options.operator_id, absl::StrCat("x", random.substr(0, 12), "@flood.test"),
                   random, options.address_header,
                   options.rotate_addresses ? NextAddress() : attacker);
        ++calls;
        ++codes[absl::StatusCodeToString(s.code())];
        if (RetryDelayOf(s).has_value()) ++retry_infos;
      }
      absl::MutexLock lock(&mu);
      result.flood_calls += calls;
      result.flood_retry_infos += retry_infos;
      for (const auto& [code, n] : codes) result.flood_codes[code] += n;
    });
  }
  threads.emplace_back([&] {
    Samples latency;
    int64_t ok = 0, gave_up = 0, refusals = 0;
    while (running()) {
      const absl::Time start = RealClock::Get().Now();
      for (;;) {
        const absl::Status s = SignIn(*stub, options.operator_id, options.legit_email,
                                      options.legit_password, options.address_header,
                                      "198.51.100.7");
        if (s.ok()) {
          latency.Add(RealClock::Get().Now() - start);
          ++ok;
          break;
        }
        ++refusals;
        if (RealClock::Get().Now() - start > options.legit_give_up) {
          ++gave_up;
          break;
        }
        absl::SleepFor(std::min(RetryDelayOf(s).value_or(absl::Milliseconds(100)),
                                absl::Seconds(2)));
      }
      absl::SleepFor(options.legit_interval);
    }
    absl::MutexLock lock(&mu);
    result.legit_ok = ok;
    result.legit_gave_up = gave_up;
    result.legit_refusals = refusals;
    result.legit_latency = latency.Summarize();
  });
  if (options.service_pid > 0) {
    threads.emplace_back([&] {
      int64_t peak = 0;
      while (running()) {
        peak = std::max(peak, ReadKib(options.service_pid, "VmRSS"));
        absl::SleepFor(absl::Milliseconds(100));
      }
      peak = std::max(peak, ReadKib(options.service_pid, "VmHWM"));
      absl::MutexLock lock(&mu);
      result.peak_rss_kib = peak;
    });
  }
  for (std::thread& t : threads) t.join();
  return result;
}

std::string FormatSigninFlood(const SigninFloodResult& r) {
  std::string out = absl::StrFormat("flood_calls %d\nflood_retry_infos %d\n", r.flood_calls,
                                    r.flood_retry_infos);
  for (const auto& [code, n] : r.flood_codes) absl::StrAppendFormat(&out, "flood_%s %d\n", code, n);
  absl::StrAppendFormat(&out,
                        "legit_ok %d\nlegit_gave_up %d\nlegit_refusals %d\n"
                        "legit_p50 %s\nlegit_p99 %s\nlegit_max %s\npeak_rss_mib %.1f\n",
                        r.legit_ok, r.legit_gave_up, r.legit_refusals,
                        FormatMillis(r.legit_latency.p50), FormatMillis(r.legit_latency.p99),
                        FormatMillis(r.legit_latency.max), r.peak_rss_kib / 1024.0);
  return out;
}

}  // namespace cowork::loadgen
