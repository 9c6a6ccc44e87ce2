"""Requests per second for the site's main pages, against a bare Flask app, with wrk.

    .venv/bin/python bench/pages.py                         # demo data, SQLite, full run
    .venv/bin/python bench/pages.py --db postgresql --size large
    .venv/bin/python bench/pages.py --duration 2 --warmup 1 --rounds 1   # a smoke run
    .venv/bin/python bench/pages.py --variants uncached,no-templates     # the ceiling

The site and a "hello" app (bench/hello_app.py) run under the same gunicorn settings
(sync workers, two per core) one after the other, so the ratio compares like with like
on this machine. Each page is measured with the page cache on (an anonymous reader, as
wrk is) and off (FLASK_PAGE_CACHE=false). With the page cache off, two reference rows
show the most any page can reach here: ``/robots.txt`` (every hook of the site, no query,
no template) and ``/healthz`` (the same plus one query). ``--variants no-templates``
measures each page once more with every template rendering to an empty string
(bench/no_templates_app.py): what the page costs apart from writing its HTML. SQL
queries per request are counted in-process with a test client, apart from wrk. Prints
figures; asserts nothing.
"""

import argparse
import gzip
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (  # noqa: E402  (the repository root must be importable first)
    WRK,
    fetch,
    fill_database,
    gunicorn,
    require,
    site_env,
    workers,
    wrk,
)
from common import database_url as make_database_url  # noqa: E402

SEED_POST = "/blog/how-to-increase-spinal-bone-density-with-exercise"
# The pages the issue names, at the addresses the seed data gives them (the free-times
# page lists the next four weeks).
PAGES = [
    ("/", "home"),
    ("/blog/", "blog index, page 1"),
    ("/blog/?page=50", "blog index, page 50"),
    (SEED_POST, "seed post"),
    ("/blog/tag/exercise", "tag page"),
    ("/blog/search?q=bone", "search"),
    ("/shop/", "shop"),
    ("/shop/weighted-walking-vest", "vest product page"),
    ("/consultations/", "consultation types"),
    ("/consultations/initial-consultation/", "free times, next 4 weeks"),
]
# Measured with the page cache off, after the pages: the ceiling of any page's ratio.
REFERENCE_PAGES = [
    ("/robots.txt", "floor: no query, no template"),
    ("/healthz", "floor + one query"),
]
# What each variant serves: the site with the page cache on or off, or the site with
# empty templates (page cache off).
VARIANTS = {
    "cached": ("app:create_app()", True),
    "uncached": ("app:create_app()", False),
    "no-templates": ("bench.no_templates_app:create_app()", False),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("demo", "large"), default="demo")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="use this database instead of the default")
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per page")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per page (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=workers())
    parser.add_argument(
        "--variants",
        default="cached,uncached",
        help=f"comma-separated, from {', '.join(VARIANTS)}",
    )
    parser.add_argument("--skip-fill", action="store_true", help="use the database as it is")
    parser.add_argument(
        "--redis",
        nargs="?",
        const="redis://127.0.0.1:6379/0",
        help="share the page cache through Redis, as production does (default URL %(const)s)",
    )
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="switch Flask-Limiter off (it runs on every request, even without a limit)",
    )
    args = parser.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    return args


def run_wrk(url, args, seconds, latency=True, cookie=None):
    """``common.wrk`` with this script's threads and connections (and a session cookie)."""
    headers = {"Cookie": cookie} if cookie else None
    return wrk(url, seconds, args.threads, args.connections, headers=headers, latency=latency)


def measure(url, args, cookie=None):
    """Warm up, then ``rounds`` runs; the median of each figure."""
    run_wrk(url, args, args.warmup, latency=False, cookie=cookie)
    rounds = [run_wrk(url, args, args.duration, cookie=cookie) for _ in range(args.rounds)]

    def median(key):
        values = [r[key] for r in rounds if r[key] is not None]
        return statistics.median(values) if values else None

    return {
        "rps": median("rps"),
        "p50": median("p50"),
        "p99": median("p99"),
        "errors": sum(r["errors"] for r in rounds),
        "socket_errors": "; ".join(r["socket_errors"] for r in rounds if r["socket_errors"]),
    }


def count_queries(url, page_cache, pages):
    """SQL statements for one anonymous request to each of ``pages`` (after one warm-up
    request)."""
    import sqlalchemy as sa

    from app import create_app
    from extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "PAGE_CACHE": page_cache, "RATELIMIT_ENABLED": False}
    )
    counts = {}
    with app.app_context():
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        for path, _label in pages:
            app.test_client().get(path)  # warms the cache and the connection pool
            statements.clear()
            status = app.test_client().get(path).status_code
            counts[path] = len(statements) if status == 200 else None
        sa.event.remove(db.engine, "before_cursor_execute", count)
        db.engine.dispose()
    return counts


