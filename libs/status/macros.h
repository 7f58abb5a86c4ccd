#ifndef COWORK_LIBS_STATUS_MACROS_H_
#define COWORK_LIBS_STATUS_MACROS_H_

// Early returns for absl::Status / absl::StatusOr (Abseil does not ship its internal
// RETURN_IF_ERROR / ASSIGN_OR_RETURN).
//
//   COWORK_RETURN_IF_ERROR(CheckSomething());
//   COWORK_ASSIGN_OR_RETURN(auto customer, LoadCustomer(id));

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define COWORK_RETURN_IF_ERROR(expr)                                          \
  do {                                                                        \
    if (absl::Status cowork_s_ = (expr); !cowork_s_.ok()) return cowork_s_;   \
  } while (0)

#define COWORK_STATUS_CONCAT_INNER_(a, b) a##b
#define COWORK_STATUS_CONCAT_(a, b) COWORK_STATUS_CONCAT_INNER_(a, b)
#define COWORK_ASSIGN_OR_RETURN(lhs, expr) \
  COWORK_ASSIGN_OR_RETURN_IMPL_(COWORK_STATUS_CONCAT_(cowork_or_, __LINE__), lhs, expr)
#define COWORK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)

#endif  // COWORK_LIBS_STATUS_MACROS_H_
