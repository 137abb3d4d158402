# Sourced by callgrind.sh and pool-costs.sh: a private MariaDB in a temporary folder, perch's settings for one
# worker on a unix socket, `fcgi` (one request as nginx's site sends it), `start_pool` and `stop_pool`, and the
# data the scenarios read: a user, their TOKEN, a published post (POST_ID).
#
#   source deploy/bench/one-worker-pool.sh NAME PERCH [more tools needed]
#
# NAME names the caller in messages and the temporary folder; an empty PERCH builds .build/release/perch.
# The caller's working directory is the repository root.
NAME="$1" PERCH="$2"
shift 2
for tool in "$@" cgi-fcgi mariadbd; do
    command -v "$tool" >/dev/null || { echo "$NAME: needs $tool (apt-get install valgrind libfcgi-bin mariadb-server)" >&2; exit 1; }
done
if [[ -z "$PERCH" ]]; then
    PATH="/opt/swift/usr/bin:$PATH" swift build -c release --product perch >&2
    PERCH="$PWD/.build/release/perch"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/perch-${NAME%.sh}.XXXXXX")"
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
start_pool() {  # [a command to run perch under, e.g. valgrind]: the pool (settings from the environment), returning once a worker answers
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
[[ -n "$TOKEN" && -n "$POST_ID" ]] || { echo "$NAME: could not set up the user, token or post" >&2; exit 1; }
