#!/usr/bin/env bash
# Benchmark of the checkins service, end to end over gRPC on loopback, with events watched on
# the broker. Starts its own cowork-devbroker, cowork-customers and cowork-checkins on free
# loopback ports (data in a temp dir), runs cowork-loadgen, stops exactly what it started (by
# pid) and prints a summary.
#
#   1. The morning rush: RUSH_POOL customers arriving at LOCATIONS locations, CheckIn by
#      access card (--mode checkin): CLIENTS clients, closed loop. A customer's second
#      check-in moves them to the next location (a check-out and a check-in).
#   2. Who is in now with PRESENT_POOL people in one location: ListPresent (the count and a
#      page of 50) (--mode present): PRESENT_CLIENTS clients, closed loop.
# Both services run with --durable and --no-log-requests.
#
# Usage: tools/bench/checkins.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, DURATION (20s), WARMUP (3s), CLIENTS (64), RUSH_POOL (60000), LOCATIONS (4),
#            PRESENT_POOL (10000), PRESENT_CLIENTS (8), OUT (results folder, default a new
#            temp dir), KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-64}
RUSH_POOL=${RUSH_POOL:-60000}
LOCATIONS=${LOCATIONS:-4}
PRESENT_POOL=${PRESENT_POOL:-10000}
PRESENT_CLIENTS=${PRESENT_CLIENTS:-8}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"

require_binaries cowork-devbroker cowork-customers cowork-checkins cowork-loadgen

BROKER_PID=""
CUSTOMERS_PID=""
CHECKINS_PID=""
cleanup() {
  stop_pid "$CHECKINS_PID"
  stop_pid "$CUSTOMERS_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT

print_machine "warmup $WARMUP, measured $DURATION, rush: $CLIENTS clients, $RUSH_POOL customers, $LOCATIONS locations; present: $PRESENT_POOL in, $PRESENT_CLIENTS clients"

mkdir -p "$WORK/data"
start_broker BROKER_PID BOOTSTRAP
start_service customers CUSTOMERS_PID CUSTOMERS "$BOOTSTRAP" --durable
start_service checkins CHECKINS_PID CHECKINS "$BOOTSTRAP" --durable

run_load() { # name clients mode pool [loadgen flags...]
  local name=$1 clients=$2 mode=$3 pool=$4
  shift 4
  echo "=== $name: durable=true mode=$mode clients=$clients pool=$pool $*"
  local t0 t1
  t0=$(cpu_ticks "$CHECKINS_PID")
  "$BIN/cowork-loadgen" --target "$CUSTOMERS" --checkins-target "$CHECKINS" --dev \
    --clients "$clients" --mode "$mode" --update-pool "$pool" --duration "$DURATION" \
    --warmup "$WARMUP" --kafka-brokers "$BOOTSTRAP" --label "$name:durable=true" "$@" \
    | tee "$OUT/$name.txt"
  t1=$(cpu_ticks "$CHECKINS_PID")
  echo "checkins cpu: $(( (t1 - t0) / $(getconf CLK_TCK) )) s during the run" \
    | tee -a "$OUT/$name.txt"
}

run_load 1_durable_rush "$CLIENTS" checkin "$RUSH_POOL" --locations "$LOCATIONS"
run_load 2_present "$PRESENT_CLIENTS" present "$PRESENT_POOL" --locations 1

print_summary
