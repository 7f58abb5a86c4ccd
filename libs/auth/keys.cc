#include "libs/auth/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/clock/clock.h"

namespace cowork::auth {
namespace {

constexpr char kSessionPublicVar[] = "COWORK_SESSION_PUBLIC_KEY_FILE";
constexpr char kPlatformPublicVar[] = "COWORK_PLATFORM_PUBLIC_KEY_FILE";
constexpr char kAdminPublicVar[] = "COWORK_ADMIN_PUBLIC_KEY_FILE";
constexpr char kSessionPrivateVar[] = "COWORK_SESSION_PRIVATE_KEY_FILE";
constexpr char kDevKeysDirVar[] = "COWORK_DEV_KEYS_DIR";

// ---------------------------------------------------------------- the dev keys
// Published here and in the README: they protect nothing, and outside dev mode they are
// refused.

constexpr char kDevSessionPrivate[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg22js1yPVYtctJ9LN
dAbJh55M76GRrWFcy+U6WHBuJv6hRANCAARrE1WENPoXkfoCl8zOBzQiDSKC+LhW
ci2nt7rlwzKf7UqXz0DPz03Mpz0Hbsotn6UewPNpzTZ6dxKIHqRWrH2R
-----END PRIVATE KEY-----
)";
constexpr char kDevSessionPublic[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaxNVhDT6F5H6ApfMzgc0Ig0igvi4
VnItp7e65cMyn+1Kl89Az89NzKc9B27KLZ+lHsDzac02encSiB6kVqx9kQ==
-----END PUBLIC KEY-----
)";
constexpr char kDevPlatformPrivate[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/CAMrtV9RFAav3Ap
s3a+Tm3HF2/mtx2D7fZpaka5jqKhRANCAARydXDCECG7emrbhy/347sm8sl04XH7
/qN2G5kAFUmN95aV91RJOAemcVIjk1iK0foRCnv9OmxiRUYOOmeAMxUB
-----END PRIVATE KEY-----
)";
constexpr char kDevPlatformPublic[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcnVwwhAhu3pq24cv9+O7JvLJdOFx
+/6jdhuZABVJjfeWlfdUSTgHpnFSI5NYitH6EQp7/TpsYkVGDjpngDMVAQ==
-----END PUBLIC KEY-----
)";
constexpr char kDevAdminPrivate[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR1l6LLUpOPZ/LT7u
mTn8sMImzY8xPqKPnnKYeYvwKr2hRANCAATJDfeaZXHtM7xQd/wynz6UcSIqqgoa
bqg97JjxkYaX7qX3JqCOpIO4flNLq0jz3AJi2t0oOShq2QOj/kikHCc3
-----END PRIVATE KEY-----
)";
constexpr char kDevAdminPublic[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyQ33mmVx7TO8UHf8Mp8+lHEiKqoK
Gm6oPeyY8ZGGl+6l9yagjqSDuH5TS6tI89wCYtrdKDkoatkDo/5IpBwnNw==
-----END PUBLIC KEY-----
)";

// ---------------------------------------------------------------- OpenSSL

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

BioPtr ReadBio(absl::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string Drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &length) != 1) return false;
  const absl::string_view name(group, length);
  return name == "prime256v1" || name == "P-256";
}

[[noreturn]] void KeyGenFailure(const char* what) {
  std::fprintf(stderr, "cowork::auth: cannot make a key pair: %s failed\n", what);
  std::abort();
}

// ---------------------------------------------------------------- reading

std::optional<std::string> StdGetEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return content.str();
}

bool IsDevKey(absl::string_view pem) {
  for (const KeyPair* pair : {&DevSessionKeys(), &DevPlatformKeys(), &DevAdminKeys()}) {
    if (absl::StripAsciiWhitespace(pem) == absl::StripAsciiWhitespace(pair->private_pem) ||
        absl::StripAsciiWhitespace(pem) == absl::StripAsciiWhitespace(pair->public_pem)) {
      return true;
    }
  }
  return false;
}

// Collects the problems of a configuration, each naming its variable.
class Problems {
 public:
  void Add(absl::string_view what, absl::string_view problem) {
    list_.push_back(absl::StrCat(what, ": ", problem));
  }
  bool empty() const { return list_.empty(); }
  absl::Status ToStatus() const {
    if (list_.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("token keys: ", absl::StrJoin(list_, "; ")));
  }

