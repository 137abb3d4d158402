#!/usr/bin/env python3
"""Password recovery: does the answer's time tell whether an email is registered?

    deploy/bench/recovery_timing.py [--base http://127.0.0.1:8080] [--count 200] [--rate 1.8]

Against a running perch (the local run, deploy/local/run.sh, is enough): signs up one user, then sends `count`
password-recovery requests for that user's email and `count` for unregistered ones (a new address each time),
alternating, on one kept-alive connection, and prints the median (and p90) time of each and their ratio.
The goal is a ratio within 10% of 1. The shipped nginx site lets 2 password requests a second through per
client (burst 5), so the requests are paced at `rate` a second; `--rate 0` sends them back to back (a site
without that limit). Not a test: the figures go into deploy/bench/README.md.
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.8, help="requests a second (0: no pacing)")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    url = urllib.parse.urlsplit(args.base)
    if url.scheme != "http" or not url.hostname:
        parser.error("--base must be an http:// URL")
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)

    def post(path, body):
        payload = json.dumps(body).encode()
        start = time.perf_counter()
        conn.request("POST", path, payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read()
        return response.status, text, time.perf_counter() - start

    run = uuid.uuid4().hex[:10]
    registered = "bench-%s@example.com" % run
    status, text, _ = post("/api/v1/users", {"email": registered, "password": "bench password %s" % run})
    if status != 201:
        sys.exit("sign-up answered %d: %s" % (status, text.decode(errors="replace")))
    time.sleep(1)  # the sign-up spent one of nginx's password-request tokens

    times = {"registered": [], "unregistered": []}
    answers = set()
    pause = 1 / args.rate if args.rate > 0 else 0
    for n in range(args.count):
        for kind in ("registered", "unregistered") if n % 2 == 0 else ("unregistered", "registered"):
            email = registered if kind == "registered" else "nobody-%s-%d@example.com" % (run, n)
            began = time.monotonic()
            status, text, seconds = post("/api/v1/auth/password-recovery", {"email": email})
            if status != 202:
                sys.exit("password-recovery answered %d: %s" % (status, text.decode(errors="replace")))
            answers.add(text)
            times[kind].append(seconds * 1000)
            if pause:
                time.sleep(max(0, pause - (time.monotonic() - began)))

    def p90(values):
        return statistics.quantiles(values, n=10)[-1] if len(values) >= 10 else max(values)

    print("password recovery, %d requests each (%s)" % (args.count, args.base))
    for kind, values in times.items():
        print("  %-12s median %.3f ms   p90 %.3f ms" % (kind, statistics.median(values), p90(values)))
    ratio = statistics.median(times["registered"]) / statistics.median(times["unregistered"])
    print("  ratio registered/unregistered (medians): %.3f%s" % (ratio, "" if abs(ratio - 1) <= 0.10 else "   OUTSIDE the 10% goal"))
    print("  answers: %s" % ("identical" if len(answers) == 1 else "DIFFERENT: %s" % answers))


if __name__ == "__main__":
    main()
