#ifndef COWORK_LIBS_AUTH_KEYS_H_
#define COWORK_LIBS_AUTH_KEYS_H_

// The keys that sign and verify bearer tokens, and where a service finds them.
//
// Every token is signed by its issuer alone (ES256, or RS256 for an operator's single sign-on):
//  - customer sessions: the customers service holds the session private key; every service
//    verifies with the session public key;
//  - platform tokens: the platform's staff sign with the platform private key (cowork-token);
//    services hold the public key only;
//  - admin tokens: the operator's single sign-on (or cowork-token with the admin private key);
//    services hold the public key only.
// No service can mint a token another service accepts, except customers for sessions.
//
// Keys come from PEM files named by the environment (a Kubernetes Secret in production):
//   COWORK_SESSION_PUBLIC_KEY_FILE, COWORK_PLATFORM_PUBLIC_KEY_FILE,
//   COWORK_ADMIN_PUBLIC_KEY_FILE (every service), COWORK_SESSION_PRIVATE_KEY_FILE (customers
//   only).
// Dev mode (--dev) uses dev key pairs instead: the files of COWORK_DEV_KEYS_DIR (written by
// `cowork-token keygen`, as `tools/cowork up` does), or without it the documented built-in dev
// keys. Dev mode refuses to start when any production key variable is set, and outside dev
// mode the dev keys (built-in) and COWORK_DEV_KEYS_DIR are refused.
//
// Thread-safe: the functions are (the environment must not change concurrently).
// Errors: FAILED_PRECONDITION naming each variable that is missing, unreadable, not a key of
// the right kind, or a dev key outside dev mode.

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/auth.h"

namespace cowork::auth {

struct KeyPair {
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SubjectPublicKeyInfo
};

// A fresh ES256 (P-256) key pair.
KeyPair NewEs256KeyPair();

// OK when `pem` is a P-256 private key (for ES256), or a public key of the kinds its role
// verifies: P-256 for sessions and platform tokens, P-256 or RSA for admin tokens.
absl::Status CheckEs256PrivateKey(absl::string_view pem);
absl::Status CheckPublicKey(absl::string_view pem, bool rsa_allowed);

// The documented dev key pairs: never accepted outside dev mode.
const KeyPair& DevSessionKeys();
const KeyPair& DevPlatformKeys();
const KeyPair& DevAdminKeys();

// The file names of a dev keys directory, each "<kind>-private-key.pem" and
// "<kind>-public-key.pem" for kind session, platform and admin.
std::string DevKeyFile(absl::string_view dir, absl::string_view kind, bool private_key);
// Writes fresh key pairs into `dir` (created when missing) unless it holds them already.
absl::Status EnsureDevKeys(const std::string& dir);
// The dev key pairs of `dir`; FAILED_PRECONDITION naming a missing or bad file.
struct DevKeySet {
  KeyPair session, platform, admin;
};
absl::StatusOr<DevKeySet> ReadDevKeys(const std::string& dir);

// What a service verifies with, and for the customers service what it signs sessions with.
struct TokenKeys {
  VerifierOptions verifier;
  std::string session_private_key_pem;  // only when asked for (signs_sessions)
};

// Reads the keys from the environment (`getenv`, std::getenv by default) as the header
// explains. `signs_sessions`: the caller is the customers service and needs the session
// private key; any other service refuses to start when COWORK_SESSION_PRIVATE_KEY_FILE is set.
using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
absl::StatusOr<TokenKeys> TokenKeysFromEnv(bool dev_mode, bool signs_sessions,
                                           const GetEnv& getenv = nullptr);

}  // namespace cowork::auth

#endif  // COWORK_LIBS_AUTH_KEYS_H_
