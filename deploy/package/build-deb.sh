#!/usr/bin/env bash
# Builds the Debian package: deploy/package/build-deb.sh [output folder, default .build/package]
# prints the path of perch_<version>_amd64.deb. What goes where (README, "Install"):
#   /usr/bin/perch                          release build, Swift runtime linked in (--static-swift-stdlib), stripped
#   /lib/systemd/system/                    every unit in deploy/systemd (*.service, *.socket, *.timer), paths set to /usr/bin
#   /usr/lib/sysusers.d/perch.conf          the service's user and group
#   /etc/perch/perch.env, migrate.env       conffiles (root:perch 0640); the JWT signing key is made by postinst
#                                           in /etc/perch/jwt-signing-key on first install, never shipped
#   /usr/share/perch/migrations/            sql/migrations (perch migrate finds them beside the binary)
#   /usr/share/perch/docs-assets/           Swagger UI and ReDoc, pinned (deploy/docs-assets.sh): /docs offline
#   /usr/share/man/man1/perch*.1.gz         swift-argument-parser's generate-manual plugin, one page per command
#   bash, zsh, fish completions             perch --generate-completion-script
#   /usr/share/doc/perch/                   README, changelog, copyright, examples/ (the nginx sites, multi-host)
# The release build is SwiftPM's incremental one in .build (deploy/local/run.sh builds the same), so a rerun
# after no change only repackages. PERCH_RELEASE_BINARY=<path> packages a binary built elsewhere.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/.build/package}"
export PATH="/opt/swift/usr/bin:$PATH"
cd "$root"

version="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/App/Version.swift)"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "build-deb.sh: no version in Sources/App/Version.swift" >&2; exit 1; }
# Dates from the last commit, so the same tree gives the same package (man pages, changelog, file times).
epoch="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH="$epoch"

# Man pages from the command's own definitions: swift-argument-parser's plugin runs perch with
# --experimental-dump-help. In debug (the test command's build, so nothing is rebuilt; the help is the release
# build's), and before the release build: in release the plugin relinks .build/release/perch without
# --static-swift-stdlib.
manual="$root/.build/plugins/GenerateManual/outputs/perch"
rm -rf "$manual"
swift package plugin generate-manual --configuration debug --multi-page \
    --date "$(date -u -d "@$epoch" +%Y-%m-%d)" --authors "the perch authors" >&2

binary="${PERCH_RELEASE_BINARY:-}"
if [[ -z "$binary" ]]; then
    swift build -c release --static-swift-stdlib --product perch >&2
    binary="$root/.build/release/perch"
    # SwiftPM relinks on changed sources, not on a changed flag: a binary linked without --static-swift-stdlib
    # (by the plugin in release, or another build) stays as it is unless it and the build description are removed.
    if ldd "$binary" | grep -q libswiftCore; then
        rm -f "$binary" "$root/.build/release.yaml"
        swift build -c release --static-swift-stdlib --product perch >&2
    fi
fi
# Everything but libc, libstdc++ and the three C libraries is in the binary: a dynamic Swift runtime would be
# a dependency no Debian package provides.
if ldd "$binary" | grep -q 'libswiftCore\|libFoundation'; then echo "build-deb.sh: $binary links the Swift runtime dynamically" >&2; exit 1; fi

stage="$out/root"
rm -rf "$stage" && mkdir -p "$stage/DEBIAN" "$out"
install -D -m 0755 "$binary" "$stage/usr/bin/perch"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/perch"

