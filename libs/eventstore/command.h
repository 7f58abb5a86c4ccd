#ifndef COWORK_LIBS_EVENTSTORE_COMMAND_H_
#define COWORK_LIBS_EVENTSTORE_COMMAND_H_

// The one way a service executes a mutating command: honour the request id, build the
// envelopes, commit, retry a lost race.
//
// A request record belongs to its caller: it is found by (operator, caller, method, request
// id), so another caller's id never collides with it, and it holds a fingerprint of what was
// asked. Execute(store, request, attempt, reauthorize):
//   1. If the request has a recorded answer that has not expired: the same request again (the
//      same fingerprint) gets that answer once `reauthorize(answer)` allows it, and nothing is
//      done twice; a different request under the same id is INVALID_ARGUMENT on `request_id`.
//   2. Otherwise call `attempt()`: it loads what it needs, decides, and returns the WriteSet
//      plus the response. Its error is returned as is (nothing written).
//   3. Record the response under the request in the same WriteSet and commit.
//   4. On ABORTED (another writer got there first), go back to 2, at most `max_attempts`.
//      On ABORTED or ALREADY_EXISTS, if the request got recorded meanwhile (a concurrent
//      retry), answer as in 1.
// Records expire after the store's `request_retention` (StoreOptions): a retry after that
// runs the command again.
//
// Thread-safe as the Store is.
//
//   auto response = Execute<Booking>(
//       store, runtime::RequestOf(principal, "CancelBooking", request),
//       [&]() -> absl::StatusOr<Decided<Booking>> { ...; return Decided<Booking>{writes, b}; },
//       [&](const Booking& b) { return MayRead(principal, b); });

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/store.h"

namespace cowork::eventstore {

// A mutating call as its request record knows it.
struct Request {
  // The operator the call acts in ("platform" for the platform's own calls).
  std::string operator_id;
  // Who asks, the same across their tokens: "admin:<subject>", "customer:<id>",
  // "platform:<subject>"; for a call without a token, what the caller proved (e.g. the email
  // a registration is for).
  std::string caller;
  std::string method;      // "CheckIn"
  std::string request_id;  // the client's; empty: the call is not protected against retries
  std::string fingerprint; // a digest of what was asked, the request id left out

