#include "libs/runtime/quarantine_service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/runtime/handlers.h"
#include "libs/status/field_errors.h"
#include "libs/status/macros.h"

namespace cowork::runtime {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr size_t kMaxNoteBytes = 1000;

common::v1::ReleaseResult ResultOf(const kafka::EventConsumer::Released& released) {
  common::v1::ReleaseResult out;
  out.set_applied(released.applied);
  out.set_still_held(released.still_held);
  return out;
}

// Authenticates, requires the quarantine permission, then `*response = fn(*request)`.
template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* Guarded(const Authenticator& authn, grpc::CallbackServerContext* ctx,
                                  const Request* request, Response* response, Fn fn) {
  return Authed(
      authn, ctx, request, response,
      [fn](const auth::Principal& p, const Request& r) -> absl::StatusOr<Response> {
        COWORK_RETURN_IF_ERROR(auth::RequirePlatformPermission(p, auth::kPlatformQuarantine));
        return fn(p, r);
      });
}

}  // namespace

absl::StatusOr<kafka::EventConsumer*> QuarantineServiceImpl::Find(absl::string_view name) const {
  std::vector<std::string> names;
  for (const std::unique_ptr<kafka::EventConsumer>& consumer : consumers_) {
    if (consumer->name() == name) return consumer.get();
    names.push_back(consumer->name());
  }
  return InvalidField(
      "consumer", absl::StrCat("no consumer \"", name, "\" in this service (",
                               names.empty() ? "it has none" : absl::StrJoin(names, ", "), ")"));
}

// The page token: "<consumer> <id of the last event listed>".
absl::StatusOr<common::v1::ListQuarantinedResponse> QuarantineServiceImpl::List(
    const common::v1::ListQuarantinedRequest& r) const {
  FieldErrors errors;
  if (r.page_size() < 0 || r.page_size() > kMaxPageSize) {
    errors.Add("page_size", absl::StrCat("must be between 0 and ", kMaxPageSize));
  }
  std::string from_consumer, after;
  if (!r.page_token().empty()) {
    const size_t space = r.page_token().find(' ');
    if (space == std::string::npos) {
      errors.Add("page_token", "not a token this service gave");
    } else {
      from_consumer = r.page_token().substr(0, space);
      after = r.page_token().substr(space + 1);
    }
  }
  if (!r.consumer().empty()) {
    if (absl::StatusOr<kafka::EventConsumer*> found = Find(r.consumer()); !found.ok()) {
      errors.Merge(found.status());
    }
  }
  COWORK_RETURN_IF_ERROR(errors.ToStatus());
  const size_t size = r.page_size() == 0 ? kDefaultPageSize : r.page_size();
  common::v1::ListQuarantinedResponse out;
  bool started = from_consumer.empty();
  for (const std::unique_ptr<kafka::EventConsumer>& consumer : consumers_) {
    if (!r.consumer().empty() && consumer->name() != r.consumer()) continue;
    if (!started && consumer->name() != from_consumer) continue;
    const std::string start_after = started ? "" : after;
    started = true;
    COWORK_ASSIGN_OR_RETURN(std::vector<common::v1::QuarantinedEvent> events,
                            consumer->ListQuarantined(start_after, size - out.events_size()));
    for (common::v1::QuarantinedEvent& event : events) *out.add_events() = std::move(event);
    if (static_cast<size_t>(out.events_size()) == size) {
      // Full: whatever comes next (in this consumer after the last, or in the next ones).
      out.set_next_page_token(
          absl::StrCat(consumer->name(), " ", out.events(out.events_size() - 1).id()));
      return out;
    }
  }
  if (!started) return InvalidField("page_token", "not a token this service gave");
  return out;
}

grpc::ServerUnaryReactor* QuarantineServiceImpl::ListQuarantined(
    grpc::CallbackServerContext* ctx, const common::v1::ListQuarantinedRequest* request,
    common::v1::ListQuarantinedResponse* response) {
  return Guarded(authn_, ctx, request, response,
                 [this](const auth::Principal&, const common::v1::ListQuarantinedRequest& r) {
                   return List(r);
                 });
}

grpc::ServerUnaryReactor* QuarantineServiceImpl::GetQuarantined(
    grpc::CallbackServerContext* ctx, const common::v1::GetQuarantinedRequest* request,
    common::v1::QuarantinedEvent* response) {
  return Guarded(authn_, ctx, request, response,
                 [this](const auth::Principal&, const common::v1::GetQuarantinedRequest& r)
                     -> absl::StatusOr<common::v1::QuarantinedEvent> {
                   if (r.id().empty()) return InvalidField("id", "is required");
                   COWORK_ASSIGN_OR_RETURN(kafka::EventConsumer * consumer, Find(r.consumer()));
                   return consumer->GetQuarantined(r.id());
                 });
}

grpc::ServerUnaryReactor* QuarantineServiceImpl::RetryQuarantined(
    grpc::CallbackServerContext* ctx, const common::v1::RetryQuarantinedRequest* request,
    common::v1::ReleaseResult* response) {
  return Guarded(authn_, ctx, request, response,
                 [this](const auth::Principal&, const common::v1::RetryQuarantinedRequest& r)
                     -> absl::StatusOr<common::v1::ReleaseResult> {
                   if (r.id().empty()) return InvalidField("id", "is required");
                   COWORK_ASSIGN_OR_RETURN(kafka::EventConsumer * consumer, Find(r.consumer()));
                   COWORK_ASSIGN_OR_RETURN(kafka::EventConsumer::Released released,
                                           consumer->Retry(r.id()));
                   return ResultOf(released);
                 });
}

grpc::ServerUnaryReactor* QuarantineServiceImpl::DiscardQuarantined(
    grpc::CallbackServerContext* ctx, const common::v1::DiscardQuarantinedRequest* request,
    common::v1::ReleaseResult* response) {
  return Guarded(authn_, ctx, request, response,
                 [this](const auth::Principal& p, const common::v1::DiscardQuarantinedRequest& r)
                     -> absl::StatusOr<common::v1::ReleaseResult> {
                   FieldErrors errors;
                   if (r.id().empty()) errors.Add("id", "is required");
                   if (r.note().empty()) errors.Add("note", "is required: say why");
                   if (r.note().size() > kMaxNoteBytes) {
                     errors.Add("note", absl::StrCat("at most ", kMaxNoteBytes, " bytes"));
                   }
                   COWORK_RETURN_IF_ERROR(errors.ToStatus());
                   COWORK_ASSIGN_OR_RETURN(kafka::EventConsumer * consumer, Find(r.consumer()));
                   COWORK_ASSIGN_OR_RETURN(kafka::EventConsumer::Released released,
                                           consumer->Discard(r.id(), auth::CallerOf(p), r.note()));
                   return ResultOf(released);
                 });
}

}  // namespace cowork::runtime
