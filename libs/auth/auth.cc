#include "libs/auth/auth.h"

#include <jwt.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace cowork::auth {
namespace {

constexpr char kRolePlatform[] = "platform";
constexpr char kRoleAdmin[] = "admin";
constexpr char kRoleCustomer[] = "customer";

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

absl::Status Unauthenticated(absl::string_view reason) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", reason));
}

// libjwt reports errors through errno; a failure to build a token from valid inputs means
// the library or the process is broken, so it is not a recoverable error.
[[noreturn]] void MintFailure(const char* what, int rc) {
  std::fprintf(stderr, "cowork::auth: cannot mint token: %s failed (%d)\n", what, rc);
  std::abort();
}

void CheckRc(int rc, const char* what) {
  if (rc != 0) MintFailure(what, rc);
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  google::protobuf::ListValue list;
  for (const std::string& v : values) list.add_values()->set_string_value(v);
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(list, &json);
  if (!status.ok()) MintFailure("MessageToJsonString", -1);
  return json;
}

// A token with the common claims; the caller adds the role's own claims and encodes it.
JwtPtr NewToken(absl::string_view role, absl::string_view subject, absl::Time now,
                absl::Duration ttl) {
  jwt_t* raw = nullptr;
  CheckRc(jwt_new(&raw), "jwt_new");
  JwtPtr jwt(raw);
  CheckRc(jwt_add_grant(jwt.get(), "iss", std::string(kIssuer).c_str()), "jwt_add_grant(iss)");
  CheckRc(jwt_add_grant(jwt.get(), "aud", std::string(kAudience).c_str()), "jwt_add_grant(aud)");
  CheckRc(jwt_add_grant(jwt.get(), "role", std::string(role).c_str()), "jwt_add_grant(role)");
  if (!subject.empty()) {
    CheckRc(jwt_add_grant(jwt.get(), "sub", std::string(subject).c_str()), "jwt_add_grant(sub)");
  }
  CheckRc(jwt_add_grant_int(jwt.get(), "iat", absl::ToUnixSeconds(now)), "jwt_add_grant_int(iat)");
  CheckRc(jwt_add_grant_int(jwt.get(), "nbf", absl::ToUnixSeconds(now)), "jwt_add_grant_int(nbf)");
  CheckRc(jwt_add_grant_int(jwt.get(), "exp", absl::ToUnixSeconds(now + ttl)),
          "jwt_add_grant_int(exp)");
  return jwt;
}

std::string EncodeEs256(jwt_t* jwt, absl::string_view private_key_pem) {
  if (private_key_pem.empty()) MintFailure("jwt_set_alg (no key)", EINVAL);
  CheckRc(jwt_set_alg(jwt, JWT_ALG_ES256,
                      reinterpret_cast<const unsigned char*>(private_key_pem.data()),
                      static_cast<int>(private_key_pem.size())),
          "jwt_set_alg");
  CString token(jwt_encode_str(jwt));
  if (token == nullptr) MintFailure("jwt_encode_str", errno);
  return std::string(token.get());
}

// ---- reading claims of a verified token

absl::StatusOr<std::string> StringClaim(jwt_t* jwt, const char* name) {
  const char* value = jwt_get_grant(jwt, name);
  if (value == nullptr) return Unauthenticated(absl::StrCat("claim \"", name, "\" missing"));
  return std::string(value);
}

absl::StatusOr<std::string> NonEmptyStringClaim(jwt_t* jwt, const char* name) {
  absl::StatusOr<std::string> value = StringClaim(jwt, name);
  if (value.ok() && value->empty()) {
    return Unauthenticated(absl::StrCat("claim \"", name, "\" empty"));
  }
  return value;
}

absl::StatusOr<int64_t> IntClaim(jwt_t* jwt, const char* name) {
  // jwt_get_grant_int reads a string claim as 0 without an error, so the claim's JSON text
  // is read instead: only a JSON integer parses.
  CString json(jwt_get_grants_json(jwt, name));
  int64_t value = 0;
  if (json == nullptr || !absl::SimpleAtoi(json.get(), &value)) {
    return Unauthenticated(absl::StrCat("claim \"", name, "\" missing or not an integer"));
  }
  return value;
}

absl::StatusOr<std::vector<std::string>> StringArrayClaim(jwt_t* jwt, const char* name) {
  CString json(jwt_get_grants_json(jwt, name));
  if (json == nullptr) return Unauthenticated(absl::StrCat("claim \"", name, "\" missing"));
  google::protobuf::ListValue list;
  if (!google::protobuf::util::JsonStringToMessage(json.get(), &list).ok()) {
    return Unauthenticated(absl::StrCat("claim \"", name, "\" is not an array"));
  }
  std::vector<std::string> out;
  for (const google::protobuf::Value& v : list.values()) {
    if (v.kind_case() != google::protobuf::Value::kStringValue) {
      return Unauthenticated(absl::StrCat("claim \"", name, "\" holds a non-string"));
    }
    out.push_back(v.string_value());
  }
  return out;
}

