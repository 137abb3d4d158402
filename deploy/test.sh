#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12, builds, and runs every test
# (unit, MariaDB, in-process app, and end to end through real nginx), then the whole suite again under
# AddressSanitizer and the in-process suites under ThreadSanitizer.
#   deploy/test.sh [swift test args]   all three stages (CI); PERCH_SKIP_SANITIZERS=1 runs only the first
#   deploy/test.sh --coverage [args]   the suite once with line coverage, including the spawned perch
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    pkg-config libfcgi-dev libfcgi-bin libmariadb-dev libsodium-dev   # the three C libraries
    libcurl4-openssl-dev                                                 # SMTP for the mail sender
    mariadb-server mariadb-client                                        # private MariaDB for tests
    galera-4 rsync                                                       # the three-node Galera cluster tests (rsync state transfers)
    nginx-light spawn-fcgi apache2-utils curl wrk                        # end-to-end: nginx, spawn-fcgi, ab, curl
    apache2 libapache2-mod-fcgid lighttpd systemd                        # deploy tests: shared hosting, unit checks
    python3 python3-pip python3-venv                                     # openapi-spec-validator, schemathesis
    chromium                                                             # /docs and /redoc rendered offline
    prometheus                                                           # promtool, the metrics' second parser (19 MB, ~20 s)
    debootstrap lintian binutils                                         # the Debian package: a fresh root, its lint, strip
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
for s in nginx mariadb apache2 lighttpd prometheus; do service "$s" stop >/dev/null 2>&1 || true; done

# Python tools for the OpenAPI checks, API fuzzing, the OpenMetrics parser and the SMTP server of the mail tests
# (aiosmtpd), in a private venv (no system pip changes).
venv=.build/venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
# Pinned: a new schemathesis release can add checks or change its output, and CI should not change with it.
"$venv/bin/pip" install -q openapi-spec-validator==0.9.0 schemathesis==4.32.5 prometheus-client==0.26.0 aiosmtpd==1.4.6
export PATH="$PWD/$venv/bin:$PATH"
# The toolchain first: Debian's llvm-14 tools cannot read this compiler's profiles.
export PATH="/opt/swift/usr/bin:$PATH"

# Formatting is part of the test: the tree must be as `swift format` (the toolchain's formatter) leaves it with
# the checked-in .swift-format. Fix with: swift format format -i -r --configuration .swift-format Sources Tests Package.swift
swift format lint --strict -r --configuration .swift-format Sources Tests Package.swift

# Everything the tests (and SwiftPM) put in the temp dir goes into one folder, removed at the end. 1777 as
# /tmp: Apache's and lighttpd's tests run perch as www-data inside it.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/perch-tests.XXXXXX")" && chmod 1777 "$TMPDIR" && export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# The tests remove their folders when their process exits; anything left is a fixture that does not.
fail_on_leftovers() {
    local left
    left="$(find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'perch-*')"
    if [ -n "$left" ]; then echo "test.sh: the tests left these behind in $TMPDIR:" >&2; echo "$left" >&2; exit 1; fi
}

# Settings compiled into every binary of a build (perch, the tests) as a small C object: the tests start perch
# with a clean environment (only PERCH_*), and Apache or lighttpd spawn copies of it with their own, so an
# exported variable would not reach every process. Prints the linker flags for swift build/test; the object's
# name carries a hash of its text because SwiftPM relinks when flags change, not when an object does.
linked_default() {  # linked_default <folder> <C definition>
    local object
    object="$1/defaults-$(echo "$2" | sha1sum | cut -c1-12).o"
    mkdir -p "$1"
    [ -f "$object" ] || echo "$2" | clang -c -x c - -o "$object"
    echo "-Xlinker $object"
}

