#ifndef COWORK_LIBS_AUTH_AUTH_H_
#define COWORK_LIBS_AUTH_AUTH_H_

// Bearer tokens (JWT, libjwt) and who may do what.
//
// Three kinds of token, told apart by the "role" claim, each signed by its issuer alone and
// verified with that issuer's public key (keys.h says where the keys come from):
//  - platform: the platform's own staff; may create operators. ES256, platform key.
//  - admin: an operator's staff; claims "op" (operator id), "locs" (location ids, or ["*"]
//    for every location of the operator) and "perms" (permissions). From the operator's
//    single sign-on or cowork-token: RS256 or ES256, admin key.
//  - customer: a session issued by the customers service at sign-in, ES256 with the session
//    key that only the customers service holds; claims "op", "sub" (customer id), "sid"
//    (session id) and "gen" (the customer's session generation when issued). A
//    SessionValidator decides whether the session still lives (password changed, suspended,
//    signed out, erased).
// Every token has "iss" = "cowork", "aud" = "cowork" (or an array holding it), "iat" and
// "exp", and may have "nbf". It is refused when expired, not yet valid ("nbf"), issued in the
// future ("iat"; both beyond the allowed clock skew), or when it lives longer than its kind
// may (TokenLimits).
//
// Thread-safe: TokenVerifier is immutable after construction but for its cache.
// Errors: UNAUTHENTICATED (missing, malformed, bad signature, expired, dead session),
// PERMISSION_DENIED (authenticated but not allowed).

#include <string>
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"

namespace cowork::auth {

// Permissions an admin token may carry.
inline constexpr absl::string_view kCustomersRead = "customers.read";
inline constexpr absl::string_view kCustomersWrite = "customers.write";
inline constexpr absl::string_view kCustomersErase = "customers.erase";
inline constexpr absl::string_view kLocationsWrite = "locations.write";
// Plans and contracts (the contracts service).
inline constexpr absl::string_view kContractsRead = "contracts.read";
inline constexpr absl::string_view kContractsWrite = "contracts.write";
// Resources, bookings and booking credit (the bookings service).
inline constexpr absl::string_view kBookingsRead = "bookings.read";
inline constexpr absl::string_view kBookingsWrite = "bookings.write";
// Check-ins, visitors and check-out policies (the checkins service).
inline constexpr absl::string_view kCheckinsRead = "checkins.read";
inline constexpr absl::string_view kCheckinsWrite = "checkins.write";
// Tickets: reading them and their internal notes; opening, replying, notes, closing (the
// helpdesk service).
inline constexpr absl::string_view kHelpdeskRead = "helpdesk.read";
inline constexpr absl::string_view kHelpdeskWrite = "helpdesk.write";
// "Invoices from the platform": list and download the operator's subscription invoices.
inline constexpr absl::string_view kPlatformInvoices = "platform.invoices";
// Platform tokens only (not among AllPermissions): the consumers' quarantine of every service,
// which holds events of every operator.
inline constexpr absl::string_view kPlatformQuarantine = "platform.quarantine";
// Every permission above (dev tokens carry them all).
std::vector<std::string> AllPermissions();

enum class Role { kPlatform, kAdmin, kCustomer };

struct Principal {
  Role role = Role::kCustomer;
  std::string subject;      // admin user or customer id ("sub")
  std::string operator_id;  // empty for platform tokens
  std::vector<std::string> locations;          // admins: scope; "*" = all
  absl::flat_hash_set<std::string> permissions;  // admins
  std::string session_id;        // customers
  int64_t session_generation = 0;  // customers
  absl::Time expires;

