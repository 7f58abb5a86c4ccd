#ifndef COWORK_SERVICES_CUSTOMERS_APP_INTERNAL_H_
#define COWORK_SERVICES_CUSTOMERS_APP_INTERNAL_H_

// What the App's files (one per gRPC service) share. Private to the customers app.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "libs/auth/auth.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"
#include "libs/eventstore/views.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::app {

// The names every file of the App uses.
using domain::CommandResult;
using eventstore::Decided;
using eventstore::Loaded;
using eventstore::PageOf;
using eventstore::PageSize;
using eventstore::Paginate;
using eventstore::ReadView;
using eventstore::WriteSet;

// Secrets on the unauthenticated paths (sign-in, setup codes) are bounded before any work.
inline constexpr size_t kMaxSecretBytes = 4 * domain::kMaxPasswordLength;

// `violations` (an INVALID_ARGUMENT from FieldErrors) with another code, keeping its details.
absl::Status WithCode(absl::StatusCode code, const absl::Status& violations);

// The email rule (SPEC "Customers"): an address belongs to one customer of an operator. The
// commit that stages an address takes its claim (projection::EmailClaim), so two racing
// commands cannot both win; these answer with ALREADY_EXISTS naming the request's field.
absl::Status EmailTaken(absl::string_view field);
// OK unless `normalized_email` is claimed: an early answer, before work a taken address would
// waste (the claim itself decides).
absl::Status RequireEmailFree(const eventstore::Store& store, absl::string_view operator_id,
                              absl::string_view normalized_email, absl::string_view field);
// A commit that lost the address's claim, answered as EmailTaken.
absl::Status EmailRaceAsTaken(absl::Status status, absl::string_view field);

// The customers service's answers are ids (CommandResult) whose views are read afterwards
// through the usual authorization, so a replayed answer needs no check of its own.
inline constexpr auto kViewsAuthorizeTheAnswer =
    eventstore::NoReauthorization<domain::CommandResult>;

absl::Status CheckRequest(absl::string_view request_id);

// An admin for `location_id` when it is a usable id; a missing or malformed id is left to the
// validation, which reports it with the other bad fields.
absl::Status RequireAdminFor(const auth::Principal& p, absl::string_view permission,
                             absl::string_view location_id);

// Anyone of an operator: its admins and customers.
absl::Status RequireOperatorMember(const auth::Principal& p);

// The throttle key of an account: its address at the operator, known or not.
std::string AccountKey(absl::string_view operator_id, absl::string_view email);

// Sign-in answers the same whether the email is unknown or the password wrong, and takes as
// long: an unknown email is checked against this hash.
const std::string& DummyHash();

// Unicode case folding (ICU), for case-insensitive name search in any alphabet.
std::string Fold(absl::string_view s);

// A generated id, or the caller's (validated by the domain).
std::string IdOrNew(absl::string_view given, absl::string_view prefix);

std::vector<std::string> Paths(const google::protobuf::FieldMask& mask);

}  // namespace cowork::customers::app

#endif  // COWORK_SERVICES_CUSTOMERS_APP_INTERNAL_H_