// A claim that is `want`, or an array holding it (as "aud" may be).
absl::StatusOr<std::string> StringOrArrayHolds(jwt_t* jwt, const char* name,
                                               absl::string_view want) {
  if (const char* value = jwt_get_grant(jwt, name); value != nullptr) {
    if (value == want) return std::string(value);
  } else if (CString json(jwt_get_grants_json(jwt, name)); json != nullptr) {
    absl::StatusOr<std::vector<std::string>> values = StringArrayClaim(jwt, name);
    if (values.ok() && absl::c_linear_search(*values, std::string(want))) {
      return std::string(want);
    }
  } else {
    return Unauthenticated(absl::StrCat("claim \"", name, "\" missing"));
  }
  return Unauthenticated(absl::StrCat("claim \"", name, "\" does not hold ", want));
}

bool IsAllowed(jwt_alg_t alg, std::initializer_list<jwt_alg_t> allowed) {
  return absl::c_linear_search(allowed, alg);
}

}  // namespace

std::vector<std::string> AllPermissions() {
  return {std::string(kCustomersRead), std::string(kCustomersWrite),
          std::string(kCustomersErase), std::string(kLocationsWrite),
          std::string(kContractsRead),  std::string(kContractsWrite),
          std::string(kBookingsRead),   std::string(kBookingsWrite),
          std::string(kCheckinsRead),   std::string(kCheckinsWrite),
          std::string(kHelpdeskRead),   std::string(kHelpdeskWrite),
          std::string(kPlatformInvoices)};
}

bool Principal::HasPermission(absl::string_view permission) const {
  return is_admin() && permissions.contains(permission);
}

bool Principal::CoversLocation(absl::string_view location_id) const {
  if (!is_admin()) return false;
  for (const std::string& l : locations) {
    if (l == "*" || (!location_id.empty() && l == location_id)) return true;
  }
  return false;
}

std::string CallerOf(const Principal& p) {
  switch (p.role) {
    case Role::kPlatform:
      return absl::StrCat("platform:", p.subject);
    case Role::kAdmin:
      return absl::StrCat("admin:", p.subject);
    case Role::kCustomer:
      return absl::StrCat("customer:", p.subject);
  }
  return "";
}

bool Principal::CoversAllLocations() const {
  return is_admin() && absl::c_linear_search(locations, std::string("*"));
}

TokenVerifier::TokenVerifier(VerifierOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

absl::StatusOr<Principal> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (now >= it->second.expires) return Unauthenticated("expired");
      return it->second;
    }
  }
  absl::StatusOr<Principal> principal = VerifyUncached(token, now);
  if (principal.ok()) {
    absl::MutexLock lock(&mu_);
    if (verified_.size() >= kCachedTokens) verified_.clear();
    verified_.emplace(std::string(token), *principal);
  }
  return principal;
}

