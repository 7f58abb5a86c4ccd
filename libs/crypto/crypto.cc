#include "libs/crypto/crypto.h"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cowork::crypto {
namespace {

// sodium_init is idempotent and thread-safe, but it is not free (it probes the CPU); a
// function-local static runs it exactly once. A library that cannot initialise its random
// generator must not hand out ids or keys, so failure aborts.
void EnsureInit() {
  static const bool initialised = [] {
    if (sodium_init() < 0) {
      std::fputs("cowork::crypto: sodium_init failed\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialised;
}

// RFC 4648 base32 alphabet, lower-case: ids are case-insensitive-safe and URL-safe.
constexpr absl::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
// No 0/O, 1/I/L: codes are read and typed by people.
constexpr absl::string_view kCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string NewUuid() {
  EnsureInit();
  std::array<unsigned char, 16> b;
  randombytes_buf(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

std::string NewId(absl::string_view prefix) {
  EnsureInit();
  constexpr int kChars = 20;
  std::array<unsigned char, kChars> b;
  randombytes_buf(b.data(), b.size());
  std::string out(prefix.data(), prefix.size());
  out.reserve(prefix.size() + kChars);
  // 32 divides 256, so masking keeps every character uniformly distributed.
  for (unsigned char c : b) out.push_back(kBase32[c & 31]);
  return out;
}

std::string NewCode(int n) {
  EnsureInit();
  std::string out;
  if (n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    // randombytes_uniform avoids the modulo bias of an alphabet that does not divide 256.
    out.push_back(kCodeAlphabet[randombytes_uniform(static_cast<uint32_t>(kCodeAlphabet.size()))]);
  }
  return out;
}

std::string NewSealKey() {
  EnsureInit();
  std::string key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

std::string Seal(absl::string_view key, absl::string_view context, absl::string_view plaintext) {
  EnsureInit();
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
    // A wrong-sized key is a programming error: sealing personal data under a key that
    // cannot be right must not silently produce something.
    std::fputs("cowork::crypto::Seal: key must be 32 bytes\n", stderr);
    std::abort();
  }
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  static_assert(kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES == kSealOverhead);
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  // 24-byte random nonces are the point of XChaCha: collisions are negligible without a counter.
  randombytes_buf(nonce, kNonce);
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &cipher_len, Bytes(plaintext),
                                             plaintext.size(), Bytes(context), context.size(),
                                             nullptr, nonce, Bytes(key));
  out.resize(kNonce + cipher_len);
  return out;
}

absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view context,
                                 absl::string_view sealed) {
  EnsureInit();
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  static_assert(kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES == kSealOverhead);
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) {
    return absl::InvalidArgumentError("seal key must be 32 bytes");
  }
  if (sealed.size() < kNonce + kTag) {
    return absl::InvalidArgumentError("sealed value is too short");
  }
  const unsigned char* nonce = Bytes(sealed);
  absl::string_view cipher = sealed.substr(kNonce);
  std::string plain(cipher.size() - kTag, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr, Bytes(cipher),
          cipher.size(), Bytes(context), context.size(), nonce, Bytes(key)) != 0) {
    return absl::InvalidArgumentError(
        "sealed value does not open: tampered with, or sealed under another key or context");
  }
  plain.resize(plain_len);
  return plain;
}

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  EnsureInit();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    // libsodium fails here only when it cannot allocate the memory argon2id needs.
    return absl::ResourceExhaustedError("password hashing ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view hash, absl::string_view password) {
  EnsureInit();
  // crypto_pwhash_str_verify reads a NUL-terminated string of bounded length.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(hash.data(), hash.size());
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool SecretEquals(absl::string_view a, absl::string_view b) {
  EnsureInit();
  // The length of a secret is not itself secret here (tokens and codes have fixed lengths).
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sha256Hex(absl::string_view data) {
  EnsureInit();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

}  // namespace cowork::crypto
