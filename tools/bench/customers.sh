#!/usr/bin/env bash
# Benchmark of the customers service, end to end over gRPC on loopback, with events watched
# on the broker. Starts its own cowork-devbroker and cowork-customers on free loopback ports
# (data in a temp dir), runs cowork-loadgen, stops exactly what it started (by pid) and prints
# a summary. Results are recorded in docs/PERFORMANCE.md.
#
# Runs (each: WARMUP unmeasured, then DURATION measured; events watched on the topic):
#   1. durable=true   AddCustomer            CLIENTS clients, closed loop (max throughput)
#   2. durable=true   Add/Update mixed 50/50 CLIENTS clients, closed loop
#   3. durable=false  AddCustomer            CLIENTS clients, closed loop
#   4. durable=false  Add/Update mixed 50/50 CLIENTS clients, closed loop
#   5. durable=false  AddCustomer            open loop at HALF_RATE/s (default 10,000: half of
#                     the 20,000/s target), at most CLIENTS in flight; latency is measured from
#                     each call's due time, so queueing behind a slow call counts
#   6. durable=true   AddCustomer            open loop at half of run 1's measured rate
#   7. durable=true   AddCustomer            open loop at LIGHT_RATE/s (default 200): command
#                     and event latency with the service nearly idle
#   8. durable=false  GetCustomer            CLIENTS clients, closed loop: an authorized call that
#                     writes nothing, the ceiling for any command on this machine
#   9. durable=false  TestClockService.GetTime  CLIENTS clients, closed loop: a call through the
#                     server kit (interceptor, token check, worker pool) that reads nothing
#   0. cowork-grpc-floor: empty calls to a bare gRPC server in the load generator's own process,
#                     the most unary calls/s the machine does at all
# The service runs with --no-log-requests (a JSON line per call would be a benchmark of the
# logger) and each durability setting gets a fresh data directory.
#
# Usage: tools/bench/customers.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, DURATION (20s), WARMUP (3s), CLIENTS (64), HALF_RATE (10000), LIGHT_RATE
#            (200), OUT (results
#            folder, default a new temp dir), KEEP_DATA=1 (keep the services' data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-64}
HALF_RATE=${HALF_RATE:-10000}
LIGHT_RATE=${LIGHT_RATE:-200}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"

require_binaries cowork-devbroker cowork-customers cowork-loadgen cowork-grpc-floor

BROKER_PID=""
SERVICE_PID=""
cleanup() {
  stop_pid "$SERVICE_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- machine
print_machine "warmup $WARMUP, measured $DURATION, $CLIENTS clients, half-load rate $HALF_RATE/s, light rate $LIGHT_RATE/s"

# ---------------------------------------------------------------- broker
mkdir -p "$WORK/data"
start_broker BROKER_PID BOOTSTRAP

start_customers() { # durable(true|false): its own data dir per durability
  local durable=$1 flag
  if [ "$durable" = true ]; then flag=--durable; else flag=--no-durable; fi
  "$BIN/cowork-customers" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
    --data-dir "$WORK/data/customers-durable-$durable" --kafka-brokers "$BOOTSTRAP" --dev \
    "$flag" --no-log-requests >"$OUT/customers-durable-$durable.log" 2>&1 &
  SERVICE_PID=$!
  TARGET=$(wait_for_line "$OUT/customers-durable-$durable.log" \
    'customers listening on ([0-9.]+:[0-9]+)' "$SERVICE_PID")
  echo "customers pid $SERVICE_PID at $TARGET, durable=$durable"
}

run_load() { # name durable mode rate
  local name=$1 durable=$2 mode=$3 rate=$4
  echo "=== $name: durable=$durable mode=$mode clients=$CLIENTS rate=$rate"
  local t0 t1
  t0=$(cpu_ticks "$SERVICE_PID")
  local vm=""
  if command -v vmstat >/dev/null 2>&1; then  # the CPU picture during the run; exits by itself
    vmstat -w 5 "$VMSTAT_COUNT" >"$OUT/$name.vmstat.txt" & vm=$!
  fi
  "$BIN/cowork-loadgen" --target "$TARGET" --dev --clients "$CLIENTS" --mode "$mode" \
    --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" --kafka-brokers "$BOOTSTRAP" \
    --label "$name:durable=$durable" | tee "$OUT/$name.txt"
  t1=$(cpu_ticks "$SERVICE_PID")
  if [ -n "$vm" ]; then wait "$vm" 2>/dev/null || true; fi
  # Service CPU over warmup + measurement + the pool set-up and event drain of this run.
  echo "service cpu: $(( (t1 - t0) / $(getconf CLK_TCK) )) s during the run" | tee -a "$OUT/$name.txt"
}

seconds_of() { # "20s" / "1m" / "1500ms" -> whole seconds (at least 1)
  local d=$1
  case "$d" in
    *ms) echo $(( ${d%ms} / 1000 > 0 ? ${d%ms} / 1000 : 1 )) ;;
    *s) echo "${d%s}" ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *) echo "$d" ;;
  esac
}
# vmstat samples every 5 s over warmup + measurement.
VMSTAT_COUNT=$(( ( $(seconds_of "$WARMUP") + $(seconds_of "$DURATION") ) / 5 ))
[ "$VMSTAT_COUNT" -ge 1 ] || VMSTAT_COUNT=1

rate_of() { # results file -> commands/s (integer)
  sed -nE 's/^RESULT .* cmd_per_s=([0-9.]+) .*/\1/p' "$1" | awk '{printf "%d", $1}'
}

# ---------------------------------------------------------------- runs
start_customers true
run_load 1_durable_add true add 0
run_load 2_durable_mixed true mixed 0
DURABLE_RATE=$(rate_of "$OUT/1_durable_add.txt")
run_load 6_durable_half true add $(( DURABLE_RATE / 2 ))
run_load 7_durable_light true add "$LIGHT_RATE"
stop_pid "$SERVICE_PID"; SERVICE_PID=""

start_customers false
run_load 3_nondurable_add false add 0
run_load 4_nondurable_mixed false mixed 0
run_load 5_nondurable_half false add "$HALF_RATE"
run_load 8_nondurable_get false get 0
run_load 9_nondurable_clock false clock 0
stop_pid "$SERVICE_PID"; SERVICE_PID=""

echo "=== 0_grpc_floor: empty calls, clients=$CLIENTS"
"$BIN/cowork-grpc-floor" --clients "$CLIENTS" --duration "$DURATION" --warmup "$WARMUP" \
  | tee "$OUT/0_grpc_floor.txt"

# ---------------------------------------------------------------- summary
print_summary
