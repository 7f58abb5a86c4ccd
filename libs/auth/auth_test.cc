#include "libs/auth/auth.h"

#include <jwt.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::auth {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
constexpr absl::string_view kAdminSecret = "admin-secret-for-tests-0123456789abcdef";
constexpr absl::string_view kSessionSecret = "session-secret-for-tests-0123456789abcdef";

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(COWORK_AUTH_TESTDATA) + "/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << name;
  return out.str();
}

VerifierOptions SecretsOnly() {
  return {.admin_secret = std::string(kAdminSecret),
          .admin_public_key_pem = "",
          .session_secret = std::string(kSessionSecret)};
}

VerifierOptions WithPublicKey(const std::string& pem) {
  VerifierOptions o = SecretsOnly();
  o.admin_public_key_pem = pem;
  return o;
}

AdminTokenSpec Admin() {
  return {.subject = "ana@example.com",
          .operator_id = "op-1",
          .locations = {"loc-1", "loc-2"},
          .permissions = {std::string(kCustomersRead), std::string(kCustomersWrite)},
          .ttl = absl::Hours(1)};
}

SessionTokenSpec Session() {
  return {.operator_id = "op-1",
          .customer_id = "c-1",
          .session_id = "s-1",
          .session_generation = 3,
          .ttl = absl::Hours(1)};
}

// Builds a token directly with libjwt, for shapes our minting functions never produce.
std::string Craft(jwt_alg_t alg, absl::string_view key, const std::string& grants_json) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  EXPECT_EQ(jwt_add_grants_json(jwt, grants_json.c_str()), 0) << grants_json;
  EXPECT_EQ(jwt_set_alg(jwt, alg, key.empty() ? nullptr
                                              : reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* encoded = jwt_encode_str(jwt);
  EXPECT_NE(encoded, nullptr);
  std::string token = encoded == nullptr ? "" : encoded;
  free(encoded);
  jwt_free(jwt);
  return token;
}

std::string AdminClaims(int64_t iat, int64_t exp) {
  return absl::StrCat(
      R"({"iss":"cowork","role":"admin","sub":"sso-user","op":"op-1","locs":["*"],)",
      R"("perms":["customers.read"],"iat":)", iat, R"(,"exp":)", exp, "}");
}

void ExpectUnauthenticated(const absl::StatusOr<Principal>& result, absl::string_view reason) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(std::string(reason)));
}

