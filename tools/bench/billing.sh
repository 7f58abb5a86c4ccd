#!/usr/bin/env bash
# Benchmark of the billing service's active-users projection (issue 6): a year of a network's
# events made by cowork-billing-gen (LOCATIONS locations, CUSTOMERS customers: about 10 million
# events at the defaults), projected and queried. Starts its own cowork-devbroker and
# cowork-billing on free loopback ports (data in a temp dir), stops exactly what it started (by
# pid) and prints a summary.
#
#   1. The pure projection, no Kafka: every event through billing::projection::Activity::Apply
#      into a real RocksDB store, BATCH events per commit (cowork-billing-bench project): not durable (the
#      customers events also feed the directory, one commit each: the store queried in run 5),
#      and durable (without the directory).
#   2. The same network with KAFKA_CUSTOMERS customers on the dev broker, keyed by aggregate id
#      (cowork-billing-gen). The dev broker cannot hold the full network: librdkafka's mock
#      cluster keeps at most 5 MB per partition and silently drops the oldest messages beyond
#      that, and one key's messages share a partition, so the invoice book of the largest
#      location (one aggregate, 150,000 invoices at the defaults) must fit in 5 MB. Runs 3
#      and 4 fail when they read fewer events than were produced.
#   3. The service's two consumers in-process, from offset zero (cowork-billing-bench consume):
#      the directory's (one commit per message) and the activity's, one commit per message
#      (the old default: durable for PER_MESSAGE_SECONDS only, then not durable) and a poll
#      round per commit (ConsumerOptions::write_only, BATCH at most; not durable, then
#      durable).
#   4. cowork-billing itself (durable): its first start on an empty data dir reads every topic
#      from offset zero; then a restart with --rebuild-projections (deletes the views and the
#      offsets and reads everything again). Each is timed until both consumers' lag is 0 on
#      /metrics (polled every 0.5 s). The service runs on a simulated clock a month before the
#      events, so no month is due to close: the month close (and its catch-up checks while
#      one is due) stays out of the measurement.
#   5. GetActiveUsers of the full network's largest location for each month (QUERY_REPEAT
#      times after one warm-up) and ListActiveUserCounts of the location and of the network
#      over the year: over gRPC against cowork-billing serving the store of run 1 (with an
#      empty broker), then in-process on the same store.
#
# Usage: tools/bench/billing.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, CUSTOMERS (200000), KAFKA_CUSTOMERS (20000), LOCATIONS (50), MONTHS (12),
#            SEED (1), BATCH (500), PARTITIONS (256), PER_MESSAGE_SECONDS (120),
#            QUERY_REPEAT (10), BILLING_FLAGS (extra cowork-billing flags), OUT (results
#            folder, default a new temp dir), KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
CUSTOMERS=${CUSTOMERS:-200000}
KAFKA_CUSTOMERS=${KAFKA_CUSTOMERS:-20000}
LOCATIONS=${LOCATIONS:-50}
MONTHS=${MONTHS:-12}
SEED=${SEED:-1}
BATCH=${BATCH:-500}
PARTITIONS=${PARTITIONS:-256}
PER_MESSAGE_SECONDS=${PER_MESSAGE_SECONDS:-120}
QUERY_REPEAT=${QUERY_REPEAT:-10}
read -r -a EXTRA_FLAGS <<<"${BILLING_FLAGS:-}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT" "$WORK/data"

require_binaries cowork-devbroker cowork-billing cowork-billing-gen cowork-billing-bench

