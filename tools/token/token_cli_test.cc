#include "tools/token/token_cli.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"

namespace cowork::token {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);
constexpr char kSecret[] = "a-configured-admin-secret-0123456789abcdef";

struct Result {
  int exit_code;
  std::string out, err;
};

Result RunCli(std::vector<std::string> args, std::map<std::string, std::string> environment) {
  std::vector<const char*> argv = {"cowork-token"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  CliEnvironment env{.getenv =
                         [environment](const std::string& name) -> std::optional<std::string> {
                           auto it = environment.find(name);
                           if (it == environment.end()) return std::nullopt;
                           return it->second;
                         },
                     .now = kNow};
  std::ostringstream out, err;
  const int code = RunTokenCli(static_cast<int>(argv.size()), argv.data(), env, out, err);
  return {code, out.str(), err.str()};
}

absl::StatusOr<auth::Principal> VerifyWith(absl::string_view secret, const std::string& out,
                                           absl::Time at = kNow) {
  auth::TokenVerifier verifier({.admin_secret = std::string(secret),
                                .admin_public_key_pem = "",
                                .session_secret = std::string(auth::kDevSessionSecret)});
  return verifier.Verify(absl::StripAsciiWhitespace(out), at);
}

TEST(TokenCli, AdminWithConfiguredSecretAndDefaults) {
  Result r = RunCli({"admin", "--operator", "op-1"}, {{"COWORK_ADMIN_TOKEN_SECRET", kSecret}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.back(), '\n');
  absl::StatusOr<auth::Principal> p = VerifyWith(kSecret, r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->operator_id, "op-1");
  EXPECT_TRUE(p->CoversAllLocations());
  for (const std::string& perm : auth::AllPermissions()) EXPECT_TRUE(p->HasPermission(perm));
  EXPECT_EQ(p->expires, kNow + absl::Hours(12));
  // Not signed with the dev secret.
  EXPECT_FALSE(VerifyWith(auth::kDevAdminSecret, r.out).ok());
}

TEST(TokenCli, AdminScopedLocationsPermissionsSubjectAndTtl) {
  Result r = RunCli({"admin", "--operator", "op-2", "--location", "loc-1", "--location", "loc-2",
                     "--permission", "customers.read", "--subject", "ana@example.com", "--ttl",
                     "30m", "--dev"},
                    {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<auth::Principal> p = VerifyWith(auth::kDevAdminSecret, r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "ana@example.com");
  EXPECT_THAT(p->locations, ::testing::ElementsAre("loc-1", "loc-2"));
  EXPECT_THAT(p->permissions, UnorderedElementsAre("customers.read"));
  EXPECT_EQ(p->expires, kNow + absl::Minutes(30));
}

TEST(TokenCli, PlatformToken) {
  Result r = RunCli({"--dev", "platform", "--subject", "root"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<auth::Principal> p = VerifyWith(auth::kDevAdminSecret, r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_platform());
  EXPECT_EQ(p->subject, "root");
}

TEST(TokenCli, NoSecretWithoutDevIsExitTwo) {
  Result r = RunCli({"admin", "--operator", "op-1"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_THAT(r.err, HasSubstr("COWORK_ADMIN_TOKEN_SECRET"));
  EXPECT_THAT(r.err, HasSubstr("--dev"));
  EXPECT_EQ(RunCli({"platform"}, {}).exit_code, 2);
}

TEST(TokenCli, ShortSecretUnknownPermissionAndBadTtlAreExitTwo) {
  EXPECT_EQ(RunCli({"platform"}, {{"COWORK_ADMIN_TOKEN_SECRET", "short"}}).exit_code, 2);
  Result r = RunCli({"admin", "--operator", "op-1", "--permission", "customers.rread", "--dev"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("customers.rread"));
  EXPECT_EQ(RunCli({"platform", "--ttl", "forever", "--dev"}, {}).exit_code, 2);
  EXPECT_EQ(RunCli({"platform", "--ttl", "-1h", "--dev"}, {}).exit_code, 2);
}

TEST(TokenCli, UsageErrors) {
  EXPECT_NE(RunCli({}, {}).exit_code, 0);                       // no subcommand
  EXPECT_NE(RunCli({"admin", "--dev"}, {}).exit_code, 0);       // --operator required
  EXPECT_NE(RunCli({"customer", "--dev"}, {}).exit_code, 0);    // unknown subcommand
  Result help = RunCli({"--help"}, {});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("admin"));
}

}  // namespace
}  // namespace cowork::token