TEST(TokenVerifier, AdminRoundTrip) {
  TokenVerifier verifier(SecretsOnly());
  absl::StatusOr<Principal> p = verifier.Verify(MintAdminToken(kAdminSecret, Admin(), kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->subject, "ana@example.com");
  EXPECT_EQ(p->operator_id, "op-1");
  EXPECT_THAT(p->locations, ::testing::ElementsAre("loc-1", "loc-2"));
  EXPECT_TRUE(p->HasPermission(kCustomersRead));
  EXPECT_TRUE(p->HasPermission(kCustomersWrite));
  EXPECT_FALSE(p->HasPermission(kCustomersErase));
  EXPECT_EQ(p->expires, kNow + absl::Hours(1));
  EXPECT_TRUE(p->CoversLocation("loc-2"));
  EXPECT_FALSE(p->CoversLocation("loc-3"));
  EXPECT_FALSE(p->CoversAllLocations());
}

TEST(TokenVerifier, AdminClaimsWithQuotesSurviveEncoding) {
  AdminTokenSpec spec = Admin();
  spec.locations = {"loc \"quoted\" \\ é"};
  TokenVerifier verifier(SecretsOnly());
  absl::StatusOr<Principal> p = verifier.Verify(MintAdminToken(kAdminSecret, spec, kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->locations, ::testing::ElementsAre("loc \"quoted\" \\ é"));
}

TEST(TokenVerifier, PlatformRoundTrip) {
  TokenVerifier verifier(SecretsOnly());
  absl::StatusOr<Principal> p =
      verifier.Verify(MintPlatformToken(kAdminSecret, "root@platform", kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_platform());
  EXPECT_EQ(p->subject, "root@platform");
  EXPECT_TRUE(p->operator_id.empty());
  EXPECT_FALSE(p->HasPermission(kCustomersRead));
  EXPECT_EQ(p->expires, kNow + absl::Hours(12));
}

TEST(TokenVerifier, CustomerRoundTrip) {
  TokenVerifier verifier(SecretsOnly());
  absl::StatusOr<Principal> p =
      verifier.Verify(MintSessionToken(kSessionSecret, Session(), kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_customer());
  EXPECT_EQ(p->subject, "c-1");
  EXPECT_EQ(p->operator_id, "op-1");
  EXPECT_EQ(p->session_id, "s-1");
  EXPECT_EQ(p->session_generation, 3);
  EXPECT_FALSE(p->CoversLocation("loc-1"));
}

TEST(TokenVerifier, RefusesTamperedSignature) {
  TokenVerifier verifier(SecretsOnly());
  std::string token = MintAdminToken(kAdminSecret, Admin(), kNow);
  token.back() = token.back() == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(verifier.Verify(token, kNow), "bad signature");
}

TEST(TokenVerifier, RefusesTamperedPayload) {
  TokenVerifier verifier(SecretsOnly());
  const std::string good = MintSessionToken(kSessionSecret, Session(), kNow);
  SessionTokenSpec other = Session();
  other.customer_id = "c-2";
  const std::string forged_source = MintSessionToken(kSessionSecret, other, kNow);
  // The payload of one token with the signature of another.
  const size_t a = good.find('.'), b = good.rfind('.');
  const size_t fa = forged_source.find('.'), fb = forged_source.rfind('.');
  const std::string spliced =
      good.substr(0, a) + forged_source.substr(fa, fb - fa) + good.substr(b);
  ExpectUnauthenticated(verifier.Verify(spliced, kNow), "bad signature");
}

TEST(TokenVerifier, RefusesWrongSecret) {
  TokenVerifier verifier(SecretsOnly());
  ExpectUnauthenticated(
      verifier.Verify(MintAdminToken("another-secret-of-enough-length-0123456789", Admin(), kNow),
                      kNow),
      "bad signature");
}

TEST(TokenVerifier, KeysAreNotInterchangeableBetweenRoles) {
  TokenVerifier verifier(SecretsOnly());
  // A customer token signed with the admin secret, and an admin token with the session one.
  ExpectUnauthenticated(verifier.Verify(MintSessionToken(kAdminSecret, Session(), kNow), kNow),
                        "bad signature");
  ExpectUnauthenticated(verifier.Verify(MintAdminToken(kSessionSecret, Admin(), kNow), kNow),
                        "bad signature");
  ExpectUnauthenticated(
      verifier.Verify(MintPlatformToken(kSessionSecret, "root", kNow), kNow), "bad signature");
}

TEST(TokenVerifier, RefusesExpired) {
  TokenVerifier verifier(SecretsOnly());
  const std::string token = MintAdminToken(kAdminSecret, Admin(), kNow);
  EXPECT_TRUE(verifier.Verify(token, kNow + absl::Minutes(59)).ok());
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(1)), "expired");
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(48)), "expired");
}

TEST(TokenVerifier, RefusesMalformed) {
  TokenVerifier verifier(SecretsOnly());
  ExpectUnauthenticated(verifier.Verify("", kNow), "empty");
  ExpectUnauthenticated(verifier.Verify("not-a-token", kNow), "malformed");
  ExpectUnauthenticated(verifier.Verify("a.b.c", kNow), "malformed");
  ExpectUnauthenticated(verifier.Verify("e30.e30.e30", kNow), "malformed");
}

TEST(TokenVerifier, RefusesAlgNone) {
  TokenVerifier verifier(SecretsOnly());
  const int64_t now = absl::ToUnixSeconds(kNow);
  const std::string token = Craft(JWT_ALG_NONE, "", AdminClaims(now, now + 3600));
  ASSERT_FALSE(token.empty());
  ExpectUnauthenticated(verifier.Verify(token, kNow), "unsigned");
}

TEST(TokenVerifier, RefusesOtherHmacAlgorithms) {
  TokenVerifier verifier(SecretsOnly());
  const int64_t now = absl::ToUnixSeconds(kNow);
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS512, kSessionSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"customer","sub":"c-1",)",
                                         R"("op":"op-1","sid":"s-1","gen":1,"iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "algorithm HS512 not accepted");
}

TEST(TokenVerifier, RefusesNonIntegerTimes) {
  TokenVerifier verifier(SecretsOnly());
  const int64_t now = absl::ToUnixSeconds(kNow);
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kAdminSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"platform","iat":)", now,
                                         R"(,"exp":"never"})")),
                      kNow),
      "\"exp\" missing or not an integer");
}