BROKER_PID=""
BILLING_PID=""
cleanup() {
  stop_pid "$BILLING_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT

GEN=(--seed "$SEED" --locations "$LOCATIONS" --months "$MONTHS")
result() { # file key -> the value of key= on the file's RESULT line
  sed -nE "s/^RESULT .*[ ]$2=([^ ]+).*/\\1/p" "$1" | tail -1
}

print_machine "seed $SEED, $CUSTOMERS customers ($KAFKA_CUSTOMERS through the broker), \
$LOCATIONS locations, $MONTHS months, batch $BATCH, $PARTITIONS partitions"

echo "=== 1. pure projection of $CUSTOMERS customers (App::Apply + commits of $BATCH events)"
"$BIN/cowork-billing-bench" project "${GEN[@]}" --customers "$CUSTOMERS" --no-durable \
  --batch "$BATCH" --data-dir "$WORK/data/project" | tee "$OUT/1_project_not_durable.txt"
"$BIN/cowork-billing-bench" project "${GEN[@]}" --customers "$CUSTOMERS" --durable \
  --no-directory --batch "$BATCH" | tee "$OUT/1_project_durable.txt"
FULL_EVENTS=$(result "$OUT/1_project_not_durable.txt" events)

echo "=== 2. $KAFKA_CUSTOMERS customers' events on the dev broker"
export COWORK_DEVBROKER_PARTITIONS=$PARTITIONS
start_broker BROKER_PID BOOTSTRAP
"$BIN/cowork-billing-gen" "${GEN[@]}" --customers "$KAFKA_CUSTOMERS" --kafka-brokers "$BOOTSTRAP" \
  | tee "$OUT/2_gen.txt"
EVENTS=$(sed -nE 's/^RESULT events=([0-9]+) .*/\1/p' "$OUT/2_gen.txt")
LARGEST=$(result "$OUT/2_gen.txt" largest_location)
FIRST_MONTH=$(result "$OUT/2_gen.txt" first_month)
LAST_MONTH=$(result "$OUT/2_gen.txt" last_month)
CLOCK=$(date -u -d "$FIRST_MONTH-01 - 1 month" +%Y-%m-%dT00:00:00Z)

echo "=== 3. the consumers in-process from offset zero"
consume() { # name [flags...]
  local name=$1
  shift
  "$BIN/cowork-billing-bench" consume --kafka-brokers "$BOOTSTRAP" --expect "$EVENTS" \
    --data-dir "$WORK/data/$name" "$@" | tee "$OUT/$name.txt"
  rm -rf "${WORK:?}/data/$name"
}
consume 3a_consume_per_message_durable --durable --max-seconds "$PER_MESSAGE_SECONDS"
consume 3b_consume_per_message_not_durable --no-durable
consume 3c_consume_write_only_not_durable --no-durable --write-only --batch "$BATCH"
consume 3d_consume_write_only_durable --durable --write-only --batch "$BATCH"

lag_of() { # metrics-address consumer -> its lag, or "" when not reported yet
  curl -fsS "http://$1/metrics" 2>/dev/null \
    | sed -nE "s/^cowork_consumer_lag\\{consumer=\"$2\"\\} ([0-9.e+]+)$/\\1/p" | head -1
}

caught_up() { # name metrics-address t0-ns: waits until both consumers have no lag after having
  # had some; prints and records the seconds since t0 and the service's CPU seconds
  local name=$1 metrics=$2 t0=$3 seen=0 activity directory cpu0
  cpu0=$(cpu_ticks "$BILLING_PID")
  for _ in $(seq 1 7200); do
    activity=$(lag_of "$metrics" billing.activity)
    directory=$(lag_of "$metrics" billing.customers)
    if [ -n "$activity" ] && [ -n "$directory" ]; then
      if [ "${activity%.*}" != 0 ] || [ "${directory%.*}" != 0 ]; then
        seen=1
      elif [ "$seen" = 1 ]; then
        local t1 cpu1
        t1=$(date +%s%N)
        cpu1=$(cpu_ticks "$BILLING_PID")
        local seconds=$(( (t1 - t0) / 1000000 ))
        printf 'RESULT run=%s events=%s seconds=%d.%03d events_per_s=%d cpu_s=%d\n' "$name" \
          "$EVENTS" $((seconds / 1000)) $((seconds % 1000)) $((EVENTS * 1000 / seconds)) \
          $(((cpu1 - cpu0) / $(getconf CLK_TCK))) | tee "$OUT/$name.txt"
        return 0
      fi
    fi
    sleep 0.5
  done
  echo "error: $name: the consumers did not catch up" >&2
  return 1
}

start_billing() { # name [flags...]: starts cowork-billing on $WORK/data/billing, on the
  # simulated clock
  local name=$1
  shift
  # start_service reads its address from billing.log: one log per start.
  if [ -f "$OUT/billing.log" ]; then mv "$OUT/billing.log" "$OUT/billing.before-$name.log"; fi
  start_service billing BILLING_PID BILLING "$BOOTSTRAP" --durable --simulated-clock "$CLOCK" \
    "${EXTRA_FLAGS[@]}" "$@"
}

timed_start() { # name [flags...]: starts cowork-billing, waits until its consumers caught up
  local name=$1 t0 metrics
  shift
  t0=$(date +%s%N)
  start_billing "$name" "$@"
  metrics=$(wait_for_line "$OUT/billing.log" '"msg":"metrics listening","address":"([0-9.:]+)"' \
    "$BILLING_PID")
  caught_up "$name" "$metrics" "$t0"
}

echo "=== 4. cowork-billing from offset zero, then --rebuild-projections (durable)"
timed_start 4_service_first_start
stop_pid "$BILLING_PID"
timed_start 4_service_rebuild --rebuild-projections
stop_pid "$BILLING_PID"
stop_pid "$BROKER_PID"
BILLING_PID=""
BROKER_PID=""

echo "=== 5. GetActiveUsers of $LARGEST and ListActiveUserCounts, $CUSTOMERS customers"
rm -rf "$WORK/data/billing"
mv "$WORK/data/project" "$WORK/data/billing"
start_broker BROKER_PID BOOTSTRAP  # empty: the service only serves run 1's store
start_billing 5_query
QUERY=(--location "$LARGEST" --from-month "$FIRST_MONTH" --to-month "$LAST_MONTH"
       --repeat "$QUERY_REPEAT")
"$BIN/cowork-billing-bench" query --target "$BILLING" --dev "${QUERY[@]}" \
  | tee "$OUT/5_query_grpc.txt"
stop_pid "$BILLING_PID"
BILLING_PID=""
"$BIN/cowork-billing-bench" query --data-dir "$WORK/data/billing" "${QUERY[@]}" \
  | tee "$OUT/5_query_in_process.txt"

{
  echo "=== summary: $FULL_EVENTS events (runs 1, 5), $EVENTS through the broker (runs 3, 4)"
  for f in "$OUT"/1_project_*.txt "$OUT"/3?_consume_*.txt; do
    printf '%-36s %10s events/s  %8s s  directory %s events in %s s\n' "$(basename "$f" .txt)" \
      "$(result "$f" events_per_s)" "$(result "$f" seconds)" "$(result "$f" directory_events)" \
      "$(result "$f" directory_seconds)"
  done
  for f in "$OUT"/4_service_*.txt; do
    printf '%-36s %10s events/s  %8s s  (service CPU %s s)\n' "$(basename "$f" .txt)" \
      "$(result "$f" events_per_s)" "$(result "$f" seconds)" "$(result "$f" cpu_s)"
  done
  for f in "$OUT"/5_query_*.txt; do
    printf '%-36s GetActiveUsers (%s users) p50 %s p95 %s p99 %s max %s ms; 12 months %s ms; ' \
      "$(basename "$f" .txt)" "$(result "$f" largest_count)" "$(result "$f" get_p50_ms)" \
      "$(result "$f" get_p95_ms)" "$(result "$f" get_p99_ms)" "$(result "$f" get_max_ms)" \
      "$(result "$f" counts_p50_ms)"
    printf 'network %s ms\n' "$(result "$f" network_p50_ms)"
  done
  echo "results in $OUT"
} | tee "$OUT/summary.txt"
