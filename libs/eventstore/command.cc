#include "libs/eventstore/command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/crypto/crypto.h"
#include "libs/status/field_errors.h"

namespace cowork::eventstore {
namespace {

// Each part with its length first, so no two different tuples encode alike.
std::string Framed(std::initializer_list<absl::string_view> parts) {
  std::string out;
  for (absl::string_view part : parts) absl::StrAppend(&out, part.size(), ":", part);
  return out;
}

// The recorded answer to a request, replayed to the caller who made it. The same id for a
// different request is the caller's mistake (request ids must be unique per call), reported
// against the field it came from, and shows nothing of the first request.
absl::StatusOr<ExecutedBytes> Replay(const Request& request,
                                     const common::v1::StoredResponse& stored) {
  if (stored.fingerprint() != request.fingerprint) {
    return InvalidField("request_id",
                        "was already used for a different request; use a fresh request id for "
                        "each call");
  }
  if (stored.code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(stored.code()), stored.message());
  }
  return ExecutedBytes{stored.response(), /*replayed=*/true};
}

}  // namespace

std::string Request::RecordKey() const {
  return crypto::Sha256Hex(Framed({operator_id, caller, method, request_id}));
}

Request RequestOf(absl::string_view operator_id, absl::string_view caller,
                  absl::string_view method, const google::protobuf::Message& message) {
  const google::protobuf::FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    std::fprintf(stderr, "cowork::eventstore: %s has no string field request_id\n",
                 message.GetDescriptor()->full_name().c_str());
    std::abort();
  }
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  copy->CopyFrom(message);
  const google::protobuf::Reflection* reflection = copy->GetReflection();
  Request request{.operator_id = std::string(operator_id),
                  .caller = std::string(caller),
                  .method = std::string(method),
                  .request_id = reflection->GetString(*copy, field)};
  reflection->ClearField(copy.get(), field);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&out);
  }
  request.fingerprint = crypto::Sha256Hex(Framed({copy->GetDescriptor()->full_name(), bytes}));
  return request;
}

absl::StatusOr<ExecutedBytes> ExecuteBytes(
    Store& store, const Request& request,
    absl::FunctionRef<absl::StatusOr<DecidedBytes>()> attempt, int max_attempts) {
  const bool idempotent = request.idempotent();
  const std::string key = idempotent ? request.RecordKey() : std::string();
  if (idempotent) {
    absl::StatusOr<std::optional<common::v1::StoredResponse>> found = store.FindRequest(key);
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
      stored.set_fingerprint(request.fingerprint);
      decided->writes.RecordRequest(key, std::move(stored));
    }
    last = store.Commit(std::move(decided->writes));
    if (last.ok()) return ExecutedBytes{std::move(response), /*replayed=*/false};
    const bool aborted = absl::IsAborted(last);
    if ((aborted || absl::IsAlreadyExists(last)) && idempotent) {
      // A concurrent retry of this very request may have won: its answer is the answer. Checked
      // on ABORTED too, because deciding again after the twin's commit could produce a
      // different answer (or an error) for the same request. Otherwise a lost race is retried
      // and a taken claim stands.
      absl::StatusOr<std::optional<common::v1::StoredResponse>> found = store.FindRequest(key);
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
