#!/usr/bin/env python3
"""Seeds the benchmark's data through the API (standard library only), for deploy/bench/run.sh.

  seed.py probe  BASE_URL                 exit 0 when POST /api/v1/users answers 201 (or 409: already there)
  seed.py seed   BASE_URL OUT_DIR         users (sign-up), then posts by a subset of them (published)
  seed.py tokens BASE_URL OUT_DIR         logs users in, writes OUT_DIR/tokens.txt (one access token a line)

Users are bench{n}@example.com, all with the password in BENCH_PASSWORD. Files written to OUT_DIR:
emails.txt (every seeded user), post_ids.txt (every seeded post's id), tokens.txt.
Requests go through nginx, each worker thread on its own kept-alive HTTP/1.1 connection.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password-1")
TIMEOUT = 30  # seconds per request: a stuck server fails the seed instead of hanging it


def email(n):
    return f"bench{n}@example.com"


class Client:
    """One kept-alive connection per thread."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        # A 503 with Retry-After (the pool's password-hash admission, or its queue-time limit, on a busy
        # machine) is the service asking to come back: a well-behaved client waits and tries again.
        for _ in range(30):
            status, data, retry_after = self.request_once(method, path, body, headers)
            if status != 503 or retry_after is None:
                return status, data
            time.sleep(float(retry_after))
        return status, data

    def request_once(self, method, path, body=None, headers=None):
        for attempt in (1, 2):  # once more on a connection nginx closed between requests
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                return response.status, data, response.getheader("Retry-After")
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise

    def json(self, method, path, payload, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.request(method, path, json.dumps(payload).encode(), headers)

    def sign_up(self, n):
        status, _ = self.json("POST", "/api/v1/users", {"email": email(n), "password": PASSWORD, "full_name": f"Bench User {n}"})
        return status

    def login(self, n):
        form = urllib.parse.urlencode({"grant_type": "password", "username": email(n), "password": PASSWORD})
        status, data = self.request("POST", "/api/v1/auth/login", form.encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise RuntimeError(f"login of {email(n)}: HTTP {status}: {data[:200]!r}")
        return json.loads(data)["access_token"]


def run_all(jobs, concurrency, label):
    """Runs the callables concurrently; returns their results in order; fails on the first error."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    elapsed = time.monotonic() - started
    print(f"seed: {label}: {len(jobs)} in {elapsed:.1f} s ({len(jobs) / elapsed:.0f}/s)", file=sys.stderr)
    return results


def probe(args):
    status = Client(args.base).sign_up(0)
    print(f"seed: probe POST /api/v1/users: HTTP {status}", file=sys.stderr)
    return 0 if status in (201, 409) else 3


def seed(args):
    client = Client(args.base)

    def sign_up(n):
        status = client.sign_up(n)
        if status not in (201, 409):
            raise RuntimeError(f"sign-up of {email(n)}: HTTP {status}")

    run_all([lambda n=n: sign_up(n) for n in range(args.users)], args.concurrency, "users signed up")
    with open(os.path.join(args.out, "emails.txt"), "w") as f:
        f.writelines(email(n) + "\n" for n in range(args.users))

    authors = min(args.authors, args.users)
    tokens = run_all([lambda n=n: client.login(n) for n in range(authors)], args.concurrency, "authors logged in")
    content = "Seeded benchmark content. " * 20

    def create(i):
        status, data = client.json("POST", "/api/v1/posts",
                                   {"title": f"Seeded post {i}", "content": content, "published": True},
                                   token=tokens[i % len(tokens)])
        if status != 201:
            raise RuntimeError(f"POST /api/v1/posts: HTTP {status}: {data[:200]!r}")
        return json.loads(data)["id"]

    ids = run_all([lambda i=i: create(i) for i in range(args.posts)], args.concurrency, "posts created")
    with open(os.path.join(args.out, "post_ids.txt"), "w") as f:
        f.writelines(f"{i}\n" for i in ids)
    return 0


def tokens(args):
    client = Client(args.base)
    found = run_all([lambda n=n: client.login(n) for n in range(args.count)], args.concurrency, "users logged in")
    with open(os.path.join(args.out, "tokens.txt"), "w") as f:
        f.writelines(t + "\n" for t in found)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe")
    p.add_argument("base")
    s = sub.add_parser("seed")
    s.add_argument("base")
    s.add_argument("out")
    s.add_argument("--users", type=int, default=1000)
    s.add_argument("--posts", type=int, default=10000)
    s.add_argument("--authors", type=int, default=100, help="users who write the posts (each logs in once)")
    s.add_argument("--concurrency", type=int, default=16)
    t = sub.add_parser("tokens")
    t.add_argument("base")
    t.add_argument("out")
    t.add_argument("--count", type=int, default=64)
    t.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    try:
        return {"probe": probe, "seed": seed, "tokens": tokens}[args.command](args)
    except Exception as error:  # one clear line instead of a thread-pool traceback
        print(f"seed: failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
