#!/usr/bin/env bash
# The benchmark harness (issue 8): deploy/bench/run.sh [--full] [--no-build] [--keep]
#
# Builds perch (release, Swift runtime linked in) and the C ceilings, starts a private nginx (the shipped site file) on a loopback
# port and, when this build has the API (`perch migrate` exists and sign-up answers 201), a private MariaDB
# with 1,000 users and 10,000 posts seeded through the API. Then wrk runs every scenario through nginx
# (a warm-up, then a measured run), each worker's resident memory is read from /proc, and a leak run
# compares each worker's RSS before and after many requests of the read scenario. Prints one table and
# writes it, with the memory figures, to deploy/bench/results/latest.md (results/README.md explains it).
#
#   --full      longer runs: 30 s measured per scenario (default 8 s), 1,000,000 leak requests (default 200,000),
#               3 alternating rounds of perch and the C ceiling for health (default 2; the best of each is kept)
#   --no-build  use the existing .build/release/perch
#   --keep      keep the temporary folder (logs, configs, seeded ids and tokens) and print its path
# Environment: BENCH_DURATION, BENCH_WARMUP (seconds), BENCH_ROUNDS, BENCH_LEAK_REQUESTS (0: no leak run) override
# these; BENCH_PERCH names another perch binary to measure (nothing is built then); PERCH_*
# variables pass through to perch (PERCH_WORKERS defaults to 4 per core, as in perch itself).
#
# Everything it starts binds to loopback or a unix socket under its own temporary folder, every step is
# bounded in time, and everything is stopped on exit, Ctrl-C or TERM.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/deploy/bench"
say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

full=""; build=1; keep=""
for arg in "$@"; do
    case "$arg" in
        --full) full=1 ;;
        --no-build) build="" ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument \"$arg\" (see --help)" ;;
    esac
done
DURATION="${BENCH_DURATION:-$([[ -n "$full" ]] && echo 30 || echo 8)}"
WARMUP="${BENCH_WARMUP:-$([[ -n "$full" ]] && echo 5 || echo 2)}"
ROUNDS="${BENCH_ROUNDS:-$([[ -n "$full" ]] && echo 3 || echo 2)}"
LEAK_REQUESTS="${BENCH_LEAK_REQUESTS:-$([[ -n "$full" ]] && echo 1000000 || echo 200000)}"
CORES="$(nproc)"
WORKERS="${PERCH_WORKERS:-$((4 * CORES))}"  # perch's own default
for n in "$DURATION" "$WARMUP" "$ROUNDS" "$LEAK_REQUESTS" "$WORKERS"; do [[ "$n" =~ ^[0-9]+$ ]] || die "not a whole number: \"$n\""; done
export BENCH_PASSWORD="bench-password-1"
export BENCH_LUA_DIR="$BENCH/lua"

# --- packages --------------------------------------------------------------------------------------------
packages=(wrk gcc libfcgi-dev libsodium-dev libmariadb-dev pkg-config nginx-light curl python3 procps coreutils)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
    say "installing ${missing[*]}"
    sudo=""
    if (( EUID != 0 )); then command -v sudo >/dev/null || die "run as root (or install sudo) to install: ${missing[*]}"; sudo=sudo; fi
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 $sudo apt-get update -q
    timeout 600 $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    $sudo service nginx stop >/dev/null 2>&1 || true  # Debian starts its own; we run a private one
