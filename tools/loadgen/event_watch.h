#ifndef COWORK_TOOLS_LOADGEN_EVENT_WATCH_H_
#define COWORK_TOOLS_LOADGEN_EVENT_WATCH_H_

// Watches a topic while the load runs: a plain librdkafka consumer assigned every partition
// from the end (only events produced after Start are seen), decoding each message's
// EventEnvelope. It measures how fast events reach the broker and how long after the command
// committed them they arrive: latency = receive time - envelope occurred_at, both read from the
// wall clock of this machine (the service runs on the same host).
//
// Thread-safe: Start/Stop from one thread; the counters may be read from any thread.
// Errors: UNAVAILABLE when the broker cannot be reached or the topic has no partitions within
// the timeout; INVALID_ARGUMENT for a bad broker address.
//
//   auto watch = EventWatch::Start({.brokers = "127.0.0.1:9092"});
//   (*watch)->SetWindow(from, to);
//   ... run the load ...
//   EventWatch::Result r = (*watch)->Stop();

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/loadgen/stats.h"

namespace cowork::loadgen {

struct EventWatchOptions {
  // bootstrap.servers. Required.
  std::string brokers;
  std::string topic = "cowork.customers.events";
  // How long Start waits for the topic's partitions. Default 15 s.
  absl::Duration timeout = absl::Seconds(15);
};

class EventWatch {
 public:
  struct Result {
    uint64_t received = 0;            // every message since Start
    uint64_t received_in_window = 0;  // received while the window was open
    uint64_t undecodable = 0;         // not an EventEnvelope
    // receive - occurred_at, for events whose occurred_at lies in the window.
    Samples latency;
  };

  static absl::StatusOr<std::unique_ptr<EventWatch>> Start(const EventWatchOptions& options);
  ~EventWatch();

  // The measurement window (wall clock). Before it is set nothing is counted as in-window.
  void SetWindow(absl::Time from, absl::Time to);
  // Messages received so far (for waiting until the stream goes quiet).
  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  // Stops the consumer thread and hands over what it measured.
  Result Stop();

 private:
  struct Impl;
  explicit EventWatch(std::unique_ptr<Impl> impl);
  void Loop();

  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  absl::Mutex mu_;
  absl::Time from_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time to_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  Result result_;  // written by the thread only, read after join
  std::thread thread_;
};

}  // namespace cowork::loadgen

#endif  // COWORK_TOOLS_LOADGEN_EVENT_WATCH_H_
