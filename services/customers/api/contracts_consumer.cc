#include "services/customers/api/contracts_consumer.h"

#include <string>
#include <utility>

#include "cowork/contracts/v1/events.pb.h"

namespace cowork::customers::api {

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

}  // namespace cowork::customers::api
