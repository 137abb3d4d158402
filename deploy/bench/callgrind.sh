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
for tool in valgrind cgi-fcgi mariadbd; do
    command -v "$tool" >/dev/null || { echo "callgrind.sh: needs $tool (apt-get install valgrind libfcgi-bin mariadb-server)" >&2; exit 1; }
done
PERCH="${1:-}"
if [[ -z "$PERCH" ]]; then
    PATH="/opt/swift/usr/bin:$PATH" swift build -c release --product perch >&2
    PERCH="$PWD/.build/release/perch"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/perch-callgrind.XXXXXX")"
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
    PERCH_WORKERS=1 PERCH_MAX_REQUESTS=0 PERCH_LISTEN="unix:$TMP/perch.sock" PERCH_LOG_LEVEL=warning \
    PERCH_RATE_LIMIT_ANONYMOUS=read=10000000,write=10000000,auth=10000000  # counted, never refused
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
start_pool() {  # [valgrind args]: the pool, returning once its worker answers
    rm -f "$TMP/perch.sock"
    "$@" "$PERCH" serve >"$TMP/pool.log" 2>&1 &
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
[[ -n "$TOKEN" && -n "$POST_ID" ]] || { echo "callgrind.sh: could not set up the user, token or post" >&2; exit 1; }

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
