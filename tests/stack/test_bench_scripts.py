"""Short runs of the stack's benchmarks: bench/edge.py prints its four rows and the edge
ratio; bench/load.py --stack keeps every write once through an instance killed and
restarted and a restart of both Redis servers, and no GET sees a 5xx or a page cut
short (the instance's answers go out in one write: tests/stack/test_failover.py).
Figures are not asserted."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL
from tests.stack.test_edge_cache import pytestmark  # noqa: F401 (nginx, Redis, PostgreSQL)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database():
    """A database of the test's own on the test server, dropped afterwards."""
    url = sa.engine.make_url(TEST_DATABASE_URL).set(database=f"bb_bench_stack_{os.getpid()}")
    yield url.render_as_string(hide_password=False)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def test_edge_benchmark_prints_four_rows_and_the_edge_ratio(database):
    command = [
        sys.executable,
        "bench/edge.py",
        "--duration=1",
        "--warmup=1",
        "--workers=1",
        f"--database-url={database}",
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for row in ("(a) nginx", "(b) the seed post, nginx edge cache", "(c) bare Flask", "(d)"):
        assert row in output, output
    assert "(b) the seed post, nginx edge cache (HIT)" in output
    assert "the app's page cache, no nginx (HIT)" in output
    assert re.search(r"^edge ratio: \d+\.\d\d$", output, re.M), output
    assert "non-2xx" not in output


def test_stack_load_loses_no_write_through_a_killed_instance_and_a_redis_restart(database):
    command = [
        sys.executable,
        "bench/load.py",
        "--stack",
        "--duration=9",
        "--readers=2",
        "--writers=4",
        "--workers=2",
        "--seed=7",
        f"--database-url={database}",
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    checks = re.findall(r"^  (PASS|FAIL)  (.*)$", output, re.M)
    assert checks and all(result == "PASS" for result, _ in checks), output
    assert "  PASS  no GET answered 5xx or nothing (nginx tried the other instance): 0" in output
    for event in ("kill app instance 0 (SIGKILL): done", "restart both Redis servers: done"):
        assert event in output, output
    assert "start app instance 0 again: done" in output