def probe(base, path, cookie=None):
    status, headers, body = fetch(base + path, headers={"Cookie": cookie} if cookie else None)
    return {
        "status": status,
        "bytes": len(body),
        "gzip": len(gzip.compress(body, 6)),
        "x_cache": headers.get("X-Cache", ""),
    }


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def print_table(title, rows, hello):
    print(f"\n{title}")
    header = (
        f"{'page':<30} {'path':<56} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'ratio':>6} {'bytes':>7} {'gzip':>6} {'SQL':>4}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["status"] == 404:
            print(f"{row['label']:<30} {row['path']:<56} {'missing (404 in this build)':>40}")
            continue
        ratio = row["rps"] / hello["rps"] if row.get("rps") and hello["rps"] else None
        note = []
        if row["status"] != 200:
            note.append(f"status {row['status']}")
        if row.get("errors"):
            note.append(f"{row['errors']} non-2xx")
        if row.get("socket_errors"):
            note.append(row["socket_errors"])
        if row.get("x_cache"):
            note.append(f"X-Cache {row['x_cache']}")
        elif row.get("cached_variant"):
            note.append("no X-Cache: view not decorated with @cached_page")
        print(
            f"{row['label']:<30} {row['path']:<56} {fmt(row.get('rps'), '8.0f')} "
            f"{fmt(row.get('p50'), '7.2f')} {fmt(row.get('p99'), '7.2f')} "
            f"{fmt(ratio, '6.2f')} {row['bytes']:>7} {row['gzip']:>6} "
            f"{fmt(row.get('sql'), '>4')}  {', '.join(note)}"
        )


def main(argv=None):
    args = parse_args(argv)
    require(WRK, "apt-get install wrk")
    url = make_database_url(args.db, args.size, args.database_url)
    if not args.skip_fill:
        print(f"Filling the database ({args.size}) at {url} ...", flush=True)
        # The benchmark's own databases start empty; one named by --database-url is kept.
        fill_database(url, args.size, fresh=not args.database_url)

    settings = (
        f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s x {args.rounds} round(s) "
        f"after {args.warmup} s warm-up (median)"
    )
    print(settings, flush=True)
    hello = measure_hello(args, "at the start")

    for variant in args.variants:
        target, page_cache = VARIANTS[variant]
        pages = PAGES + (REFERENCE_PAGES if variant == "uncached" else [])
        queries = count_queries(url, page_cache, pages)
        rows = []
        env = site_env(
            url,
            page_cache=page_cache,
            rate_limits=not args.no_rate_limits,
            redis_url=args.redis,
        )
        with gunicorn(target, env=env, n_workers=args.workers) as base:
            for path, label in pages:
                row = {"path": path, "label": label, **probe(base, path)}
                row["sql"] = queries.get(path)
                if row["status"] != 404:
                    row.update(measure(base + path, args))
                    if page_cache:
                        row["x_cache"] = probe(base, path)["x_cache"]
                        row["cached_variant"] = True
                rows.append(row)
            if page_cache:
                rows.append(measure_returning_reader(base, args))
        backend = "Redis" if args.redis else "in-process"
        title = (
            f"Site, page cache {f'on ({backend})' if page_cache else 'off'}"
            f"{', every template empty' if variant == 'no-templates' else ''} "
            f"({args.size} data, {args.db}, rate limits {'off' if args.no_rate_limits else 'on'})"
        )
        print_table(title, rows, hello)

    # The same yardstick again: if it moved, something else was using the machine.
    again = measure_hello(args, "at the end")
    drift = abs(again["rps"] - hello["rps"]) / hello["rps"]
    if drift > 0.15:
        print(
            f"The bare app's figure moved {drift:.0%} during the run: the machine was busy "
            "with other work, so the ratios are approximate. Re-run on a quiet machine."
        )


def measure_returning_reader(base, args):
    """The seed post for a reader who has a session (wrk is otherwise a first visit with
    no cookie). Such a reader gets their own form token, so a hit goes through Flask."""
    path = SEED_POST
    _status, headers, _body = fetch(base + "/no-such-page")  # any form on it makes a session
    cookie = (headers.get("Set-Cookie") or "").split(";")[0]
    row = {"path": path, "label": "seed post, with a session", **probe(base, path, cookie)}
    row.update(measure(base + path, args, cookie=cookie))
    row["x_cache"] = probe(base, path, cookie)["x_cache"]
    row["cached_variant"] = True
    return row


def measure_hello(args, when):
    with gunicorn("bench.hello_app:app", n_workers=args.workers) as base:
        hello = measure(base + "/", args)
    print(
        f'bare Flask "hello" {when}: {hello["rps"]:.0f} req/s, '
        f"p50 {fmt(hello['p50'], '.2f')} ms, p99 {fmt(hello['p99'], '.2f')} ms",
        flush=True,
    )
    return hello


if __name__ == "__main__":
    main()
