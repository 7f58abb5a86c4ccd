#!/usr/bin/env bash
# Benchmark of the bookings service, end to end over gRPC on loopback, with events watched on
# the broker. Starts its own cowork-devbroker, cowork-customers and cowork-bookings on free
# loopback ports (data in a temp dir), runs cowork-loadgen, stops exactly what it started (by
# pid) and prints a summary. Each run makes its own rooms at a new location (POOL customers).
#
#   1. CreateBooking spread over ROOMS rooms (capacity 1, charged), never colliding
#      (cowork-loadgen --mode book): CLIENTS clients, closed loop.
#   2. CreateBooking with everyone fighting over HOT_ROOMS rooms x HOT_SLOTS one-hour slots of
#      a day, the next day after every 4 x rooms x slots calls (--mode book-hot): CLIENTS
#      clients, closed loop; three calls in four lose with FAILED_PRECONDITION (the slot is
#      taken), which the errors column counts; cmd/s and latency are of the bookings made.
#   3. GetAvailability of a location with ROOMS rooms and a year of bookings (PREFILL
#      bookings made first, 4 a day per room), for a random day: AVAIL_CLIENTS clients.
# Both services run with --durable and --no-log-requests.
#
# Usage: tools/bench/bookings.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, DURATION (20s), WARMUP (3s), CLIENTS (64), POOL (200 customers), ROOMS
#            (500), HOT_ROOMS (4), HOT_SLOTS (8), PREFILL (ROOMS*365*4), AVAIL_CLIENTS (8),
#            OUT (results folder, default a new temp dir), KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-64}
POOL=${POOL:-200}
ROOMS=${ROOMS:-500}
HOT_ROOMS=${HOT_ROOMS:-4}
HOT_SLOTS=${HOT_SLOTS:-8}
PREFILL=${PREFILL:-$((ROOMS * 365 * 4))}
AVAIL_CLIENTS=${AVAIL_CLIENTS:-8}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"

require_binaries cowork-devbroker cowork-customers cowork-bookings cowork-loadgen

BROKER_PID=""
CUSTOMERS_PID=""
BOOKINGS_PID=""
cleanup() {
  stop_pid "$BOOKINGS_PID"
  stop_pid "$CUSTOMERS_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT

print_machine "warmup $WARMUP, measured $DURATION, $CLIENTS clients, $ROOMS rooms, hot: $HOT_ROOMS rooms x $HOT_SLOTS slots, availability after $PREFILL bookings with $AVAIL_CLIENTS clients"

mkdir -p "$WORK/data"
start_broker BROKER_PID BOOTSTRAP
start_service customers CUSTOMERS_PID CUSTOMERS "$BOOTSTRAP" --durable
start_service bookings BOOKINGS_PID BOOKINGS "$BOOTSTRAP" --durable

run_load() { # name clients mode [loadgen flags...]
  local name=$1 clients=$2 mode=$3
  shift 3
  echo "=== $name: durable=true mode=$mode clients=$clients $*"
  local t0 t1
  t0=$(cpu_ticks "$BOOKINGS_PID")
  "$BIN/cowork-loadgen" --target "$CUSTOMERS" --bookings-target "$BOOKINGS" --dev \
    --clients "$clients" --mode "$mode" --update-pool "$POOL" --duration "$DURATION" \
    --warmup "$WARMUP" --kafka-brokers "$BOOTSTRAP" --label "$name:durable=true" "$@" \
    | tee "$OUT/$name.txt"
  t1=$(cpu_ticks "$BOOKINGS_PID")
  # Bookings service CPU over the set-up, prefill, warmup, measurement and event drain.
  echo "bookings cpu: $(( (t1 - t0) / $(getconf CLK_TCK) )) s during the run" \
    | tee -a "$OUT/$name.txt"
}

run_load 1_durable_book "$CLIENTS" book --resources "$ROOMS"
run_load 2_durable_book_hot "$CLIENTS" book-hot --resources "$HOT_ROOMS" --hot-slots "$HOT_SLOTS"
run_load 3_availability "$AVAIL_CLIENTS" availability --resources "$ROOMS" --prefill "$PREFILL" \
  --bookings-per-day 4

print_summary