 private:
  std::vector<std::string> list_;
};

// The key in the file `var` names: required, readable, of the right kind, not a dev key.
std::string ReadKeyVar(const GetEnv& getenv, const char* var, bool private_key,
                       bool rsa_allowed, Problems& problems) {
  const std::optional<std::string> path = getenv(var);
  if (!path.has_value() || path->empty()) {
    problems.Add(var, "must name a PEM key file");
    return "";
  }
  absl::StatusOr<std::string> pem = ReadFile(*path);
  if (!pem.ok()) {
    problems.Add(var, pem.status().message());
    return "";
  }
  const absl::Status kind =
      private_key ? CheckEs256PrivateKey(*pem) : CheckPublicKey(*pem, rsa_allowed);
  if (!kind.ok()) {
    problems.Add(var, absl::StrCat(*path, ": ", kind.message()));
    return "";
  }
  if (IsDevKey(*pem)) {
    problems.Add(var, absl::StrCat(*path, " is the documented dev key; outside --dev use a key "
                                          "of your own"));
    return "";
  }
  return *std::move(pem);
}

}  // namespace

KeyPair NewEs256KeyPair() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) KeyGenFailure("EVP_EC_gen");
  BioPtr private_bio(BIO_new(BIO_s_mem()));
  BioPtr public_bio(BIO_new(BIO_s_mem()));
  if (private_bio == nullptr || public_bio == nullptr) KeyGenFailure("BIO_new");
  if (PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    KeyGenFailure("PEM_write_bio_PrivateKey");
  }
  if (PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    KeyGenFailure("PEM_write_bio_PUBKEY");
  }
  return {Drain(private_bio.get()), Drain(public_bio.get())};
}

absl::Status CheckEs256PrivateKey(absl::string_view pem) {
  BioPtr bio = ReadBio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  if (!IsP256(key.get())) return absl::InvalidArgumentError("not a P-256 (ES256) key");
  return absl::OkStatus();
}

