#include "libs/runtime/authenticator.h"

#include "libs/status/macros.h"
#include "libs/validation/validation.h"

namespace cowork::runtime {

absl::StatusOr<auth::Principal> Authenticator::AuthenticateToken(absl::string_view token) const {
  COWORK_ASSIGN_OR_RETURN(auth::Principal p, verifier_.Verify(token, verifier_.clock().Now()));
  if (!p.is_platform() && !validation::IsValidId(p.operator_id)) {
    return absl::UnauthenticatedError("the token names no valid operator");
  }
  if (p.is_customer()) COWORK_RETURN_IF_ERROR(sessions_.CheckSession(p));
  return p;
}

}  // namespace cowork::runtime