  bool idempotent() const { return !request_id.empty(); }
  // The key of its record: a digest of operator, caller, method and request id, so the key
  // holds no personal data (an email, a name in an id) in clear.
  std::string RecordKey() const;
};

// The Request of a request message with a string field `request_id` (read by reflection;
// a message without one is a programming error and aborts). The fingerprint is a digest of
// the message with its request id cleared: pass a copy without secrets (passwords, codes) for
// messages that carry them.
Request RequestOf(absl::string_view operator_id, absl::string_view caller,
                  absl::string_view method, const google::protobuf::Message& message);

struct DecidedBytes {
  WriteSet writes;
  std::string response;  // serialized response message
};

struct ExecutedBytes {
  std::string response;   // serialized response message
  bool replayed = false;  // true: the recorded answer of an earlier identical request
};

// Non-template core of Execute (which re-authorizes a replayed answer).
absl::StatusOr<ExecutedBytes> ExecuteBytes(Store& store, const Request& request,
                                           absl::FunctionRef<absl::StatusOr<DecidedBytes>()> attempt,
                                           int max_attempts = 8);

template <typename Response>
struct Decided {
  WriteSet writes;
  Response response;
};

// `reauthorize` decides whether the caller may still read a recorded answer (their token may
// now cover other locations, the resource may have moved); its error is returned instead of
// the answer. Calls whose recorded answer shows nothing the caller could lose access to pass
// NoReauthorization.
template <typename Response>
absl::StatusOr<Response> Execute(Store& store, const Request& request,
                                 absl::FunctionRef<absl::StatusOr<Decided<Response>>()> attempt,
                                 absl::FunctionRef<absl::Status(const Response&)> reauthorize,
                                 int max_attempts = 8) {
  absl::StatusOr<ExecutedBytes> bytes = ExecuteBytes(
      store, request,
      [&]() -> absl::StatusOr<DecidedBytes> {
        absl::StatusOr<Decided<Response>> decided = attempt();
        if (!decided.ok()) return decided.status();
        return DecidedBytes{std::move(decided->writes), decided->response.SerializeAsString()};
      },
      max_attempts);
  if (!bytes.ok()) return bytes.status();
  Response response;
  if (!response.ParseFromString(bytes->response)) {
    return absl::InternalError("stored response does not parse");
  }
  if (bytes->replayed) {
    if (absl::Status allowed = reauthorize(response); !allowed.ok()) return allowed;
  }
  return response;
}

// For Execute calls whose recorded answer shows nothing the caller could lose access to:
// only the id of what changed (the caller then reads its view through the usual
// authorization), or nothing at all.
template <typename Response>
absl::Status NoReauthorization(const Response&) {
  return absl::OkStatus();
}

// A command no request record protects: one the service gives itself (the clock, a
// consumer), or a call that takes no request id. Nothing recorded, nothing replayed.
template <typename Response>
absl::StatusOr<Response> ExecuteUnrecorded(
    Store& store, absl::string_view method,
    absl::FunctionRef<absl::StatusOr<Decided<Response>>()> attempt, int max_attempts = 8) {
  return Execute<Response>(store, Request{.method = std::string(method)}, attempt,
                           NoReauthorization<Response>, max_attempts);
}

// An aggregate's state as last committed, and the version a command appends after.
template <typename State>
struct Loaded {
  int64_t version = 0;  // 0: the aggregate does not exist
  State state;
};

// Loads and parses an aggregate's state (a protobuf message); version 0 and an empty state
// when it does not exist or `id` is empty. INTERNAL when the stored state does not parse.
template <typename State>
absl::StatusOr<Loaded<State>> LoadState(const Store& store, absl::string_view type,
                                        absl::string_view id) {
  Loaded<State> out;
  if (id.empty()) return out;
  absl::StatusOr<AggregateRecord> record = store.Load(type, id);
  if (!record.ok()) return record.status();
  out.version = record->version;
  if (record->version > 0 && !out.state.ParseFromString(record->state)) {
    return absl::InternalError(absl::StrCat("stored state of ", type, "/", id, " does not parse"));
  }
  return out;
}

// LoadState of an aggregate whose state has an operator_id: as if it did not exist (version 0,
// empty state) when it belongs to another operator, whose records are never visible.
template <typename State>
absl::StatusOr<Loaded<State>> LoadStateOf(const Store& store, absl::string_view type,
                                          absl::string_view operator_id, absl::string_view id) {
  absl::StatusOr<Loaded<State>> loaded = LoadState<State>(store, type, id);
  if (loaded.ok() && loaded->version > 0 && loaded->state.operator_id() != operator_id) {
    return Loaded<State>();
  }
  return loaded;
}

// LoadStateOf, NOT_FOUND ("<what> <id> not found") when there is none of the operator's.
template <typename State>
absl::StatusOr<Loaded<State>> LoadOwned(const Store& store, absl::string_view type,
                                        absl::string_view operator_id, absl::string_view id,
                                        absl::string_view what) {
  absl::StatusOr<Loaded<State>> loaded = LoadStateOf<State>(store, type, operator_id, id);
  if (loaded.ok() && loaded->version == 0) {
    return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
  }
  return loaded;
}

// What every envelope of one command shares.
struct EnvelopeContext {
  std::string service;         // "customers"
  std::string operator_id;
  std::string correlation_id;  // the request id, or a fresh UUID
  std::string causation_id;    // the event or request that caused this command
  absl::Time now;
};

// The context of a command: correlated by its request id (a fresh UUID without one).
EnvelopeContext CommandContext(absl::string_view service, absl::string_view operator_id,
                               absl::string_view request_id, absl::Time now);

// A new envelope with a fresh event id.
common::v1::EventEnvelope MakeEnvelope(const EnvelopeContext& context,
                                       absl::string_view aggregate_type,
                                       absl::string_view aggregate_id, int64_t sequence,
                                       absl::string_view location_id,
                                       const google::protobuf::Message& payload);

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_COMMAND_H_
