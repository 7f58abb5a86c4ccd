#ifndef COWORK_SERVICES_HELPDESK_GRPC_SERVICES_H_
#define COWORK_SERVICES_HELPDESK_GRPC_SERVICES_H_

// The gRPC service of helpdesk.proto on the callback API: each handler authenticates and runs
// the App method (runtime::Authed). Thread-safe as the App is; the App must outlive it.

#include "cowork/helpdesk/v1/helpdesk.grpc.pb.h"
#include "services/helpdesk/app/app.h"

namespace cowork::helpdesk::rpc {

using app::App;

class HelpdeskServiceImpl final : public v1::HelpdeskService::CallbackService {
 public:
  explicit HelpdeskServiceImpl(App& app) : app_(app) {}
  grpc::ServerUnaryReactor* OpenTicket(grpc::CallbackServerContext* ctx,
                                       const v1::OpenTicketRequest* request,
                                       v1::Ticket* response) override;
  grpc::ServerUnaryReactor* GetTicket(grpc::CallbackServerContext* ctx,
                                      const v1::GetTicketRequest* request,
                                      v1::Ticket* response) override;
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const v1::ListTicketsRequest* request,
                                        v1::ListTicketsResponse* response) override;
  grpc::ServerUnaryReactor* ReplyToTicket(grpc::CallbackServerContext* ctx,
                                          const v1::ReplyToTicketRequest* request,
                                          v1::Ticket* response) override;
  grpc::ServerUnaryReactor* AddTicketNote(grpc::CallbackServerContext* ctx,
                                          const v1::AddTicketNoteRequest* request,
                                          v1::Ticket* response) override;
  grpc::ServerUnaryReactor* CloseTicket(grpc::CallbackServerContext* ctx,
                                        const v1::CloseTicketRequest* request,
                                        v1::Ticket* response) override;
  grpc::ServerUnaryReactor* ReopenTicket(grpc::CallbackServerContext* ctx,
                                         const v1::ReopenTicketRequest* request,
                                         v1::Ticket* response) override;
  grpc::ServerUnaryReactor* SetTicketPriority(grpc::CallbackServerContext* ctx,
                                              const v1::SetTicketPriorityRequest* request,
                                              v1::Ticket* response) override;

 private:
  App& app_;
};

}  // namespace cowork::helpdesk::rpc

#endif  // COWORK_SERVICES_HELPDESK_GRPC_SERVICES_H_