absl::StatusOr<Principal> TokenVerifier::VerifyUncached(absl::string_view token,
                                                        absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty");
  const std::string token_str(token);

  // Step 1: read the header and the role WITHOUT trusting them (libjwt 1.10 decodes without
  // checking the signature when given no key). They only select the key and the algorithms
  // that key may be used with; nothing else is read before the signature is verified.
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token_str.c_str(), nullptr, 0) != 0 || raw == nullptr) {
    return Unauthenticated("malformed");
  }
  JwtPtr unverified(raw);
  // Without a key libjwt reports the algorithm as "none"; the header still says which.
  const char* alg_header = jwt_get_header(unverified.get(), "alg");
  if (alg_header == nullptr) return Unauthenticated("header \"alg\" missing");
  const jwt_alg_t alg = jwt_str_alg(alg_header);
  if (alg == JWT_ALG_INVAL) return Unauthenticated("unknown algorithm");
  if (alg == JWT_ALG_NONE) return Unauthenticated("unsigned tokens are not accepted");
  const char* role_claim = jwt_get_grant(unverified.get(), "role");
  if (role_claim == nullptr) return Unauthenticated("claim \"role\" missing");
  const std::string role_name(role_claim);

  // Step 2: the key and algorithms allowed for that role. Each role has its issuer's public
  // key and only asymmetric algorithms: no key that verifies can also sign, and a token
  // cannot make us verify an HMAC with a public key (the classic algorithm-confusion forgery).
  Role role;
  absl::string_view key;
  bool allowed;
  absl::Duration max_lifetime;
  if (role_name == kRoleCustomer) {
    role = Role::kCustomer;
    key = options_.session_public_key_pem;
    allowed = IsAllowed(alg, {JWT_ALG_ES256});
    max_lifetime = options_.limits.session;
  } else if (role_name == kRolePlatform) {
    role = Role::kPlatform;
    key = options_.platform_public_key_pem;
    allowed = IsAllowed(alg, {JWT_ALG_ES256});
    max_lifetime = options_.limits.platform;
  } else if (role_name == kRoleAdmin) {
    role = Role::kAdmin;
    key = options_.admin_public_key_pem;
    allowed = IsAllowed(alg, {JWT_ALG_RS256, JWT_ALG_ES256});
    max_lifetime = options_.limits.admin;
  } else {
    return Unauthenticated("unknown role");
  }
  if (key.empty()) return Unauthenticated(absl::StrCat(role_name, " tokens are not accepted"));
  if (!allowed) {
    return Unauthenticated(
        absl::StrCat("algorithm ", jwt_alg_str(alg), " not accepted for ", role_name, " tokens"));
  }

  // Step 3: verify the signature with the selected key.
  raw = nullptr;
  if (jwt_decode(&raw, token_str.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                 static_cast<int>(key.size())) != 0 ||
      raw == nullptr) {
    return Unauthenticated("bad signature");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != alg) return Unauthenticated("algorithm changed");

  // Step 4: the claims, now trusted.
  absl::StatusOr<std::string> iss = StringClaim(jwt.get(), "iss");
  if (!iss.ok()) return iss.status();
  if (*iss != kIssuer) return Unauthenticated("wrong issuer");
  absl::StatusOr<std::string> verified_role = StringClaim(jwt.get(), "role");
  if (!verified_role.ok()) return verified_role.status();
  if (*verified_role != role_name) return Unauthenticated("role changed");
  absl::StatusOr<std::string> aud = StringOrArrayHolds(jwt.get(), "aud", kAudience);
  if (!aud.ok()) return aud.status();
  absl::StatusOr<int64_t> iat = IntClaim(jwt.get(), "iat");
  if (!iat.ok()) return iat.status();
  absl::StatusOr<int64_t> exp = IntClaim(jwt.get(), "exp");
  if (!exp.ok()) return exp.status();
  if (*exp < *iat) return Unauthenticated("expires before it was issued");
  const absl::Duration skew = options_.limits.clock_skew;
  if (absl::FromUnixSeconds(*iat) > now + skew) return Unauthenticated("issued in the future");
  if (absl::Seconds(*exp - *iat) > max_lifetime) {
    return Unauthenticated(absl::StrCat("lives longer than a ", role_name, " token may (",
                                        absl::FormatDuration(max_lifetime), ")"));
  }
  if (CString present(jwt_get_grants_json(jwt.get(), "nbf")); present != nullptr) {
    absl::StatusOr<int64_t> nbf = IntClaim(jwt.get(), "nbf");
    if (!nbf.ok()) return nbf.status();
    if (absl::FromUnixSeconds(*nbf) > now + skew) return Unauthenticated("not valid yet");
  }
  const absl::Time expires = absl::FromUnixSeconds(*exp);
  if (now >= expires) return Unauthenticated("expired");

  Principal p;
  p.role = role;
  p.expires = expires;
  switch (role) {
    case Role::kPlatform: {
      // The subject is informative for platform staff; absent is fine, as are permissions.
      const char* sub = jwt_get_grant(jwt.get(), "sub");
      if (sub != nullptr) p.subject = sub;
      if (CString perms(jwt_get_grants_json(jwt.get(), "perms")); perms != nullptr) {
        absl::StatusOr<std::vector<std::string>> list = StringArrayClaim(jwt.get(), "perms");
        if (!list.ok()) return list.status();
        p.permissions.insert(list->begin(), list->end());
      }
      break;
    }
    case Role::kAdmin: {
      absl::StatusOr<std::string> sub = NonEmptyStringClaim(jwt.get(), "sub");
      if (!sub.ok()) return sub.status();
      absl::StatusOr<std::string> op = NonEmptyStringClaim(jwt.get(), "op");
      if (!op.ok()) return op.status();
      absl::StatusOr<std::vector<std::string>> locs = StringArrayClaim(jwt.get(), "locs");
      if (!locs.ok()) return locs.status();
      absl::StatusOr<std::vector<std::string>> perms = StringArrayClaim(jwt.get(), "perms");
      if (!perms.ok()) return perms.status();
      p.subject = *std::move(sub);
      p.operator_id = *std::move(op);
      p.locations = *std::move(locs);
      p.permissions.insert(perms->begin(), perms->end());
      break;
    }
    case Role::kCustomer: {
      absl::StatusOr<std::string> sub = NonEmptyStringClaim(jwt.get(), "sub");
      if (!sub.ok()) return sub.status();
      absl::StatusOr<std::string> op = NonEmptyStringClaim(jwt.get(), "op");
      if (!op.ok()) return op.status();
      absl::StatusOr<std::string> sid = NonEmptyStringClaim(jwt.get(), "sid");
      if (!sid.ok()) return sid.status();
      absl::StatusOr<int64_t> gen = IntClaim(jwt.get(), "gen");
      if (!gen.ok()) return gen.status();
      if (*gen < 0) return Unauthenticated("claim \"gen\" negative");
      p.subject = *std::move(sub);
      p.operator_id = *std::move(op);
      p.session_id = *std::move(sid);
      p.session_generation = *gen;
      break;
    }
  }
  return p;
}

