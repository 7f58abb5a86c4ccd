#include "libs/auth/auth.h"
#include "libs/auth/keys.h"

#include <jwt.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::auth {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(COWORK_AUTH_TESTDATA) + "/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << name;
  return out.str();
}

// Fresh key pairs for the three issuers, and a verifier holding their public keys.
struct Issuers {
  KeyPair session = NewEs256KeyPair();
  KeyPair platform = NewEs256KeyPair();
  KeyPair admin = NewEs256KeyPair();

  VerifierOptions Options() const {
    return {.session_public_key_pem = session.public_pem,
            .platform_public_key_pem = platform.public_pem,
            .admin_public_key_pem = admin.public_pem};
  }
};

const Issuers& Keys() {
  static const Issuers* const keys = new Issuers;
  return *keys;
}

TokenVerifier Verifier() { return TokenVerifier(Keys().Options()); }

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

// Claims of a token: iss and aud as we mint them, unless `more` sets them.
std::string Claims(absl::string_view role_claims, int64_t iat, int64_t exp,
                   absl::string_view more = "") {
  const bool sets_iss_or_aud =
      absl::StrContains(more, "\"iss\"") || absl::StrContains(more, "\"aud\"");
  return absl::StrCat("{", sets_iss_or_aud ? "" : R"("iss":"cowork","aud":"cowork",)",
                      role_claims, R"(,"iat":)", iat, R"(,"exp":)", exp,
                      more.empty() ? "" : ",", more, "}");
}
constexpr absl::string_view kAdminClaims =
    R"("role":"admin","sub":"sso-user","op":"op-1","locs":["*"],"perms":["customers.read"])";
constexpr absl::string_view kPlatformClaims = R"("role":"platform","sub":"root")";
constexpr absl::string_view kCustomerClaims =
    R"("role":"customer","sub":"c-1","op":"op-1","sid":"s-1","gen":1)";

int64_t Now() { return absl::ToUnixSeconds(kNow); }

void ExpectUnauthenticated(const absl::StatusOr<Principal>& result, absl::string_view reason) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(std::string(reason)));
}

TEST(TokenVerifier, AdminRoundTrip) {
  absl::StatusOr<Principal> p =
      Verifier().Verify(MintAdminToken(Keys().admin.private_pem, Admin(), kNow), kNow);
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
  EXPECT_EQ(CallerOf(*p), "admin:ana@example.com");
}

