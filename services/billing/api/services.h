#ifndef COWORK_SERVICES_BILLING_API_SERVICES_H_
#define COWORK_SERVICES_BILLING_API_SERVICES_H_

// The gRPC service of billing.proto on the callback API: each handler authenticates and runs
// the App method (service::Authed). Thread-safe as the App is; the App must outlive it.

#include "cowork/billing/v1/billing.grpc.pb.h"
#include "services/billing/api/app.h"

namespace cowork::billing::api {

class ActiveUsersServiceImpl final : public v1::ActiveUsersService::CallbackService {
 public:
  explicit ActiveUsersServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* GetActiveUsers(grpc::CallbackServerContext* ctx,
                                           const v1::GetActiveUsersRequest* request,
                                           v1::ActiveUsers* response) override;
  grpc::ServerUnaryReactor* ListActiveUserCounts(
      grpc::CallbackServerContext* ctx, const v1::ListActiveUserCountsRequest* request,
      v1::ListActiveUserCountsResponse* response) override;

 private:
  App& app_;
};

}  // namespace cowork::billing::api

#endif  // COWORK_SERVICES_BILLING_API_SERVICES_H_