  bool is_admin() const { return role == Role::kAdmin; }
  bool is_customer() const { return role == Role::kCustomer; }
  bool is_platform() const { return role == Role::kPlatform; }
  bool HasPermission(absl::string_view permission) const;
  // True for admins scoped to `location_id` (or "*"); false for everyone else.
  bool CoversLocation(absl::string_view location_id) const;
  // True for admins scoped to "*".
  bool CoversAllLocations() const;
};

// Who the principal is, the same across all their tokens: "platform:<subject>",
// "admin:<subject>" or "customer:<customer id>" (request records belong to it).
std::string CallerOf(const Principal& p);

// How long a token of each kind may live at most (exp - iat), and how far the issuer's clock
// may be ahead of ours.
struct TokenLimits {
  absl::Duration session = absl::Hours(24 * 30);
  absl::Duration admin = absl::Hours(12);
  absl::Duration platform = absl::Hours(1);
  absl::Duration clock_skew = absl::Seconds(60);
};

struct VerifierOptions {
  // PEM public keys (keys.h): ES256 customer sessions, ES256 platform tokens, RS256/ES256
  // admin tokens. A role without its key is refused.
  std::string session_public_key_pem;
  std::string platform_public_key_pem;
  std::string admin_public_key_pem;
  TokenLimits limits;
};

// The "iss" and "aud" of every token.
inline constexpr absl::string_view kIssuer = "cowork";
inline constexpr absl::string_view kAudience = "cowork";

class TokenVerifier {
 public:
  // `clock` is the time tokens are checked against (Authenticator). Token times are the
  // issuers' wall-clock times, so services verify on the real clock even when their business
  // runs on a simulated one (--simulated-clock); in-process tests may pass theirs.
  explicit TokenVerifier(VerifierOptions options, const Clock& clock = RealClock::Get());
  const Clock& clock() const { return clock_; }
  // Checks signature, issuer, audience, times against `now` and the claims' shape. UNAUTHENTICATED
  // with a reason when anything is wrong. Does not check whether a session still lives.
  // A token verified once is remembered (at most kCachedTokens, forgotten all at once when
  // full): the same bearer on every call of a session costs one signature check, and expiry
  // is still checked against `now` on every call.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now) const;

  static constexpr size_t kCachedTokens = 4096;

 private:
  absl::StatusOr<Principal> VerifyUncached(absl::string_view token, absl::Time now) const;

  VerifierOptions options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Principal> verified_ ABSL_GUARDED_BY(mu_);
};

struct AdminTokenSpec {
  std::string subject;  // admin user id, e.g. "admin@example.com"
  std::string operator_id;
  std::vector<std::string> locations;  // or {"*"}
  std::vector<std::string> permissions;
  absl::Duration ttl = absl::Hours(12);
};

struct SessionTokenSpec {
  std::string operator_id;
  std::string customer_id;
  std::string session_id;
  int64_t session_generation = 0;
  absl::Duration ttl = absl::Hours(24 * 7);
};

// ES256 tokens signed with `private_key_pem` (a P-256 key, keys.h). `now` gives iat and nbf;
// exp = now + ttl. An unusable key is a programming or configuration error checked at
// start-up (keys.h), so minting with one aborts.
std::string MintAdminToken(absl::string_view private_key_pem, const AdminTokenSpec& spec,
                           absl::Time now);
// A platform token may carry "perms" (e.g. kPlatformQuarantine); without `permissions`, none.
std::string MintPlatformToken(absl::string_view private_key_pem, absl::string_view subject,
                              absl::Time now, absl::Duration ttl = absl::Hours(1),
                              const std::vector<std::string>& permissions = {});
std::string MintSessionToken(absl::string_view private_key_pem, const SessionTokenSpec& spec,
                             absl::Time now);

// Decides whether a customer's session still lives. Implemented by the directory of each
// service, fed by the customers events.
class SessionValidator {
 public:
  virtual ~SessionValidator() = default;
  // OK for live sessions; UNAUTHENTICATED for ended ones. Only called for customer tokens.
  virtual absl::Status CheckSession(const Principal& principal) const = 0;
};

// PERMISSION_DENIED unless `p` is an admin holding `permission` and covering `location_id`
// (empty location_id: requires every location, "*"). The caller compares p.operator_id with
// the operator of the resource: these checks do not know it.
absl::Status RequireAdmin(const Principal& p, absl::string_view permission,
                          absl::string_view location_id);
// PERMISSION_DENIED unless `p` is an admin holding `permission`, whatever its location scope
// (for calls that check the location once they know it).
absl::Status RequirePermission(const Principal& p, absl::string_view permission);
// PERMISSION_DENIED unless `p` is a platform token holding `permission`.
absl::Status RequirePlatformPermission(const Principal& p, absl::string_view permission);
// An admin as above, or the customer `customer_id` themself.
absl::Status RequireAdminOrSelf(const Principal& p, absl::string_view permission,
                                absl::string_view location_id, absl::string_view customer_id);

// A location's catalogue (plans, products, resources, availability): admins holding
// `permission` at `location_id`, or any customer (of the operator the caller checks); never
// platform tokens.
absl::Status RequireCatalogueReader(const Principal& p, absl::string_view permission,
                                    absl::string_view location_id);
// A customer's own records: the customer `customer_id` themself, or an admin holding
// `permission` (whose location scope the caller applies once it knows the location).
absl::Status RequireSelfOrPermission(const Principal& p, absl::string_view permission,
                                     absl::string_view customer_id);

}  // namespace cowork::auth

#endif  // COWORK_LIBS_AUTH_AUTH_H_
