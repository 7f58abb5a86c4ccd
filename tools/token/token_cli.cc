#include "tools/token/token_cli.h"

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/auth.h"

namespace cowork::token {
namespace {

constexpr int kExitConfig = 2;
constexpr char kSecretVar[] = "COWORK_ADMIN_TOKEN_SECRET";
// auth::VerifierOptions requires as much of every secret.
constexpr size_t kMinSecretBytes = 32;

}  // namespace

int RunTokenCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
                std::ostream& err) {
  CLI::App app{"Mints cowork bearer tokens (HS256) for operators' scripts and tests.",
               "cowork-token"};
  app.require_subcommand(1);
  // Subcommands inherit this: "--dev" and "--ttl" work before or after the subcommand.
  app.fallthrough();
  bool dev = false;
  std::string ttl_text = "12h";
  app.add_flag("--dev", dev, "Sign with the dev secret when COWORK_ADMIN_TOKEN_SECRET is unset");
  app.add_option("--ttl", ttl_text, "Lifetime, e.g. 30m, 12h")->capture_default_str();

  CLI::App* admin = app.add_subcommand("admin", "An operator admin's token");
  auth::AdminTokenSpec spec;
  spec.subject = "admin";
  admin->add_option("--operator", spec.operator_id, "Operator id")->required();
  admin->add_option("--location", spec.locations, "Location id (repeatable; default \"*\")");
  admin->add_option("--permission", spec.permissions,
                    absl::StrCat("Permission (repeatable; default all: ",
                                 absl::StrJoin(auth::AllPermissions(), ", "), ")"));
  admin->add_option("--subject", spec.subject, "Admin user id")->capture_default_str();

  CLI::App* platform = app.add_subcommand("platform", "A platform staff token");
  std::string platform_subject = "platform";
  platform->add_option("--subject", platform_subject, "Platform user id")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  absl::Duration ttl;
  if (!absl::ParseDuration(ttl_text, &ttl) || ttl <= absl::ZeroDuration()) {
    err << "cowork-token: --ttl \"" << ttl_text << "\" is not a positive duration (e.g. 12h)\n";
    return kExitConfig;
  }

  std::string secret;
  if (std::optional<std::string> configured = env.getenv(kSecretVar);
      configured.has_value() && !configured->empty()) {
    secret = *configured;
    if (secret.size() < kMinSecretBytes) {
      err << "cowork-token: " << kSecretVar << " must be at least " << kMinSecretBytes
          << " bytes\n";
      return kExitConfig;
    }
  } else if (dev) {
    secret = std::string(auth::kDevAdminSecret);
  } else {
    err << "cowork-token: no signing secret: set " << kSecretVar
        << " (the services' admin token secret), or pass --dev for a dev-mode token\n";
    return kExitConfig;
  }

  if (admin->parsed()) {
    if (spec.locations.empty()) spec.locations = {"*"};
    const std::vector<std::string> known = auth::AllPermissions();
    if (spec.permissions.empty()) spec.permissions = known;
    for (const std::string& p : spec.permissions) {
      if (!absl::c_linear_search(known, p)) {
        err << "cowork-token: unknown permission \"" << p << "\" (known: "
            << absl::StrJoin(known, ", ") << ")\n";
        return kExitConfig;
      }
    }
    spec.ttl = ttl;
    out << auth::MintAdminToken(secret, spec, env.now) << "\n";
  } else {
    out << auth::MintPlatformToken(secret, platform_subject, env.now, ttl) << "\n";
  }
  return 0;
}

}  // namespace cowork::token
