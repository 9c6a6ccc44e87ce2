"""The production gunicorn settings (``gunicorn.conf.py``)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: freezing the test process's own objects would hide them
# from the collector for the rest of the run.
_WORKER = """
import gc, runpy, weakref
settings = runpy.run_path("gunicorn.conf.py")
from app import create_app
create_app()
class Garbage:
    pass
cycle = Garbage()
cycle.me = cycle
left_over = weakref.ref(cycle)
del cycle  # unreachable now, but only a collection frees a cycle
before = gc.get_freeze_count()
settings["post_worker_init"](None)
print(settings["worker_class"], before, gc.get_freeze_count(), left_over() is None)
"""


def test_worker_hides_what_it_loaded_from_the_garbage_collector():
    env = dict(os.environ, FLASK_SQLALCHEMY_DATABASE_URI="sqlite://")
    result = subprocess.run(
        [sys.executable, "-c", _WORKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    worker_class, before, after, garbage_freed = result.stdout.split()
    assert worker_class == "sync"
    assert int(before) == 0
    # The app, its extensions and SQLAlchemy's mappers: tens of thousands of objects
    # that a full collection no longer walks.
    assert int(after) > 20_000
    # Start-up garbage is collected before the freeze, not kept for the worker's life.
    assert garbage_freed == "True"