TEST(TokenVerifier, RefusesWrongIssuerAndMissingClaims) {
  TokenVerifier verifier(SecretsOnly());
  const int64_t now = absl::ToUnixSeconds(kNow);
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kAdminSecret,
                            absl::StrCat(R"({"iss":"evil","role":"platform","iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "wrong issuer");
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kAdminSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"platform","iat":)", now, "}")),
                      kNow),
      "\"exp\"");
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kSessionSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"customer","sub":"c-1",)",
                                         R"("op":"op-1","sid":"s-1","iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "\"gen\"");
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kAdminSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"admin","sub":"a","op":"op-1",)",
                                         R"("locs":"*","perms":[],"iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "\"locs\"");
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, kAdminSecret,
                            absl::StrCat(R"({"iss":"cowork","role":"root","iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "unknown role");
}

TEST(TokenVerifier, RefusesHs256AdminTokenWhenPublicKeyConfigured) {
  const std::string public_pem = ReadTestdata("rsa_public.pem");
  TokenVerifier verifier(WithPublicKey(public_pem));
  ExpectUnauthenticated(verifier.Verify(MintAdminToken(kAdminSecret, Admin(), kNow), kNow),
                        "algorithm HS256 not accepted");
  // The algorithm-confusion forgery: HMAC keyed with the (public) PEM text.
  const int64_t now = absl::ToUnixSeconds(kNow);
  ExpectUnauthenticated(
      verifier.Verify(Craft(JWT_ALG_HS256, public_pem, AdminClaims(now, now + 3600)), kNow),
      "algorithm HS256 not accepted");
  // Platform tokens still use the admin secret.
  EXPECT_TRUE(verifier.Verify(MintPlatformToken(kAdminSecret, "root", kNow), kNow).ok());
}

TEST(TokenVerifier, AcceptsRs256AdminTokenWithPublicKey) {
  TokenVerifier verifier(WithPublicKey(ReadTestdata("rsa_public.pem")));
  const int64_t now = absl::ToUnixSeconds(kNow);
  const std::string token =
      Craft(JWT_ALG_RS256, ReadTestdata("rsa_private.pem"), AdminClaims(now, now + 3600));
  absl::StatusOr<Principal> p = verifier.Verify(token, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->subject, "sso-user");
  EXPECT_TRUE(p->CoversAllLocations());
  EXPECT_TRUE(p->HasPermission(kCustomersRead));
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(2)), "expired");
}

TEST(TokenVerifier, RefusesRs256TokenFromAnotherKey) {
  TokenVerifier verifier(WithPublicKey(ReadTestdata("rsa_public.pem")));
  const int64_t now = absl::ToUnixSeconds(kNow);
  ExpectUnauthenticated(verifier.Verify(Craft(JWT_ALG_RS256, ReadTestdata("other_rsa_private.pem"),
                                              AdminClaims(now, now + 3600)),
                                        kNow),
                        "bad signature");
}

TEST(TokenVerifier, RefusesRs256WithoutPublicKeyAndForOtherRoles) {
  const int64_t now = absl::ToUnixSeconds(kNow);
  const std::string private_pem = ReadTestdata("rsa_private.pem");
  TokenVerifier secrets_only(SecretsOnly());
  ExpectUnauthenticated(
      secrets_only.Verify(Craft(JWT_ALG_RS256, private_pem, AdminClaims(now, now + 3600)), kNow),
      "algorithm RS256 not accepted");
  TokenVerifier with_key(WithPublicKey(ReadTestdata("rsa_public.pem")));
  ExpectUnauthenticated(
      with_key.Verify(Craft(JWT_ALG_RS256, private_pem,
                            absl::StrCat(R"({"iss":"cowork","role":"platform","iat":)", now,
                                         R"(,"exp":)", now + 60, "}")),
                      kNow),
      "algorithm RS256 not accepted");
}

TEST(TokenVerifier, AcceptsEs256AdminTokenWithPublicKey) {
  TokenVerifier verifier(WithPublicKey(ReadTestdata("ec_public.pem")));
  const int64_t now = absl::ToUnixSeconds(kNow);
  absl::StatusOr<Principal> p = verifier.Verify(
      Craft(JWT_ALG_ES256, ReadTestdata("ec_private.pem"), AdminClaims(now, now + 3600)), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->operator_id, "op-1");
}

TEST(TokenVerifier, RefusesRoleWithoutConfiguredKey) {
  VerifierOptions options = WithPublicKey(ReadTestdata("rsa_public.pem"));
  options.admin_secret.clear();
  TokenVerifier verifier(options);
  ExpectUnauthenticated(verifier.Verify(MintPlatformToken(kAdminSecret, "root", kNow), kNow),
                        "platform tokens are not accepted");
}

// ---- authorization rules

Principal AdminPrincipal(std::vector<std::string> locations,
                         std::vector<std::string> permissions) {
  Principal p;
  p.role = Role::kAdmin;
  p.subject = "ana";
  p.operator_id = "op-1";
  p.locations = std::move(locations);
  p.permissions.insert(permissions.begin(), permissions.end());
  return p;
}

