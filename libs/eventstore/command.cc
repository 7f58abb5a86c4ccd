#include "libs/eventstore/command.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/crypto/crypto.h"
#include "libs/status/field_errors.h"

namespace cowork::eventstore {
namespace {

// The first answer to a request, replayed. A key reused for another method is the caller's
// mistake (request ids must be unique per call), reported against the field it came from.
absl::StatusOr<std::string> Replay(const RequestKey& request,
                                   const common::v1::StoredResponse& stored) {
  if (stored.method() != request.method) {
    return InvalidField("request_id",
                        absl::StrCat("was already used for another call (", stored.method(),
                                     "); use a fresh request id for each call"));
  }
  if (stored.code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(stored.code()), stored.message());
  }
  return stored.response();
}

}  // namespace

absl::StatusOr<std::string> ExecuteBytes(Store& store, const RequestKey& request,
                                         absl::FunctionRef<absl::StatusOr<DecidedBytes>()> attempt,
                                         int max_attempts) {
  const bool idempotent = !request.request_key.empty();
  if (idempotent) {
    absl::StatusOr<std::optional<common::v1::StoredResponse>> found =
        store.FindRequest(request.request_key);
    if (!found.ok()) return found.status();
    if (found->has_value()) return Replay(request, **found);
  }

  absl::Status last = absl::AbortedError("no attempt made");
  for (int i = 0; i < max_attempts; ++i) {
    absl::StatusOr<DecidedBytes> decided = attempt();
    if (!decided.ok()) return decided.status();
    std::string response = std::move(decided->response);
    if (idempotent) {
      common::v1::StoredResponse stored;
      stored.set_method(request.method);
      stored.set_response(response);
      decided->writes.RecordRequest(request.request_key, std::move(stored));
    }
    last = store.Commit(std::move(decided->writes));
    if (last.ok()) return response;
    const bool aborted = absl::IsAborted(last);
    if ((aborted || absl::IsAlreadyExists(last)) && idempotent) {
      // A concurrent retry of this very request may have won: its answer is the answer. Checked
      // on ABORTED too, because deciding again after the twin's commit could produce a
      // different answer (or an error) for the same request. Otherwise a lost race is retried
      // and a taken claim stands.
      absl::StatusOr<std::optional<common::v1::StoredResponse>> found =
          store.FindRequest(request.request_key);
      if (!found.ok()) return found.status();
      if (found->has_value()) return Replay(request, **found);
    }
    if (aborted) continue;
    return last;
  }
  return absl::AbortedError(absl::StrCat("gave up after ", max_attempts,
                                         " attempts lost to concurrent writers: ",
                                         last.message()));
}

common::v1::EventEnvelope MakeEnvelope(const EnvelopeContext& context,
                                       absl::string_view aggregate_type,
                                       absl::string_view aggregate_id, int64_t sequence,
                                       absl::string_view location_id,
                                       const google::protobuf::Message& payload) {
  common::v1::EventEnvelope e;
  e.set_event_id(crypto::NewUuid());
  e.set_aggregate_type(std::string(aggregate_type));
  e.set_aggregate_id(std::string(aggregate_id));
  e.set_sequence(sequence);
  e.set_operator_id(context.operator_id);
  e.set_location_id(std::string(location_id));
  // ToUnixSeconds rounds toward negative infinity, so the nanos are always in [0, 1e9).
  const int64_t seconds = absl::ToUnixSeconds(context.now);
  e.mutable_occurred_at()->set_seconds(seconds);
  e.mutable_occurred_at()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(context.now - absl::FromUnixSeconds(seconds))));
  e.set_service(context.service);
  e.set_correlation_id(context.correlation_id);
  e.set_causation_id(context.causation_id);
  e.mutable_payload()->PackFrom(payload);
  return e;
}

EnvelopeContext CommandContext(absl::string_view service, absl::string_view operator_id,
                               absl::string_view request_id, absl::Time now) {
  return {.service = std::string(service),
          .operator_id = std::string(operator_id),
          .correlation_id = request_id.empty() ? crypto::NewUuid() : std::string(request_id),
          .causation_id = std::string(request_id),
          .now = now};
}

}  // namespace cowork::eventstore
