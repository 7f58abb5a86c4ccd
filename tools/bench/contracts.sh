#!/usr/bin/env bash
# Benchmark of the contracts service, end to end over gRPC on loopback, with events watched
# on the broker. Starts its own cowork-devbroker, cowork-customers and cowork-contracts on free
# loopback ports (data in a temp dir), runs cowork-loadgen, stops exactly what it started (by
# pid) and prints a summary. Modelled on tools/bench/customers.sh.
#
# Runs (each: WARMUP unmeasured, then DURATION measured; events watched on
# cowork.contracts.events). Before each, cowork-loadgen makes an operator, a location and
# POOL customers through the customers service, the plan or product through the contracts
# service, and one call per customer so the contracts service knows them all:
#   1. durable=true   CreateContract (monthly plan, 50.00)   CLIENTS clients, closed loop
#   2. durable=true   Buy (one-off product, 15.00)           CLIENTS clients, closed loop
# Customers are taken round robin. Both services run with --durable and --no-log-requests.
#
# Usage: tools/bench/contracts.sh            (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, DURATION (20s), WARMUP (3s), CLIENTS (64), POOL (1000 customers), OUT
#            (results folder, default a new temp dir), KEEP_DATA=1 (keep the services' data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CLIENTS=${CLIENTS:-64}
POOL=${POOL:-1000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"

require_binaries cowork-devbroker cowork-customers cowork-contracts cowork-loadgen

BROKER_PID=""
CUSTOMERS_PID=""
CONTRACTS_PID=""
cleanup() {
  stop_pid "$CONTRACTS_PID"
  stop_pid "$CUSTOMERS_PID"
  stop_pid "$BROKER_PID"
  if [ "${KEEP_DATA:-0}" != 1 ]; then rm -rf "$WORK/data"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- machine
print_machine "warmup $WARMUP, measured $DURATION, $CLIENTS clients, pool of $POOL customers"

# ---------------------------------------------------------------- broker and services
mkdir -p "$WORK/data"
start_broker BROKER_PID BOOTSTRAP

start_service customers CUSTOMERS_PID CUSTOMERS "$BOOTSTRAP" --durable
start_service contracts CONTRACTS_PID CONTRACTS "$BOOTSTRAP" --durable

run_load() { # name mode
  local name=$1 mode=$2
  echo "=== $name: durable=true mode=$mode clients=$CLIENTS"
  local t0 t1
  t0=$(cpu_ticks "$CONTRACTS_PID")
  "$BIN/cowork-loadgen" --target "$CUSTOMERS" --contracts-target "$CONTRACTS" --dev \
    --clients "$CLIENTS" --mode "$mode" --update-pool "$POOL" --duration "$DURATION" \
    --warmup "$WARMUP" --kafka-brokers "$BOOTSTRAP" --label "$name:durable=true" \
    | tee "$OUT/$name.txt"
  t1=$(cpu_ticks "$CONTRACTS_PID")
  # Contracts service CPU over the set-up sweep, warmup, measurement and event drain.
  echo "contracts cpu: $(( (t1 - t0) / $(getconf CLK_TCK) )) s during the run" \
    | tee -a "$OUT/$name.txt"
}

# ---------------------------------------------------------------- runs
run_load 1_durable_contract contract
run_load 2_durable_purchase purchase

# ---------------------------------------------------------------- summary
print_summary