Principal CustomerPrincipal(std::string id) {
  Principal p;
  p.role = Role::kCustomer;
  p.subject = std::move(id);
  p.operator_id = "op-1";
  return p;
}

TEST(RequireAdmin, AllowsScopedAdminWithPermission) {
  Principal p = AdminPrincipal({"loc-1"}, {"customers.read"});
  EXPECT_TRUE(RequireAdmin(p, kCustomersRead, "loc-1").ok());
}

TEST(RequireAdmin, RefusesOtherLocation) {
  Principal p = AdminPrincipal({"loc-1"}, {"customers.read"});
  absl::Status s = RequireAdmin(p, kCustomersRead, "loc-2");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("loc-2"));
}

TEST(RequireAdmin, RefusesMissingPermission) {
  Principal p = AdminPrincipal({"*"}, {"customers.read"});
  absl::Status s = RequireAdmin(p, kCustomersWrite, "loc-1");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("customers.write"));
}

TEST(RequireAdmin, StarCoversEveryLocationAndOperatorWideCalls) {
  Principal star = AdminPrincipal({"*"}, {"customers.read"});
  EXPECT_TRUE(RequireAdmin(star, kCustomersRead, "loc-9").ok());
  EXPECT_TRUE(RequireAdmin(star, kCustomersRead, "").ok());
  Principal scoped = AdminPrincipal({"loc-1", "loc-2"}, {"customers.read"});
  EXPECT_EQ(RequireAdmin(scoped, kCustomersRead, "").code(), absl::StatusCode::kPermissionDenied);
}

