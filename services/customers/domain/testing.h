#ifndef COWORK_SERVICES_CUSTOMERS_DOMAIN_TESTING_H_
#define COWORK_SERVICES_CUSTOMERS_DOMAIN_TESTING_H_

// For tests of the layers above the customers domain: commands filled in with valid values.

#include <string>

#include "services/customers/domain/customer.h"

namespace cowork::customers::domain::testing {

// An individual of operator op-1 at home at loc-1, "<first> Tester".
inline AddCustomer Person(const std::string& id, const std::string& first,
                          const std::string& email) {
  AddCustomer c;
  c.customer_id = id;
  c.operator_id = "op-1";
  c.home_location_id = "loc-1";
  c.home_location_exists = true;
  c.type = v1::INDIVIDUAL;
  c.first_name = first;
  c.last_name = "Tester";
  c.email = email;
  return c;
}

}  // namespace cowork::customers::domain::testing

#endif  // COWORK_SERVICES_CUSTOMERS_DOMAIN_TESTING_H_
