# Shared by the benchmark scripts (sourced): stopping what they started, waiting for a log
# line, CPU time of a process, and the machine summary. Needs BIN, WORK and OUT set.

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
