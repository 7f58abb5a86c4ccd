#!/usr/bin/env bash
# Benchmark of the disaster recovery: a service restored from its topics
# (--restore-from-topic) next to the same service rebuilding its views (--rebuild-projections),
# in one run on the same data. Starts its own cowork-devbroker on a free loopback port (with
# PARTITIONS partitions per topic, so the mock cluster keeps the whole history), seeds EVENTS
# events with cowork-replay-seed (one operator, almost all of them bookings events: bookings
# made over MONTHS months, a few cancelled), then times cowork-bookings:
#   1. --restore-from-topic into an empty data dir, until it listens: every event of
#      cowork.bookings.events staged, merged and imported with its aggregate's state, the
#      schedule days staged again, the views rebuilt after the directory has read
#      cowork.customers.events;
#   2. the same store started again with --rebuild-projections, until it listens: the views
#      rebuilt from the log and the directory read again from offset zero.
# Prints events per second (the bookings topic's events / wall time to listening) and CPU
# seconds for both. Stops exactly what it started (by pid).
#
# Usage: tools/bench/restore.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, EVENTS (1000000), LOCATIONS (4), CUSTOMERS (10000), MONTHS (12),
#            PARTITIONS (128), DURABLE (false: --durable=false for both runs), OUT (results
#            folder, default a new temp dir), KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
EVENTS=${EVENTS:-1000000}
LOCATIONS=${LOCATIONS:-4}
CUSTOMERS=${CUSTOMERS:-10000}
MONTHS=${MONTHS:-12}
PARTITIONS=${PARTITIONS:-128}
DURABLE=${DURABLE:-false}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT" "$WORK/data"

require_binaries cowork-devbroker cowork-replay-seed cowork-bookings

BROKER_PID=""
SERVICE_PID=""
cleanup() {
  stop_pid "$SERVICE_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM  # runs cleanup too

print_machine "$EVENTS events seeded ($LOCATIONS locations, $CUSTOMERS customers, $MONTHS months, $PARTITIONS partitions per topic); cowork-bookings restored, then rebuilt, --durable=$DURABLE"

export COWORK_DEVBROKER_PARTITIONS=$PARTITIONS
start_broker BROKER_PID BOOTSTRAP
"$BIN/cowork-replay-seed" --brokers "$BOOTSTRAP" --events "$EVENTS" --locations "$LOCATIONS" \
  --customers "$CUSTOMERS" --month "$(date -u +%Y-%m)" --months "$MONTHS" | tee "$OUT/seed.txt"

# run name flags...: starts cowork-bookings on the data dir, waits (up to 30 min) until it
# listens, records wall and CPU time, and leaves it running in SERVICE_PID.
run() {
  local name=$1
  shift
  local log="$OUT/$name.log" t0 ticks0 wall ticks
  t0=$(date +%s%N)
  "$BIN/cowork-bookings" --listen 127.0.0.1:0 --metrics-listen "" --data-dir "$WORK/data/bookings" \
    --kafka-brokers "$BOOTSTRAP" --dev --no-log-requests --durable="$DURABLE" "$@" >"$log" 2>&1 &
  SERVICE_PID=$!
  for _ in $(seq 1 18000); do
    grep -q "bookings listening on" "$log" && break
    kill -0 "$SERVICE_PID" 2>/dev/null || { echo "error: $name exited:" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 0.1
  done
  wall=$(( ($(date +%s%N) - t0) / 1000000 ))
  ticks=$(cpu_ticks "$SERVICE_PID")
  echo "RESULT $name wall_ms=$wall cpu_s=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}') rss_mb=$(awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$SERVICE_PID/status")" | tee "$OUT/$name.txt"
}

run 1_restore --restore-from-topic
grep -o '"events restored from the topics".*' "$OUT/1_restore.log" | head -1 | tee -a "$OUT/1_restore.txt"
stop_pid "$SERVICE_PID"
run 2_rebuild --rebuild-projections
stop_pid "$SERVICE_PID"
SERVICE_PID=""

restored=$(sed -nE 's/.*"events":"([0-9]+)".*/\1/p' "$OUT/1_restore.txt" | head -1)
{
  echo "=== summary (events/s = the bookings topic's events / wall time until the service listens)"
  for f in "$OUT"/1_restore.txt "$OUT"/2_rebuild.txt; do
    sed -nE 's/^RESULT //p' "$f" | awk -v events="${restored:-0}" '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%-12s events=%s wall_s=%.1f events/s=%d cpu_s=%s max_rss_mb=%s\n", $1, events,
        v["wall_ms"] / 1000, events / (v["wall_ms"] / 1000), v["cpu_s"], v["rss_mb"] }'
  done
  echo "results in $OUT"
} | tee "$OUT/summary.txt"
