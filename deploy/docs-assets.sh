#!/usr/bin/env bash
# Fills a folder with the Swagger UI and ReDoc files /docs and /redoc use offline:
#   deploy/docs-assets.sh <folder>      (the package installs it as /usr/share/perch/docs-assets)
#
# They come from PyPI's drf-spectacular-sidecar, which ships both: its wheel is pinned by version and sha256
# (pip --require-hashes), and each file taken from it by its own sha256, so a changed file fails here rather
# than in a browser. Those files are byte for byte the versions whose SRI hashes perch pins for the CDN
# fallback (Sources/Web/Configuration.swift: Swagger UI 5.33.1, ReDoc 2.5.4), so the same hashes check both.
# The wheel is kept in .build/docs-assets-cache: reruns do not download. To move to new versions: change
# the pins below and the CDN versions and hashes in DocsConfiguration together (deploy/README.md).
set -euo pipefail
[[ $# == 1 ]] || { echo "usage: $0 <folder>" >&2; exit 2; }
out="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.build/docs-assets-cache"

sidecar_version=2026.10.1
sidecar_sha256=fe1d005d8ac9b5d0472f2fe5deeb2e7d6dcffaa24118044f22578b4b8c4b31f2
static=drf_spectacular_sidecar/static/drf_spectacular_sidecar
# sha256, the path inside the wheel, the name in the folder
files="
050bc415ee7048dcd881682678f720264e7da5e373f7461d7c58c755305255f7 swagger-ui-dist/swagger-ui-bundle.js swagger-ui-bundle.js
1ac324f7dcd27e4b9386b4bd6421271ec147e922a22c05ba24b11515e9aa6321 swagger-ui-dist/swagger-ui.css swagger-ui.css
dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b redoc/bundles/redoc.standalone.js redoc.standalone.js
3ed612f41e050ca5e7000cad6f1cbe7e7da39f65fca99c02e99e6591056e5837 swagger-ui-dist/favicon-32x32.png favicon.png
"

wheel="$cache/drf_spectacular_sidecar-$sidecar_version-py3-none-any.whl"
if ! echo "$sidecar_sha256  $wheel" | sha256sum -c --status 2>/dev/null; then
    mkdir -p "$cache"
    echo "drf-spectacular-sidecar==$sidecar_version --hash=sha256:$sidecar_sha256" > "$cache/requirements.txt"
    python3 -m pip download -q --no-deps --only-binary=:all: --require-hashes -r "$cache/requirements.txt" -d "$cache"
fi
echo "$sidecar_sha256  $wheel" | sha256sum -c --status || { echo "docs-assets.sh: $wheel is not the pinned wheel" >&2; exit 1; }

mkdir -p "$out"
while read -r sum path name; do
    [[ -n "$sum" ]] || continue
    if ! echo "$sum  $out/$name" | sha256sum -c --status 2>/dev/null; then
        python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
            "$wheel" "$static/$path" > "$out/$name.tmp"
        echo "$sum  $out/$name.tmp" | sha256sum -c --status || { echo "docs-assets.sh: $path in the wheel does not match its pinned sha256" >&2; rm -f "$out/$name.tmp"; exit 1; }
        mv "$out/$name.tmp" "$out/$name"
    fi
done <<< "$files"
# The licences travel with the files (Swagger UI: Apache-2.0, ReDoc: MIT), as the projects ship them.
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[3] + "/LICENSE.swagger-ui", "wb").write(z.read(sys.argv[2] + "/swagger-ui-dist/LICENSE")); open(sys.argv[3] + "/LICENSE.redoc", "wb").write(z.read(sys.argv[2] + "/redoc/LICENSE"))' "$wheel" "$static" "$out"
