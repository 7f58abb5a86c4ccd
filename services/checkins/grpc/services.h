#ifndef COWORK_SERVICES_CHECKINS_GRPC_SERVICES_H_
#define COWORK_SERVICES_CHECKINS_GRPC_SERVICES_H_

// The gRPC service of checkins.proto on the callback API: each handler authenticates and runs
// the App method (runtime::Authed). Thread-safe as the App is; the App must outlive it.

#include "cowork/checkins/v1/checkins.grpc.pb.h"
#include "services/checkins/app/app.h"
#include "services/checkins/app/visitors.h"

namespace cowork::checkins::rpc {

using app::App;
using app::VisitorsApp;

class CheckinsServiceImpl final : public v1::CheckinsService::CallbackService {
 public:
  explicit CheckinsServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* CheckIn(grpc::CallbackServerContext* ctx,
                                    const v1::CheckInRequest* request,
                                    v1::CheckInRecord* response) override;
  grpc::ServerUnaryReactor* CheckOut(grpc::CallbackServerContext* ctx,
                                     const v1::CheckOutRequest* request,
                                     v1::CheckInRecord* response) override;
  grpc::ServerUnaryReactor* GetPresence(grpc::CallbackServerContext* ctx,
                                        const v1::GetPresenceRequest* request,
                                        v1::Presence* response) override;
  grpc::ServerUnaryReactor* ListPresent(grpc::CallbackServerContext* ctx,
                                        const v1::ListPresentRequest* request,
                                        v1::ListPresentResponse* response) override;
  grpc::ServerUnaryReactor* ListCheckins(grpc::CallbackServerContext* ctx,
                                         const v1::ListCheckinsRequest* request,
                                         v1::ListCheckinsResponse* response) override;
  grpc::ServerUnaryReactor* SetCheckoutPolicy(grpc::CallbackServerContext* ctx,
                                              const v1::SetCheckoutPolicyRequest* request,
                                              v1::CheckoutPolicy* response) override;
  grpc::ServerUnaryReactor* GetCheckoutPolicy(grpc::CallbackServerContext* ctx,
                                              const v1::GetCheckoutPolicyRequest* request,
                                              v1::CheckoutPolicy* response) override;

 private:
  App& app_;
};

class VisitorsServiceImpl final : public v1::VisitorsService::CallbackService {
 public:
  explicit VisitorsServiceImpl(VisitorsApp& app) : app_(app) {}
  grpc::ServerUnaryReactor* RegisterVisitor(grpc::CallbackServerContext* ctx,
                                            const v1::RegisterVisitorRequest* request,
                                            v1::Visitor* response) override;
  grpc::ServerUnaryReactor* GetVisitor(grpc::CallbackServerContext* ctx,
                                       const v1::GetVisitorRequest* request,
                                       v1::Visitor* response) override;
  grpc::ServerUnaryReactor* ListVisitors(grpc::CallbackServerContext* ctx,
                                         const v1::ListVisitorsRequest* request,
                                         v1::ListVisitorsResponse* response) override;
  grpc::ServerUnaryReactor* RecordVisitorArrival(grpc::CallbackServerContext* ctx,
                                                 const v1::RecordVisitorArrivalRequest* request,
                                                 v1::Visitor* response) override;
  grpc::ServerUnaryReactor* RecordVisitorDeparture(
      grpc::CallbackServerContext* ctx, const v1::RecordVisitorDepartureRequest* request,
      v1::Visitor* response) override;
  grpc::ServerUnaryReactor* CancelVisitor(grpc::CallbackServerContext* ctx,
                                          const v1::CancelVisitorRequest* request,
                                          v1::Visitor* response) override;
  grpc::ServerUnaryReactor* EraseVisitor(grpc::CallbackServerContext* ctx,
                                         const v1::EraseVisitorRequest* request,
                                         v1::Visitor* response) override;

 private:
  VisitorsApp& app_;
};

}  // namespace cowork::checkins::rpc

#endif  // COWORK_SERVICES_CHECKINS_GRPC_SERVICES_H_
