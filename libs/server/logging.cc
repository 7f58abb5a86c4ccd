#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"
#include "libs/server/logging.h"

namespace cowork::server {
namespace {

struct LogState {
  absl::Mutex mu;
  std::string service ABSL_GUARDED_BY(mu);
};

LogState& State() {
  static LogState* const state = new LogState;  // never destroyed: logs may outlive main
  return *state;
}

// The one place logging reads the wall clock: a log line's timestamp is about when it was
// written, not about the domain's notion of "now" (which may be simulated).
std::string LogTimestamp() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", RealClock::Get().Now(), absl::UTCTimeZone());
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            absl::StrAppendFormat(&out, "\\u%04x", c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\\ufffd";  // one replacement character per byte that is not valid UTF-8
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

void AppendField(std::string& out, absl::string_view key, absl::string_view value) {
  out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
  AppendJsonString(out, value);
}

}  // namespace

void SetLogService(absl::string_view service) {
  LogState& state = State();
  absl::MutexLock lock(&state.mu);
  state.service = std::string(service);
}

void LogJson(absl::string_view level, absl::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields) {
  LogState& state = State();
  std::string line = "{\"ts\":";
  AppendJsonString(line, LogTimestamp());
  AppendField(line, "level", level);
  {
    absl::MutexLock lock(&state.mu);
    if (!state.service.empty()) AppendField(line, "service", state.service);
  }
  AppendField(line, "msg", message);
  for (const auto& [key, value] : fields) AppendField(line, key, value);
  line += "}\n";
  absl::MutexLock lock(&state.mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace cowork::server
