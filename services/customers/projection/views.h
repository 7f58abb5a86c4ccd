#ifndef COWORK_SERVICES_CUSTOMERS_PROJECTION_VIEWS_H_
#define COWORK_SERVICES_CUSTOMERS_PROJECTION_VIEWS_H_

// The read views of the customers service are functions of the aggregate states: the live
// write path and a rebuild from the log compute them the same way, so they cannot drift.
// Pure; thread-safe.

#include "cowork/customers/v1/customers.pb.h"
#include "services/customers/domain/state.pb.h"

namespace cowork::customers::projection {

// Kind is derived (MEMBER with at least one active contract); an erased customer shows
// erased = true and no personal data.
v1::Customer CustomerView(const domain::CustomerState& state);
v1::Team TeamView(const domain::TeamState& state);
v1::Location LocationView(const domain::LocationState& state);
v1::Operator OperatorView(const domain::OperatorState& state);

}  // namespace cowork::customers::projection

#endif  // COWORK_SERVICES_CUSTOMERS_PROJECTION_VIEWS_H_
