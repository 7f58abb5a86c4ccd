#include "services/helpdesk/grpc/services.h"

#include "libs/runtime/handlers.h"

namespace cowork::helpdesk::rpc {

// Each handler authenticates, then answers with the App method of the same name.
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, OpenTicket, v1::OpenTicketRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, GetTicket, v1::GetTicketRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, ListTickets, v1::ListTicketsRequest, v1::ListTicketsResponse)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, ReplyToTicket, v1::ReplyToTicketRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, AddTicketNote, v1::AddTicketNoteRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, CloseTicket, v1::CloseTicketRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, ReopenTicket, v1::ReopenTicketRequest, v1::Ticket)
COWORK_AUTHED_HANDLER(HelpdeskServiceImpl, SetTicketPriority, v1::SetTicketPriorityRequest, v1::Ticket)

}  // namespace cowork::helpdesk::rpc
