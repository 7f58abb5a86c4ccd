#ifndef COWORK_LIBS_EVENTSTORE_FOLDS_H_
#define COWORK_LIBS_EVENTSTORE_FOLDS_H_

// How each aggregate type of a service turns its events into the state the store keeps: the
// same `Apply(State, const Event&)` that staging uses (staging.h), so a state folded again
// from the published envelopes (a restore from the topic, kafka/restore.h) is byte for byte
// the state the commits wrote.
//
// Thread-safe once built (Fold only reads).
//
//   eventstore::Folds folds;
//   folds.Add<domain::CustomerState, domain::Event>("customer");
//   folds.Add("notification", [](const std::string&, const EventEnvelope& e) {
//     return e.payload().value();   // the state is the last payload
//   });
//   ASSIGN_OR_RETURN(std::string state, folds.Fold("customer", state, envelope));

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cowork/common/v1/envelope.pb.h"
#include "libs/eventstore/staging.h"

namespace cowork::eventstore {

class Folds {
 public:
  // The state after `envelope`, from the serialized state before it ("" for a new aggregate).
  using Fn = std::function<absl::StatusOr<std::string>(const std::string& state,
                                                       const common::v1::EventEnvelope& envelope)>;

  void Add(std::string aggregate_type, Fn fn) { folds_[std::move(aggregate_type)] = std::move(fn); }

  // An aggregate whose stored state is `Apply` over its domain `Event`s (what Stage writes).
  template <typename State, typename Event>
  void Add(std::string aggregate_type) {
    Add(std::move(aggregate_type),
        [](const std::string& before,
           const common::v1::EventEnvelope& envelope) -> absl::StatusOr<std::string> {
          State state;
          if (!state.ParseFromString(before)) return absl::InternalError("state does not parse");
          absl::StatusOr<std::optional<Event>> e = DomainEventOf<Event>(envelope);
          if (!e.ok()) return e.status();
          if (!e->has_value()) {
            return absl::DataLossError(absl::StrCat("event ", envelope.event_id(),
                                                    " carries an unknown payload ",
                                                    envelope.payload().type_url()));
          }
          return Apply(std::move(state), **e).SerializeAsString();
        });
  }

  // FAILED_PRECONDITION for an aggregate type without a fold; the fold's error otherwise.
  absl::StatusOr<std::string> Fold(absl::string_view aggregate_type, const std::string& state,
                                   const common::v1::EventEnvelope& envelope) const {
    auto it = folds_.find(aggregate_type);
    if (it == folds_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no fold for aggregate type \"", aggregate_type, "\""));
    }
    return it->second(state, envelope);
  }

 private:
  std::map<std::string, Fn, std::less<>> folds_;
};

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_FOLDS_H_
