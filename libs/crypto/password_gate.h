#ifndef COWORK_LIBS_CRYPTO_PASSWORD_GATE_H_
#define COWORK_LIBS_CRYPTO_PASSWORD_GATE_H_

// The one way a service hashes and checks passwords (and other secrets people type): argon2id
// (crypto.h) behind a bounded gate. Each computation holds 64 MiB and tens of milliseconds of
// a core, so at most `concurrency` run at once; at most `queue` callers wait for a turn, each
// for at most `max_wait`; everyone beyond is refused at once with RESOURCE_EXHAUSTED and a
// google.rpc.RetryInfo (libs/status/retry.h). A flood of anonymous sign-ins therefore costs a
// bounded amount of memory, and never more than the gate's share of the CPU.
//
// Thread-safe.
//
//   PasswordGate gate({.concurrency = 2});
//   COWORK_ASSIGN_OR_RETURN(std::string hash, gate.Hash(password));
//   COWORK_ASSIGN_OR_RETURN(bool right, gate.Verify(hash, attempt));

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cowork::crypto {

struct PasswordGateOptions {
  // argon2id computations at once. Default 0: the machine's cores.
  int concurrency = 0;
  // Callers waiting for a turn at most; the next one is refused. Default 8.
  int queue = 8;
  // How long a waiting caller waits at most before it is refused. Default 2 s.
  absl::Duration max_wait = absl::Seconds(2);
  // The RetryInfo delay of a refusal. Default 1 s.
  absl::Duration retry_after = absl::Seconds(1);
};

class PasswordGate {
 public:
  explicit PasswordGate(PasswordGateOptions options = {});

  // argon2id hash (crypto::HashPassword) or check (crypto::VerifyPassword) through the gate.
  absl::StatusOr<std::string> Hash(absl::string_view password);
  absl::StatusOr<bool> Verify(absl::string_view hash, absl::string_view password);
  // Runs `work` holding a turn (Hash and Verify do this), or refuses as the header says.
  absl::Status Run(absl::FunctionRef<void()> work);

  int concurrency() const { return concurrency_; }
  // Refusals since start (for a metric).
  int64_t refused() const;

 private:
  // OK once the caller holds a turn (Leave gives it back); RESOURCE_EXHAUSTED otherwise.
  absl::Status Enter();
  void Leave();

  const int concurrency_;
  const PasswordGateOptions options_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cowork::crypto

#endif  // COWORK_LIBS_CRYPTO_PASSWORD_GATE_H_