# deploy/test.sh --coverage: the suite once with line coverage of Sources/, counting the perch processes the
# tests spawn as well as the test process. %c (continuous mode, which needs runtime counter relocation on
# Linux) keeps the counters in the mapped profile file, so workers that are killed, _exit or re-exec still
# count; forked workers share their master's file. Writes .build-coverage/coverage.txt (per file and module).
if [ "${1:-}" = "--coverage" ]; then
    shift
    scratch=.build-coverage
    profiles="$PWD/$scratch/profiles"
    rm -rf "$profiles" && mkdir -p "$scratch" && mkdir -m 1777 "$profiles"  # 1777: Apache runs perch as www-data
    flags=(-Xswiftc -profile-generate -Xswiftc -profile-coverage-mapping -Xswiftc -Xllvm -Xswiftc -runtime-counter-relocation
        $(linked_default "$PWD/$scratch" "char __llvm_profile_filename[] = \"$profiles/%c%p-%m.profraw\";"))
    swift build --build-tests --scratch-path "$scratch" "${flags[@]}"
    status=0
    PERCH_BIN="$PWD/$scratch/debug/perch" swift test --skip-build --scratch-path "$scratch" "${flags[@]}" "$@" || status=$?
    llvm-profdata merge -sparse "$profiles"/*.profraw -o "$scratch/coverage.profdata"
    llvm-cov export -summary-only "$scratch/debug/perchPackageTests.xctest" -object "$scratch/debug/perch" \
        -instr-profile "$scratch/coverage.profdata" -ignore-filename-regex='(\.build[^/]*|Tests)/' \
        | python3 deploy/coverage-by-module.py | tee "$scratch/coverage.txt"
    exit "$status"
fi

# Fails the run when a sanitizer wrote any report into <folder> (from the tests or any process they started).
fail_on_reports() {  # fail_on_reports <folder> <sanitizer name>
    if compgen -G "$1/*" >/dev/null; then
        echo "test.sh: $2 reports:" >&2
        cat "$1"/* >&2
        exit 1
    fi
}

# Stage 1: the normal run.
swift build
export PERCH_BIN="$PWD/.build/debug/perch"
# The Debian package (release build, man pages, completions), linted (every tag lintian reports is explained in
# the README's Install section; an error fails the run); PackageInstallTests installs it on a fresh Debian 12
# root. PERCH_SKIP_PACKAGE=1 skips the release build and the package for a quick local run; CI builds it.
if [ "${PERCH_SKIP_PACKAGE:-}" != "1" ]; then
    PERCH_DEB="$(bash deploy/package/build-deb.sh)" && export PERCH_DEB
    lintian --fail-on error "$PERCH_DEB"
fi
# The three-node Galera cluster tests run after the rest, on their own, so that no other suite competes for
# the cores with the cluster's short failure detection: about 40 s (the cluster's start, 15-20 s, included).
# PERCH_GALERA_TESTS=0 skips them; they run only here, not in the sanitizer stages nor with test arguments.
galera="${PERCH_GALERA_TESTS:-1}"
export PERCH_GALERA_TESTS=0
swift test "$@"
fail_on_leftovers
if [ "$galera" = "1" ] && [ $# -eq 0 ]; then
    PERCH_GALERA_TESTS=1 swift test --skip-build --filter GaleraTests
    fail_on_leftovers
fi
unset PERCH_DEB  # the sanitizer stages test their own builds, not the package

# Stage 2: the same suite under AddressSanitizer, with the perch processes it spawns sanitized too.
# Reports go to files (a worker's stderr is a log nobody reads), and any report fails the run.
# PERCH_SKIP_SANITIZERS=1 skips stages 2 and 3 for a quick local run; CI runs them.
if [ "${PERCH_SKIP_SANITIZERS:-}" = "1" ]; then exit 0; fi
scratch=.build-asan
reports="$PWD/$scratch/asan-reports"
rm -rf "$reports" && mkdir -p "$scratch" && mkdir -m 1777 "$reports"
# ASan's options are compiled in (see linked_default). Leak checks run in every process that exits normally
# (the tests, a stopped master and its workers, the CLI commands); killed workers and _exit paths are not checked.
# The smaller quarantine keeps a worker's memory within what the tests allow (64 MB).
# Leaks suppressed, none ours: XCTest's runner keeps its suite objects until exit (every test process);
# Foundation's String(contentsOfFile:) loses its 4 kB buffer on /proc files (the tests' ChildProcess.children);
# libfcgi keeps 48 bytes of a request in the odd worker that exits holding one (once, not per request).
asan="detect_leaks=1:print_suppressions=0:quarantine_size_mb=4:log_path=$reports/asan"
lsan="leak:libXCTest.so\\nleak:readBytesFromFile\\nleak:libfcgi.so\\n"
flags=(--sanitize=address $(linked_default "$PWD/$scratch" "const char *__asan_default_options(void) { return \"$asan\"; }
const char *__lsan_default_suppressions(void) { return \"$lsan\"; }"))
swift build --build-tests --scratch-path "$scratch" "${flags[@]}"
status=0
PERCH_BIN="$PWD/$scratch/debug/perch" swift test --skip-build --scratch-path "$scratch" "${flags[@]}" "$@" || status=$?
fail_on_reports "$reports" AddressSanitizer
[ "$status" = 0 ] || exit "$status"

# Stage 3: the in-process suites under ThreadSanitizer. Only they share memory between threads (the test
# clients, the in-process app, MariaDB connections used from several tests); each perch process is
# single-threaded, so the suites that drive spawned processes would only check the test harness.
scratch=.build-tsan
reports="$PWD/$scratch/tsan-reports"
rm -rf "$reports" && mkdir -p "$reports"
swift build --build-tests --scratch-path "$scratch" --sanitize=thread
status=0
TSAN_OPTIONS="log_path=$reports/tsan" swift test --skip-build --scratch-path "$scratch" --sanitize=thread \
    --filter 'WebTests|MariaDBTests|SodiumTests|AppTests' || status=$?
fail_on_reports "$reports" ThreadSanitizer
exit "$status"
