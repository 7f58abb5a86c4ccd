# Shared by the benchmark scripts (sourced): stopping what they started, waiting for a log
# line, starting a service, CPU time of a process, the machine summary and the results table.
# Needs BIN, WORK and OUT set.

stop_pid() { # pid: SIGTERM, then wait for it (bounded), then SIGKILL
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

wait_for_line() { # file regex pid -> prints the first capture group
  local file=$1 regex=$2 pid=$3
  for _ in $(seq 1 600); do
    if [ -f "$file" ]; then
      local m
      m=$(sed -nE "s/.*${regex}.*/\\1/p" "$file" | head -1)
      if [ -n "$m" ]; then echo "$m"; return 0; fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: process $pid exited; its log:" >&2; tail -20 "$file" >&2; return 1
    fi
    sleep 0.1
  done
  echo "error: timed out waiting for /$regex/ in $file" >&2; tail -20 "$file" >&2
  return 1
}

cpu_ticks() { # pid -> utime+stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

print_machine() { # runs-description -> the machine and conditions, also in $OUT/machine.txt
  {
    echo "date:    $(date -u +%FT%TZ)"
    echo "kernel:  $(uname -r)"
    echo "cpus:    $(nproc)  ($(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'))"
    echo "mem:     $(free -h | awk '/Mem:/{print $2}')"
    echo "disk:    $(df -h "$WORK" | awk 'NR==2{print $1, $2, "size,", $4, "free"}') (data dir under $WORK)"
    local bt
    bt=$(sed -nE 's/^CMAKE_BUILD_TYPE:[A-Z]+=(.*)/\1/p' "$BIN/../CMakeCache.txt" 2>/dev/null || true)
    echo "build:   ${bt:-RelWithDebInfo (the project default)} in $BIN"
    echo "load:    $(cut -d" " -f1-3 /proc/loadavg) (1/5/15-min load average before the runs; other work on the machine skews results)"
    echo "runs:    $1"
  } | tee "$OUT/machine.txt"
}

start_service() { # name pid-var addr-var bootstrap [flags...]: starts cowork-<name> on free
  # loopback ports with data in $WORK/data/<name>, waits until it listens
  local name=$1 pid_var=$2 addr_var=$3 bootstrap=$4 addr
  shift 4
  "$BIN/cowork-$name" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
    --data-dir "$WORK/data/$name" --kafka-brokers "$bootstrap" --dev --no-log-requests "$@" \
    >>"$OUT/$name.log" 2>&1 &
  printf -v "$pid_var" '%s' "$!"  # set before waiting, so cleanup stops it on failure
  addr=$(wait_for_line "$OUT/$name.log" "$name listening on ([0-9.]+:[0-9]+)" "${!pid_var}")
  printf -v "$addr_var" '%s' "$addr"
  echo "$name pid ${!pid_var} at $addr $*"
}

print_summary() { # the RESULT lines of $OUT/[0-9]_*.txt as one table, also in $OUT/summary.txt
  {
    echo "=== summary (commands/s and latency of answered calls; events = receive - occurred_at)"
    printf '%-22s %10s %8s %8s %8s %8s %10s %8s %8s %6s  %s\n' run cmd/s p50ms p99ms p999ms maxms \
      events/s ev_p50 ev_p99 client errors
    for f in "$OUT"/[0-9]_*.txt; do
      case "$f" in *.vmstat.txt) continue ;; esac
      sed -nE 's/^RESULT //p' "$f" | awk -v name="$(basename "$f" .txt)" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = substr($i, length(kv[1]) + 2) }
        printf "%-22s %10s %8s %8s %8s %8s %10s %8s %8s %6s  %s\n", name, v["cmd_per_s"], v["p50_ms"],
          v["p99_ms"], v["p999_ms"], v["max_ms"], v["events_per_s"], v["ev_p50_ms"], v["ev_p99_ms"],
          v["client_cores"], v["errors"] }'
    done
    echo "results in $OUT"
  } | tee "$OUT/summary.txt"
}

require_binaries() { # exe...: each must be in $BIN
  local exe
  for exe in "$@"; do
    if [ ! -x "$BIN/$exe" ]; then
      echo "error: $BIN/$exe is missing (build it, or set BIN)" >&2
      exit 1
    fi
  done
}

start_broker() { # pid-var addr-var: the dev broker on a free loopback port
  "$BIN/cowork-devbroker" --address-file "$WORK/bootstrap.txt" >"$OUT/devbroker.log" 2>&1 &
  printf -v "$1" '%s' "$!"
  local addr
  addr=$(wait_for_line "$OUT/devbroker.log" 'bootstrap: ([^ ]+)' "${!1}")
  printf -v "$2" '%s' "$addr"
  echo "devbroker pid ${!1} at $addr"
}
