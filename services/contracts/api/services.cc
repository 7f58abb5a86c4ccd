#include "services/contracts/api/services.h"

#include "libs/service/handlers.h"

namespace cowork::contracts::api {

// Each handler: authenticate, then `*response = app.<Method>(principal, *request)`.
#define COWORK_CONTRACTS_HANDLER(Service, Method, Request, Response)                          \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx,                 \
                                            const v1::Request* request,                       \
                                            v1::Response* response) {                         \
    return service::Authed(app_.authenticator(), ctx, request, response,                     \
                           [this](const auth::Principal& p, const v1::Request& r) {           \
                             return app_.Method(p, r);                                        \
                           });                                                                \
  }


COWORK_CONTRACTS_HANDLER(PlansServiceImpl, CreatePlan, CreatePlanRequest, Plan)
COWORK_CONTRACTS_HANDLER(PlansServiceImpl, UpdatePlanPrice, UpdatePlanPriceRequest, Plan)
COWORK_CONTRACTS_HANDLER(PlansServiceImpl, GetPlan, GetPlanRequest, Plan)
COWORK_CONTRACTS_HANDLER(PlansServiceImpl, ListPlans, ListPlansRequest, ListPlansResponse)

COWORK_CONTRACTS_HANDLER(ContractsServiceImpl, CreateContract, CreateContractRequest, Contract)
COWORK_CONTRACTS_HANDLER(ContractsServiceImpl, CancelContract, CancelContractRequest, Contract)
COWORK_CONTRACTS_HANDLER(ContractsServiceImpl, GetContract, GetContractRequest, Contract)
COWORK_CONTRACTS_HANDLER(ContractsServiceImpl, ListContracts, ListContractsRequest, ListContractsResponse)

COWORK_CONTRACTS_HANDLER(ProductsServiceImpl, CreateProduct, CreateProductRequest, Product)
COWORK_CONTRACTS_HANDLER(ProductsServiceImpl, GetProduct, GetProductRequest, Product)
COWORK_CONTRACTS_HANDLER(ProductsServiceImpl, ListProducts, ListProductsRequest, ListProductsResponse)

COWORK_CONTRACTS_HANDLER(PurchasesServiceImpl, Buy, BuyRequest, Purchase)
COWORK_CONTRACTS_HANDLER(PurchasesServiceImpl, CancelPurchase, CancelPurchaseRequest, Purchase)
COWORK_CONTRACTS_HANDLER(PurchasesServiceImpl, GetPurchase, GetPurchaseRequest, Purchase)
COWORK_CONTRACTS_HANDLER(PurchasesServiceImpl, ListPurchases, ListPurchasesRequest, ListPurchasesResponse)

COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, SetTaxRate, SetTaxRateRequest, TaxRate)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, GetTaxRate, GetTaxRateRequest, TaxRate)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, SetInvoicingPreference, SetInvoicingPreferenceRequest, InvoicingPreference)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, GetAccount, GetAccountRequest, Account)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, GetInvoice, GetInvoiceRequest, Invoice)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, ListInvoices, ListInvoicesRequest, ListInvoicesResponse)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, PayInvoice, PayInvoiceRequest, Invoice)
COWORK_CONTRACTS_HANDLER(InvoicesServiceImpl, VoidInvoice, VoidInvoiceRequest, Invoice)

#undef COWORK_CONTRACTS_HANDLER

}  // namespace cowork::contracts::api
