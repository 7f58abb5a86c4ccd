#!/usr/bin/env bash
# Benchmark of cowork-replay: events replayed per second from the dev broker. Starts its own
# cowork-devbroker on a free loopback port, seeds EVENTS events with cowork-replay-seed (one
# operator, LOCATIONS locations in Madrid, CUSTOMERS customers, contracts for a third of them
# from the first of MONTHS months ending with MONTH, a few ended, a few tickets, the rest
# bookings made during those months, a few cancelled), then times cowork-replay with its
# output thrown away:
#   1. every event as JSON lines
#   2. every event as CSV
#   3. the bookings of one location (--type BookingCreated --location ...), JSON lines: the
#      filter drops the other events before anything is printed
#   4. active-users of one location for MONTH: the billing projection over a temporary RocksDB
#      (of every event: the customers, contracts and bookings topics)
# Then (BILLING=1) starts cowork-billing on the same broker and waits until its
# GetActiveUsers answer for that location and month is exactly the replay's (who, why, which
# events): the agreement at scale, and how long the service took to read the history. The
# history spans MONTHS months so that one month's answer (every booking's event id) stays
# within gRPC's default 4 MB message size.
# Stops exactly what it started (by pid) and prints a summary.
#
# The dev broker runs with PARTITIONS partitions per topic: librdkafka's mock cluster keeps at
# most 5 MB (or 100,000 batches) per partition and drops the oldest batches beyond that, so a
# million events (about 290 bytes each) need more than 60 partitions to stay whole.
#
# Usage: tools/bench/replay.sh            (binaries from build/bin, or BIN=<dir>)
# MONTH is the current one by default: the billing service closes past months by the clock,
# and a month it closed before it had read the history stays as it was counted then.
#
# Env knobs: BIN, EVENTS (1000000), LOCATIONS (4), CUSTOMERS (10000), MONTH (this month),
#            MONTHS (12), PARTITIONS (128), BILLING (1), OUT (results folder, default a new
#            temp dir), KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
EVENTS=${EVENTS:-1000000}
LOCATIONS=${LOCATIONS:-4}
CUSTOMERS=${CUSTOMERS:-10000}
MONTH=${MONTH:-$(date -u +%Y-%m)}
MONTHS=${MONTHS:-12}
PARTITIONS=${PARTITIONS:-128}
BILLING=${BILLING:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT" "$WORK/data"

require_binaries cowork-devbroker cowork-replay cowork-replay-seed cowork-billing coworkctl \
  cowork-token

BROKER_PID=""
BILLING_PID=""
cleanup() {
  stop_pid "$BILLING_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM  # runs cleanup too

print_machine "$EVENTS events seeded ($LOCATIONS locations, $CUSTOMERS customers, $MONTHS months to $MONTH, $PARTITIONS partitions per topic); each replay once, output to /dev/null"

export COWORK_DEVBROKER_PARTITIONS=$PARTITIONS
start_broker BROKER_PID BOOTSTRAP
t0=$(date +%s%N)
"$BIN/cowork-replay-seed" --brokers "$BOOTSTRAP" --events "$EVENTS" --locations "$LOCATIONS" \
  --customers "$CUSTOMERS" --month "$MONTH" --months "$MONTHS" | tee "$OUT/seed.txt"
echo "seeded in $(( ($(date +%s%N) - t0) / 1000000 )) ms" | tee -a "$OUT/seed.txt"

replay() { # name args...: one timed run; stdout to /dev/null (active-users: to $OUT/<name>.out)
  local name=$1
  shift
  echo "=== $name: cowork-replay $*"
  local out=/dev/null
  if [ "${1:-}" = active-users ]; then out="$OUT/$name.out"; fi
  /usr/bin/time -f "TIME wall=%e user=%U sys=%S maxrss_kb=%M" \
    "$BIN/cowork-replay" "$@" --brokers "$BOOTSTRAP" --no-progress >"$out" 2>"$OUT/$name.txt"
  cat "$OUT/$name.txt"
}

replay 1_jsonl
replay 2_csv --format csv
replay 3_bookings_one_location --type BookingCreated --location loc-seed-0
replay 4_active_users active-users --location loc-seed-0 --month "$MONTH" --format json --work-dir "$WORK/data"

if [ "$BILLING" = 1 ]; then
  echo "=== 5: cowork-billing reads the same history; its answer must be the replay's"
  start_service billing BILLING_PID BILLING_ADDR "$BOOTSTRAP" --no-durable
  TOKEN=$("$BIN/cowork-token" admin --dev --operator op-seed --permission platform.invoices)
  t0=$(date +%s%N)
  agreed=""
  for _ in $(seq 1 1200); do
    if "$BIN/coworkctl" --billing-addr "$BILLING_ADDR" --token "$TOKEN" --output json \
      active-users get --location loc-seed-0 --month "$MONTH" --all \
      >"$OUT/5_service.json" 2>/dev/null &&
      python3 - "$OUT/4_active_users.out" "$OUT/5_service.json" <<'EOF'
import json, sys
replay, service = (json.load(open(p)) for p in sys.argv[1:3])
same = all(replay[k] == service[k] for k in ("location_id", "month", "count", "users"))
sys.exit(0 if same else 1)
EOF
    then
      agreed=$(( ($(date +%s%N) - t0) / 1000000 ))
      break
    fi
    sleep 0.5
  done
  if [ -n "$agreed" ]; then
    echo "AGREED after ${agreed} ms: GetActiveUsers = replay ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$OUT/5_service.json") active users)" | tee "$OUT/5_agreement.txt"
  else
    echo "DISAGREED: see $OUT/4_active_users.out and $OUT/5_service.json" | tee "$OUT/5_agreement.txt"
  fi
fi

{
  echo "=== summary (events/s = messages read / wall time of the whole run, start-up included)"
  printf '%-26s %10s %10s %8s %12s %8s %9s\n' run messages rows wall_s events/s cpu_s maxrss_mb
  for f in "$OUT"/[0-9]_*.txt; do
    case "$f" in *_agreement.txt) continue ;; esac
    awk -v name="$(basename "$f" .txt)" '
      /messages in/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "messages" && $(i+2) == "in") m = $i
                                                   if ($(i+1) == "rows" || $(i+1) == "rows;") r = $i
                                                   if ($(i+1) == "events" && $(i+2) == "applied,") r = $i } }
      /^TIME/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
      END { printf "%-26s %10s %10s %8s %12d %8.1f %9d\n", name, m, r, v["wall"],
              m / v["wall"], v["user"] + v["sys"], v["maxrss_kb"] / 1024 }' "$f"
  done
  [ -f "$OUT/5_agreement.txt" ] && cat "$OUT/5_agreement.txt"
  echo "results in $OUT"
} | tee "$OUT/summary.txt"
