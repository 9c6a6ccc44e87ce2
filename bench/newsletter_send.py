"""Benchmark: send one weekly issue to N confirmed subscribers.

Fills a fresh database with N confirmed subscribers and one new post, starts an
aiosmtpd server in a subprocess that discards every message, then runs the sender
(``send_weekly``) in a child process of its own and prints messages per second and
the sender's peak memory (its maximum resident set size, and the peak of Python
allocations seen by tracemalloc in a second, traced run).

    .venv/bin/python bench/newsletter_send.py                 # N = 1,000 and 20,000
    .venv/bin/python bench/newsletter_send.py --n 5000 --database-url postgresql+psycopg://...

Not a test: it prints figures and asserts nothing.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not whatever the virtualenv points at


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(database_url, port):
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret",
        "SITE_URL": "https://betterbones.example",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SUPPRESS_SEND": False,
        "RATELIMIT_ENABLED": False,
    }


def fill(database_url, n):
    """A fresh schema with ``n`` confirmed subscribers and one post to send."""
    import sqlalchemy as sa

    from app import create_app
    from blueprints.blog.models import Post, PostStatus
    from blueprints.core.types import utcnow
    from blueprints.newsletter.models import Subscriber, SubscriberStatus
    from extensions import db

    app = create_app(_config(database_url, 25))
    with app.app_context():
        db.drop_all()
        db.create_all()
        now = utcnow()
        chunk = 5000
        for start in range(0, n, chunk):
            db.session.execute(
                sa.insert(Subscriber),
                [
                    {
                        "email": f"reader{i}@example.com",
                        "email_normalized": f"reader{i}@example.com",
                        "first_name": "Reader" if i % 2 else "",
                        "status": SubscriberStatus.CONFIRMED,
                        "confirmed_at": now - timedelta(days=10),
                        "created_at": now - timedelta(days=10),
                    }
                    for i in range(start, min(start + chunk, n))
                ],
            )
        db.session.add(
            Post(
                slug="bench-post",
                title="Why bones need more than calcium",
                summary="Magnesium, vitamin D, K2 and movement all play a part.",
                body_md="Body",
                body_html="<p>Body</p>",
                status=PostStatus.PUBLISHED,
                published_at=now - timedelta(hours=1),
            )
        )
        db.session.commit()
        db.engine.dispose()


def child(database_url, port, trace):
    """Run the sender and print its figures as JSON (runs in its own process)."""
    import resource
    import tracemalloc

    from app import create_app
    from blueprints.newsletter.sending import send_weekly
    from extensions import db

    app = create_app(_config(database_url, port))
    with app.app_context():
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        report = send_weekly()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        db.engine.dispose()
    print(
        json.dumps(
            {
                "sent": report.sent,
                "finished": report.finished,
                "seconds": seconds,
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "traced_peak": peak,
            }
        )
    )


def _wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the SMTP sink did not start on port {port}")


def run(n, database_url, trace):
    fill(database_url, n)
    port = _free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        args = [
            sys.executable,
            __file__,
            "--child",
            "--database-url",
            database_url,
            "--port",
            str(port),
        ]
        if trace:
            args.append("--trace")
        out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"the sender failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        sink.terminate()
        sink.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="subscribers (repeatable)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.port, args.trace)
        return

    sizes = args.n or [1_000, 20_000]
    with tempfile.TemporaryDirectory() as tmp:
        print(
            f"{'N':>8} {'sent':>8} {'seconds':>8} {'msg/s':>8} {'max RSS MB':>11} "
            f"{'traced peak MB':>15}"
        )
        for n in sizes:
            url = args.database_url or f"sqlite:///{os.path.join(tmp, f'bench_{n}.db')}"
            timed = run(n, url, trace=False)
            traced = None if args.no_trace else run(n, url, trace=True)
            rate = timed["sent"] / timed["seconds"] if timed["seconds"] else 0.0
            peak = f"{traced['traced_peak'] / 1e6:15.1f}" if traced else f"{'-':>15}"
            print(
                f"{n:>8,} {timed['sent']:>8,} {timed['seconds']:>8.1f} {rate:>8.0f} "
                f"{timed['maxrss_kb'] / 1024:>11.1f} {peak}",
                flush=True,
            )


if __name__ == "__main__":
    main()
