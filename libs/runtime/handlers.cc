#include "libs/runtime/handlers.h"

#include <string>

#include "libs/status/macros.h"

namespace cowork::runtime {

absl::StatusOr<auth::Principal> Authenticate(const Authenticator& authn,
                                             const grpc::ServerContextBase& context) {
  COWORK_ASSIGN_OR_RETURN(const std::string token, server::BearerToken(context));
  return authn.AuthenticateToken(token);
}

}  // namespace cowork::runtime
