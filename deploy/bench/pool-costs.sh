#!/usr/bin/env bash
# What the pool's size costs: the memory each extra worker adds (PSS, from /proc/<pid>/smaps_rollup, of a
# static pool of 1 and of 5 workers after each has served reads of a post with its own database connection),
# and in ondemand mode the time from zero workers to the first answer, beside the next (warm) request's.
#
#   deploy/bench/pool-costs.sh [path/to/perch]     (default: builds and uses .build/release/perch)
#
# The times include starting cgi-fcgi for each request (both columns alike); quote medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/bench/one-worker-pool.sh pool-costs.sh "${1:-}"


pss_kb() {  # pids...: summed Pss in kB
    local total=0 pid
    for pid in "$@"; do total=$((total + $(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup"))); done
    echo "$total"
}
declare -A total
for workers in 1 5; do
    PERCH_WORKERS=$workers start_pool
    for _ in $(seq 20); do  # rounds of as many requests at once as there are workers, so that each serves some
        requests=()
        for _ in $(seq "$workers"); do
            fcgi GET "/api/v1/posts/$POST_ID" </dev/null >/dev/null &
            requests+=($!)
        done
        wait "${requests[@]}"
    done
    children=($(pgrep -P "$POOL_PID"))
    total[$workers]=$(( $(pss_kb "$POOL_PID") + $(pss_kb "${children[@]}") ))
    echo "static pool of $workers: master and workers ${total[$workers]} kB PSS (${#children[@]} workers)"
    stop_pool
done
echo "each extra worker: $(( (total[5] - total[1]) / 4 )) kB PSS"

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
PERCH_POOL_MODE=ondemand PERCH_WORKERS=4 PERCH_IDLE_TIMEOUT=0.2 start_pool
cold=() warm=()
for _ in $(seq 21); do
    for _ in $(seq 50); do [[ -z "$(pgrep -P "$POOL_PID")" ]] && break; sleep 0.1; done
    a=$(date +%s%N); fcgi GET /api/v1/health </dev/null >/dev/null
    b=$(date +%s%N); fcgi GET /api/v1/health </dev/null >/dev/null
    c=$(date +%s%N)
    cold+=($(( (b - a) / 1000 ))) warm+=($(( (c - b) / 1000 )))
done
stop_pool
echo "ondemand, zero workers to the first answer: median $(printf '%s\n' "${cold[@]}" | median) us; the next request: median $(printf '%s\n' "${warm[@]}" | median) us (21 runs)"