fi
if ! command -v swift >/dev/null; then
    [[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH" || die "no Swift toolchain on PATH"
fi

# --- a private folder, and stopping everything on the way out ---------------------------------------------
TMP="$(mktemp -d /tmp/perch-bench.XXXXXX)"
chmod 700 "$TMP"
mkdir -p "$TMP/bin" "$TMP/data" "$TMP/nginx"
PERCH_SOCKET="$TMP/perch.sock"
CEILING_SOCKET="$TMP/ceiling.sock"
DB_CEILING_SOCKET="$TMP/db-ceiling.sock"
DB_SOCKET="$TMP/mysqld.sock"
PERCH_PID=""; CEILING_PID=""; DB_CEILING_PID=""; NGINX_PID=""; DB_PID=""

stop_pid() {  # pid signal seconds: signal, wait, then KILL
    local pid="$1" signal="$2" seconds="$3"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid did not stop in ${seconds}s: killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    trap - INT TERM EXIT
    stop_pid "$CEILING_PID" TERM 10
    stop_pid "$DB_CEILING_PID" TERM 10
    stop_pid "$PERCH_PID" TERM 30
    stop_pid "$NGINX_PID" QUIT 10
    stop_pid "$DB_PID" TERM 60
    if [[ -n "$keep" ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'status=$?; cleanup; exit $status' EXIT

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- build -----------------------------------------------------------------------------------------------
PERCH="${BENCH_PERCH:-$ROOT/.build/release/perch}"
if [[ -n "$build" && -z "${BENCH_PERCH:-}" ]]; then
    say "building perch (release)"
    # The Swift runtime and Foundation linked in: a worker maps only what it touches (README, Performance).
    (cd "$ROOT" && timeout 3600 swift build -c release --static-swift-stdlib >"$TMP/build.log" 2>&1) || { tail -30 "$TMP/build.log" >&2; die "swift build failed"; }
fi
[[ -x "$PERCH" ]] || die "no $PERCH (build it, or drop --no-build)"
say "building the C ceilings"
gcc -O2 -Wall -o "$TMP/bin/fcgi_hello" "$BENCH/ceiling/fcgi_hello.c" -lfcgi
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$TMP/bin/argon2_verify" "$BENCH/ceiling/argon2_verify.c" $(pkg-config --cflags --libs libsodium)
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$TMP/bin/db_read" "$BENCH/ceiling/db_read.c" -lfcgi $(pkg-config --cflags --libs libmariadb)

# --- does this build have the API? -----------------------------------------------------------------------
api=""
if "$PERCH" --help 2>&1 | grep -qE '^[[:space:]]+migrate([[:space:]]|$)'; then api=1; fi

# --- private MariaDB and migrations (only with the API) ------------------------------------------------------
if [[ -n "$api" ]]; then
    command -v mariadbd >/dev/null || die "the API needs MariaDB: apt-get install mariadb-server mariadb-client"
    say "starting a private MariaDB"
    db_user=(); (( EUID == 0 )) && db_user=(--user=root)
    timeout 120 mariadb-install-db --no-defaults --datadir="$TMP/data" "${db_user[@]}" --auth-root-authentication-method=socket \
        --auth-root-socket-user="$(id -un)" --skip-test-db >"$TMP/mariadb-install.log" 2>&1 \
        || { tail -20 "$TMP/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    setsid mariadbd --no-defaults --datadir="$TMP/data" --socket="$DB_SOCKET" --skip-networking "${db_user[@]}" \
        --pid-file="$TMP/mariadbd.pid" --log-error="$TMP/mariadb.log" --tmpdir="$TMP" --skip-name-resolve \
        --innodb-buffer-pool-size=128M --max-connections=300 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci </dev/null &
    DB_PID=$!
    for _ in $(seq 300); do
        mariadb-admin --no-defaults --socket="$DB_SOCKET" ping >/dev/null 2>&1 && break
        kill -0 "$DB_PID" 2>/dev/null || { tail -20 "$TMP/mariadb.log" >&2; die "mariadbd exited"; }
        sleep 0.1
    done
    mariadb-admin --no-defaults --socket="$DB_SOCKET" ping >/dev/null 2>&1 || die "mariadbd did not start in 30 s"
    (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$TMP/database-password")
    (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$TMP/jwt-secret")
    timeout 30 mariadb --no-defaults --socket="$DB_SOCKET" <<SQL
CREATE DATABASE perch CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'perch'@'localhost' IDENTIFIED BY '$(cat "$TMP/database-password")';
GRANT ALL PRIVILEGES ON perch.* TO 'perch'@'localhost';
SQL
    export PERCH_DATABASE_URL="mariadb://perch@localhost/perch?socket=$DB_SOCKET"
    export PERCH_DATABASE_PASSWORD_FILE="$TMP/database-password"
    [[ -z "${PERCH_JWT_SIGNING_KEY:-}${PERCH_JWT_SIGNING_KEY_FILE:-}" ]] && export PERCH_JWT_SIGNING_KEY_FILE="$TMP/jwt-secret"
    say "migrating"
    timeout 120 "$PERCH" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "perch migrate failed"; }
fi

# --- the pool --------------------------------------------------------------------------------------------
export PERCH_ENV="${PERCH_ENV:-production}"
(( EUID == 0 )) && export PERCH_ALLOW_ROOT="${PERCH_ALLOW_ROOT:-1}"  # perch refuses root unless told
export PERCH_WORKERS="$WORKERS"
# How long a stop waits for requests in flight (a recycled worker hands its kept connection on and leaves).
export PERCH_GRACEFUL_TIMEOUT="${PERCH_GRACEFUL_TIMEOUT:-20}"
# Every client here is 127.0.0.1 and the seed signs up 1,000 users: budgets far above any run's request count,
# so the rate limits are counted and their headers written (their cost is measured) but nothing gets a 429.
for tier in ANONYMOUS MEMBER MODERATOR ADMIN; do
    var="PERCH_RATE_LIMIT_$tier"
    [[ -n "${!var:-}" ]] || export "$var"="read=10000000,write=10000000,auth=10000000"
done
pool_workers() { ps -o pid= --ppid "$PERCH_PID" 2>/dev/null | tr -d ' ' | sort -n; }
start_pool() {  # extra VAR=value settings for this pool
    rm -f "$PERCH_SOCKET"
    env "$@" PERCH_LISTEN="unix:$PERCH_SOCKET" setsid "$PERCH" serve </dev/null >>"$TMP/perch.log" 2>&1 &
    PERCH_PID=$!
    for _ in $(seq 200); do
        [[ -S "$PERCH_SOCKET" ]] && (( $(pool_workers | wc -l) >= WORKERS )) && return 0
        kill -0 "$PERCH_PID" 2>/dev/null || { tail -20 "$TMP/perch.log" >&2; die "perch exited"; }
        sleep 0.1
    done
    tail -20 "$TMP/perch.log" >&2; die "the pool did not start $WORKERS workers in 20 s"
}
stop_pool() { stop_pid "$PERCH_PID" TERM 30; PERCH_PID=""; }
start_pool

# --- nginx with the shipped site file ----------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
site_template="$(cat "$ROOT/deploy/nginx/perch.conf")"
# The benchmark measures the app, so nginx's per-address login and password limits (every wrk connection and
# the seeding's sign-ups come from 127.0.0.1) are lifted; everything else is the shipped file.
for target in "server unix:/run/perch/perch.sock;" "listen 80;" "fastcgi_keep_conn on;" "limit_req zone=perch_login burst=10 nodelay;" \
              "limit_req zone=perch_passwords burst=5 nodelay;"; do
    [[ "$site_template" == *"$target"* ]] || die "deploy/nginx/perch.conf no longer contains \"$target\": update run.sh"
done
site_template="$(grep -v '^ *ssl_' <<<"$site_template")"  # plain HTTP: the TLS server without TLS, the redirect on a socket
site_template="${site_template//"listen 443 ssl http2;"/"listen 127.0.0.1:$PORT;"}" && site_template="${site_template//"listen 80;"/"listen unix:$TMP/redirect.sock;"}"
site_template="${site_template//"limit_req zone=perch_login burst=10 nodelay;"/"# limit_req lifted for the benchmark"}"
site_template="${site_template//"limit_req zone=perch_passwords burst=5 nodelay;"/"# limit_req lifted for the benchmark"}"
MODE=keep  # the site's mode: keep (fastcgi_keep_conn on, as shipped) or nokeep (a connection per request)
render_site() {  # socket mode
    local site="${site_template//"server unix:/run/perch/perch.sock;"/"server unix:$1;"}"
    [[ "$2" == nokeep ]] && site="${site//"fastcgi_keep_conn on;"/"fastcgi_keep_conn off;"}"
    printf '%s\n' "$site" > "$TMP/nginx/site.conf"
}
render_site "$PERCH_SOCKET" keep
user_line=""; (( EUID == 0 )) && user_line="user root root;"
cat > "$TMP/nginx/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    proxy_temp_path $TMP/nginx/proxy;
    include $TMP/nginx/site.conf;
}
CONF
timeout 10 nginx -q -t -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" || die "nginx -t refused the configuration"
setsid nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g "daemon off;" </dev/null >"$TMP/nginx/stderr.log" 2>&1 &
NGINX_PID=$!
wait_for_health() {  # the app behind nginx answers (the database ceiling answers health with a 404)
    for _ in $(seq 100); do
        [[ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/api/v1/health")" =~ ^(200|404)$ ]] && return 0
        sleep 0.1
    done
    tail -5 "$TMP/nginx/error.log" >&2; die "$BASE/api/v1/health does not answer"
}
wait_for_health
nginx_workers() { ps -o pid= --ppid "$NGINX_PID" | tr -d ' ' | sort; }
swap_upstream() {  # socket [mode]: point nginx's upstream at it (HUP: new workers, old ones finish and go)
    local old; old="$(nginx_workers)"
    MODE="${2:-keep}"
    render_site "$1" "$MODE"
    kill -HUP "$NGINX_PID"
    for _ in $(seq 150); do
        [[ -n "$(nginx_workers)" ]] && [[ -z "$(comm -12 <(echo "$old") <(nginx_workers))" ]] && break
        sleep 0.1
    done
    [[ -z "$(comm -12 <(echo "$old") <(nginx_workers))" ]] || die "nginx did not reload in 15 s"
    wait_for_health
}

rss_line() {  # pid: VmRSS, its anonymous (private heap/stack) part, and PSS (shared pages split between sharers)
    local pss; pss="$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)"
    awk -v pss="$pss" '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} END {printf "VmRSS %s kB (anon %s kB, PSS %s kB)", r, a, pss}' "/proc/$1/status" 2>/dev/null
}

# --- scenarios -------------------------------------------------------------------------------------------
RUNS="$TMP/runs.txt"  # every measured run: key|label|connections|mode|BENCH fields cpu_us=; report.py makes the table
: > "$RUNS"
declare -A rps_of
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
TICK="$(getconf CLK_TCK)"
APP_PID=""    # the process manager under test (perch's master or fcgi_hello's parent)
app_cpu_ticks() {  # user+system CPU of APP_PID, its live children, and the children it has reaped
    local pid total=0
    for pid in "$APP_PID" $(ps -o pid= --ppid "$APP_PID" 2>/dev/null); do
        # Fields after "pid (comm) ": utime, stime, cutime, cstime are the 12th to 15th.
        total=$(( total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}' || echo 0) ))
    done
    echo "$total"
}
# wrk_run label connections script path seconds [VAR=value...]: one wrk run; prints its BENCH line
wrk_run() {
    local label="$1" conns="$2" script="$3" path="$4" seconds="$5"; shift 5
    local threads=$(( conns < CORES ? conns : CORES ))
    local out
    out="$(env "$@" timeout $((seconds + 60)) \
        wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s -s "$BENCH/lua/$script" "$BASE$path" 2>&1)" \
        || { say "$label: wrk failed: $out"; return 1; }
    grep '^BENCH ' <<<"$out" || { say "$label: no result line from wrk: $out"; return 1; }
}
# scenario key label connections script path [VAR=value...]: warm-up, then the measured run, into the table
scenario() {
    local key="$1" label="$2" conns="$3" script="$4" path="$5"; shift 5
    say "$label: ${WARMUP}s warm-up, ${DURATION}s measured, $conns connections"
    wrk_run "$label" "$conns" "$script" "$path" "$WARMUP" "$@" >/dev/null || true
    local line cpu_before cpu
    cpu_before="$(app_cpu_ticks)"
    if ! line="$(wrk_run "$label" "$conns" "$script" "$path" "$DURATION" "$@")"; then
        echo "$key|$label (failed)|$conns|$MODE|" >> "$RUNS"
        return 0
    fi
    cpu="$(awk -v t="$(( $(app_cpu_ticks) - cpu_before ))" -v hz="$TICK" -v n="$(field requests "$line")" \
        'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }')"
    say "  $line (app CPU $cpu µs per request, $MODE)"
    echo "$key|$label|$conns|$MODE|$line cpu_us=$cpu" >> "$RUNS"
    rps_of[$key.$MODE]="$(field rps "$line")"
}
skipped=()

# perch and the C ceiling behind the same nginx, alternating for ROUNDS rounds (the best of each is kept), so
# that load from elsewhere on the machine hits both alike. The idle one's workers sleep in poll meanwhile.
"$TMP/bin/fcgi_hello" "$CEILING_SOCKET" "$WORKERS" >"$TMP/ceiling.log" 2>&1 &
CEILING_PID=$!
for _ in $(seq 100); do [[ -S "$CEILING_SOCKET" ]] && break; sleep 0.1; done
[[ -S "$CEILING_SOCKET" ]] || die "fcgi_hello did not open its socket"
for round in $(seq "$ROUNDS"); do
    say "health round $round of $ROUNDS"
    APP_PID="$PERCH_PID"
    scenario health "GET /api/v1/health (perch)" 64 get.lua /api/v1/health
    swap_upstream "$PERCH_SOCKET" nokeep
    scenario health "GET /api/v1/health (perch)" 64 get.lua /api/v1/health
    swap_upstream "$CEILING_SOCKET" keep
    APP_PID="$CEILING_PID"
    scenario health_ceiling "GET /api/v1/health (C libfcgi ceiling)" 64 get.lua /api/v1/health
    swap_upstream "$PERCH_SOCKET" keep
done
CEILING_RSS=""
for pid in $(ps -o pid= --ppid "$CEILING_PID" | tr -d ' '); do
    CEILING_RSS+="$(rss_line "$pid"); "
done
stop_pid "$CEILING_PID" TERM 10; CEILING_PID=""
APP_PID="$PERCH_PID"

READ_KEY=health; READ_LABEL="GET /api/v1/health"; READ_SCRIPT=get.lua; READ_PATH=/api/v1/health; READ_ENV=()
if [[ -n "$api" ]] && timeout 60 python3 "$BENCH/seed.py" probe "$BASE"; then
    say "seeding 1,000 users and 10,000 posts through the API"
    timeout 1200 python3 "$BENCH/seed.py" seed "$BASE" "$TMP" || die "seeding failed (see $TMP/perch.log)"
    ids=(BENCH_IDS_FILE="$TMP/post_ids.txt")
    "$TMP/bin/db_read" "$DB_CEILING_SOCKET" "$WORKERS" "$DB_SOCKET" perch "$TMP/database-password" perch >"$TMP/db-ceiling.log" 2>&1 &
    DB_CEILING_PID=$!
    for _ in $(seq 100); do [[ -S "$DB_CEILING_SOCKET" ]] && break; sleep 0.1; done
    [[ -S "$DB_CEILING_SOCKET" ]] || { cat "$TMP/db-ceiling.log" >&2; die "db_read did not open its socket"; }
    # Fresh access tokens right before the bearer scenarios (they live 15 minutes by default).
    timeout 300 python3 "$BENCH/seed.py" tokens "$BASE" "$TMP" --count 64 || die "logging in failed"
    tokens=(BENCH_TOKENS_FILE="$TMP/tokens.txt")
    # Each round: the database scenarios through the shipped site (keep-conn) and with fastcgi_keep_conn off,
    # then the C database ceiling, so that load from elsewhere hits all of them alike.
    for round in $(seq "$ROUNDS"); do
        for mode in keep nokeep; do
            say "database round $round of $ROUNDS, $mode"
            swap_upstream "$PERCH_SOCKET" "$mode"
            scenario post_by_id "GET /api/v1/posts/{id} (random)" 64 post_by_id.lua /api/v1/posts/1 "${ids[@]}"
            scenario posts_page "GET /api/v1/posts?limit=20" 64 get.lua "/api/v1/posts?limit=20"
            scenario me "GET /api/v1/users/me (bearer)" 64 me.lua /api/v1/users/me "${tokens[@]}"
            scenario create_post "POST /api/v1/posts (bearer, JSON)" 64 create_post.lua /api/v1/posts "${tokens[@]}"
        done
        swap_upstream "$DB_CEILING_SOCKET" keep
        APP_PID="$DB_CEILING_PID"
        scenario read_ceiling "GET /api/v1/posts/{id} (C database ceiling)" 64 post_by_id.lua /api/v1/posts/1 "${ids[@]}"
        APP_PID="$PERCH_PID"
        swap_upstream "$PERCH_SOCKET" keep
    done
    stop_pid "$DB_CEILING_PID" TERM 10; DB_CEILING_PID=""
    scenario login "POST /api/v1/auth/login (form)" 8 login.lua /api/v1/auth/login BENCH_EMAILS_FILE="$TMP/emails.txt"
    say "Argon2id ceiling: bare crypto_pwhash_str_verify on $WORKERS processes for ${DURATION}s"
    argon="$(timeout $((DURATION + 60)) "$TMP/bin/argon2_verify" "$DURATION" "$WORKERS")" || die "argon2_verify failed"
    say "  $argon"
    echo "argon2|crypto_pwhash_str_verify ($WORKERS processes, ceiling)|-|keep|rps=$(field rate "$argon")" >> "$RUNS"
    READ_KEY=post_by_id; READ_LABEL="GET /api/v1/posts/{id}"; READ_SCRIPT=post_by_id.lua; READ_PATH=/api/v1/posts/1; READ_ENV=("${ids[@]}")
else
    skipped+=("skipped: API not available yet (perch has no \`migrate\` or POST /api/v1/users does not answer 201): posts, users/me, login and the Argon2id ceiling; the leak run uses GET /api/v1/health")
    say "${skipped[-1]}"
fi

# --- worker memory after the run -----------------------------------------------------------------------------
memory=()
for pid in $(pool_workers); do memory+=("worker $pid: $(rss_line "$pid")"); done

# --- overload: one worker, 32 concurrent logins, PERCH_MAX_QUEUE_TIME=200 ---------------------------------------
# Every answer should be a 200 within the limit plus one login's time, or a fast 503 with Retry-After.
overload=()
if [[ -n "$api" ]]; then
    say "overload: 1 worker, 32 concurrent logins for ${DURATION}s, PERCH_MAX_QUEUE_TIME=200"
    stop_pool
    saved_workers="$WORKERS"; WORKERS=1
    log_mark="$(wc -l < "$TMP/perch.log")"
    start_pool PERCH_WORKERS=1 PERCH_MAX_QUEUE_TIME=200
    APP_PID="$PERCH_PID"
    if line="$(timeout $((DURATION + 120)) python3 "$BENCH/overload.py" "$BASE" "$TMP/emails.txt" --clients 32 \
            --seconds "$DURATION" --limit-ms 200 --log "$TMP/perch.log" --log-from "$log_mark")"; then
        overload+=("$line")
    else
        overload+=("overload run failed: $line")
    fi
    say "  ${overload[-1]}"
    stop_pool
    WORKERS="$saved_workers"
    start_pool
fi

# --- leak run: one pool that never recycles, RSS before and after ----------------------------------------------
# wrk runs for a time, not a count: repeat runs (sized from the measured rate) until LEAK_REQUESTS are done.
leak=()
if (( LEAK_REQUESTS > 0 )); then
say "leak run: $LEAK_REQUESTS requests of $READ_LABEL (PERCH_MAX_REQUESTS=0)"
stop_pool
start_pool PERCH_MAX_REQUESTS=0
APP_PID="$PERCH_PID"
wrk_run "leak warm-up" 64 "$READ_SCRIPT" "$READ_PATH" "$WARMUP" "${READ_ENV[@]}" >/dev/null || true
declare -A before
before_pids="$(pool_workers)"
for pid in $before_pids; do before[$pid]="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")"; done
rate="$(printf '%.0f' "${rps_of[$READ_KEY.keep]:-1000}")"; (( rate > 0 )) || rate=1000
done_requests=0; leak_secs=0; leak_non2xx=0; leak_errors=0; leak_p50=0; leak_p99=0
leak_deadline=$(( SECONDS + LEAK_REQUESTS / 200 + 60 ))  # bounded: gives up below 200 req/s
while (( done_requests < LEAK_REQUESTS && SECONDS < leak_deadline )); do
    chunk=$(( (LEAK_REQUESTS - done_requests + rate - 1) / rate ))
    (( chunk < 2 )) && chunk=2; (( chunk > 10 )) && chunk=10
    line="$(wrk_run "leak run" 64 "$READ_SCRIPT" "$READ_PATH" "$chunk" "${READ_ENV[@]}")" || break
    done_requests=$(( done_requests + $(field requests "$line") ))
    leak_secs="$(awk -v a="$leak_secs" -v b="$(field seconds "$line")" 'BEGIN {print a + b}')"
    leak_non2xx=$(( leak_non2xx + $(field non2xx "$line") )); leak_errors=$(( leak_errors + $(field errors "$line") ))
    leak_p50="$(awk -v a="$leak_p50" -v b="$(field p50_ms "$line")" 'BEGIN {print (b > a ? b : a)}')"
    leak_p99="$(awk -v a="$leak_p99" -v b="$(field p99_ms "$line")" 'BEGIN {print (b > a ? b : a)}')"
    rate="$(printf '%.0f' "$(field rps "$line")")"; (( rate > 0 )) || rate=1000
done
say "  $done_requests requests in ${leak_secs}s"
(( done_requests >= LEAK_REQUESTS )) || say "leak run cut short: $done_requests of $LEAK_REQUESTS requests"
echo "leak|leak run: $done_requests × $READ_LABEL (worst run's p50/p99)|64|keep|rps=$(awk -v n="$done_requests" -v s="$leak_secs" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "-" }') p50_ms=$leak_p50 p99_ms=$leak_p99 non2xx=$leak_non2xx errors=$leak_errors" >> "$RUNS"
for pid in $before_pids; do
    if after="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)" && [[ -n "$after" ]]; then
        leak+=("worker $pid: ${before[$pid]} kB before, $after kB after ($(( after - before[$pid] )) kB)")
    else
        leak+=("worker $pid: ${before[$pid]} kB before, gone after (crashed or recycled: see the log)")
    fi
done
fi
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table --------------------------------------------------------------------------------------------
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
[[ -n "$(git -C "$ROOT" status --porcelain -- Sources Package.swift 2>/dev/null)" ]] && commit+=" (Sources modified)"
{
    echo "# perch benchmark"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $CORES cores, $WORKERS workers, PERCH_ENV=$PERCH_ENV," \
         "$([[ -n "$full" ]] && echo full || echo short) run: ${WARMUP}s warm-up + ${DURATION}s measured per scenario, $ROUNDS alternating rounds (medians)," \
         "load average before $LOAD_BEFORE, after $LOAD_AFTER."
    echo
    python3 "$BENCH/report.py" "$RUNS"
    if (( ${#overload[@]} > 0 )); then
        echo
        echo "Overload (1 worker, 32 concurrent logins, PERCH_MAX_QUEUE_TIME=200):"
        for line in "${overload[@]}"; do echo "- $line"; done
    fi
    for line in "${skipped[@]}"; do echo; echo "$line"; done
    echo
    echo "Worker memory after the run (VmRSS; workers recycle after about PERCH_MAX_REQUESTS=${PERCH_MAX_REQUESTS:-100000} requests):"
    for line in "${memory[@]}"; do echo "- $line"; done
    echo "- C ceiling children, for comparison: ${CEILING_RSS%; }"
    echo
    echo "Leak check ($READ_LABEL, PERCH_MAX_REQUESTS=0, after a ${WARMUP}s warm-up):"
    for line in "${leak[@]}"; do echo "- $line"; done
} > "$TMP/latest.md"
mkdir -p "$BENCH/results"
cp "$TMP/latest.md" "$BENCH/results/latest.md"
echo
cat "$TMP/latest.md"
echo
say "written to deploy/bench/results/latest.md"
