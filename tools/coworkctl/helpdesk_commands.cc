#include "tools/coworkctl/helpdesk_commands.h"

#include <iterator>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "cowork/helpdesk/v1/helpdesk.pb.h"

namespace cowork::ctl {
namespace {

namespace v1 = ::cowork::helpdesk::v1;

const std::string kHelpdesk = "cowork.helpdesk.v1.HelpdeskService/";

const OutputSpec kTicketList{"tickets",
                             {"ticket_id", "customer_id", "location_id", "status", "priority",
                              "subject", "open_time", "update_time"}};

// --message TEXT or --message-stdin (the whole of standard input: a message of several lines).
Prepare MessageOption(CLI::App& cmd, Context& ctx, std::string* field) {
  CLI::Option* text = cmd.add_option("--message", *field, "The text");
  auto from_stdin = std::make_shared<bool>(false);
  CLI::Option* stdin_flag =
      cmd.add_flag("--message-stdin", *from_stdin, "Read the text from standard input");
  text->excludes(stdin_flag);
  return [&ctx, field, text, from_stdin] {
    if (*from_stdin) {
      field->assign(std::istreambuf_iterator<char>(ctx.in()), std::istreambuf_iterator<char>());
    } else if (text->count() == 0) {
      return absl::InvalidArgumentError("give --message or --message-stdin");
    }
    return absl::OkStatus();
  };
}

}  // namespace

void AddHelpdeskCommands(CLI::App& app, Context& ctx) {
  ctx.AddServiceAddress(app, "helpdesk", "cowork.helpdesk.v1", "127.0.0.1:50055");
  CLI::App* group = app.add_subcommand("tickets", "Help desk tickets");
  group->require_subcommand(1);

  AddCall<v1::OpenTicketRequest, v1::Ticket>(
      *group, ctx, "open", "Open a ticket", kHelpdesk + "OpenTicket",
      [&ctx](CLI::App& cmd, v1::OpenTicketRequest& r) -> Prepare {
        cmd.add_option("--customer", *r.mutable_customer_id(),
                       "Customer id (a customer's own token: themself)");
        cmd.add_option("--location", *r.mutable_location_id(), "Location id")->required();
        cmd.add_option("--subject", *r.mutable_subject(), "Subject")->required();
        Prepare message = MessageOption(cmd, ctx, r.mutable_message());
        auto priority = AddEnumOption(cmd, "--priority", v1::Priority_descriptor(),
                                      "low, normal, high or critical (default normal)",
                                      v1::NORMAL);
        return [message, priority, &r] {
          r.set_priority(static_cast<v1::Priority>(priority()));
          return message();
        };
      });

  AddCall<v1::GetTicketRequest, v1::Ticket>(
      *group, ctx, "get", "A ticket and its messages", kHelpdesk + "GetTicket",
      [](CLI::App& cmd, v1::GetTicketRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        return nullptr;
      });

  AddListCall<v1::ListTicketsRequest, v1::ListTicketsResponse>(
      *group, ctx, "list", "Tickets of a location or of a customer, oldest first",
      kHelpdesk + "ListTickets",
      [](CLI::App& cmd, v1::ListTicketsRequest& r) -> Prepare {
        CLI::Option* customer = cmd.add_option(
            "--customer", *r.mutable_customer_id(), "Customer id (a customer's token: themself)");
        CLI::Option* location =
            cmd.add_option("--location", *r.mutable_location_id(), "Location id");
        customer->excludes(location);
        auto status = AddEnumOption(cmd, "--status", v1::TicketStatus_descriptor(),
                                    "open, awaiting-customer or closed (default: every status)");
        return [status, &r] {
          r.set_status(static_cast<v1::TicketStatus>(status()));
          return absl::OkStatus();
        };
      },
      kTicketList);

  AddCall<v1::ReplyToTicketRequest, v1::Ticket>(
      *group, ctx, "reply", "Reply (staff replies are emailed to the customer)",
      kHelpdesk + "ReplyToTicket", [&ctx](CLI::App& cmd, v1::ReplyToTicketRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        return MessageOption(cmd, ctx, r.mutable_message());
      });

  AddCall<v1::AddTicketNoteRequest, v1::Ticket>(
      *group, ctx, "note", "Add an internal note (never shown to the customer)",
      kHelpdesk + "AddTicketNote", [&ctx](CLI::App& cmd, v1::AddTicketNoteRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        return MessageOption(cmd, ctx, r.mutable_message());
      });

  AddCall<v1::CloseTicketRequest, v1::Ticket>(
      *group, ctx, "close", "Close a ticket", kHelpdesk + "CloseTicket",
      [](CLI::App& cmd, v1::CloseTicketRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        return nullptr;
      });

  AddCall<v1::ReopenTicketRequest, v1::Ticket>(
      *group, ctx, "reopen", "Reopen a closed ticket", kHelpdesk + "ReopenTicket",
      [](CLI::App& cmd, v1::ReopenTicketRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        return nullptr;
      });

  AddCall<v1::SetTicketPriorityRequest, v1::Ticket>(
      *group, ctx, "set-priority", "Change a ticket's priority", kHelpdesk + "SetTicketPriority",
      [](CLI::App& cmd, v1::SetTicketPriorityRequest& r) -> Prepare {
        RequiredId(cmd, "ticket_id", r.mutable_ticket_id(), "Ticket id");
        auto priority = AddEnumOption(cmd, "--priority", v1::Priority_descriptor(),
                                      "low, normal, high or critical");
        cmd.get_option("--priority")->required();
        return [priority, &r] {
          r.set_priority(static_cast<v1::Priority>(priority()));
          return absl::OkStatus();
        };
      });
}

}  // namespace cowork::ctl
