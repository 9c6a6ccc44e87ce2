 Paths of pages an area has not built yet answer 404 and are
"""Requests per second for the site's main pages, against a bare Flask app, with wrk.
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    .venv/bin/python bench/pages.py                         # demo data, SQLite, full run
 Paths of pages an area has not built yet answer 404 and are
    .venv/bin/python bench/pages.py --db postgresql --size large
 Paths of pages an area has not built yet answer 404 and are
    .venv/bin/python bench/pages.py --duration 2 --warmup 1 --rounds 1   # a smoke run
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
The site and a "hello" app (bench/hello_app.py) run under the same gunicorn settings
 Paths of pages an area has not built yet answer 404 and are
(sync workers, two per core) one after the other, so the ratio compares like with like
 Paths of pages an area has not built yet answer 404 and are
on this machine. Each page is measured with the page cache on (an anonymous reader, as
 Paths of pages an area has not built yet answer 404 and are
wrk is) and off (FLASK_PAGE_CACHE=false). SQL queries per request are counted
 Paths of pages an area has not built yet answer 404 and are
in-process with a test client, apart from wrk. Prints figures; asserts nothing.
 Paths of pages an area has not built yet answer 404 and are
"""
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
import argparse
 Paths of pages an area has not built yet answer 404 and are
import gzip
 Paths of pages an area has not built yet answer 404 and are
import re
 Paths of pages an area has not built yet answer 404 and are
import statistics
 Paths of pages an area has not built yet answer 404 and are
import subprocess
 Paths of pages an area has not built yet answer 404 and are
import sys
 Paths of pages an area has not built yet answer 404 and are
from pathlib import Path
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
from common import database_url as make_database_url  # noqa: E402
 Paths of pages an area has not built yet answer 404 and are
from common import (  # noqa: E402  (the repository root must be importable first)
 Paths of pages an area has not built yet answer 404 and are
    fetch,
 Paths of pages an area has not built yet answer 404 and are
    fill_database,
 Paths of pages an area has not built yet answer 404 and are
    gunicorn,
 Paths of pages an area has not built yet answer 404 and are
    require,
 Paths of pages an area has not built yet answer 404 and are
    site_env,
 Paths of pages an area has not built yet answer 404 and are
    workers,
 Paths of pages an area has not built yet answer 404 and are
)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
# The pages the issue names. Paths of pages an area has not built yet answer 404 and are
 Paths of pages an area has not built yet answer 404 and are
# reported as "missing"; adjust a slug here if the seed data names it differently.
 Paths of pages an area has not built yet answer 404 and are
PAGES = [
 Paths of pages an area has not built yet answer 404 and are
    ("/", "home"),
 Paths of pages an area has not built yet answer 404 and are
    ("/blog/", "blog index, page 1"),
 Paths of pages an area has not built yet answer 404 and are
    ("/blog/?page=50", "blog index, page 50"),
 Paths of pages an area has not built yet answer 404 and are
    ("/blog/how-to-increase-spinal-bone-density-with-exercise", "seed post"),
 Paths of pages an area has not built yet answer 404 and are
    ("/blog/tag/exercise", "tag page"),
 Paths of pages an area has not built yet answer 404 and are
    ("/blog/search?q=bone", "search"),
 Paths of pages an area has not built yet answer 404 and are
    ("/shop/", "shop"),
 Paths of pages an area has not built yet answer 404 and are
    ("/shop/weighted-walking-vest", "vest product page"),
 Paths of pages an area has not built yet answer 404 and are
    ("/consultations/", "consultation types"),
 Paths of pages an area has not built yet answer 404 and are
    ("/consultations/initial-consultation/", "free times (a week per page)"),
 Paths of pages an area has not built yet answer 404 and are
]
 Paths of pages an area has not built yet answer 404 and are
