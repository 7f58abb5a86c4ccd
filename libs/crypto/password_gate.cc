#include "libs/crypto/password_gate.h"

#include <algorithm>
#include <thread>

#include "libs/crypto/crypto.h"
#include "libs/status/retry.h"

namespace cowork::crypto {
namespace {

int CoresOr(int concurrency) {
  if (concurrency > 0) return concurrency;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

PasswordGate::PasswordGate(PasswordGateOptions options)
    : concurrency_(CoresOr(options.concurrency)), options_(options) {}

absl::Status PasswordGate::Enter() {
  absl::MutexLock lock(&mu_);
  if (running_ < concurrency_) {
    ++running_;
    return absl::OkStatus();
  }
  if (waiting_ >= options_.queue) {
    ++refused_;
    return RetryLater("too many password checks at once; try again shortly",
                      options_.retry_after);
  }
  ++waiting_;
  const bool turn = mu_.AwaitWithTimeout(
      absl::Condition(
          +[](PasswordGate* gate) ABSL_EXCLUSIVE_LOCKS_REQUIRED(gate->mu_) {
            return gate->running_ < gate->concurrency_;
          },
          this),
      options_.max_wait);
  --waiting_;
  if (!turn) {
    ++refused_;
    return RetryLater("too many password checks at once; try again shortly",
                      options_.retry_after);
  }
  ++running_;
  return absl::OkStatus();
}

void PasswordGate::Leave() {
  absl::MutexLock lock(&mu_);
  --running_;
}

absl::Status PasswordGate::Run(absl::FunctionRef<void()> work) {
  if (absl::Status s = Enter(); !s.ok()) return s;
  work();
  Leave();
  return absl::OkStatus();
}

absl::StatusOr<std::string> PasswordGate::Hash(absl::string_view password) {
  absl::StatusOr<std::string> hash;
  if (absl::Status s = Run([&] { hash = HashPassword(password); }); !s.ok()) return s;
  return hash;
}

absl::StatusOr<bool> PasswordGate::Verify(absl::string_view hash, absl::string_view password) {
  bool right = false;
  if (absl::Status s = Run([&] { right = VerifyPassword(hash, password); }); !s.ok()) return s;
  return right;
}

int64_t PasswordGate::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

}  // namespace cowork::crypto
