#ifndef COWORK_TOOLS_TOKEN_TOKEN_CLI_H_
#define COWORK_TOOLS_TOKEN_TOKEN_CLI_H_

// cowork-token: mints bearer tokens for operators' scripts and for tests, and makes dev keys.
//
//   cowork-token admin --operator OP [--location L]... [--permission P]... [--subject S]
//                      [--ttl 12h] (--private-key-file F | --dev)
//   cowork-token platform [--subject S] [--ttl 1h] (--private-key-file F | --dev)
//   cowork-token keygen --dir DIR
//
// Tokens are ES256, signed with the PEM private key of --private-key-file (the admin key for
// admin tokens, the platform key for platform tokens: auth/keys.h), or under --dev with the
// dev keys: those of COWORK_DEV_KEYS_DIR when set, else the built-in ones. A token may not
// live longer than its kind allows (auth::TokenLimits). `keygen` writes fresh dev key pairs
// into DIR unless it holds them already (tools/cowork up does this under its data dir). The
// token goes to `out` with a newline; errors go to `err`.
//
// Exit codes: 0 done; 2 no usable key or an invalid argument; CLI11's codes for usage errors
// (and 0 for --help).
//
// Thread-safe as long as the environment is not modified concurrently.

#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace cowork::token {

struct CliEnvironment {
  // Reads an environment variable (std::getenv in main).
  std::function<std::optional<std::string>(const std::string&)> getenv;
  absl::Time now;
};

int RunTokenCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
                std::ostream& err);

}  // namespace cowork::token

#endif  // COWORK_TOOLS_TOKEN_TOKEN_CLI_H_
