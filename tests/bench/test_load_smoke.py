"""A short run of bench/load.py: the production configuration under readers and
writers, and every write the site confirmed found in the database exactly once.

Needs PostgreSQL (TEST_DATABASE_URL, as the rest of the suite) and Redis on
127.0.0.1:6379. It uses its own database, ``bench_load_test`` on the same server, and
its own Redis database (6), so it never touches the suite's database or a full run's.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/6"

pytestmark = pytest.mark.postgres_only


def _redis_answers():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except (redis.RedisError, OSError):
        return False


def test_short_load_run_has_no_5xx_and_loses_no_write():
    if not _redis_answers():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    database_url = (
        sa.engine.make_url(TEST_DATABASE_URL)
        .set(database="bench_load_test")
        .render_as_string(hide_password=False)
    )
    command = [
        sys.executable,
        "bench/load.py",
        "--duration=3",
        "--readers=2",
        "--writers=4",
        "--workers=2",
        "--seed=7",
        f"--database-url={database_url}",
        f"--redis-url={REDIS_URL}",
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    checks = re.findall(r"^  (PASS|FAIL)  (.*)$", output, re.M)
    assert checks and all(result == "PASS" for result, _ in checks), output
    assert "  PASS  no 5xx answers: 0" in output
    # Each kind of write ran and at least one was confirmed, so the checks checked something.
    for write in ("comment", "signup", "order", "booking"):
        row = re.search(rf"^{write}\s+(\d+)\s+(\d+)", output, re.M)
        assert row and int(row.group(2)) >= 1, output
