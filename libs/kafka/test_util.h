#ifndef COWORK_LIBS_KAFKA_TEST_UTIL_H_
#define COWORK_LIBS_KAFKA_TEST_UTIL_H_

// Helpers for the kafka library's tests: a temp directory, a real Store in it, envelopes,
// and bounded polling. Test-only.

#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cowork/common/v1/envelope.pb.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "libs/eventstore/store.h"
#include "libs/testing/process.h"

namespace cowork::kafka::testing {

using TempDir = cowork::testing::TempDir;

inline std::unique_ptr<eventstore::Store> OpenStore(const std::string& path) {
  auto store = eventstore::Store::Open({.path = path, .durable = false});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

inline common::v1::EventEnvelope Envelope(const std::string& type, const std::string& id,
                                          int64_t sequence,
                                          const google::protobuf::Message& payload) {
  common::v1::EventEnvelope e;
  e.set_event_id(absl::StrCat(type, "-", id, "-", sequence));
  e.set_aggregate_type(type);
  e.set_aggregate_id(id);
  e.set_sequence(sequence);
  e.set_operator_id("op-1");
  e.set_service("customers");  // the payloads of these tests are customers events
  e.mutable_payload()->PackFrom(payload);
  return e;
}

// Polls `done` every 5 ms until it holds or `timeout` passes; returns its last value.
inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration timeout = absl::Seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

}  // namespace cowork::kafka::testing

#endif  // COWORK_LIBS_KAFKA_TEST_UTIL_H_