TEST(TokenVerifier, AdminClaimsWithQuotesSurviveEncoding) {
  AdminTokenSpec spec = Admin();
  spec.locations = {"loc \"quoted\" \\ é"};
  absl::StatusOr<Principal> p =
      Verifier().Verify(MintAdminToken(Keys().admin.private_pem, spec, kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->locations, ::testing::ElementsAre("loc \"quoted\" \\ é"));
}

TEST(TokenVerifier, PlatformRoundTrip) {
  absl::StatusOr<Principal> p = Verifier().Verify(
      MintPlatformToken(Keys().platform.private_pem, "root@platform", kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_platform());
  EXPECT_EQ(p->subject, "root@platform");
  EXPECT_TRUE(p->operator_id.empty());
  EXPECT_FALSE(p->HasPermission(kCustomersRead));
  EXPECT_EQ(p->expires, kNow + absl::Hours(1));
  EXPECT_EQ(CallerOf(*p), "platform:root@platform");
}

TEST(TokenVerifier, PlatformPermissionsRoundTripAndOnlyPlatformTokensUseThem) {
  absl::StatusOr<Principal> p =
      Verifier().Verify(MintPlatformToken(Keys().platform.private_pem, "ops@platform", kNow,
                                          absl::Hours(1), {std::string(kPlatformQuarantine)}),
                        kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(RequirePlatformPermission(*p, kPlatformQuarantine).ok());
  EXPECT_FALSE(p->HasPermission(kPlatformQuarantine));  // an admin's check never passes
  absl::StatusOr<Principal> plain =
      Verifier().Verify(MintPlatformToken(Keys().platform.private_pem, "root", kNow), kNow);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(RequirePlatformPermission(*plain, kPlatformQuarantine).code(),
            absl::StatusCode::kPermissionDenied);
  Principal admin;
  admin.role = Role::kAdmin;
  admin.permissions.insert(std::string(kPlatformQuarantine));
  EXPECT_EQ(RequirePlatformPermission(admin, kPlatformQuarantine).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(TokenVerifier, CustomerRoundTrip) {
  absl::StatusOr<Principal> p =
      Verifier().Verify(MintSessionToken(Keys().session.private_pem, Session(), kNow), kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_customer());
  EXPECT_EQ(p->subject, "c-1");
  EXPECT_EQ(p->operator_id, "op-1");
  EXPECT_EQ(p->session_id, "s-1");
  EXPECT_EQ(p->session_generation, 3);
  EXPECT_FALSE(p->CoversLocation("loc-1"));
  EXPECT_EQ(CallerOf(*p), "customer:c-1");
}

TEST(TokenVerifier, RefusesTamperedSignature) {
  std::string token = MintAdminToken(Keys().admin.private_pem, Admin(), kNow);
  // Not the last character: its low bits are base64 padding, which decoders may ignore.
  char& c = token[token.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(Verifier().Verify(token, kNow), "bad signature");
}

TEST(TokenVerifier, RefusesTamperedPayload) {
  const std::string good = MintSessionToken(Keys().session.private_pem, Session(), kNow);
  SessionTokenSpec other = Session();
  other.customer_id = "c-2";
  const std::string forged_source = MintSessionToken(Keys().session.private_pem, other, kNow);
  // The payload of one token with the signature of another.
  const size_t a = good.find('.'), b = good.rfind('.');
  const size_t fa = forged_source.find('.'), fb = forged_source.rfind('.');
  const std::string spliced =
      good.substr(0, a) + forged_source.substr(fa, fb - fa) + good.substr(b);
  ExpectUnauthenticated(Verifier().Verify(spliced, kNow), "bad signature");
}

TEST(TokenVerifier, RefusesEveryKindSignedByAnyOtherKey) {
  const KeyPair stranger = NewEs256KeyPair();
  ExpectUnauthenticated(
      Verifier().Verify(MintSessionToken(stranger.private_pem, Session(), kNow), kNow),
      "bad signature");
  ExpectUnauthenticated(Verifier().Verify(MintAdminToken(stranger.private_pem, Admin(), kNow), kNow),
                        "bad signature");
  ExpectUnauthenticated(
      Verifier().Verify(MintPlatformToken(stranger.private_pem, "root", kNow), kNow),
      "bad signature");
  // The dev keys are strangers to a service with keys of its own.
  ExpectUnauthenticated(
      Verifier().Verify(MintSessionToken(DevSessionKeys().private_pem, Session(), kNow), kNow),
      "bad signature");
}

TEST(TokenVerifier, KeysAreNotInterchangeableBetweenRoles) {
  // A session signed with the platform key, a platform token with the session key (the key
  // the customers service holds), an admin token with either.
  ExpectUnauthenticated(
      Verifier().Verify(MintSessionToken(Keys().platform.private_pem, Session(), kNow), kNow),
      "bad signature");
  ExpectUnauthenticated(
      Verifier().Verify(MintPlatformToken(Keys().session.private_pem, "root", kNow), kNow),
      "bad signature");
  ExpectUnauthenticated(
      Verifier().Verify(MintAdminToken(Keys().session.private_pem, Admin(), kNow), kNow),
      "bad signature");
  ExpectUnauthenticated(
      Verifier().Verify(MintAdminToken(Keys().platform.private_pem, Admin(), kNow), kNow),
      "bad signature");
}

TEST(TokenVerifier, RefusesExpired) {
  const std::string token = MintAdminToken(Keys().admin.private_pem, Admin(), kNow);
  const TokenVerifier verifier = Verifier();
  EXPECT_TRUE(verifier.Verify(token, kNow + absl::Minutes(59)).ok());
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(1)), "expired");
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(48)), "expired");
}

TEST(TokenVerifier, RefusesMalformed) {
  const TokenVerifier verifier = Verifier();
  ExpectUnauthenticated(verifier.Verify("", kNow), "empty");
  ExpectUnauthenticated(verifier.Verify("not-a-token", kNow), "malformed");
  ExpectUnauthenticated(verifier.Verify("a.b.c", kNow), "malformed");
  ExpectUnauthenticated(verifier.Verify("e30.e30.e30", kNow), "malformed");
}

TEST(TokenVerifier, RefusesAlgNone) {
  const std::string token = Craft(JWT_ALG_NONE, "", Claims(kAdminClaims, Now(), Now() + 3600));
  ASSERT_FALSE(token.empty());
  ExpectUnauthenticated(Verifier().Verify(token, kNow), "unsigned");
}

TEST(TokenVerifier, RefusesHmacForEveryRoleAlsoKeyedWithThePublicKey) {
  // The algorithm-confusion forgery: HMAC keyed with the (public) PEM text.
  for (const auto& [claims, public_pem] :
       {std::pair{kCustomerClaims, Keys().session.public_pem},
        {kPlatformClaims, Keys().platform.public_pem},
        {kAdminClaims, Keys().admin.public_pem}}) {
    for (const jwt_alg_t alg : {JWT_ALG_HS256, JWT_ALG_HS512}) {
      ExpectUnauthenticated(
          Verifier().Verify(Craft(alg, public_pem, Claims(claims, Now(), Now() + 60)), kNow),
          "not accepted");
    }
  }
}

TEST(TokenVerifier, RefusesNonIntegerTimes) {
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, Keys().platform.private_pem,
                              absl::StrCat(R"({"iss":"cowork","aud":"cowork",)", kPlatformClaims,
                                           R"(,"iat":)", Now(), R"(,"exp":"never"})")),
                        kNow),
      "\"exp\" missing or not an integer");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, Keys().platform.private_pem,
                              Claims(kPlatformClaims, Now(), Now() + 60, R"("nbf":"soon")")),
                        kNow),
      "\"nbf\" missing or not an integer");
}

