#include "services/contracts/grpc/services.h"

#include "libs/runtime/handlers.h"

namespace cowork::contracts::rpc {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(PlansServiceImpl, CreatePlan, v1::CreatePlanRequest, v1::Plan)
COWORK_AUTHED_HANDLER(PlansServiceImpl, UpdatePlanPrice, v1::UpdatePlanPriceRequest, v1::Plan)
COWORK_AUTHED_HANDLER(PlansServiceImpl, GetPlan, v1::GetPlanRequest, v1::Plan)
COWORK_AUTHED_HANDLER(PlansServiceImpl, ListPlans, v1::ListPlansRequest, v1::ListPlansResponse)

COWORK_AUTHED_HANDLER(ContractsServiceImpl, CreateContract, v1::CreateContractRequest, v1::Contract)
COWORK_AUTHED_HANDLER(ContractsServiceImpl, CancelContract, v1::CancelContractRequest, v1::Contract)
COWORK_AUTHED_HANDLER(ContractsServiceImpl, GetContract, v1::GetContractRequest, v1::Contract)
COWORK_AUTHED_HANDLER(ContractsServiceImpl, ListContracts, v1::ListContractsRequest, v1::ListContractsResponse)

COWORK_AUTHED_HANDLER(ProductsServiceImpl, CreateProduct, v1::CreateProductRequest, v1::Product)
COWORK_AUTHED_HANDLER(ProductsServiceImpl, GetProduct, v1::GetProductRequest, v1::Product)
COWORK_AUTHED_HANDLER(ProductsServiceImpl, ListProducts, v1::ListProductsRequest, v1::ListProductsResponse)

COWORK_AUTHED_HANDLER(PurchasesServiceImpl, Buy, v1::BuyRequest, v1::Purchase)
COWORK_AUTHED_HANDLER(PurchasesServiceImpl, CancelPurchase, v1::CancelPurchaseRequest, v1::Purchase)
COWORK_AUTHED_HANDLER(PurchasesServiceImpl, GetPurchase, v1::GetPurchaseRequest, v1::Purchase)
COWORK_AUTHED_HANDLER(PurchasesServiceImpl, ListPurchases, v1::ListPurchasesRequest, v1::ListPurchasesResponse)

COWORK_AUTHED_HANDLER(InvoicesServiceImpl, SetTaxRate, v1::SetTaxRateRequest, v1::TaxRate)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, GetTaxRate, v1::GetTaxRateRequest, v1::TaxRate)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, SetInvoicingPreference, v1::SetInvoicingPreferenceRequest, v1::InvoicingPreference)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, GetAccount, v1::GetAccountRequest, v1::Account)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, GetInvoice, v1::GetInvoiceRequest, v1::Invoice)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, ListInvoices, v1::ListInvoicesRequest, v1::ListInvoicesResponse)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, PayInvoice, v1::PayInvoiceRequest, v1::Invoice)
COWORK_AUTHED_HANDLER(InvoicesServiceImpl, VoidInvoice, v1::VoidInvoiceRequest, v1::Invoice)

}  // namespace cowork::contracts::rpc
