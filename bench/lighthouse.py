"""Lighthouse scores for the key public pages; exits 1 when any score is below a threshold.

    .venv/bin/python bench/lighthouse.py               # threshold 95, as CI runs it
    .venv/bin/python bench/lighthouse.py --threshold 100 --audits

Installs Lighthouse 12.2.3 into bench/.lighthouse on first use (npm), serves the site
under gunicorn on the demo data, and runs Debian's Chromium headless with the mobile
preset (Lighthouse's default). Chromium gets ``--proxy-server=127.0.0.1:9``: loopback
is never proxied, so it reaches our server and nothing else.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import OUT, ROOT, fetch, fill_database, gunicorn, require, site_env  # noqa: E402
from common import database_url as make_database_url  # noqa: E402

PAGES = [
    ("/", "home"),
    ("/blog/how-to-increase-spinal-bone-density-with-exercise", "seed post"),
    ("/shop/", "shop"),
    ("/shop/weighted-walking-vest", "product page"),
    ("/consultations/", "consultations"),
]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
VERSION = "12.2.3"
PREFIX = ROOT / "bench" / ".lighthouse"
BINARY = PREFIX / "node_modules" / ".bin" / "lighthouse"
CHROME = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --proxy-server=127.0.0.1:9"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=int, default=95)
    parser.add_argument("--audits", action="store_true", help="list every audit that lost points")
    parser.add_argument(
        "--require-all", action="store_true", help="fail when a page answers 404 (missing)"
    )
    parser.add_argument("--skip-fill", action="store_true", help="use the database as it is")
    return parser.parse_args(argv)


def ensure_lighthouse():
    if BINARY.exists():
        return
    require("npm", "apt-get install npm")
    print(f"Installing lighthouse@{VERSION} into {PREFIX} ...", flush=True)
    subprocess.run(["npm", "i", "-E", "--prefix", str(PREFIX), f"lighthouse@{VERSION}"], check=True)


ATTEMPTS = 3


def run_lighthouse(url, slug):
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"lighthouse-{slug}.json"
    env = dict(os.environ, CHROME_PATH=CHROME)
    command = [
        str(BINARY),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=" + ",".join(CATEGORIES),
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    # Headless Chromium now and then loses the trace of a load (NO_NAVSTART) on a busy
    # machine: that is Lighthouse failing to measure, not the page failing, so try again.
    for attempt in range(1, ATTEMPTS + 1):
        if subprocess.run(command, env=env).returncode == 0:
            return json.loads(report.read_text())
        print(f"Lighthouse failed on {url} (attempt {attempt} of {ATTEMPTS})", flush=True)
    raise RuntimeError(f"Lighthouse could not measure {url}")


def lost_points(result):
    """Audits that count towards a category and did not score full marks."""
    lost = []
    for category in result["categories"].values():
        for ref in category["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                lost.append((category["id"], ref["id"], audit["score"], audit.get("title", "")))
    return lost


def main(argv=None):
    args = parse_args(argv)
    require(CHROME, "apt-get install chromium")
    ensure_lighthouse()
    url = make_database_url("sqlite", "demo")
    if not args.skip_fill:
        fill_database(url, "demo", fresh=True)

    rows, failures = [], []
    with gunicorn("app:create_app()", env=site_env(url)) as base:
        for path, label in PAGES:
            status = fetch(base + path)[0]
            if status != 200:
                rows.append((label, path, None, status))
                if args.require_all or status != 404:
                    failures.append(f"{label}: status {status}")
                continue
            slug = label.replace(" ", "-")
            result = run_lighthouse(base + path, slug)
            scores = {c: round(result["categories"][c]["score"] * 100) for c in CATEGORIES}
            rows.append((label, path, scores, status))
            failures += [f"{label}: {c} {s}" for c, s in scores.items() if s < args.threshold]
            if args.audits:
                for category, audit_id, score, title in lost_points(result):
                    print(f"  {label}: [{category}] {audit_id} ({score}): {title}")

    print(f"\nLighthouse {VERSION}, mobile preset, threshold {args.threshold}")
    header = f"{'page':<16} {'path':<58}" + "".join(f"{c:>16}" for c in CATEGORIES)
    print(header)
    print("-" * len(header))
    for label, path, scores, status in rows:
        if scores is None:
            note = "missing (404 in this build)" if status == 404 else f"status {status}"
            print(f"{label:<16} {path:<58} {note}")
        else:
            print(f"{label:<16} {path:<58}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))
    if failures:
        print("\nBelow the threshold or failing: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