absl::Status CheckPublicKey(absl::string_view pem, bool rsa_allowed) {
  BioPtr bio = ReadBio(pem);
  KeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM public key");
  if (IsP256(key.get())) return absl::OkStatus();
  if (rsa_allowed && EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
      return absl::InvalidArgumentError("an RSA key needs at least 2048 bits");
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(rsa_allowed ? "not a P-256 (ES256) or RSA (RS256) key"
                                                : "not a P-256 (ES256) key");
}

const KeyPair& DevSessionKeys() {
  static const KeyPair* const keys = new KeyPair{kDevSessionPrivate, kDevSessionPublic};
  return *keys;
}
const KeyPair& DevPlatformKeys() {
  static const KeyPair* const keys = new KeyPair{kDevPlatformPrivate, kDevPlatformPublic};
  return *keys;
}
const KeyPair& DevAdminKeys() {
  static const KeyPair* const keys = new KeyPair{kDevAdminPrivate, kDevAdminPublic};
  return *keys;
}

std::string DevKeyFile(absl::string_view dir, absl::string_view kind, bool private_key) {
  return absl::StrCat(dir, "/", kind, private_key ? "-private-key.pem" : "-public-key.pem");
}

absl::Status EnsureDevKeys(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  for (const char* kind : {"session", "platform", "admin"}) {
    const std::string private_file = DevKeyFile(dir, kind, true);
    const std::string public_file = DevKeyFile(dir, kind, false);
    if (std::filesystem::exists(private_file) && std::filesystem::exists(public_file)) continue;
    const KeyPair pair = NewEs256KeyPair();
    for (const auto& [file, pem] : {std::pair{private_file, pair.private_pem},
                                    std::pair{public_file, pair.public_pem}}) {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << pem;
      out.close();
      if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", file));
    }
    std::filesystem::permissions(private_file, std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_write,
                                 ec);
  }
  return absl::OkStatus();
}

absl::StatusOr<DevKeySet> ReadDevKeys(const std::string& dir) {
  Problems problems;
  DevKeySet set;
  for (const auto& [kind, pair] : {std::pair<const char*, KeyPair*>{"session", &set.session},
                                   {"platform", &set.platform},
                                   {"admin", &set.admin}}) {
    for (const bool private_key : {true, false}) {
      const std::string file = DevKeyFile(dir, kind, private_key);
      absl::StatusOr<std::string> pem = ReadFile(file);
      absl::Status checked = !pem.ok()      ? pem.status()
                             : private_key ? CheckEs256PrivateKey(*pem)
                                           : CheckPublicKey(*pem, /*rsa_allowed=*/false);
      if (!checked.ok()) {
        problems.Add(kDevKeysDirVar, absl::StrCat(file, ": ", checked.message()));
        continue;
      }
      (private_key ? pair->private_pem : pair->public_pem) = *std::move(pem);
    }
  }
  if (!problems.empty()) return problems.ToStatus();
  return set;
}

absl::StatusOr<TokenKeys> TokenKeysFromEnv(bool dev_mode, bool signs_sessions,
                                           const GetEnv& given_getenv) {
  const GetEnv getenv = given_getenv ? given_getenv : GetEnv(StdGetEnv);
  const auto is_set = [&](const char* var) {
    const std::optional<std::string> v = getenv(var);
    return v.has_value() && !v->empty();
  };
  Problems problems;
  TokenKeys keys;
  if (!signs_sessions && is_set(kSessionPrivateVar)) {
    problems.Add(kSessionPrivateVar,
                 "only the customers service signs sessions: do not give this service the "
                 "session private key");
  }
  if (dev_mode) {
    // A production pod started in dev mode by mistake must not run on the published keys.
    for (const char* var :
         {kSessionPublicVar, kPlatformPublicVar, kAdminPublicVar, kSessionPrivateVar}) {
      if (is_set(var)) {
        problems.Add(var, "is a production key: --dev refuses to start with it (unset it, or "
                          "run without --dev)");
      }
    }
    if (!problems.empty()) return problems.ToStatus();
    DevKeySet dev{DevSessionKeys(), DevPlatformKeys(), DevAdminKeys()};
    if (is_set(kDevKeysDirVar)) {
      absl::StatusOr<DevKeySet> from_dir = ReadDevKeys(*getenv(kDevKeysDirVar));
      if (!from_dir.ok()) return from_dir.status();
      dev = *std::move(from_dir);
    }
    keys.verifier.session_public_key_pem = dev.session.public_pem;
    keys.verifier.platform_public_key_pem = dev.platform.public_pem;
    keys.verifier.admin_public_key_pem = dev.admin.public_pem;
    if (signs_sessions) keys.session_private_key_pem = dev.session.private_pem;
    return keys;
  }

  if (is_set(kDevKeysDirVar)) problems.Add(kDevKeysDirVar, "is for --dev only");
  keys.verifier.session_public_key_pem =
      ReadKeyVar(getenv, kSessionPublicVar, false, /*rsa_allowed=*/false, problems);
  keys.verifier.platform_public_key_pem =
      ReadKeyVar(getenv, kPlatformPublicVar, false, /*rsa_allowed=*/false, problems);
  keys.verifier.admin_public_key_pem =
      ReadKeyVar(getenv, kAdminPublicVar, false, /*rsa_allowed=*/true, problems);
  if (signs_sessions) {
    keys.session_private_key_pem =
        ReadKeyVar(getenv, kSessionPrivateVar, true, /*rsa_allowed=*/false, problems);
  }
  if (!problems.empty()) return problems.ToStatus();
  if (signs_sessions) {
    // The pair must match, or every session the service issues would be refused.
    const absl::Time now = RealClock::Get().Now();
    const std::string probe = MintSessionToken(
        keys.session_private_key_pem,
        {.operator_id = "op", .customer_id = "c", .session_id = "s", .ttl = absl::Minutes(1)},
        now);
    if (!TokenVerifier(keys.verifier).Verify(probe, now).ok()) {
      problems.Add(kSessionPrivateVar, absl::StrCat("does not match ", kSessionPublicVar));
    }
  }
  if (!problems.empty()) return problems.ToStatus();
  return keys;
}

}  // namespace cowork::auth