TEST(TokenVerifier, RefusesWrongIssuerAndMissingClaims) {
  const std::string& platform_key = Keys().platform.private_pem;
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, platform_key,
                              Claims(kPlatformClaims, Now(), Now() + 60,
                                     R"("iss":"evil","aud":"cowork")")),
                        kNow),
      "wrong issuer");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, platform_key,
                              absl::StrCat(R"({"iss":"cowork","aud":"cowork",)", kPlatformClaims,
                                           R"(,"iat":)", Now(), "}")),
                        kNow),
      "\"exp\"");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, Keys().session.private_pem,
                              Claims(R"("role":"customer","sub":"c-1","op":"op-1","sid":"s-1")",
                                     Now(), Now() + 60)),
                        kNow),
      "\"gen\"");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, Keys().admin.private_pem,
                              Claims(R"("role":"admin","sub":"a","op":"op-1","locs":"*","perms":[])",
                                     Now(), Now() + 60)),
                        kNow),
      "\"locs\"");
  ExpectUnauthenticated(
      Verifier().Verify(
          Craft(JWT_ALG_ES256, platform_key, Claims(R"("role":"root")", Now(), Now() + 60)),
          kNow),
      "unknown role");
}

TEST(TokenVerifier, TheAudienceMustBeCowork) {
  const std::string& key = Keys().platform.private_pem;
  ExpectUnauthenticated(Verifier().Verify(Craft(JWT_ALG_ES256, key,
                                                Claims(kPlatformClaims, Now(), Now() + 60,
                                                       R"("iss":"cowork")")),
                                          kNow),
                        "\"aud\" missing");
  ExpectUnauthenticated(Verifier().Verify(Craft(JWT_ALG_ES256, key,
                                                Claims(kPlatformClaims, Now(), Now() + 60,
                                                       R"("iss":"cowork","aud":"billing-portal")")),
                                          kNow),
                        "\"aud\" does not hold cowork");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, key,
                              Claims(kPlatformClaims, Now(), Now() + 60,
                                     R"("iss":"cowork","aud":["portal","crm"])")),
                        kNow),
      "\"aud\" does not hold cowork");
  EXPECT_TRUE(Verifier()
                  .Verify(Craft(JWT_ALG_ES256, key,
                                Claims(kPlatformClaims, Now(), Now() + 60,
                                       R"("iss":"cowork","aud":["portal","cowork"])")),
                          kNow)
                  .ok());
}

