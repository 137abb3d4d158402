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
for tool in cgi-fcgi mariadbd; do
    command -v "$tool" >/dev/null || { echo "pool-costs.sh: needs $tool (apt-get install valgrind libfcgi-bin mariadb-server)" >&2; exit 1; }
done
PERCH="${1:-}"
if [[ -z "$PERCH" ]]; then
    PATH="/opt/swift/usr/bin:$PATH" swift build -c release --product perch >&2
    PERCH="$PWD/.build/release/perch"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/perch-pool-costs.XXXXXX")"
DB_PID=""
cleanup() {
    [[ -n "$DB_PID" ]] && kill "$DB_PID" 2>/dev/null && wait "$DB_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# A private MariaDB on a unix socket, and perch's settings for it.
db_user=(); [[ $EUID -eq 0 ]] && db_user=(--user=root)
mariadb-install-db --no-defaults --datadir="$TMP/data" "${db_user[@]}" --auth-root-authentication-method=socket >"$TMP/install.log" 2>&1
mariadbd --no-defaults --datadir="$TMP/data" --socket="$TMP/db.sock" --skip-networking "${db_user[@]}" \
    --pid-file="$TMP/db.pid" --log-error="$TMP/db.log" --tmpdir="$TMP" &
DB_PID=$!
for _ in $(seq 300); do mariadb-admin --no-defaults --socket="$TMP/db.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
mariadb --no-defaults --socket="$TMP/db.sock" -e "CREATE DATABASE perch; CREATE USER perch@localhost IDENTIFIED BY 'bench'; GRANT ALL ON perch.* TO perch@localhost;"
echo bench >"$TMP/db-password"
"$PERCH" generate-key | sed -n "s/^PERCH_JWT_SIGNING_KEY=//p" >"$TMP/jwt-key"
export PERCH_ENV=production PERCH_DATABASE_URL="mariadb://perch@localhost/perch?socket=$TMP/db.sock" \
    PERCH_DATABASE_PASSWORD_FILE="$TMP/db-password" PERCH_JWT_SIGNING_KEY_FILE="$TMP/jwt-key" PERCH_MIGRATIONS_DIR="$PWD/sql/migrations" \
    PERCH_WORKERS=1 PERCH_MAX_REQUESTS=0 PERCH_LISTEN="unix:$TMP/perch.sock" PERCH_LOG_LEVEL=warning
(( EUID == 0 )) && export PERCH_ALLOW_ROOT=1  # perch refuses root unless told
"$PERCH" migrate >/dev/null

# fcgi METHOD URI [AUTHORIZATION] [CONTENT_TYPE] < body: one request as nginx's site would send it (a clean
# environment: cgi-fcgi passes its whole environment as the request's parameters).
fcgi() {
    local body; body="$(cat)"
    env -i REQUEST_METHOD="$1" REQUEST_URI="$2" SCRIPT_NAME="$2" SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 \
        HTTP_HOST=localhost ${3:+HTTP_AUTHORIZATION="$3"} ${4:+CONTENT_TYPE="$4"} CONTENT_LENGTH="${#body}" \
        cgi-fcgi -bind -connect "$TMP/perch.sock" < <(printf %s "$body") | tr -d '\r'
}
start_pool() {  # the pool (settings from the environment), returning once a worker answers
    rm -f "$TMP/perch.sock"
    "$PERCH" serve >"$TMP/pool.log" 2>&1 &
    POOL_PID=$!
    for _ in $(seq 600); do
        [[ -S "$TMP/perch.sock" ]] && fcgi GET /api/v1/health </dev/null 2>/dev/null | grep -q '"ok"' && return 0
        sleep 0.1
    done
    cat "$TMP/pool.log" >&2; exit 1
}
stop_pool() { kill -TERM "$POOL_PID"; wait "$POOL_PID" || true; }

# The data the scenarios read: a user, their token, a published post.
start_pool
fcgi POST /api/v1/users "" application/json <<<'{"email":"bench@example.com","password":"bench password 1"}' >/dev/null
TOKEN="$(fcgi POST /api/v1/auth/login "" application/x-www-form-urlencoded <<<'username=bench%40example.com&password=bench+password+1' \
    | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
POST_ID="$(fcgi POST /api/v1/posts "Bearer $TOKEN" application/json <<<'{"title":"callgrind","content":"'"$(printf 'x%.0s' $(seq 500))"'","published":true}' \
    | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)"
stop_pool
[[ -n "$TOKEN" && -n "$POST_ID" ]] || { echo "pool-costs.sh: could not set up the user, token or post" >&2; exit 1; }


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
