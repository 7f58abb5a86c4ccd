#include "services/checkins/api/services.h"

#include "libs/service/handlers.h"

namespace cowork::checkins::api {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, CheckIn, v1::CheckInRequest, v1::CheckInRecord)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, CheckOut, v1::CheckOutRequest, v1::CheckInRecord)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, GetPresence, v1::GetPresenceRequest, v1::Presence)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, ListPresent, v1::ListPresentRequest, v1::ListPresentResponse)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, ListCheckins, v1::ListCheckinsRequest, v1::ListCheckinsResponse)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, SetCheckoutPolicy, v1::SetCheckoutPolicyRequest, v1::CheckoutPolicy)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, GetCheckoutPolicy, v1::GetCheckoutPolicyRequest, v1::CheckoutPolicy)

}  // namespace cowork::checkins::api