# Units: every one in deploy/systemd, so a unit added there is packaged without a change here.
units=()
for unit in deploy/systemd/*.service deploy/systemd/*.socket deploy/systemd/*.timer; do
    [[ -e "$unit" ]] || continue
    units+=("$(basename "$unit")")
    install -D -m 0644 "$unit" "$stage/lib/systemd/system/$(basename "$unit")"
    sed -i -e 's|/usr/local/bin/perch|/usr/bin/perch|g' \
        -e 's|^Documentation=file:///usr/local/share/doc/perch/README.md|Documentation=man:perch(1) file:///usr/share/doc/perch/README.md.gz|' \
        -e 's|/usr/local/share/perch/|/usr/share/perch/|g' "$stage/lib/systemd/system/$(basename "$unit")"
done
(( ${#units[@]} > 0 )) || { echo "build-deb.sh: no units in deploy/systemd" >&2; exit 1; }
install -D -m 0644 deploy/systemd/perch.sysusers.conf "$stage/usr/lib/sysusers.d/perch.conf"
for env in deploy/systemd/*.env; do install -D -m 0640 "$env" "$stage/etc/perch/$(basename "$env")"; done
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) > "$stage/DEBIAN/conffiles"

install -d "$stage/usr/share/perch/migrations"
install -m 0644 sql/migrations/*.sql "$stage/usr/share/perch/migrations/"
bash deploy/docs-assets.sh "$root/.build/docs-assets" >&2
install -d "$stage/usr/share/perch/docs-assets"
for f in swagger-ui-bundle.js swagger-ui.css redoc.standalone.js favicon.png; do
    install -m 0644 "$root/.build/docs-assets/$f" "$stage/usr/share/perch/docs-assets/"
done

install -d "$stage/usr/share/man/man1"
for page in "$manual"/*.1; do gzip -9n < "$page" > "$stage/usr/share/man/man1/$(basename "$page").gz"; done
[[ -e "$stage/usr/share/man/man1/perch.1.gz" ]] || { echo "build-deb.sh: generate-manual made no perch.1" >&2; exit 1; }

install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no #! line.
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' > "$stage/usr/share/bash-completion/completions/perch"
"$binary" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_perch"
"$binary" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/perch.fish"
chmod 0644 "$stage"/usr/share/bash-completion/completions/perch "$stage"/usr/share/zsh/vendor-completions/_perch \
    "$stage"/usr/share/fish/vendor_completions.d/perch.fish

doc="$stage/usr/share/doc/perch"
install -d "$doc/examples"
gzip -9n < README.md > "$doc/README.md.gz"
gzip -9n < deploy/README.md > "$doc/deploy.md.gz"
install -m 0644 deploy/nginx/perch.conf "$doc/examples/nginx-perch.conf"
install -m 0644 deploy/multi-host/nginx-perch.conf "$doc/examples/nginx-perch-multi-host.conf"
install -m 0644 deploy/package/copyright "$doc/copyright"
{
    echo "perch ($version) unstable; urgency=medium"
    echo
    echo "  * perch $version, built from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo " -- perch maintainers <perch@example.org>  $(date -u -R -d "@$epoch")"
} | gzip -9n > "$doc/changelog.gz"

# Maintainer scripts, with the unit list filled in.
for script in postinst prerm postrm; do
    sed "s|@UNITS@|${units[*]}|" "deploy/package/$script" > "$stage/DEBIAN/$script"
    chmod 0755 "$stage/DEBIAN/$script"
done

# Depends: the package of every shared library the binary names (its NEEDED entries, found with ldd, then dpkg -S):
# libfcgi0ldbl, libmariadb3, libsodium23, libcurl4, libc6, libstdc++6, libgcc-s1; each at least the version built against.
depends=$(objdump -p "$binary" | awk '/NEEDED/ { print $2 }' | while read -r soname; do
    lib="$(ldd "$binary" | awk -v name="$soname" '$1 == name && $3 ~ /^\// { print $3 }')"
    [[ -n "$lib" ]] || continue  # the dynamic loader itself
    pkg="$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null)" || { echo "no package for $lib" >&2; exit 1; }
    pkg="${pkg%%:*}"
    echo "$pkg (>= $(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//'))"
done | sort -u | paste -sd, | sed 's/,/, /g')
[[ "$depends" == *libfcgi0ldbl* && "$depends" == *libmariadb3* && "$depends" == *libsodium23* ]] \
    || { echo "build-deb.sh: unexpected Depends: $depends" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: perch
Version: $version
Architecture: amd64
Maintainer: perch maintainers <perch@example.org>
Installed-Size: $size
Depends: $depends, passwd
Suggests: nginx-light | nginx, mariadb-server
Section: web
Priority: optional
Description: JSON API served as a pre-forked FastCGI pool
 perch is a JSON API (users, posts, JWT authentication, OpenAPI documentation)
 served by a pre-forked pool of FastCGI workers behind nginx, on MariaDB.
 The package holds the binary, its systemd units (socket activation, notify,
 reload after a configuration check), migrations, man pages, shell completions
 and the Swagger UI and ReDoc files for /docs without internet access.
CONTROL

find "$stage" -exec touch -h -d "@$epoch" {} +
deb="$out/perch_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
