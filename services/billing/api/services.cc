#include "services/billing/api/services.h"

#include "libs/service/handlers.h"

namespace cowork::billing::api {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(ActiveUsersServiceImpl, GetActiveUsers, v1::GetActiveUsersRequest, v1::ActiveUsers)
COWORK_AUTHED_HANDLER(ActiveUsersServiceImpl, ListActiveUserCounts, v1::ListActiveUserCountsRequest, v1::ListActiveUserCountsResponse)

}  // namespace cowork::billing::api
