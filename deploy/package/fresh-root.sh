#!/usr/bin/env bash
# A fresh Debian 12 root for the package test: deploy/package/fresh-root.sh <empty folder>
# debootstrap (minbase) runs once into .build/package/bookworm-base (a few minutes; a `.complete` stamp marks
# a finished one); every later call copies that base, which takes seconds. Delete the folder to start afresh.
set -euo pipefail
[[ $# == 1 ]] || { echo "usage: $0 <folder>" >&2; exit 2; }
target="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base="$root/.build/package/bookworm-base"
mirror="${PERCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [[ ! -e "$base/.complete" ]]; then
    rm -rf "$base" && mkdir -p "$base"
    timeout 900 debootstrap --variant=minbase bookworm "$base" "$mirror" > "$base.log" 2>&1 \
        || { tail -20 "$base.log" >&2; echo "fresh-root.sh: debootstrap failed (log: $base.log)" >&2; exit 1; }
    touch "$base/.complete"
fi
mkdir -p "$target"
cp -a "$base/." "$target/"
rm -f "$target/.complete"
cp /etc/resolv.conf "$target/etc/resolv.conf"
# As an installed Debian 12 has them: the point-release updates and security, so the libraries the package was
# built against (at least those versions) can be had.
mirror_host="${mirror%/debian}"
cat > "$target/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $mirror_host/debian-security bookworm-security main
SOURCES
