#!/usr/bin/env bash
# Instructions per request in one worker, counted by callgrind: a figure that the machine's load does not
# move, for before/after comparisons of a change on the request path (quote it in the commit message).
#
#   deploy/bench/callgrind.sh [path/to/perch]     (default: builds and uses .build/release/perch)
#
# Starts a private MariaDB in a temporary folder, migrates, signs up a user, logs in and writes a post, then
# for each scenario (health, read = GET /api/v1/posts/{id}, me = GET /api/v1/users/me) runs a one-worker pool
# under callgrind twice, serving FEW and then MANY requests through cgi-fcgi, and prints
# (instructions of the second worker - those of the first) / (MANY - FEW): start-up and exit cancel out.
# Environment: CALLGRIND_FEW (20), CALLGRIND_MANY (220).
set -euo pipefail
cd "$(dirname "$0")/../.."
FEW="${CALLGRIND_FEW:-20}"
MANY="${CALLGRIND_MANY:-220}"
source deploy/bench/one-worker-pool.sh callgrind.sh "${1:-}" valgrind

worker_instructions() {  # count uri [authorization]: instructions of the worker that served `count` requests
    rm -f "$TMP"/callgrind.out.*
    start_pool valgrind --tool=callgrind --callgrind-out-file="$TMP/callgrind.out.%p" --trace-children=no
    for _ in $(seq "$1"); do fcgi GET "$2" "${3:-}" </dev/null >/dev/null; done
    stop_pool
    # The master's file is the one named for the pool's pid; the worker's is the other (the readiness probe's
    # request is in both runs, so it cancels out).
    local f
    for f in "$TMP"/callgrind.out.*; do
        [[ "$f" == *".$POOL_PID" ]] && continue
        sed -n 's/^totals: \([0-9]*\).*/\1/p;s/^summary: \([0-9]*\).*/\1/p' "$f" | head -1
    done
}

printf '%-8s %14s\n' scenario instructions/request
for scenario in "health /api/v1/health" "read /api/v1/posts/$POST_ID" "me /api/v1/users/me Bearer $TOKEN"; do
    read -r name uri auth <<<"$scenario"
    few="$(worker_instructions "$FEW" "$uri" "$auth")"
    many="$(worker_instructions "$MANY" "$uri" "$auth")"
    printf '%-8s %14d\n' "$name" $(( (many - few) / (MANY - FEW) ))
done
