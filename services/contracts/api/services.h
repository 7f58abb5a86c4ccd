#ifndef COWORK_SERVICES_CONTRACTS_API_SERVICES_H_
#define COWORK_SERVICES_CONTRACTS_API_SERVICES_H_

// The gRPC services of contracts.proto on the callback API: each handler authenticates and
// runs the App method (service::Authed). Thread-safe as the App is; the App must outlive them.

#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "services/contracts/api/app.h"

namespace cowork::contracts::api {

class PlansServiceImpl final : public v1::PlansService::CallbackService {
 public:
  explicit PlansServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CreatePlan(grpc::CallbackServerContext* ctx,
                                       const v1::CreatePlanRequest* request,
                                       v1::Plan* response) override;
  grpc::ServerUnaryReactor* UpdatePlanPrice(grpc::CallbackServerContext* ctx,
                                            const v1::UpdatePlanPriceRequest* request,
                                            v1::Plan* response) override;
  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* ctx,
                                    const v1::GetPlanRequest* request,
                                    v1::Plan* response) override;
  grpc::ServerUnaryReactor* ListPlans(grpc::CallbackServerContext* ctx,
                                      const v1::ListPlansRequest* request,
                                      v1::ListPlansResponse* response) override;

 private:
  App& app_;
};

class ContractsServiceImpl final : public v1::ContractsService::CallbackService {
 public:
  explicit ContractsServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CreateContract(grpc::CallbackServerContext* ctx,
                                           const v1::CreateContractRequest* request,
                                           v1::Contract* response) override;
  grpc::ServerUnaryReactor* CancelContract(grpc::CallbackServerContext* ctx,
                                           const v1::CancelContractRequest* request,
                                           v1::Contract* response) override;
  grpc::ServerUnaryReactor* GetContract(grpc::CallbackServerContext* ctx,
                                        const v1::GetContractRequest* request,
                                        v1::Contract* response) override;
  grpc::ServerUnaryReactor* ListContracts(grpc::CallbackServerContext* ctx,
                                          const v1::ListContractsRequest* request,
                                          v1::ListContractsResponse* response) override;

 private:
  App& app_;
};

}  // namespace cowork::contracts::api

#endif  // COWORK_SERVICES_CONTRACTS_API_SERVICES_H_
