#ifndef COWORK_LIBS_RUNTIME_QUARANTINE_SERVICE_H_
#define COWORK_LIBS_RUNTIME_QUARANTINE_SERVICE_H_

// QuarantineService (proto/cowork/common/v1/quarantine.proto) over a service's consumers:
// what they set aside (kafka::EventConsumer), listed, shown, retried after a fix or
// discarded. Served by every service (Runtime::Serve); platform tokens holding
// auth::kPlatformQuarantine only, since the quarantine holds events of every operator.
//
// Thread-safe (the consumers are).

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cowork/common/v1/quarantine.grpc.pb.h"
#include "libs/kafka/kafka.h"
#include "libs/runtime/authenticator.h"

namespace cowork::runtime {

class QuarantineServiceImpl final : public common::v1::QuarantineService::CallbackService {
 public:
  // Both must outlive the service.
  QuarantineServiceImpl(const Authenticator& authn,
                        const std::vector<std::unique_ptr<kafka::EventConsumer>>& consumers)
      : authn_(authn), consumers_(consumers) {}

  grpc::ServerUnaryReactor* ListQuarantined(grpc::CallbackServerContext* ctx,
                                            const common::v1::ListQuarantinedRequest* request,
                                            common::v1::ListQuarantinedResponse* response) override;
  grpc::ServerUnaryReactor* GetQuarantined(grpc::CallbackServerContext* ctx,
                                           const common::v1::GetQuarantinedRequest* request,
                                           common::v1::QuarantinedEvent* response) override;
  grpc::ServerUnaryReactor* RetryQuarantined(grpc::CallbackServerContext* ctx,
                                             const common::v1::RetryQuarantinedRequest* request,
                                             common::v1::ReleaseResult* response) override;
  grpc::ServerUnaryReactor* DiscardQuarantined(grpc::CallbackServerContext* ctx,
                                               const common::v1::DiscardQuarantinedRequest* request,
                                               common::v1::ReleaseResult* response) override;

 private:
  // The consumer named `name`; INVALID_ARGUMENT naming the field `consumer` otherwise.
  absl::StatusOr<kafka::EventConsumer*> Find(absl::string_view name) const;
  absl::StatusOr<common::v1::ListQuarantinedResponse> List(
      const common::v1::ListQuarantinedRequest& r) const;

  const Authenticator& authn_;
  const std::vector<std::unique_ptr<kafka::EventConsumer>>& consumers_;
};

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_QUARANTINE_SERVICE_H_
