#include "tools/token/token_cli.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/auth.h"
#include "libs/auth/keys.h"
#include "libs/testing/process.h"

namespace cowork::token {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

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

// Verifies `out` as a service would whose admin and platform public keys are these.
absl::StatusOr<auth::Principal> VerifyWith(const auth::KeyPair& admin,
                                           const auth::KeyPair& platform, const std::string& out) {
  auth::TokenVerifier verifier({.platform_public_key_pem = platform.public_pem,
                                .admin_public_key_pem = admin.public_pem});
  return verifier.Verify(absl::StripAsciiWhitespace(out), kNow);
}
absl::StatusOr<auth::Principal> VerifyDev(const std::string& out) {
  return VerifyWith(auth::DevAdminKeys(), auth::DevPlatformKeys(), out);
}

class TokenCli : public ::testing::Test {
 protected:
  // A key pair whose private key is in a file.
  std::string KeyFile(const auth::KeyPair& pair) {
    const std::string path = dir_.Sub("key.pem");
    std::ofstream(path) << pair.private_pem;
    return path;
  }
  testing::TempDir dir_{"token_cli_test"};
};

TEST_F(TokenCli, AdminWithAPrivateKeyFileAndDefaults) {
  const auth::KeyPair admin = auth::NewEs256KeyPair();
  Result r = RunCli({"admin", "--operator", "op-1", "--private-key-file", KeyFile(admin)}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.back(), '\n');
  absl::StatusOr<auth::Principal> p = VerifyWith(admin, auth::DevPlatformKeys(), r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->operator_id, "op-1");
  EXPECT_TRUE(p->CoversAllLocations());
  for (const std::string& perm : auth::AllPermissions()) EXPECT_TRUE(p->HasPermission(perm));
  EXPECT_EQ(p->expires, kNow + absl::Hours(12));
  // Not signed with the dev key.
  EXPECT_FALSE(VerifyDev(r.out).ok());
}

TEST_F(TokenCli, AdminScopedLocationsPermissionsSubjectAndTtl) {
  Result r = RunCli({"admin", "--operator", "op-2", "--location", "loc-1", "--location", "loc-2",
                     "--permission", "customers.read", "--subject", "ana@example.com", "--ttl",
                     "30m", "--dev"},
                    {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<auth::Principal> p = VerifyDev(r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "ana@example.com");
  EXPECT_THAT(p->locations, ::testing::ElementsAre("loc-1", "loc-2"));
  EXPECT_THAT(p->permissions, UnorderedElementsAre("customers.read"));
  EXPECT_EQ(p->expires, kNow + absl::Minutes(30));
}

TEST_F(TokenCli, PlatformTokenLivesAnHourByDefault) {
  Result r = RunCli({"--dev", "platform", "--subject", "root"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  absl::StatusOr<auth::Principal> p = VerifyDev(r.out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_platform());
  EXPECT_EQ(p->subject, "root");
  EXPECT_EQ(p->expires, kNow + absl::Hours(1));
}

TEST_F(TokenCli, KeygenWritesDevKeysThatDevTokensUse) {
  const std::string keys = dir_.Sub("keys");
  ASSERT_EQ(RunCli({"keygen", "--dir", keys}, {}).exit_code, 0);
  absl::StatusOr<auth::DevKeySet> written = auth::ReadDevKeys(keys);
  ASSERT_TRUE(written.ok()) << written.status();
  Result r = RunCli({"admin", "--operator", "op-1", "--dev"}, {{"COWORK_DEV_KEYS_DIR", keys}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(VerifyWith(written->admin, written->platform, r.out).ok());
  EXPECT_FALSE(VerifyDev(r.out).ok());
  r = RunCli({"platform", "--dev"}, {{"COWORK_DEV_KEYS_DIR", keys}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(VerifyWith(written->admin, written->platform, r.out).ok());
}

TEST_F(TokenCli, NoKeyWithoutDevIsExitTwo) {
  Result r = RunCli({"admin", "--operator", "op-1"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_THAT(r.err, HasSubstr("--private-key-file"));
  EXPECT_THAT(r.err, HasSubstr("--dev"));
  EXPECT_EQ(RunCli({"platform"}, {}).exit_code, 2);
}

TEST_F(TokenCli, BadKeysUnknownPermissionsAndBadOrLongTtlsAreExitTwo) {
  EXPECT_EQ(RunCli({"platform", "--private-key-file", dir_.Sub("missing.pem")}, {}).exit_code, 2);
  std::ofstream(dir_.Sub("public.pem")) << auth::NewEs256KeyPair().public_pem;
  EXPECT_EQ(RunCli({"platform", "--private-key-file", dir_.Sub("public.pem")}, {}).exit_code, 2);
  EXPECT_EQ(RunCli({"platform", "--dev", "--private-key-file",
                    KeyFile(auth::NewEs256KeyPair())},
                   {})
                .exit_code,
            2);
  Result r = RunCli({"admin", "--operator", "op-1", "--permission", "customers.rread", "--dev"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("customers.rread"));
  EXPECT_EQ(RunCli({"platform", "--ttl", "forever", "--dev"}, {}).exit_code, 2);
  EXPECT_EQ(RunCli({"platform", "--ttl", "-1h", "--dev"}, {}).exit_code, 2);
  r = RunCli({"platform", "--ttl", "2h", "--dev"}, {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("longer than a platform token may live"));
  EXPECT_EQ(RunCli({"admin", "--operator", "op-1", "--ttl", "13h", "--dev"}, {}).exit_code, 2);
}

TEST_F(TokenCli, UsageErrors) {
  EXPECT_NE(RunCli({}, {}).exit_code, 0);                       // no subcommand
  EXPECT_NE(RunCli({"admin", "--dev"}, {}).exit_code, 0);       // --operator required
  EXPECT_NE(RunCli({"customer", "--dev"}, {}).exit_code, 0);    // unknown subcommand
  Result help = RunCli({"--help"}, {});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("admin"));
}

}  // namespace
}  // namespace cowork::token
