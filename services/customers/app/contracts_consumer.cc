#include "services/customers/app/contracts_consumer.h"

#include <string>
#include <utility>

#include "cowork/contracts/v1/events.pb.h"
#include "libs/server/logging.h"
#include "libs/status/macros.h"
#include "services/customers/app/internal.h"
#include "services/customers/domain/customer.h"
#include "services/customers/domain/validation.h"

namespace cowork::customers::app {

std::unique_ptr<kafka::EventConsumer> NewContractsConsumer(eventstore::Store& store,
                                                           kafka::KafkaOptions kafka, App& app,
                                                           bool rebuild) {
  kafka::ConsumerOptions options;
  options.name = std::string(kContractsConsumerName);
  options.topics = {kafka::TopicFor("contracts")};
  options.rebuild = rebuild;
  options.reset = [](eventstore::Store&) { return absl::OkStatus(); };
  auto consumer = std::make_unique<kafka::EventConsumer>(store, std::move(kafka), options);
  consumer->On<contracts::v1::ContractStarted>(
      [&app](const common::v1::EventEnvelope& envelope, const contracts::v1::ContractStarted& e,
             eventstore::WriteSet& writes) { return app.OnContractStarted(envelope, e, writes); });
  consumer->On<contracts::v1::ContractEnded>(
      [&app](const common::v1::EventEnvelope& envelope, const contracts::v1::ContractEnded& e,
             eventstore::WriteSet& writes) { return app.OnContractEnded(envelope, e, writes); });
  return consumer;
}

// ---------------------------------------------------------------- the App's handlers

absl::Status App::OnContract(const common::v1::EventEnvelope& envelope,
                             absl::string_view customer_id, absl::string_view contract_id,
                             bool started, WriteSet& writes) {
  const auto skip = [&](absl::string_view why) {
    server::LogJson("warning", "contract event skipped",
                    {{"reason", std::string(why)},
                     {"customer_id", std::string(customer_id.substr(0, 64))},
                     {"contract_id", std::string(contract_id.substr(0, 64))},
                     {"event_id", envelope.event_id()}});
    return absl::OkStatus();
  };
  if (!domain::IsValidId(customer_id) || contract_id.empty()) return skip("malformed event");
  COWORK_ASSIGN_OR_RETURN(Loaded<domain::CustomerState> customer,
                             projection_.LoadCustomer(customer_id));
  if (customer.version == 0 || customer.state.operator_id() != envelope.operator_id()) {
    return skip("unknown customer");
  }
  eventstore::EnvelopeContext context = Context(envelope.operator_id(), "");
  context.correlation_id =
      envelope.correlation_id().empty() ? envelope.event_id() : envelope.correlation_id();
  context.causation_id = envelope.event_id();
  absl::StatusOr<domain::Events> events =
      started ? domain::Decide(customer.state, domain::StartContract{std::string(contract_id)},
                               context.now)
              : domain::Decide(customer.state, domain::EndContract{std::string(contract_id)},
                               context.now);
  if (!events.ok()) return skip(events.status().message());
  return projection_.StageCustomer(context, customer, *std::move(events), writes).status();
}

absl::Status App::OnContractStarted(const common::v1::EventEnvelope& envelope,
                                    const contracts::v1::ContractStarted& event,
                                    WriteSet& writes) {
  return OnContract(envelope, event.customer_id(), event.contract_id(), true, writes);
}

absl::Status App::OnContractEnded(const common::v1::EventEnvelope& envelope,
                                  const contracts::v1::ContractEnded& event, WriteSet& writes) {
  return OnContract(envelope, event.customer_id(), event.contract_id(), false, writes);
}

}  // namespace cowork::customers::app
