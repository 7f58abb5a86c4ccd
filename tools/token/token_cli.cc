#include "tools/token/token_cli.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"

namespace cowork::token {
namespace {

constexpr int kExitConfig = 2;
constexpr char kDevKeysDirVar[] = "COWORK_DEV_KEYS_DIR";

// The private key to sign with: the file's, or under --dev the dev key of `kind`.
absl::StatusOr<std::string> SigningKey(const CliEnvironment& env, const std::string& file,
                                       bool dev, absl::string_view kind) {
  if (!file.empty() && dev) {
    return absl::InvalidArgumentError("give --private-key-file or --dev, not both");
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream pem;
    pem << in.rdbuf();
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", file));
    if (absl::Status s = auth::CheckEs256PrivateKey(pem.str()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", s.message()));
    }
    return pem.str();
  }
  if (!dev) {
    return absl::InvalidArgumentError(
        absl::StrCat("no signing key: pass --private-key-file with the ", kind,
                     " private key, or --dev for a dev-mode token"));
  }
  if (std::optional<std::string> dir = env.getenv(kDevKeysDirVar);
      dir.has_value() && !dir->empty()) {
    absl::StatusOr<auth::DevKeySet> keys = auth::ReadDevKeys(*dir);
    if (!keys.ok()) return keys.status();
    return kind == "admin" ? keys->admin.private_pem : keys->platform.private_pem;
  }
  return kind == "admin" ? auth::DevAdminKeys().private_pem
                         : auth::DevPlatformKeys().private_pem;
}

}  // namespace

int RunTokenCli(int argc, const char* const* argv, const CliEnvironment& env, std::ostream& out,
                std::ostream& err) {
  CLI::App app{"Mints cowork bearer tokens (ES256) for operators' scripts and tests.",
               "cowork-token"};
  app.require_subcommand(1);
  // Subcommands inherit these: the options work before or after the subcommand.
  app.fallthrough();
  bool dev = false;
  std::string ttl_text;
  std::string key_file;
  app.add_flag("--dev", dev,
               "Sign with the dev keys (those of COWORK_DEV_KEYS_DIR when set, else the "
               "built-in ones)");
  app.add_option("--private-key-file", key_file,
                 "PEM private key to sign with (the admin or the platform key)");
  app.add_option("--ttl", ttl_text, "Lifetime, e.g. 30m (default 12h admin, 1h platform)");

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
  std::vector<std::string> platform_permissions;
  platform->add_option(
      "--permission", platform_permissions,
      absl::StrCat("Permission (repeatable; default none), e.g. ", auth::kPlatformQuarantine));

  CLI::App* keygen = app.add_subcommand(
      "keygen", "Write fresh dev key pairs (session, platform, admin) into a directory");
  std::string keys_dir;
  keygen->add_option("--dir", keys_dir, "Directory of the key files")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  if (keygen->parsed()) {
    if (absl::Status s = auth::EnsureDevKeys(keys_dir); !s.ok()) {
      err << "cowork-token: " << s.message() << "\n";
      return kExitConfig;
    }
    return 0;
  }

  const auth::TokenLimits limits;
  absl::Duration ttl = admin->parsed() ? absl::Hours(12) : absl::Hours(1);
  const absl::Duration max_ttl = admin->parsed() ? limits.admin : limits.platform;
  if (!ttl_text.empty() &&
      (!absl::ParseDuration(ttl_text, &ttl) || ttl <= absl::ZeroDuration())) {
    err << "cowork-token: --ttl \"" << ttl_text << "\" is not a positive duration (e.g. 12h)\n";
    return kExitConfig;
  }
  if (ttl > max_ttl) {
    err << "cowork-token: --ttl " << absl::FormatDuration(ttl) << " is longer than a "
        << (admin->parsed() ? "admin" : "platform") << " token may live ("
        << absl::FormatDuration(max_ttl) << ")\n";
    return kExitConfig;
  }
  absl::StatusOr<std::string> key =
      SigningKey(env, key_file, dev, admin->parsed() ? "admin" : "platform");
  if (!key.ok()) {
    err << "cowork-token: " << key.status().message() << "\n";
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
    out << auth::MintAdminToken(*key, spec, env.now) << "\n";
  } else {
    out << auth::MintPlatformToken(*key, platform_subject, env.now, ttl, platform_permissions)
        << "\n";
  }
  return 0;
}

}  // namespace cowork::token
