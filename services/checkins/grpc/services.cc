#include "services/checkins/grpc/services.h"

#include "libs/runtime/handlers.h"

namespace cowork::checkins::rpc {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, CheckIn, v1::CheckInRequest, v1::CheckInRecord)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, CheckOut, v1::CheckOutRequest, v1::CheckInRecord)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, GetPresence, v1::GetPresenceRequest, v1::Presence)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, ListPresent, v1::ListPresentRequest, v1::ListPresentResponse)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, ListCheckins, v1::ListCheckinsRequest, v1::ListCheckinsResponse)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, SetCheckoutPolicy, v1::SetCheckoutPolicyRequest, v1::CheckoutPolicy)
COWORK_AUTHED_HANDLER(CheckinsServiceImpl, GetCheckoutPolicy, v1::GetCheckoutPolicyRequest, v1::CheckoutPolicy)

COWORK_AUTHED_HANDLER(VisitorsServiceImpl, RegisterVisitor, v1::RegisterVisitorRequest, v1::Visitor)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, GetVisitor, v1::GetVisitorRequest, v1::Visitor)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, ListVisitors, v1::ListVisitorsRequest, v1::ListVisitorsResponse)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, RecordVisitorArrival, v1::RecordVisitorArrivalRequest, v1::Visitor)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, RecordVisitorDeparture, v1::RecordVisitorDepartureRequest, v1::Visitor)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, CancelVisitor, v1::CancelVisitorRequest, v1::Visitor)
COWORK_AUTHED_HANDLER(VisitorsServiceImpl, EraseVisitor, v1::EraseVisitorRequest, v1::Visitor)

}  // namespace cowork::checkins::rpc
