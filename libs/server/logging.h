#ifndef COWORK_LIBS_SERVER_LOGGING_H_
#define COWORK_LIBS_SERVER_LOGGING_H_

// One JSON object per line on stderr, the log format of every service.
//
// Thread-safe.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace cowork::server {

// Writes one JSON object per line to stderr: {"ts":...,"level":...,"service":...,"msg":...,
// plus the given fields}. Values are JSON-escaped. Never pass secrets or passwords.
void LogJson(absl::string_view level, absl::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields = {});
void SetLogService(absl::string_view service);

}  // namespace cowork::server

#endif  // COWORK_LIBS_SERVER_LOGGING_H_
