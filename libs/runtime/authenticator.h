#ifndef COWORK_LIBS_RUNTIME_AUTHENTICATOR_H_
#define COWORK_LIBS_RUNTIME_AUTHENTICATOR_H_

// Who calls: a bearer token turned into a Principal. The application layers hold one; the
// gRPC adapters (handlers.h) hand it the token of each call.
//
// Thread-safe: immutable; the verifier and session validator it holds are thread-safe.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/auth.h"

namespace cowork::runtime {

// Bearer token -> Principal: signature and expiry (TokenVerifier), an operator id that is a
// valid id (it becomes part of store keys), and for customer sessions the SessionValidator
// (password changed, suspended, signed out, erased).
class Authenticator {
 public:
  // Token times are checked against the verifier's clock (auth::TokenVerifier).
  Authenticator(const auth::TokenVerifier& verifier, const auth::SessionValidator& sessions)
      : verifier_(verifier), sessions_(sessions) {}

  absl::StatusOr<auth::Principal> AuthenticateToken(absl::string_view token) const;

 private:
  const auth::TokenVerifier& verifier_;
  const auth::SessionValidator& sessions_;
};

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_AUTHENTICATOR_H_
