#ifndef COWORK_SERVICES_CUSTOMERS_APP_CONTRACTS_CONSUMER_H_
#define COWORK_SERVICES_CUSTOMERS_APP_CONTRACTS_CONSUMER_H_

// The customers service reads cowork.contracts.events: member or contact follows the
// contracts (ContractStarted / ContractEnded), recorded as the customer's own events in the
// consumer's commit, with the offset. A consumer named "customers.contracts".
//
// A rebuild (from offset zero) deletes nothing: what this consumer produced are events of the
// customers themselves, and replayed contract events decide nothing new.
//
// Thread-safety: see kafka::EventConsumer. The store and the app must outlive the consumer.
//
//   auto consumer = NewContractsConsumer(*store, kafka_options, app, flags.rebuild_projections);
//   RETURN_IF_ERROR(consumer->Start());

#include <memory>

#include "libs/eventstore/store.h"
#include "libs/kafka/kafka.h"
#include "services/customers/app/app.h"

namespace cowork::customers::app {

inline constexpr absl::string_view kContractsConsumerName = "customers.contracts";

std::unique_ptr<kafka::EventConsumer> NewContractsConsumer(eventstore::Store& store,
                                                           kafka::KafkaOptions kafka, App& app,
                                                           bool rebuild);

}  // namespace cowork::customers::app

#endif  // COWORK_SERVICES_CUSTOMERS_APP_CONTRACTS_CONSUMER_H_
