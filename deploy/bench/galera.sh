#!/usr/bin/env bash
# PERCH_DATABASE_NODE_CHOICE=first against spread on a three-node Galera cluster on loopback (the one the tests
# start: Debian's galera-4 and rsync): wrk through the shipped nginx, 4 workers, 8 connections, new posts and
# edits of 5 hot posts, alternating rounds. Prints one "galera bench:" line per run (req/s, p50/p99, retries,
# certification failures, status codes). The figures behind the default in deploy/README.md.
#   deploy/bench/galera.sh            BENCH_DURATION (8 s per run) and BENCH_ROUNDS (2) override
# Bounded: rounds x 2 choices x 2 workloads x BENCH_DURATION, plus the cluster's start (about 20 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/perch-galera-bench.XXXXXX")" && chmod 1777 "$TMPDIR" && export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
swift build --build-tests >&2
swift build -c release --product perch >&2   # the pools run the release build; the harness is the test build
PERCH_BIN="$PWD/.build/release/perch" PERCH_GALERA_BENCH=1 swift test --skip-build --filter GaleraNodeChoiceBenchmark 2>&1 \
    | grep -E '^galera bench:|✘|error' || true
