"""The seed post through nginx's edge cache, against nginx serving the same bytes as a
static file, with wrk, in one run.

    .venv/bin/python bench/edge.py                  # 10 s per row after 2 s of warm-up
    .venv/bin/python bench/edge.py --duration 3     # a short run while developing

Starts the stack (deploy/stack.py, as scripts/run-stack does, on free ports with a
database of its own, ``bench_edge``) and measures, one after the other, with wrk
(2 threads, 20 connections by default, ``--latency``):

(a) nginx serving the seed post's exact bytes (fetched from the stack) as a static file,
    under the stack's own main nginx configuration: the anchor;
(b) the seed post through the stack's nginx, from its edge cache;
(c) the bare Flask app (bench/hello_app.py) under gunicorn, as bench/pages.py serves it;
(d) the seed post from the app's own page cache, straight from one gunicorn instance of
    the stack (no nginx).

Prints req/s, p50 and p99 and each row's ratio to (a), then ``edge ratio: X.XX``, (b)/(a)
(the target is at least 0.5). Asserts nothing; logs in bench/out/edge-stack/.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import OUT, fetch, free_port, gunicorn, require, workers, wrk  # noqa: E402

from deploy.stack import NGINX, Stack, main_conf, nginx_user, stack_database_url  # noqa: E402

SEED_POST = "/blog/how-to-increase-spinal-bone-density-with-exercise"
# STACK_DATABASE_URL's server and user (deploy/stack.py), a database of its own.
DEFAULT_DATABASE = stack_database_url("bench_edge")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per row")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per row")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=workers(), help="gunicorn workers per app instance"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE,
        help="PostgreSQL database (default: bench_edge on STACK_DATABASE_URL's server)",
    )
    return parser.parse_args(argv)


@contextmanager
def static_nginx(run_dir, body):
    """nginx serving ``body`` as /seed-post.html, with the same main configuration as the
    stack's nginx (workers, logs); yields the file's URL."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "nginx-temp" / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / "seed-post.html").write_bytes(body)
    port = free_port()
    site = run_dir / "site.conf"
    site.write_text(
        "server {\n"
        f"    listen 127.0.0.1:{port};\n"
        f"    root {run_dir};\n"
        "    location = /seed-post.html { default_type text/html; }\n"
        "}\n"
    )
    conf = run_dir / "nginx.conf"
    conf.write_text(main_conf(run_dir, site, user=nginx_user()))
    nginx = shutil.which("nginx") or NGINX
    process = subprocess.Popen(
        [nginx, "-p", str(run_dir), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(run_dir / "nginx.log", "wb"),  # noqa: SIM115 (the child keeps it)
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/seed-post.html"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                fetch(url, timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the static nginx did not start: see {run_dir / 'nginx.log'}")
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def measure(url, args, headers=None):
    """Warm up, then one run of ``--duration`` seconds."""
    options = {"threads": args.threads, "connections": args.connections, "headers": headers}
    wrk(url, args.warmup, latency=False, **options)
    return wrk(url, args.duration, **options)


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main(argv=None):
    args = parse_args(argv)
    require("wrk", "WITH_STACK=1 scripts/setup (apt-get install wrk)")
    require(shutil.which("nginx") or NGINX, "WITH_STACK=1 scripts/setup (nginx-light)")
    OUT.mkdir(parents=True, exist_ok=True)
    run_dir = OUT / "edge-stack"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    stack = Stack.free(run_dir, args.database_url, workers=args.workers)
    print(f"Starting the stack ({stack.url}, {args.workers} workers per instance) ...", flush=True)
    rows = []
    with stack:
        status, headers, body = fetch(stack.url + SEED_POST)
        if status != 200 or "public" not in headers.get("Cache-Control", ""):
            sys.exit(f"the seed post answered {status}, {headers.get('Cache-Control')}")
        print(
            f"wrk {args.threads} threads, {args.connections} connections, {args.duration} s "
            f"per row after {args.warmup} s of warm-up; the seed post is {len(body)} bytes",
            flush=True,
        )
        with static_nginx(OUT / "edge-static", body) as static_url:
            rows.append(("(a) nginx, the seed post as a static file", measure(static_url, args)))
        # What wrk gets: the first probe may refresh an expired copy, the second is a hit.
        fetch(stack.url + SEED_POST)
        edge_status = fetch(stack.url + SEED_POST)[1].get("X-Edge-Cache")
        rows.append(
            (
                f"(b) the seed post, nginx edge cache ({edge_status})",
                measure(stack.url + SEED_POST, args),
            )
        )
        with gunicorn("bench.hello_app:app", n_workers=args.workers) as hello:
            rows.append(
                (f"(c) bare Flask app ({args.workers} workers)", measure(hello + "/", args))
            )
        # Straight to one instance, as nginx would ask it (the site answers only for the
        # address in FLASK_SITE_URL).
        direct = {"Host": stack.netloc}
        app_cache = fetch(stack.app_url(0) + SEED_POST, headers=direct)[1].get("X-Cache")
        rows.append(
            (
                f"(d) the seed post, the app's page cache, no nginx ({app_cache})",
                measure(stack.app_url(0) + SEED_POST, args, headers=direct),
            )
        )

    anchor = rows[0][1]["rps"]
    header = f"{'':<60} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'of (a)':>7}  note"
    print("\n" + header)
    print("-" * len(header))
    for label, row in rows:
        note = []
        if row["errors"]:
            note.append(f"{row['errors']} non-2xx")
        if row["socket_errors"]:
            note.append(row["socket_errors"])
        print(
            f"{label:<60} {row['rps']:>9.0f} {fmt(row['p50'], '8.2f')} "
            f"{fmt(row['p99'], '8.2f')} {row['rps'] / anchor:>7.2f}  {', '.join(note)}"
        )
    print(f"\nedge ratio: {rows[1][1]['rps'] / anchor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