TEST(RequireAdmin, RefusesCustomersAndPlatform) {
  EXPECT_EQ(RequireAdmin(CustomerPrincipal("c-1"), kCustomersRead, "loc-1").code(),
            absl::StatusCode::kPermissionDenied);
  Principal platform;
  platform.role = Role::kPlatform;
  EXPECT_EQ(RequireAdmin(platform, kCustomersRead, "loc-1").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RequireAdminOrSelf(platform, kCustomersRead, "loc-1", "c-1").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RequirePermission, AnyScopeButThePermissionAndAnAdminAreNeeded) {
  EXPECT_TRUE(RequirePermission(AdminPrincipal({"loc-1"}, {"customers.read"}), kCustomersRead).ok());
  EXPECT_EQ(RequirePermission(AdminPrincipal({"*"}, {"customers.read"}), kCustomersWrite).code(),
            absl::StatusCode::kPermissionDenied);
  Principal customer;
  customer.role = Role::kCustomer;
  EXPECT_EQ(RequirePermission(customer, kCustomersRead).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RequireAdminOrSelf, CustomerSelfAndOthers) {
  EXPECT_TRUE(RequireAdminOrSelf(CustomerPrincipal("c-1"), kCustomersRead, "loc-1", "c-1").ok());
  EXPECT_EQ(RequireAdminOrSelf(CustomerPrincipal("c-1"), kCustomersRead, "loc-1", "c-2").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RequireAdminOrSelf(CustomerPrincipal("c-1"), kCustomersRead, "loc-1", "").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RequireAdminOrSelf, AdminsFollowAdminRules) {
  Principal p = AdminPrincipal({"loc-1"}, {"customers.read"});
  EXPECT_TRUE(RequireAdminOrSelf(p, kCustomersRead, "loc-1", "c-1").ok());
  EXPECT_EQ(RequireAdminOrSelf(p, kCustomersRead, "loc-2", "c-1").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RequireAdminOrSelf(p, kCustomersWrite, "loc-1", "c-1").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RequireCatalogueReader, CustomersAndScopedAdminsNeverPlatformTokens) {
  EXPECT_TRUE(RequireCatalogueReader(CustomerPrincipal("c-1"), kBookingsRead, "loc-1").ok());
  EXPECT_TRUE(
      RequireCatalogueReader(AdminPrincipal({"loc-1"}, {"bookings.read"}), kBookingsRead, "loc-1")
          .ok());
  EXPECT_EQ(
      RequireCatalogueReader(AdminPrincipal({"loc-2"}, {"bookings.read"}), kBookingsRead, "loc-1")
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RequireCatalogueReader(AdminPrincipal({"*"}, {}), kBookingsRead, "loc-1").code(),
            absl::StatusCode::kPermissionDenied);
  Principal platform;
  platform.role = Role::kPlatform;
  EXPECT_EQ(RequireCatalogueReader(platform, kBookingsRead, "loc-1").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RequireSelfOrPermission, TheCustomerThemselfOrAnAdminWithThePermission) {
  EXPECT_TRUE(RequireSelfOrPermission(CustomerPrincipal("c-1"), kBookingsRead, "c-1").ok());
  EXPECT_EQ(RequireSelfOrPermission(CustomerPrincipal("c-1"), kBookingsRead, "c-2").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      RequireSelfOrPermission(AdminPrincipal({"loc-1"}, {"bookings.read"}), kBookingsRead, "c-2")
          .ok());
  EXPECT_EQ(RequireSelfOrPermission(AdminPrincipal({"*"}, {"bookings.write"}), kBookingsRead,
                                    "c-2")
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AllPermissions, ListsEveryPermission) {
  EXPECT_THAT(AllPermissions(),
              ::testing::UnorderedElementsAre(kCustomersRead, kCustomersWrite, kCustomersErase,
                                              kLocationsWrite, kContractsRead, kContractsWrite,
                                              kBookingsRead, kBookingsWrite,
                                              kCheckinsRead, kCheckinsWrite,
                                              kHelpdeskRead, kHelpdeskWrite,
                                              kPlatformInvoices));
}

// ---- configuration from the environment

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    unsetenv("COWORK_ADMIN_TOKEN_SECRET");
    unsetenv("COWORK_ADMIN_PUBLIC_KEY_FILE");
    unsetenv("COWORK_SESSION_TOKEN_SECRET");
  }
};

TEST_F(EnvTest, OutsideDevNothingSetIsAnErrorNamingTheVariables) {
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(false);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(o.status().message());
  EXPECT_THAT(message, HasSubstr("COWORK_ADMIN_TOKEN_SECRET"));
  EXPECT_THAT(message, HasSubstr("COWORK_ADMIN_PUBLIC_KEY_FILE"));
  EXPECT_THAT(message, HasSubstr("COWORK_SESSION_TOKEN_SECRET"));
}

TEST_F(EnvTest, OutsideDevShortSessionSecretIsAnError) {
  setenv("COWORK_ADMIN_TOKEN_SECRET", std::string(kAdminSecret).c_str(), 1);
  setenv("COWORK_SESSION_TOKEN_SECRET", "short", 1);
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(false);
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(std::string(o.status().message()),
              ::testing::AllOf(HasSubstr("COWORK_SESSION_TOKEN_SECRET"), HasSubstr("32")));
  EXPECT_THAT(std::string(o.status().message()),
              ::testing::Not(HasSubstr("COWORK_ADMIN_TOKEN_SECRET")));
}

TEST_F(EnvTest, OutsideDevSecretsFromTheEnvironment) {
  setenv("COWORK_ADMIN_TOKEN_SECRET", std::string(kAdminSecret).c_str(), 1);
  setenv("COWORK_SESSION_TOKEN_SECRET", std::string(kSessionSecret).c_str(), 1);
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(false);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->admin_secret, kAdminSecret);
  EXPECT_EQ(o->session_secret, kSessionSecret);
  EXPECT_TRUE(o->admin_public_key_pem.empty());
}

TEST_F(EnvTest, PublicKeyFileIsRead) {
  const std::string path = std::string(COWORK_AUTH_TESTDATA) + "/rsa_public.pem";
  setenv("COWORK_ADMIN_PUBLIC_KEY_FILE", path.c_str(), 1);
  setenv("COWORK_SESSION_TOKEN_SECRET", std::string(kSessionSecret).c_str(), 1);
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(false);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->admin_public_key_pem, ReadTestdata("rsa_public.pem"));
  EXPECT_TRUE(o->admin_secret.empty());
}

TEST_F(EnvTest, UnreadablePublicKeyFileIsAnErrorEvenInDev) {
  setenv("COWORK_ADMIN_PUBLIC_KEY_FILE", "/nonexistent/cowork/key.pem", 1);
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(true);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(o.status().message()), HasSubstr("/nonexistent/cowork/key.pem"));
}

TEST_F(EnvTest, DevFallsBackToDevSecrets) {
  absl::StatusOr<VerifierOptions> o = VerifierOptionsFromEnv(true);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->admin_secret, kDevAdminSecret);
  EXPECT_EQ(o->session_secret, kDevSessionSecret);
  // A configured secret still wins in dev.
  setenv("COWORK_SESSION_TOKEN_SECRET", std::string(kSessionSecret).c_str(), 1);
  o = VerifierOptionsFromEnv(true);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->session_secret, kSessionSecret);
  EXPECT_EQ(o->admin_secret, kDevAdminSecret);
}

}  // namespace
}  // namespace cowork::auth
