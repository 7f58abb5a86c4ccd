#ifndef COWORK_SERVICES_BILLING_GRPC_SERVICES_H_
#define COWORK_SERVICES_BILLING_GRPC_SERVICES_H_

// The gRPC services of billing.proto on the callback API: each handler authenticates and runs
// the App method (runtime::Authed). Thread-safe as the App is; the App must outlive it.

#include "cowork/billing/v1/billing.grpc.pb.h"
#include "services/billing/app/app.h"
#include "services/billing/app/subscription.h"

namespace cowork::billing::rpc {

using app::App;
using app::Subscription;

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

class SubscriptionServiceImpl final : public v1::SubscriptionService::CallbackService {
 public:
  explicit SubscriptionServiceImpl(Subscription& app) : app_(app) {}
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* ctx,
                                       const v1::GetAccountRequest* request,
                                       v1::Account* response) override;
  grpc::ServerUnaryReactor* SetPaymentMethod(grpc::CallbackServerContext* ctx,
                                             const v1::SetPaymentMethodRequest* request,
                                             v1::Account* response) override;
  grpc::ServerUnaryReactor* RemovePaymentMethod(grpc::CallbackServerContext* ctx,
                                                const v1::RemovePaymentMethodRequest* request,
                                                v1::Account* response) override;
  grpc::ServerUnaryReactor* EnableAddOn(grpc::CallbackServerContext* ctx,
                                        const v1::EnableAddOnRequest* request,
                                        v1::Account* response) override;
  grpc::ServerUnaryReactor* DisableAddOn(grpc::CallbackServerContext* ctx,
                                         const v1::DisableAddOnRequest* request,
                                         v1::Account* response) override;
  grpc::ServerUnaryReactor* ListSubscriptionInvoices(
      grpc::CallbackServerContext* ctx, const v1::ListSubscriptionInvoicesRequest* request,
      v1::ListSubscriptionInvoicesResponse* response) override;
  grpc::ServerUnaryReactor* GetSubscriptionInvoice(
      grpc::CallbackServerContext* ctx, const v1::GetSubscriptionInvoiceRequest* request,
      v1::SubscriptionInvoice* response) override;
  grpc::ServerUnaryReactor* DownloadSubscriptionInvoice(
      grpc::CallbackServerContext* ctx, const v1::DownloadSubscriptionInvoiceRequest* request,
      v1::InvoiceDocument* response) override;

 private:
  Subscription& app_;
};

}  // namespace cowork::billing::rpc

#endif  // COWORK_SERVICES_BILLING_GRPC_SERVICES_H_
