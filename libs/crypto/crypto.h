#ifndef COWORK_LIBS_CRYPTO_CRYPTO_H_
#define COWORK_LIBS_CRYPTO_CRYPTO_H_

// Everything cryptographic the suite does, on libsodium: random ids, password hashing
// (argon2id) and sealing personal data with a per-customer key (XChaCha20-Poly1305).
// Nothing here is written by hand beyond calling libsodium.
//
// Thread-safe: all functions are. Init happens on first use (sodium_init is idempotent).
//
//   std::string key = crypto::NewSealKey();
//   std::string sealed = crypto::Seal(key, "customer/c-1", plaintext);
//   absl::StatusOr<std::string> clear = crypto::Open(key, "customer/c-1", sealed);

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cowork::crypto {

// A random version-4 UUID, lower-case and hyphenated.
std::string NewUuid();
// `prefix` followed by 20 random lower-case base32 characters (100 bits), e.g. "c-...".
std::string NewId(absl::string_view prefix);
// `n` random characters from an alphabet without look-alikes, for one-time codes.
std::string NewCode(int n);

// A fresh 32-byte key for Seal/Open.
std::string NewSealKey();
// How much longer Seal's output is than its plaintext: a 24-byte nonce and a 16-byte tag.
inline constexpr int64_t kSealOverhead = 40;
// Encrypts and authenticates `plaintext`; `context` (e.g. the customer id) is bound as
// associated data, so a sealed value cannot be moved to another record. Output: nonce||ciphertext.
std::string Seal(absl::string_view key, absl::string_view context, absl::string_view plaintext);
// INVALID_ARGUMENT when `sealed` was tampered with, sealed under another key or context.
absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view context,
                                 absl::string_view sealed);

// Password hashing with argon2id (libsodium's interactive limits), in crypto_pwhash_str form.
// Slow on purpose (tens of milliseconds): call it outside locks.
absl::StatusOr<std::string> HashPassword(absl::string_view password);
bool VerifyPassword(absl::string_view hash, absl::string_view password);

// Constant-time comparison of two secrets.
bool SecretEquals(absl::string_view a, absl::string_view b);

// SHA-256 of `data`, 64 lower-case hex digits.
std::string Sha256Hex(absl::string_view data);

}  // namespace cowork::crypto

#endif  // COWORK_LIBS_CRYPTO_CRYPTO_H_
