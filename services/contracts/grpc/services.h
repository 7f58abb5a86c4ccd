#ifndef COWORK_SERVICES_CONTRACTS_GRPC_SERVICES_H_
#define COWORK_SERVICES_CONTRACTS_GRPC_SERVICES_H_

// The gRPC services of contracts.proto on the callback API: each handler authenticates and
// runs the App method (runtime::Authed). Thread-safe as the App is; the App must outlive them.

#include "cowork/contracts/v1/contracts.grpc.pb.h"
#include "services/contracts/app/app.h"

namespace cowork::contracts::rpc {

using app::App;

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

class ProductsServiceImpl final : public v1::ProductsService::CallbackService {
 public:
  explicit ProductsServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CreateProduct(grpc::CallbackServerContext* ctx,
                                          const v1::CreateProductRequest* request,
                                          v1::Product* response) override;
  grpc::ServerUnaryReactor* GetProduct(grpc::CallbackServerContext* ctx,
                                       const v1::GetProductRequest* request,
                                       v1::Product* response) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* ctx,
                                         const v1::ListProductsRequest* request,
                                         v1::ListProductsResponse* response) override;

 private:
  App& app_;
};

class PurchasesServiceImpl final : public v1::PurchasesService::CallbackService {
 public:
  explicit PurchasesServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* Buy(grpc::CallbackServerContext* ctx, const v1::BuyRequest* request,
                                v1::Purchase* response) override;
  grpc::ServerUnaryReactor* CancelPurchase(grpc::CallbackServerContext* ctx,
                                           const v1::CancelPurchaseRequest* request,
                                           v1::Purchase* response) override;
  grpc::ServerUnaryReactor* GetPurchase(grpc::CallbackServerContext* ctx,
                                        const v1::GetPurchaseRequest* request,
                                        v1::Purchase* response) override;
  grpc::ServerUnaryReactor* ListPurchases(grpc::CallbackServerContext* ctx,
                                          const v1::ListPurchasesRequest* request,
                                          v1::ListPurchasesResponse* response) override;

 private:
  App& app_;
};

class InvoicesServiceImpl final : public v1::InvoicesService::CallbackService {
 public:
  explicit InvoicesServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* SetTaxRate(grpc::CallbackServerContext* ctx,
                                       const v1::SetTaxRateRequest* request,
                                       v1::TaxRate* response) override;
  grpc::ServerUnaryReactor* GetTaxRate(grpc::CallbackServerContext* ctx,
                                       const v1::GetTaxRateRequest* request,
                                       v1::TaxRate* response) override;
  grpc::ServerUnaryReactor* SetInvoicingPreference(
      grpc::CallbackServerContext* ctx, const v1::SetInvoicingPreferenceRequest* request,
      v1::InvoicingPreference* response) override;
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* ctx,
                                       const v1::GetAccountRequest* request,
                                       v1::Account* response) override;
  grpc::ServerUnaryReactor* GetInvoice(grpc::CallbackServerContext* ctx,
                                       const v1::GetInvoiceRequest* request,
                                       v1::Invoice* response) override;
  grpc::ServerUnaryReactor* ListInvoices(grpc::CallbackServerContext* ctx,
                                         const v1::ListInvoicesRequest* request,
                                         v1::ListInvoicesResponse* response) override;
  grpc::ServerUnaryReactor* PayInvoice(grpc::CallbackServerContext* ctx,
                                       const v1::PayInvoiceRequest* request,
                                       v1::Invoice* response) override;
  grpc::ServerUnaryReactor* VoidInvoice(grpc::CallbackServerContext* ctx,
                                        const v1::VoidInvoiceRequest* request,
                                        v1::Invoice* response) override;

 private:
  App& app_;
};

}  // namespace cowork::contracts::rpc

#endif  // COWORK_SERVICES_CONTRACTS_GRPC_SERVICES_H_
