#!/usr/bin/env python3
"""The benchmark's table, from run.sh's record of every measured run (standard library only).

  report.py RUNS_FILE

Each line of RUNS_FILE: key|label|connections|mode|BENCH fields (name=value ...). A scenario measured in several
rounds shows the median of each column over its rounds (p99 and max too), and how many rounds there were.
Then the ratios the issues ask for: keep-conn against no keep-conn tails, perch against the C ceilings.
"""
import statistics
import sys
from collections import OrderedDict


def fields(text):
    return dict(item.split("=", 1) for item in text.split() if "=" in item)


def median(values):
    return statistics.median(values) if values else None


def main():
    runs = OrderedDict()
    labels = {}
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, label, conns, mode, rest = line.split("|", 4)
            values = fields(rest)
            runs.setdefault((key, mode), []).append(values)
            labels[(key, mode)] = (label, conns)

    def stat(key, mode, name):
        values = [float(v[name]) for v in runs.get((key, mode), []) if v.get(name) not in (None, "", "-")]
        return median(values)

    print("| scenario | nginx → pool | connections | rounds | req/s | p50 | p99 | max | non-2xx | errors | app CPU/req |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (key, mode), measured in runs.items():
        label, conns = labels[(key, mode)]

        def cell(name, unit="", digits=1):
            value = stat(key, mode, name)
            return "-" if value is None else f"{value:,.{digits}f}{unit}"

        print(f"| {label} | {'keep-conn' if mode == 'keep' else 'no keep-conn'} | {conns} | {len(measured)} | "
              f"{cell('rps', '', 0)} | {cell('p50_ms', ' ms', 2)} | {cell('p99_ms', ' ms', 2)} | {cell('max_ms', ' ms', 1)} | "
              f"{sum(int(v.get('non2xx', 0)) for v in measured)} | {sum(int(v.get('errors', 0)) for v in measured)} | "
              f"{cell('cpu_us', ' µs', 0)} |")

    ratios = []

    def ratio(text, a, b, goal, higher_is_better=True):
        if a is None or b is None or b == 0:
            return
        value = a / b
        met = value >= goal if higher_is_better else value <= goal
        ratios.append(f"| {text} | {value:.2f} | {'≥' if higher_is_better else '≤'} {goal} | {'yes' if met else 'no'} |")

    ratio("health req/s, perch / C libfcgi ceiling (keep-conn)", stat("health", "keep", "rps"), stat("health_ceiling", "keep", "rps"), 0.9)
    ratio("read req/s, perch / C database ceiling (keep-conn)", stat("post_by_id", "keep", "rps"), stat("read_ceiling", "keep", "rps"), 0.8)
    for key, text in [("post_by_id", "read"), ("posts_page", "list"), ("me", "me"), ("create_post", "write"), ("health", "health")]:
        ratio(f"{text} p99, keep-conn / no keep-conn", stat(key, "keep", "p99_ms"), stat(key, "nokeep", "p99_ms"), 1.25, higher_is_better=False)
    ratio("logins/s / bare Argon2id verifies/s", stat("login", "keep", "rps"), stat("argon2", "keep", "rps"), 0.9)
    if ratios:
        print()
        print("| ratio (medians) | value | goal | met |")
        print("|---|---:|---:|---|")
        for line in ratios:
            print(line)


if __name__ == "__main__":
    main()
