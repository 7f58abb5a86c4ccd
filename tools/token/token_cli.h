#ifndef COWORK_TOOLS_TOKEN_TOKEN_CLI_H_
#define COWORK_TOOLS_TOKEN_TOKEN_CLI_H_

// cowork-token: mints bearer tokens for operators' scripts and for tests.
//
//   cowork-token admin --operator OP [--location L]... [--permission P]... [--subject S]
//                      [--ttl 12h] [--dev]
//   cowork-token platform [--subject S] [--ttl 12h] [--dev]
//
// Tokens are HS256 with the admin secret from COWORK_ADMIN_TOKEN_SECRET, or with the dev
// secret under --dev (a configured secret still wins). The token goes to `out` with a
// newline; errors go to `err`.
//
// Exit codes: 0 minted; 2 no usable secret or an invalid argument; CLI11's codes for usage
// errors (and 0 for --help).
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
