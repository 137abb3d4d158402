#!/usr/bin/env python3
"""Line coverage per file and per module (Sources/<Module>/) from `llvm-cov export -summary-only` on stdin."""
import json
import sys
from collections import defaultdict

modules = defaultdict(lambda: [0, 0])  # module -> [covered, count]
print(f"{'file':60} {'lines':>7} {'covered':>8}")
for entry in sorted(json.load(sys.stdin)["data"][0]["files"], key=lambda e: e["filename"]):
    path = entry["filename"]
    if "/Sources/" not in path:
        continue
    relative = path[path.index("/Sources/") + 1:]
    lines = entry["summary"]["lines"]
    module = modules[relative.split("/")[1]]
    module[0] += lines["covered"]
    module[1] += lines["count"]
    print(f"{relative:60} {lines['count']:7} {lines['percent']:7.1f}%")
print(f"\n{'module':12} {'lines':>7} {'covered':>8}")
total = [0, 0]
for name, (covered, count) in sorted(modules.items(), key=lambda m: m[0]):
    total[0] += covered
    total[1] += count
    print(f"{name:12} {count:7} {100 * covered / count:7.1f}%")
print(f"{'total':12} {total[1]:7} {100 * total[0] / total[1]:7.1f}%")
