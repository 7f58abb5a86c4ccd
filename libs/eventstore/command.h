#ifndef COWORK_LIBS_EVENTSTORE_COMMAND_H_
#define COWORK_LIBS_EVENTSTORE_COMMAND_H_

// The one way a service executes a mutating command: honour the request id, build the
// envelopes, commit, retry a lost race.
//
// Execute(store, request, attempt):
//   1. If `request.request_key` already has a recorded answer, return it (a retry does
//      nothing twice). A key recorded for another method is INVALID_ARGUMENT.
//   2. Call `attempt()`: it loads what it needs, decides, and returns the WriteSet plus the
//      response. Its error is returned as is (nothing written).
//   3. Record the response under the request key in the same WriteSet and commit.
//   4. On ABORTED (another writer got there first), go back to 2, at most `max_attempts`.
//      On ALREADY_EXISTS, if the request key got recorded meanwhile, return that answer.
//
// Thread-safe as the Store is.
//
//   auto response = Execute<Customer>(store, {"op-1/req-9", "AddCustomer"}, [&]() -> ... {
//     ...; return Decided<Customer>{std::move(writes), customer};
//   });

#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/store.h"

namespace cowork::eventstore {

struct RequestKey {
  // "<operator>/<request_id>"; empty: the call is not idempotent (no request id given).
  std::string request_key;
  std::string method;
};

// The request key of an admin's call: "<operator>/<request_id>", or none without a request id.
inline RequestKey RequestKeyFor(absl::string_view operator_id, absl::string_view request_id,
                                absl::string_view method) {
  return {request_id.empty() ? std::string() : absl::StrCat(operator_id, "/", request_id),
          std::string(method)};
}

struct DecidedBytes {
  WriteSet writes;
  std::string response;  // serialized response message
};

// Non-template core of Execute.
absl::StatusOr<std::string> ExecuteBytes(Store& store, const RequestKey& request,
                                         absl::FunctionRef<absl::StatusOr<DecidedBytes>()> attempt,
                                         int max_attempts = 8);

template <typename Response>
struct Decided {
  WriteSet writes;
  Response response;
};

template <typename Response>
absl::StatusOr<Response> Execute(Store& store, const RequestKey& request,
                                 absl::FunctionRef<absl::StatusOr<Decided<Response>>()> attempt,
                                 int max_attempts = 8) {
  absl::StatusOr<std::string> bytes = ExecuteBytes(
      store, request,
      [&]() -> absl::StatusOr<DecidedBytes> {
        absl::StatusOr<Decided<Response>> decided = attempt();
        if (!decided.ok()) return decided.status();
        return DecidedBytes{std::move(decided->writes), decided->response.SerializeAsString()};
      },
      max_attempts);
  if (!bytes.ok()) return bytes.status();
  Response response;
  if (!response.ParseFromString(*bytes)) {
    return absl::InternalError("stored response does not parse");
  }
  return response;
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
