#!/usr/bin/env bash
# Benchmark of the password gate and the failed sign-in throttle: 64 concurrent anonymous
# sign-ins with random addresses and passwords for DURATION against the customers service,
# while one registered customer signs in every 500 ms (retrying a refusal after its
# RetryInfo delay). Starts its own cowork-devbroker and cowork-customers (trusting
# x-forwarded-for as the client address), runs cowork-signin-flood, stops exactly what it
# started (by pid). Results are recorded in docs/PERFORMANCE.md.
#
# Runs, each on a fresh service:
#   1. one client: every flood call from the same address (the issue's attacker)
#   2. distributed: a fresh address per flood call (only the gate holds it back)
#   3. no flood: the customer alone (the baseline of a sign-in's latency)
#
# Usage: tools/bench/signin_flood.sh        (binaries from build/bin, or BIN=<dir>)
# Env knobs: BIN, DURATION (30s), CLIENTS (64), OUT (results folder, default a new temp dir).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DURATION=${DURATION:-30s}
CLIENTS=${CLIENTS:-64}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cowork-bench.XXXXXX")
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT" "$WORK/data"

require_binaries cowork-devbroker cowork-customers cowork-signin-flood

BROKER_PID=""
SERVICE_PID=""
cleanup() {
  stop_pid "$SERVICE_PID"
  stop_pid "$BROKER_PID"
  rm -rf "$WORK/data"
}
trap cleanup EXIT

print_machine "$CLIENTS flooding clients for $DURATION per run; the service's defaults (gate: the cores, queue 8)"
start_broker BROKER_PID BOOTSTRAP

run() { # name clients [flags...]
  local name=$1 clients=$2
  shift 2
  rm -rf "$WORK/data/customers"
  start_service customers SERVICE_PID TARGET "$BOOTSTRAP" --client-address-header x-forwarded-for
  echo "=== $name"
  "$BIN/cowork-signin-flood" --target "$TARGET" --dev --service-pid "$SERVICE_PID" \
    --flood-clients "$clients" --duration "$DURATION" "$@" | tee "$OUT/$name.txt"
  stop_pid "$SERVICE_PID"
  SERVICE_PID=""
  # The next run's service logs afresh (start_service reads the first "listening" line).
  mv "$OUT/customers.log" "$OUT/$name.customers.log"
}

run 1_one_client "$CLIENTS"
run 2_distributed "$CLIENTS" --rotate-addresses
run 3_no_flood 0
echo "results in $OUT"
