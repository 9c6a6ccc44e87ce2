"""The large data set against the demo set, page by page, measured in alternation.

    .venv/bin/python bench/sizes.py --db postgresql             # fills both, full run
    .venv/bin/python bench/sizes.py --db sqlite --skip-fill --variants uncached

Issue 6 asks every page to stay within 20 % of its demo figure at the large size.
``bench/pages.py`` measures one size per run, minutes apart, and on a shared 2-core
machine two such runs can differ by as much as the gap being measured. Here both sites
run at once (an idle gunicorn costs nothing) and wrk alternates between them: for each
page, demo then large, then large then demo, and so on, so a change in the machine's
load falls on both sides. Each pair of rounds gives one ratio (large ÷ demo); the
median of those ratios is the figure, the lowest and highest are printed beside it.
Prints figures; asserts nothing.
"""

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import database_url as make_database_url  # noqa: E402
from common import fetch, fill_database, gunicorn, require, site_env, workers  # noqa: E402
from pages import PAGES, WRK, fmt, run_wrk  # noqa: E402

# The demo data has two index pages; its page 1 stands in for the large set's page 50.
DEMO_COUNTERPART = {"/blog/?page=50": "/blog/"}
TARGET = 0.8  # "within 20 %"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--demo-url", help="database with the demo data (default: the bench's)")
    parser.add_argument("--large-url", help="database with the large data (default: the bench's)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per site")
    parser.add_argument("--pairs", type=int, default=4, help="pairs of rounds per page")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=workers())
    parser.add_argument(
        "--variants", default="uncached,cached", help="cached, uncached or both (comma-separated)"
    )
    parser.add_argument("--skip-fill", action="store_true", help="use the databases as they are")
    parser.add_argument(
        "--pages", help="only the pages whose path or label contains this (e.g. 'tag')"
    )
    parser.add_argument(
        "--posts-per-page",
        type=int,
        help="list pages show this many posts on both sites (FLASK_POSTS_PER_PAGE), so that "
        "a list that is short in the demo is the same length at the large size",
    )
    return parser.parse_args(argv)


def compare_page(bases, demo_path, large_path, args):
    """Alternating rounds on the two sites; returns per-size figures and pair ratios."""
    urls = {"demo": bases["demo"] + demo_path, "large": bases["large"] + large_path}
    for url in urls.values():
        run_wrk(url, args, args.warmup, latency=False)
    runs = {"demo": [], "large": []}
    for pair in range(args.pairs):
        order = ("demo", "large") if pair % 2 == 0 else ("large", "demo")
        for size in order:
            runs[size].append(run_wrk(urls[size], args, args.duration))
    ratios = [
        large["rps"] / demo["rps"] for demo, large in zip(runs["demo"], runs["large"], strict=True)
    ]
    return {
        size: {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p99": statistics.median(r["p99"] for r in rounds if r["p99"] is not None),
            "errors": sum(r["errors"] for r in rounds),
        }
        for size, rounds in runs.items()
    } | {"ratio": statistics.median(ratios), "lowest": min(ratios), "highest": max(ratios)}


def print_table(title, rows):
    print(f"\n{title}")
    header = (
        f"{'page':<36} {'demo req/s':>10} {'p99 ms':>7} {'bytes':>6} {'large req/s':>11} "
        f"{'p99 ms':>7} {'bytes':>6} {'large/demo':>10} {'range':>11}  verdict"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.get("missing"):
            print(f"{row['label']:<36} {'missing: ' + row['missing']:>60}")
            continue
        demo, large = row["demo"], row["large"]
        verdict = "within 20 %" if row["ratio"] >= TARGET else "NOT within 20 %"
        if row["ratio"] >= TARGET > row["lowest"]:
            verdict += " (one pair below)"
        if demo["errors"] or large["errors"]:
            verdict += f"; non-2xx: demo {demo['errors']}, large {large['errors']}"
        print(
            f"{row['label']:<36} {demo['rps']:>10.0f} {fmt(demo['p99'], '7.1f')} "
            f"{demo['bytes']:>6} {large['rps']:>11.0f} {fmt(large['p99'], '7.1f')} "
            f"{large['bytes']:>6} {row['ratio']:>10.2f} "
            f"{row['lowest']:>5.2f}-{row['highest']:<5.2f}  {verdict}"
        )


def main(argv=None):
    args = parse_args(argv)
    require(WRK, "apt-get install wrk")
    urls = {
        "demo": make_database_url(args.db, "demo", args.demo_url),
        "large": make_database_url(args.db, "large", args.large_url),
    }
    if not args.skip_fill:
        for size, url in urls.items():
            print(f"Filling the database ({size}) at {url} ...", flush=True)
            fill_database(url, size, fresh=not (args.demo_url or args.large_url))
    print(
        f"gunicorn {args.workers} sync workers per site; wrk {args.threads} threads, "
        f"{args.connections} connections; per page {args.warmup} s warm-up on each site, "
        f"then {args.pairs} pairs of {args.duration} s rounds in alternating order",
        flush=True,
    )
    pages = [(path, label) for path, label in PAGES if not args.pages or args.pages in path + label]
    extra = {"FLASK_POSTS_PER_PAGE": str(args.posts_per_page)} if args.posts_per_page else {}
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
        page_cache = variant == "cached"
        with ExitStack() as stack:
            bases = {
                size: stack.enter_context(
                    gunicorn(
                        "app:create_app()",
                        env=site_env(url, page_cache=page_cache, **extra),
                        n_workers=args.workers,
                    )
                )
                for size, url in urls.items()
            }
            rows = []
            for large_path, label in pages:
                demo_path = DEMO_COUNTERPART.get(large_path, large_path)
                if demo_path != large_path:
                    label = f"{label} (demo: {demo_path})"
                row = {"label": label}
                answers = {
                    "demo": fetch(bases["demo"] + demo_path),
                    "large": fetch(bases["large"] + large_path),
                }
                bad = [
                    f"{size} {status}"
                    for size, (status, _headers, _body) in answers.items()
                    if status != 200
                ]
                if bad:
                    row["missing"] = ", ".join(bad)
                else:
                    row.update(compare_page(bases, demo_path, large_path, args))
                    # The same page can show more at the large size (a tag with 4 posts
                    # in the demo fills a page with 10): the sizes tell.
                    for size, (_status, _headers, body) in answers.items():
                        row[size]["bytes"] = len(body)
                rows.append(row)
        per_page = f", {args.posts_per_page} posts per list page" if args.posts_per_page else ""
        print_table(f"Page cache {'on' if page_cache else 'off'} ({args.db}{per_page})", rows)


if __name__ == "__main__":
    main()
