#ifndef COWORK_TOOLS_LOADGEN_SIGNIN_FLOOD_H_
#define COWORK_TOOLS_LOADGEN_SIGNIN_FLOOD_H_

// A flood of anonymous sign-ins against the customers service, and one legitimate customer
// signing in while it lasts: what the password gate and the failed sign-in throttle do for
// both, and how much memory the service holds meanwhile.
//
// `flood_clients` threads call SignIn with random addresses and passwords, each as fast as
// answers come, for `duration`; each call names its client address in the metadata header
// `address_header` (the service must trust that header: --client-address-header): the same
// address for every call (`rotate_addresses` false: one attacker, whom the per-address
// throttle soon holds back), or a fresh one per call (true: a distributed attacker, held back
// by the gate alone). Meanwhile the legitimate customer signs in every `legit_interval` from an
// address of their own, retrying a refusal after its RetryInfo delay, until signed in or
// `legit_give_up` has passed; each sign-in's latency runs from its first try to its session.
// With `service_pid` the service's resident memory is read every 100 ms (/proc/PID/status).
//
// Thread-safe to call; blocks for `duration`.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/loadgen/stats.h"

namespace cowork::loadgen {

struct SigninFloodOptions {
  std::string target;  // the customers service, host:port
  std::string operator_id;
  std::string legit_email;
  std::string legit_password;
  int flood_clients = 64;
  absl::Duration duration = absl::Seconds(30);
  std::string address_header = "x-forwarded-for";
  bool rotate_addresses = false;
  absl::Duration legit_interval = absl::Milliseconds(500);
  absl::Duration legit_give_up = absl::Seconds(30);
  int service_pid = 0;  // 0: memory not read
};

struct SigninFloodResult {
  int64_t flood_calls = 0;
  std::map<std::string, int64_t> flood_codes;  // gRPC code name -> calls
  int64_t flood_retry_infos = 0;               // refusals carrying a RetryInfo
  int64_t legit_ok = 0;
  int64_t legit_gave_up = 0;
  int64_t legit_refusals = 0;  // tries refused before a sign-in went through
  Summary legit_latency;
  int64_t peak_rss_kib = 0;  // highest VmRSS seen; VmHWM at the end if higher
};

absl::StatusOr<SigninFloodResult> RunSigninFlood(const SigninFloodOptions& options);

// The result as lines of "name value" for logs and PERFORMANCE.md.
std::string FormatSigninFlood(const SigninFloodResult& result);

}  // namespace cowork::loadgen

#endif  // COWORK_TOOLS_LOADGEN_SIGNIN_FLOOD_H_