WRK = "/usr/bin/wrk"
 Paths of pages an area has not built yet answer 404 and are
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def parse_args(argv=None):
 Paths of pages an area has not built yet answer 404 and are
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--size", choices=("demo", "large"), default="demo")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--database-url", help="use this database instead of the default")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per page")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--rounds", type=int, default=3, help="rounds per page (median)")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--threads", type=int, default=2)
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--connections", type=int, default=20)
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--workers", type=int, default=workers())
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument(
 Paths of pages an area has not built yet answer 404 and are
        "--variants", default="cached,uncached", help="cached, uncached or both (comma-separated)"
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument("--skip-fill", action="store_true", help="use the database as it is")
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument(
 Paths of pages an area has not built yet answer 404 and are
        "--redis",
 Paths of pages an area has not built yet answer 404 and are
        nargs="?",
 Paths of pages an area has not built yet answer 404 and are
        const="redis://127.0.0.1:6379/0",
 Paths of pages an area has not built yet answer 404 and are
        help="share the page cache through Redis, as production does (default URL %(const)s)",
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    parser.add_argument(
 Paths of pages an area has not built yet answer 404 and are
        "--no-rate-limits",
 Paths of pages an area has not built yet answer 404 and are
        action="store_true",
 Paths of pages an area has not built yet answer 404 and are
        help="switch Flask-Limiter off (it runs on every request, even without a limit)",
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    return parser.parse_args(argv)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def run_wrk(url, args, seconds, latency=True):
 Paths of pages an area has not built yet answer 404 and are
    command = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", url]
 Paths of pages an area has not built yet answer 404 and are
    if latency:
 Paths of pages an area has not built yet answer 404 and are
        command.insert(1, "--latency")
 Paths of pages an area has not built yet answer 404 and are
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
 Paths of pages an area has not built yet answer 404 and are
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
 Paths of pages an area has not built yet answer 404 and are
    result = {"rps": rps, "errors": 0}
 Paths of pages an area has not built yet answer 404 and are
    for name, pct in (("p50", "50%"), ("p99", "99%")):
 Paths of pages an area has not built yet answer 404 and are
        match = re.search(rf"^\s+{re.escape(pct)}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
 Paths of pages an area has not built yet answer 404 and are
        result[name] = float(match.group(1)) * _UNITS[match.group(2)] if match else None
 Paths of pages an area has not built yet answer 404 and are
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
 Paths of pages an area has not built yet answer 404 and are
    errors = re.search(r"Socket errors: .*", output)
 Paths of pages an area has not built yet answer 404 and are
    result["errors"] = int(bad.group(1)) if bad else 0
 Paths of pages an area has not built yet answer 404 and are
    result["socket_errors"] = errors.group(0) if errors else ""
 Paths of pages an area has not built yet answer 404 and are
    return result
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def measure(url, args):
 Paths of pages an area has not built yet answer 404 and are
    """Warm up, then ``rounds`` runs; the median of each figure."""
 Paths of pages an area has not built yet answer 404 and are
    run_wrk(url, args, args.warmup, latency=False)
 Paths of pages an area has not built yet answer 404 and are
    rounds = [run_wrk(url, args, args.duration) for _ in range(args.rounds)]
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    def median(key):
 Paths of pages an area has not built yet answer 404 and are
        values = [r[key] for r in rounds if r[key] is not None]
 Paths of pages an area has not built yet answer 404 and are
        return statistics.median(values) if values else None
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    return {
 Paths of pages an area has not built yet answer 404 and are
        "rps": median("rps"),
 Paths of pages an area has not built yet answer 404 and are
        "p50": median("p50"),
 Paths of pages an area has not built yet answer 404 and are
        "p99": median("p99"),
 Paths of pages an area has not built yet answer 404 and are
        "errors": sum(r["errors"] for r in rounds),
 Paths of pages an area has not built yet answer 404 and are
        "socket_errors": "; ".join(r["socket_errors"] for r in rounds if r["socket_errors"]),
 Paths of pages an area has not built yet answer 404 and are
    }
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def count_queries(url, page_cache):
 Paths of pages an area has not built yet answer 404 and are
    """SQL statements for one anonymous request to each page (after one warm-up request)."""
 Paths of pages an area has not built yet answer 404 and are
    import sqlalchemy as sa
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    from app import create_app
 Paths of pages an area has not built yet answer 404 and are
    from extensions import db
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    app = create_app(
 Paths of pages an area has not built yet answer 404 and are
        {"SQLALCHEMY_DATABASE_URI": url, "PAGE_CACHE": page_cache, "RATELIMIT_ENABLED": False}
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    counts = {}
 Paths of pages an area has not built yet answer 404 and are
    with app.app_context():
 Paths of pages an area has not built yet answer 404 and are
        statements = []
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
        def count(conn, cursor, statement, parameters, context, executemany):
 Paths of pages an area has not built yet answer 404 and are
            statements.append(statement)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
        sa.event.listen(db.engine, "before_cursor_execute", count)
 Paths of pages an area has not built yet answer 404 and are
        for path, _label in PAGES:
 Paths of pages an area has not built yet answer 404 and are
            app.test_client().get(path)  # warms the cache and the connection pool
 Paths of pages an area has not built yet answer 404 and are
            statements.clear()
 Paths of pages an area has not built yet answer 404 and are
            status = app.test_client().get(path).status_code
 Paths of pages an area has not built yet answer 404 and are
            counts[path] = len(statements) if status == 200 else None
 Paths of pages an area has not built yet answer 404 and are
        sa.event.remove(db.engine, "before_cursor_execute", count)
 Paths of pages an area has not built yet answer 404 and are
        db.engine.dispose()
 Paths of pages an area has not built yet answer 404 and are
    return counts
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def probe(base, path):
 Paths of pages an area has not built yet answer 404 and are
    status, headers, body = fetch(base + path)
 Paths of pages an area has not built yet answer 404 and are
    return {
 Paths of pages an area has not built yet answer 404 and are
        "status": status,
 Paths of pages an area has not built yet answer 404 and are
        "bytes": len(body),
 Paths of pages an area has not built yet answer 404 and are
        "gzip": len(gzip.compress(body, 6)),
 Paths of pages an area has not built yet answer 404 and are
        "x_cache": headers.get("X-Cache", ""),
 Paths of pages an area has not built yet answer 404 and are
    }
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def fmt(value, spec):
 Paths of pages an area has not built yet answer 404 and are
    return "-" if value is None else format(value, spec)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def print_table(title, rows, hello):
 Paths of pages an area has not built yet answer 404 and are
    print(f"\n{title}")
 Paths of pages an area has not built yet answer 404 and are
    header = (
 Paths of pages an area has not built yet answer 404 and are
        f"{'page':<30} {'path':<56} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
 Paths of pages an area has not built yet answer 404 and are
        f"{'ratio':>6} {'bytes':>7} {'gzip':>6} {'SQL':>4}  note"
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    print(header)
 Paths of pages an area has not built yet answer 404 and are
    print("-" * len(header))
 Paths of pages an area has not built yet answer 404 and are
    for row in rows:
 Paths of pages an area has not built yet answer 404 and are
        if row["status"] == 404:
 Paths of pages an area has not built yet answer 404 and are
            print(f"{row['label']:<30} {row['path']:<56} {'missing (404 in this build)':>40}")
 Paths of pages an area has not built yet answer 404 and are
            continue
 Paths of pages an area has not built yet answer 404 and are
        ratio = row["rps"] / hello["rps"] if row.get("rps") and hello["rps"] else None
 Paths of pages an area has not built yet answer 404 and are
        note = []
 Paths of pages an area has not built yet answer 404 and are
        if row["status"] != 200:
 Paths of pages an area has not built yet answer 404 and are
            note.append(f"status {row['status']}")
 Paths of pages an area has not built yet answer 404 and are
        if row.get("errors"):
 Paths of pages an area has not built yet answer 404 and are
            note.append(f"{row['errors']} non-2xx")
 Paths of pages an area has not built yet answer 404 and are
        if row.get("socket_errors"):
 Paths of pages an area has not built yet answer 404 and are
            note.append(row["socket_errors"])
 Paths of pages an area has not built yet answer 404 and are
        if row.get("x_cache"):
 Paths of pages an area has not built yet answer 404 and are
            note.append(f"X-Cache {row['x_cache']}")
 Paths of pages an area has not built yet answer 404 and are
        elif row.get("cached_variant"):
 Paths of pages an area has not built yet answer 404 and are
            note.append("no X-Cache: view not decorated with @cached_page")
 Paths of pages an area has not built yet answer 404 and are
        print(
 Paths of pages an area has not built yet answer 404 and are
            f"{row['label']:<30} {row['path']:<56} {fmt(row.get('rps'), '8.0f')} "
 Paths of pages an area has not built yet answer 404 and are
            f"{fmt(row.get('p50'), '7.2f')} {fmt(row.get('p99'), '7.2f')} "
 Paths of pages an area has not built yet answer 404 and are
            f"{fmt(ratio, '6.2f')} {row['bytes']:>7} {row['gzip']:>6} "
 Paths of pages an area has not built yet answer 404 and are
            f"{fmt(row.get('sql'), '>4')}  {', '.join(note)}"
 Paths of pages an area has not built yet answer 404 and are
        )
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def main(argv=None):
 Paths of pages an area has not built yet answer 404 and are
    args = parse_args(argv)
 Paths of pages an area has not built yet answer 404 and are
    require(WRK, "apt-get install wrk")
 Paths of pages an area has not built yet answer 404 and are
    url = make_database_url(args.db, args.size, args.database_url)
 Paths of pages an area has not built yet answer 404 and are
    if not args.skip_fill:
 Paths of pages an area has not built yet answer 404 and are
        print(f"Filling the database ({args.size}) at {url} ...", flush=True)
 Paths of pages an area has not built yet answer 404 and are
        fill_database(url, args.size)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    settings = (
 Paths of pages an area has not built yet answer 404 and are
        f"gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
 Paths of pages an area has not built yet answer 404 and are
        f"{args.connections} connections, {args.duration} s x {args.rounds} round(s) "
 Paths of pages an area has not built yet answer 404 and are
        f"after {args.warmup} s warm-up (median)"
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    print(settings, flush=True)
 Paths of pages an area has not built yet answer 404 and are
    hello = measure_hello(args, "at the start")
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
 Paths of pages an area has not built yet answer 404 and are
        page_cache = variant == "cached"
 Paths of pages an area has not built yet answer 404 and are
        queries = count_queries(url, page_cache)
 Paths of pages an area has not built yet answer 404 and are
        rows = []
 Paths of pages an area has not built yet answer 404 and are
        env = site_env(
 Paths of pages an area has not built yet answer 404 and are
            url,
 Paths of pages an area has not built yet answer 404 and are
            page_cache=page_cache,
 Paths of pages an area has not built yet answer 404 and are
            rate_limits=not args.no_rate_limits,
 Paths of pages an area has not built yet answer 404 and are
            redis_url=args.redis,
 Paths of pages an area has not built yet answer 404 and are
        )
 Paths of pages an area has not built yet answer 404 and are
        with gunicorn("app:create_app()", env=env, n_workers=args.workers) as base:
 Paths of pages an area has not built yet answer 404 and are
            for path, label in PAGES:
 Paths of pages an area has not built yet answer 404 and are
                row = {"path": path, "label": label, **probe(base, path)}
 Paths of pages an area has not built yet answer 404 and are
                row["sql"] = queries.get(path)
 Paths of pages an area has not built yet answer 404 and are
                if row["status"] != 404:
 Paths of pages an area has not built yet answer 404 and are
                    row.update(measure(base + path, args))
 Paths of pages an area has not built yet answer 404 and are
                    if page_cache:
 Paths of pages an area has not built yet answer 404 and are
                        row["x_cache"] = probe(base, path)["x_cache"]
 Paths of pages an area has not built yet answer 404 and are
                        row["cached_variant"] = True
 Paths of pages an area has not built yet answer 404 and are
                rows.append(row)
 Paths of pages an area has not built yet answer 404 and are
        backend = "Redis" if args.redis else "in-process"
 Paths of pages an area has not built yet answer 404 and are
        title = (
 Paths of pages an area has not built yet answer 404 and are
            f"Site, page cache {f'on ({backend})' if page_cache else 'off'} "
 Paths of pages an area has not built yet answer 404 and are
            f"({args.size} data, {args.db}, rate limits {'off' if args.no_rate_limits else 'on'})"
 Paths of pages an area has not built yet answer 404 and are
        )
 Paths of pages an area has not built yet answer 404 and are
        print_table(title, rows, hello)
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
    # The same yardstick again: if it moved, something else was using the machine.
 Paths of pages an area has not built yet answer 404 and are
    again = measure_hello(args, "at the end")
 Paths of pages an area has not built yet answer 404 and are
    drift = abs(again["rps"] - hello["rps"]) / hello["rps"]
 Paths of pages an area has not built yet answer 404 and are
    if drift > 0.15:
 Paths of pages an area has not built yet answer 404 and are
        print(
 Paths of pages an area has not built yet answer 404 and are
            f"The bare app's figure moved {drift:.0%} during the run: the machine was busy "
 Paths of pages an area has not built yet answer 404 and are
            "with other work, so the ratios are approximate. Re-run on a quiet machine."
 Paths of pages an area has not built yet answer 404 and are
        )
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
def measure_hello(args, when):
 Paths of pages an area has not built yet answer 404 and are
    with gunicorn("bench.hello_app:app", n_workers=args.workers) as base:
 Paths of pages an area has not built yet answer 404 and are
        hello = measure(base + "/", args)
 Paths of pages an area has not built yet answer 404 and are
    print(
 Paths of pages an area has not built yet answer 404 and are
        f'bare Flask "hello" {when}: {hello["rps"]:.0f} req/s, '
 Paths of pages an area has not built yet answer 404 and are
        f"p50 {fmt(hello['p50'], '.2f')} ms, p99 {fmt(hello['p99'], '.2f')} ms",
 Paths of pages an area has not built yet answer 404 and are
        flush=True,
 Paths of pages an area has not built yet answer 404 and are
    )
 Paths of pages an area has not built yet answer 404 and are
    return hello
 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are

 Paths of pages an area has not built yet answer 404 and are
if __name__ == "__main__":
 Paths of pages an area has not built yet answer 404 and are
    main()