TEST(TokenVerifier, NoKindLivesLongerThanItMay) {
  const TokenLimits limits;
  for (const auto& [claims, key, lifetime] :
       {std::tuple{kCustomerClaims, Keys().session.private_pem, limits.session},
        {kPlatformClaims, Keys().platform.private_pem, limits.platform},
        {kAdminClaims, Keys().admin.private_pem, limits.admin}}) {
    const int64_t seconds = absl::ToInt64Seconds(lifetime);
    EXPECT_TRUE(
        Verifier().Verify(Craft(JWT_ALG_ES256, key, Claims(claims, Now(), Now() + seconds)), kNow)
            .ok())
        << claims;
    ExpectUnauthenticated(
        Verifier().Verify(Craft(JWT_ALG_ES256, key, Claims(claims, Now(), Now() + seconds + 1)),
                          kNow),
        "lives longer than");
  }
  // Minting for longer than the limit makes a token no service takes.
  ExpectUnauthenticated(
      Verifier().Verify(
          MintPlatformToken(Keys().platform.private_pem, "root", kNow, absl::Hours(2)), kNow),
      "lives longer than a platform token may");
}

TEST(TokenVerifier, RefusesTokensFromTheFutureBeyondTheSkew) {
  const TokenLimits limits;
  const std::string& key = Keys().admin.private_pem;
  const int64_t skew = absl::ToInt64Seconds(limits.clock_skew);
  // Issued just inside the skew: the issuer's clock is a little ahead.
  EXPECT_TRUE(Verifier()
                  .Verify(Craft(JWT_ALG_ES256, key,
                                Claims(kAdminClaims, Now() + skew, Now() + skew + 600)),
                          kNow)
                  .ok());
  ExpectUnauthenticated(
      Verifier().Verify(
          Craft(JWT_ALG_ES256, key, Claims(kAdminClaims, Now() + skew + 1, Now() + skew + 600)),
          kNow),
      "issued in the future");
  ExpectUnauthenticated(
      Verifier().Verify(Craft(JWT_ALG_ES256, key,
                              Claims(kAdminClaims, Now(), Now() + 3600,
                                     absl::StrCat(R"("nbf":)", Now() + skew + 60))),
                        kNow),
      "not valid yet");
  const std::string later = Craft(JWT_ALG_ES256, key,
                                  Claims(kAdminClaims, Now(), Now() + 3600,
                                         absl::StrCat(R"("nbf":)", Now() + 600)));
  EXPECT_TRUE(Verifier().Verify(later, kNow + absl::Minutes(10)).ok());
}

TEST(TokenVerifier, AcceptsRs256AdminTokenWithAnRsaKey) {
  VerifierOptions options = Keys().Options();
  options.admin_public_key_pem = ReadTestdata("rsa_public.pem");
  TokenVerifier verifier(options);
  const std::string token =
      Craft(JWT_ALG_RS256, ReadTestdata("rsa_private.pem"), Claims(kAdminClaims, Now(), Now() + 3600));
  absl::StatusOr<Principal> p = verifier.Verify(token, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->subject, "sso-user");
  EXPECT_TRUE(p->CoversAllLocations());
  EXPECT_TRUE(p->HasPermission(kCustomersRead));
  ExpectUnauthenticated(verifier.Verify(token, kNow + absl::Hours(2)), "expired");
  ExpectUnauthenticated(verifier.Verify(Craft(JWT_ALG_RS256, ReadTestdata("other_rsa_private.pem"),
                                              Claims(kAdminClaims, Now(), Now() + 3600)),
                                        kNow),
                        "bad signature");
  // RS256 is for the operators' single sign-on only.
  ExpectUnauthenticated(verifier.Verify(Craft(JWT_ALG_RS256, ReadTestdata("rsa_private.pem"),
                                              Claims(kPlatformClaims, Now(), Now() + 60)),
                                        kNow),
                        "algorithm RS256 not accepted");
}

TEST(TokenVerifier, RefusesRoleWithoutConfiguredKey) {
  VerifierOptions options = Keys().Options();
  options.platform_public_key_pem.clear();
  TokenVerifier verifier(options);
  ExpectUnauthenticated(
      verifier.Verify(MintPlatformToken(Keys().platform.private_pem, "root", kNow), kNow),
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

}  // namespace
}  // namespace cowork::auth
