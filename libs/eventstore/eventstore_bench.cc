// Commit throughput of a typical one-event command: one ~200-byte event, ~200 bytes of
// aggregate state, one read-view row and the event's outbox row, in one WriteBatch.
// Each thread owns its aggregate, so commits never conflict; with durable=1 concurrent
// commits share WAL fsyncs through RocksDB's write groups.
//
//   eventstore_bench --benchmark_filter=Commit
// The store lives under $TMPDIR (or /tmp) and is removed after each run.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "libs/clock/clock.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/wrappers.pb.h"
#include "libs/eventstore/command.h"
#include "libs/eventstore/store.h"

namespace cowork::eventstore {
namespace {

std::unique_ptr<Store> g_store;
std::string g_dir;

void BM_CommitOneEventCommand(benchmark::State& state) {
  const bool durable = state.range(0) != 0;
  if (state.thread_index() == 0) {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(base != nullptr && *base ? base : "/tmp", "/eventstore_bench.XXXXXX");
    g_dir = mkdtemp(pattern.data());
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open({.path = g_dir + "/db", .durable = durable});
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
    } else {
      g_store = std::move(*store);
    }
  }
  const std::string id = absl::StrCat("c-bench-", state.thread_index());
  google::protobuf::StringValue payload;
  payload.set_value(std::string(200, 'p'));
  const std::string aggregate_state(200, 's');
  const std::string view(200, 'v');
  const EnvelopeContext context{.service = "bench",
                                .operator_id = "op-1",
                                .correlation_id = "req",
                                .causation_id = "req",
                                .now = cowork::RealClock::Get().Now()};
  int64_t version = 0;
  for (auto _ : state) {
    WriteSet w;
    w.Append("customer", id, version,
             {MakeEnvelope(context, "customer", id, version + 1, "loc-1", payload)},
             aggregate_state, "cowork.bench.events");
    w.Put(Space::kViews, absl::StrCat("customer/", id), view);
    absl::Status s = g_store->Commit(std::move(w));
    if (!s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      break;
    }
    ++version;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    g_store.reset();
    std::filesystem::remove_all(g_dir);
  }
}

BENCHMARK(BM_CommitOneEventCommand)
    ->ArgName("durable")
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace
}  // namespace cowork::eventstore

BENCHMARK_MAIN();
