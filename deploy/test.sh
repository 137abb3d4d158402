#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12, builds, and runs every test
# (unit, MariaDB, in-process app, and end to end through real nginx). Usage: deploy/test.sh [swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    pkg-config libfcgi-dev libfcgi-bin libmariadb-dev libsodium-dev   # the three C libraries
    mariadb-server mariadb-client                                        # private MariaDB for tests
    nginx-light spawn-fcgi apache2-utils curl wrk                        # end-to-end: nginx, spawn-fcgi, ab, curl
    apache2 libapache2-mod-fcgid lighttpd systemd                        # deploy tests: shared hosting, unit checks
    python3 python3-pip python3-venv                                     # openapi-spec-validator, schemathesis
)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Keep services the packages may have started out of the way: tests start their own private instances.
for s in nginx mariadb apache2 lighttpd; do service "$s" stop >/dev/null 2>&1 || true; done

# Python tools for the OpenAPI checks and API fuzzing, in a private venv (no system pip changes).
venv=.build/venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import openapi_spec_validator, schemathesis" 2>/dev/null; then
    "$venv/bin/pip" install -q openapi-spec-validator schemathesis
fi
export PATH="$PWD/$venv/bin:$PATH"

export PATH="/opt/swift/usr/bin:$PATH"
swift build
export PERCH_BIN="$PWD/.build/debug/perch"

# deploy/test.sh --coverage: the same run with line coverage, then a per-file and total report of Sources/.
if [ "${1:-}" = "--coverage" ]; then
    shift
    swift test --enable-code-coverage "$@"
    bin=$(swift build --show-bin-path)
    llvm-cov report "$bin/perchPackageTests.xctest" -instr-profile "$bin/codecov/default.profdata" \
        -ignore-filename-regex='(\.build|Tests)/' | tee .build/coverage.txt
    exit 0
fi
swift test "$@"
