#include "services/billing/grpc/services.h"

#include "libs/runtime/handlers.h"

namespace cowork::billing::rpc {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(ActiveUsersServiceImpl, GetActiveUsers, v1::GetActiveUsersRequest, v1::ActiveUsers)
COWORK_AUTHED_HANDLER(ActiveUsersServiceImpl, ListActiveUserCounts, v1::ListActiveUserCountsRequest, v1::ListActiveUserCountsResponse)

COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, GetAccount, v1::GetAccountRequest, v1::Account)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, SetPaymentMethod, v1::SetPaymentMethodRequest, v1::Account)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, RemovePaymentMethod, v1::RemovePaymentMethodRequest, v1::Account)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, EnableAddOn, v1::EnableAddOnRequest, v1::Account)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, DisableAddOn, v1::DisableAddOnRequest, v1::Account)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, ListSubscriptionInvoices, v1::ListSubscriptionInvoicesRequest, v1::ListSubscriptionInvoicesResponse)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, GetSubscriptionInvoice, v1::GetSubscriptionInvoiceRequest, v1::SubscriptionInvoice)
COWORK_AUTHED_HANDLER(SubscriptionServiceImpl, DownloadSubscriptionInvoice, v1::DownloadSubscriptionInvoiceRequest, v1::InvoiceDocument)

}  // namespace cowork::billing::rpc
