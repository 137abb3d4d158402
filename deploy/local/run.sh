#!/usr/bin/env bash
# The one-command local run (README): PORT=8080 deploy/local/run.sh
#
# Installs missing Debian packages, builds perch in release mode, and starts a private MariaDB, the pool and
# nginx (the shipped site file, deploy/nginx/perch.conf), all owned by this checkout under .run/$PORT/
# (git ignores .run/). Prints the /docs URL, then waits; Ctrl-C or TERM stops everything in order.
# Each PORT has its own folder, processes and database, so several runs side by side do not meet. The
# database stays in .run/$PORT/mysql between runs; delete that folder to start afresh.
# Mail: `perch mail-sender` delivers the outbox. Without PERCH_SMTP_URL, it delivers to a local SMTP server
# (deploy/local/smtp-to-files.py on aiosmtpd, in a private venv under .run/venv) on 127.0.0.1:SMTP_PORT
# (PORT + 10000 by default), which writes each message to .run/$PORT/mail/ as one .eml file.
#
# Settings (environment): PORT (8080), PERCH_WORKERS, PERCH_LOG_LEVEL and any other PERCH_* variable,
# which are passed on to perch as given.
set -euo pipefail

PORT="${PORT:-8080}"
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || { echo "run.sh: PORT must be a TCP port number, not \"$PORT\"" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.run/$PORT"
say() { echo "run.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- packages -------------------------------------------------------------------------------------------
packages=(pkg-config libfcgi-dev libmariadb-dev libsodium-dev libcurl4-openssl-dev mariadb-server mariadb-client nginx-light curl util-linux
    python3 python3-venv python3-pip)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
    say "installing ${missing[*]}"
    sudo=""
    if (( EUID != 0 )); then command -v sudo >/dev/null || die "run as root (or install sudo) to install: ${missing[*]}"; sudo=sudo; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    # Debian starts the packaged services after installing them; we run our own, so keep theirs stopped.
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    for s in mariadb nginx; do $sudo service "$s" stop >/dev/null 2>&1 || true; done
fi

if ! command -v swift >/dev/null; then
    [[ -x /opt/swift/usr/bin/swift ]] && export PATH="/opt/swift/usr/bin:$PATH" || die "no Swift toolchain: install Swift 6 (swift.org) and put it on PATH"
fi

# --- one run per port ------------------------------------------------------------------------------------
mkdir -p "$RUN"
exec 9>"$RUN/lock"
flock -n 9 || die "another run.sh already serves port $PORT (lock $RUN/lock)"

# (No server below inherits the lock: 9>&- on each, so a killed run.sh leaves it free for the next.)
# Leftovers of a run that was killed without its cleanup (we hold the lock, so they are nobody's now).
for name in perch mail-sender smtp nginx mariadb; do
    pidfile="$RUN/$name.pid"
    # Only a process of this checkout (its command line names it): a reused pid is left alone.
    if [[ -s "$pidfile" ]] && tr '\0' ' ' < "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null | grep -qF "$ROOT/"; then
        say "stopping a leftover $name (pid $(cat "$pidfile"))"
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.3; done
    fi
    rm -f "$pidfile"
done
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die "port $PORT is in use by another program: choose another with PORT=..."; fi

# Unix socket paths are limited to 107 bytes: a deep checkout gets its sockets in a short folder instead.
SOCKETS="$RUN"
if (( ${#RUN} > 80 )); then
    SOCKETS="${XDG_RUNTIME_DIR:-/tmp}/perch-$PORT-$(id -u)"
    mkdir -p "$SOCKETS" && chmod 700 "$SOCKETS"
fi
DB_SOCKET="$SOCKETS/mysqld.sock"
PERCH_SOCKET="$SOCKETS/perch.sock"

# --- stop everything, in order, on Ctrl-C, TERM or any failure -------------------------------------------
pids=()  # perch, nginx, mariadbd as they start
stop_pid() {  # pid signal seconds
    local pid="$1" signal="$2" seconds="$3"
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq $((seconds * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid did not stop in ${seconds}s: killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    trap - INT TERM EXIT
    say "stopping"
    [[ -n "${PERCH_PID:-}" ]] && stop_pid "$PERCH_PID" TERM 40      # graceful: in-flight requests finish
    [[ -n "${MAILER_PID:-}" ]] && stop_pid "$MAILER_PID" TERM 40    # finishes the mail in hand
    [[ -n "${NGINX_PID:-}" ]] && stop_pid "$NGINX_PID" QUIT 15      # graceful nginx stop
    [[ -n "${SMTP_PID:-}" ]] && stop_pid "$SMTP_PID" TERM 10
    [[ -n "${DB_PID:-}" ]] && stop_pid "$DB_PID" TERM 60            # clean InnoDB shutdown
    rm -f "$RUN"/{perch,mail-sender,smtp,nginx,mariadb}.pid
    say "stopped"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'status=$?; cleanup; exit $status' EXIT

# --- build -----------------------------------------------------------------------------------------------
say "building (release)"
(cd "$ROOT" && swift build -c release --static-swift-stdlib)  # smaller workers (README, Performance)
PERCH="$ROOT/.build/release/perch"
[[ -x "$PERCH" ]] || die "the build did not produce $PERCH"

# --- MariaDB ---------------------------------------------------------------------------------------------
DATADIR="$RUN/mysql"
ME="$(id -un)"
db_user=()
(( EUID == 0 )) && db_user=(--user=root)  # mariadbd refuses to run as root unless told to
if [[ ! -d "$DATADIR/mysql" ]]; then
    say "creating a private MariaDB in $DATADIR"
    mkdir -p "$DATADIR"
    mariadb-install-db --no-defaults --datadir="$DATADIR" "${db_user[@]}" --auth-root-authentication-method=socket \
        --auth-root-socket-user="$ME" --skip-test-db > "$RUN/mariadb-install.log" 2>&1 \
        || { cat "$RUN/mariadb-install.log" >&2; rm -rf "$DATADIR"; die "mariadb-install-db failed"; }
fi
setsid mariadbd --no-defaults --datadir="$DATADIR" --socket="$DB_SOCKET" --skip-networking "${db_user[@]}" \
    --pid-file="$RUN/mariadbd.pid" --log-error="$RUN/mariadb.log" --innodb-buffer-pool-size=64M < /dev/null 9>&- &
DB_PID=$!
echo "$DB_PID" > "$RUN/mariadb.pid"
for _ in $(seq 300); do
    mariadb-admin --no-defaults --socket="$DB_SOCKET" -u "$ME" ping >/dev/null 2>&1 && break
    kill -0 "$DB_PID" 2>/dev/null || { tail -20 "$RUN/mariadb.log" >&2; die "mariadbd exited"; }
    sleep 0.1
done
mariadb-admin --no-defaults --socket="$DB_SOCKET" -u "$ME" ping >/dev/null 2>&1 || die "mariadbd did not start in 30 s (see $RUN/mariadb.log)"

# --- dev secrets (only those not given) ------------------------------------------------------------------
SECRETS="$RUN/secrets"
mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
secret() {  # file: 32 random bytes, base64url, made once
    [[ -s "$1" ]] || (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$1")
}
secret "$SECRETS/database-password"
mariadb --no-defaults --socket="$DB_SOCKET" -u "$ME" <<SQL
CREATE DATABASE IF NOT EXISTS perch CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'perch'@'localhost';
ALTER USER 'perch'@'localhost' IDENTIFIED BY '$(cat "$SECRETS/database-password")';
GRANT ALL PRIVILEGES ON perch.* TO 'perch'@'localhost';
SQL

export PERCH_ENV="${PERCH_ENV:-development}"
# perch refuses to serve as root unless told to; this local run is yours, so as root (a container) allow it.
(( EUID == 0 )) && export PERCH_ALLOW_ROOT="${PERCH_ALLOW_ROOT:-1}"
export PERCH_DATABASE_URL="${PERCH_DATABASE_URL:-mariadb://perch@localhost/perch?socket=$DB_SOCKET}"
if [[ -z "${PERCH_DATABASE_PASSWORD:-}" && -z "${PERCH_DATABASE_PASSWORD_FILE:-}" ]]; then
    export PERCH_DATABASE_PASSWORD_FILE="$SECRETS/database-password"
fi
# JWT signing key for development, unless one is configured.
if [[ -z "${PERCH_JWT_SIGNING_KEY:-}" && -z "${PERCH_JWT_SIGNING_KEY_FILE:-}" ]]; then
    secret "$SECRETS/jwt-secret"
    export PERCH_JWT_SIGNING_KEY_FILE="$SECRETS/jwt-secret"
fi
export PERCH_STATUS_PATH="${PERCH_STATUS_PATH:-/status}"
# /docs offline: the pinned Swagger UI and ReDoc files, as the package installs them (cached after the first run).
if [[ -z "${PERCH_DOCS_ASSETS_DIR:-}" && -z "${PERCH_DOCS_ASSETS_URL:-}" ]]; then
    "$ROOT/deploy/docs-assets.sh" "$ROOT/.build/docs-assets" || die "deploy/docs-assets.sh failed"
    export PERCH_DOCS_ASSETS_DIR="$ROOT/.build/docs-assets"
fi

# --- migrations (when this build has the command) --------------------------------------------------------
if "$PERCH" --help 2>&1 | grep -qE '^[[:space:]]+migrate([[:space:]]|$)'; then
    say "migrating"
    "$PERCH" migrate
fi

# --- mail: a local SMTP server unless a relay is configured, and the sender -------------------------------
waits=()  # the servers whose exit ends the run
if [[ -z "${PERCH_SMTP_URL:-}" ]]; then
    SMTP_PORT="${SMTP_PORT:-$(( PORT <= 55535 ? PORT + 10000 : PORT - 10000 ))}"
    if (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null; then die "SMTP_PORT $SMTP_PORT is in use: choose another with SMTP_PORT=..."; fi
    VENV="$ROOT/.run/venv"
    if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
        say "installing aiosmtpd (the local SMTP server) in $VENV"
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q aiosmtpd==1.4.6 || die "cannot install aiosmtpd from PyPI into $VENV"
    fi
    mkdir -p "$RUN/mail"
    setsid "$VENV/bin/python" "$ROOT/deploy/local/smtp-to-files.py" --port "$SMTP_PORT" --dir "$RUN/mail" \
        > "$RUN/smtp.log" 2>&1 < /dev/null 9>&- &
    SMTP_PID=$!
    echo "$SMTP_PID" > "$RUN/smtp.pid"
    waits+=("$SMTP_PID")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break
        kill -0 "$SMTP_PID" 2>/dev/null || { cat "$RUN/smtp.log" >&2; die "the local SMTP server exited"; }
        sleep 0.1
    done
    export PERCH_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" PERCH_SMTP_TLS=none
    MAIL_NOTE="mail: written to $RUN/mail/ (local SMTP server on 127.0.0.1:$SMTP_PORT)"
else
    MAIL_NOTE="mail: sent to $PERCH_SMTP_URL"
fi
export PERCH_PUBLIC_URL="${PERCH_PUBLIC_URL:-http://127.0.0.1:$PORT}"
setsid "$PERCH" mail-sender < /dev/null 9>&- &
MAILER_PID=$!
echo "$MAILER_PID" > "$RUN/mail-sender.pid"
waits+=("$MAILER_PID")

# --- the pool --------------------------------------------------------------------------------------------
rm -f "$PERCH_SOCKET"
PERCH_LISTEN="unix:$PERCH_SOCKET" setsid "$PERCH" serve < /dev/null 9>&- &
PERCH_PID=$!
echo "$PERCH_PID" > "$RUN/perch.pid"
for _ in $(seq 200); do
    [[ -S "$PERCH_SOCKET" ]] && break
    kill -0 "$PERCH_PID" 2>/dev/null || die "perch exited (its messages are above)"
    sleep 0.1
done
[[ -S "$PERCH_SOCKET" ]] || die "perch did not open $PERCH_SOCKET in 20 s"

# --- nginx with the shipped site file --------------------------------------------------------------------
NGINX_DIR="$RUN/nginx"
mkdir -p "$NGINX_DIR"
site="$(cat "$ROOT/deploy/nginx/perch.conf")"
for target in "server unix:/run/perch/perch.sock;" "listen 80;" "listen 443 ssl http2;"; do
    [[ "$site" == *"$target"* ]] || die "deploy/nginx/perch.conf no longer contains \"$target\": update run.sh"
done
site="${site//"server unix:/run/perch/perch.sock;"/"server unix:$PERCH_SOCKET;"}"
# Locally, plain HTTP on loopback: the TLS server without its ssl_ lines, the redirect server on a socket.
site="$(grep -v '^ *ssl_' <<<"$site")"
site="${site//"listen 443 ssl http2;"/"listen 127.0.0.1:$PORT;"}"
site="${site//"listen 80;"/"listen unix:$NGINX_DIR/redirect.sock;"}"
printf '%s\n' "$site" > "$NGINX_DIR/site.conf"
# As root, nginx's workers would otherwise drop to nobody and could not reach a checkout under /root.
user_line=""
(( EUID == 0 )) && user_line="user root root;"
cat > "$NGINX_DIR/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $RUN/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $RUN/nginx-access.log;
    client_body_temp_path $NGINX_DIR/body;
    fastcgi_temp_path $NGINX_DIR/fastcgi;
    proxy_temp_path $NGINX_DIR/proxy;
    include $NGINX_DIR/site.conf;
}
CONF
nginx -q -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" || die "nginx -t refused $NGINX_DIR/nginx.conf"
setsid nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -g "daemon off;" < /dev/null 9>&- &
NGINX_PID=$!
echo "$NGINX_PID" > "$RUN/nginx.pid"

ok=""
for _ in $(seq 100); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/health")" == 200 ]]; then ok=1; break; fi
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited (see $RUN/nginx-error.log)"
    sleep 0.1
done
[[ -n "$ok" ]] || die "http://127.0.0.1:$PORT/api/v1/health does not answer 200 (see $RUN/nginx-error.log)"

say "MariaDB: $DB_SOCKET (database perch), logs and data: $RUN"
say "$MAIL_NOTE"
echo "http://127.0.0.1:$PORT/docs"
say "Ctrl-C stops everything"

# Wait until Ctrl-C/TERM (the traps stop everything) or until one of them dies (then stop the rest).
set +e
wait -n "$PERCH_PID" "$NGINX_PID" "$DB_PID" "${waits[@]}"
say "a server exited on its own: stopping the others"
exit 1