std::string MintAdminToken(absl::string_view private_key_pem, const AdminTokenSpec& spec,
                           absl::Time now) {
  JwtPtr jwt = NewToken(kRoleAdmin, spec.subject, now, spec.ttl);
  CheckRc(jwt_add_grant(jwt.get(), "op", spec.operator_id.c_str()), "jwt_add_grant(op)");
  const std::string arrays = absl::StrCat("{\"locs\":", JsonStringArray(spec.locations),
                                          ",\"perms\":", JsonStringArray(spec.permissions), "}");
  CheckRc(jwt_add_grants_json(jwt.get(), arrays.c_str()), "jwt_add_grants_json");
  return EncodeEs256(jwt.get(), private_key_pem);
}

std::string MintPlatformToken(absl::string_view private_key_pem, absl::string_view subject,
                              absl::Time now, absl::Duration ttl,
                              const std::vector<std::string>& permissions) {
  JwtPtr jwt = NewToken(kRolePlatform, subject, now, ttl);
  if (!permissions.empty()) {
    const std::string perms = absl::StrCat("{\"perms\":", JsonStringArray(permissions), "}");
    CheckRc(jwt_add_grants_json(jwt.get(), perms.c_str()), "jwt_add_grants_json");
  }
  return EncodeEs256(jwt.get(), private_key_pem);
}

std::string MintSessionToken(absl::string_view private_key_pem, const SessionTokenSpec& spec,
                             absl::Time now) {
  JwtPtr jwt = NewToken(kRoleCustomer, spec.customer_id, now, spec.ttl);
  CheckRc(jwt_add_grant(jwt.get(), "op", spec.operator_id.c_str()), "jwt_add_grant(op)");
  CheckRc(jwt_add_grant(jwt.get(), "sid", spec.session_id.c_str()), "jwt_add_grant(sid)");
  CheckRc(jwt_add_grant_int(jwt.get(), "gen", spec.session_generation), "jwt_add_grant_int(gen)");
  return EncodeEs256(jwt.get(), private_key_pem);
}

absl::Status RequirePlatformPermission(const Principal& p, absl::string_view permission) {
  if (!p.is_platform()) return absl::PermissionDeniedError("a platform token is required");
  if (!p.permissions.contains(permission)) {
    return absl::PermissionDeniedError(
        absl::StrCat("the platform token lacks the permission ", permission));
  }
  return absl::OkStatus();
}

absl::Status RequirePermission(const Principal& p, absl::string_view permission) {
  if (!p.is_admin()) return absl::PermissionDeniedError("an admin token is required");
  if (!p.HasPermission(permission)) {
    return absl::PermissionDeniedError(absl::StrCat("missing permission ", permission));
  }
  return absl::OkStatus();
}

absl::Status RequireAdmin(const Principal& p, absl::string_view permission,
                          absl::string_view location_id) {
  if (absl::Status s = RequirePermission(p, permission); !s.ok()) return s;
  if (location_id.empty()) {
    if (!p.CoversAllLocations()) {
      return absl::PermissionDeniedError("requires access to every location");
    }
  } else if (!p.CoversLocation(location_id)) {
    return absl::PermissionDeniedError(absl::StrCat("no access to location ", location_id));
  }
  return absl::OkStatus();
}

absl::Status RequireAdminOrSelf(const Principal& p, absl::string_view permission,
                                absl::string_view location_id, absl::string_view customer_id) {
  if (p.is_customer()) {
    if (!customer_id.empty() && p.subject == customer_id) return absl::OkStatus();
    return absl::PermissionDeniedError("customers may only act on themselves");
  }
  return RequireAdmin(p, permission, location_id);
}

absl::Status RequireCatalogueReader(const Principal& p, absl::string_view permission,
                                    absl::string_view location_id) {
  if (p.is_platform()) return absl::PermissionDeniedError("platform tokens cannot read this");
  if (p.is_customer()) return absl::OkStatus();
  return RequireAdmin(p, permission, location_id);
}

absl::Status RequireSelfOrPermission(const Principal& p, absl::string_view permission,
                                     absl::string_view customer_id) {
  if (p.is_customer()) return RequireAdminOrSelf(p, permission, "", customer_id);
  return RequirePermission(p, permission);
}

}  // namespace cowork::auth
