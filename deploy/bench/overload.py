#!/usr/bin/env python3
"""The overload scenario, for deploy/bench/run.sh (standard library only).

  overload.py BASE_URL EMAILS_FILE --clients 32 --seconds 8 --limit-ms 200 --log PERCH_LOG --log-from LINE

First measures one login's time alone (the median of 5, one at a time), then CLIENTS threads log in as fast
as they can for SECONDS, each on its own kept-alive connection, recording every answer's status, latency and
Retry-After. The pool is expected to run with PERCH_MAX_QUEUE_TIME=LIMIT: every answer must be a 200 within
the limit plus one login's time (plus nginx's own share, 5 ms), or a 503 with Retry-After that the app
answered in under 10 ms (its access line's duration_ms, read from PERCH_LOG after line LOG_FROM).
Prints one line: the counts, the worst latencies, and whether the goal was met.
"""
import argparse
import http.client
import re
import statistics
import threading
import time
import urllib.parse

PASSWORD_ENV = "BENCH_PASSWORD"


def main():
    import os
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("emails")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--limit-ms", type=float, default=200)
    parser.add_argument("--log", required=True)
    parser.add_argument("--log-from", type=int, default=0)
    args = parser.parse_args()
    password = os.environ.get(PASSWORD_ENV, "bench-password-1")
    url = urllib.parse.urlsplit(args.base)
    with open(args.emails) as f:
        emails = [line.strip() for line in f if line.strip()]

    def login(conn, email):
        body = urllib.parse.urlencode({"username": email, "password": password})
        started = time.monotonic()
        conn.request("POST", "/api/v1/auth/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status, (time.monotonic() - started) * 1000, response.getheader("Retry-After")

    alone = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    single = [login(alone, emails[i % len(emails)]) for i in range(5)]
    alone.close()
    if any(status != 200 for status, _, _ in single):
        raise SystemExit(f"a login alone failed: {single}")
    login_ms = statistics.median(ms for _, ms, _ in single)

    results = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(number):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        i = number
        mine = []
        while time.monotonic() < deadline:
            try:
                mine.append(login(conn, emails[i % len(emails)]))
            except (OSError, http.client.HTTPException) as error:
                mine.append((0, 0.0, str(error)))
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            i += args.clients
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    ok = [ms for status, ms, _ in results if status == 200]
    refused = [(ms, retry) for status, ms, retry in results if status == 503]
    other = [(status, retry) for status, _, retry in results if status not in (200, 503)]
    without_retry = sum(1 for _, retry in refused if not retry)
    # The app's own time for each 503 (access lines after the mark); the client's latency includes the queue.
    app_503_ms = []
    with open(args.log, errors="replace") as f:
        for number, line in enumerate(f):
            if number < args.log_from or " status=503" not in line or "path=/api/v1/auth/login" not in line:
                continue
            match = re.search(r" duration_ms=([0-9.]+)", line)
            if match:
                app_503_ms.append(float(match.group(1)))
    ok_bound = args.limit_ms + login_ms + 5
    met = (not other and without_retry == 0 and all(ms <= ok_bound for ms in ok)
           and all(ms < 10 for ms in app_503_ms) and len(app_503_ms) >= len(refused) > 0)
    print(f"{len(results)} answers in {args.seconds:.0f} s: {len(ok)} × 200 (max {max(ok, default=0):.0f} ms; "
          f"bound {args.limit_ms:.0f} ms + one login {login_ms:.0f} ms + 5 ms = {ok_bound:.0f} ms), "
          f"{len(refused)} × 503 (client max {max((ms for ms, _ in refused), default=0):.0f} ms, app max "
          f"{max(app_503_ms, default=0):.2f} ms, {without_retry} without Retry-After), {len(other)} other "
          f"{sorted(set(s for s, _ in other))}; goal {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
