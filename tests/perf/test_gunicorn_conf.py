"""The production gunicorn settings (``gunicorn.conf.py``)."""

import os
import socket
import subprocess
import sys
import time
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
    assert worker_class == "deploy.gunicorn_worker.OneWriteSyncWorker"
    assert int(before) == 0
    # The app, its extensions and SQLAlchemy's mappers: tens of thousands of objects
    # that a full collection no longer walks.
    assert int(after) > 20_000
    # Start-up garbage is collected before the freeze, not kept for the worker's life.
    assert garbage_freed == "True"


class _Socket:
    """What a socket is sent, one entry per ``sendall``."""

    def __init__(self):
        self.writes = []

    def sendall(self, data):
        self.writes.append(bytes(data))

    def getpeername(self):
        return ("127.0.0.1", 40000)


def test_the_worker_sends_a_whole_answer_in_one_write_when_it_is_complete():
    from deploy.gunicorn_worker import HeldAnswer

    sock = _Socket()
    answer = HeldAnswer(sock)
    answer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    answer.sendall(b"<p>bone")
    answer.sendall(memoryview(b"</p>"))
    assert sock.writes == []  # an instance killed now has sent nothing
    answer.flush()
    assert sock.writes == [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n<p>bone</p>"]
    assert answer.getpeername() == ("127.0.0.1", 40000)  # the rest is the socket's


def test_the_worker_sends_an_answer_past_the_hold_limit_as_it_comes():
    from deploy.gunicorn_worker import HeldAnswer

    sock = _Socket()
    answer = HeldAnswer(sock, limit=8)
    answer.sendall(b"head\r\n\r\n")
    answer.sendall(b"big piece")
    answer.sendall(b"more")
    answer.flush()
    assert sock.writes == [b"head\r\n\r\nbig piece", b"more"]


def test_the_worker_sends_nothing_of_an_answer_that_failed_half_way():
    from deploy.gunicorn_worker import HeldAnswer

    sock = _Socket()
    answer = HeldAnswer(sock)
    answer.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    answer.discard()
    answer.flush()
    assert sock.writes == []


def test_a_starting_instance_refuses_connections_until_it_can_answer():
    """nginx passes a refused request to another instance at once; one accepted by an
    instance still loading the app would wait the whole load (or time out)."""
    from deploy.stack import free_port
    from tests.perf.slow_app import LOAD_SECONDS

    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "tests.perf.slow_app:app"),
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        started = time.monotonic()
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() - started < 60, "never accepted a connection"
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        accepted = time.monotonic()
        with connection:
            connection.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        answered = time.monotonic()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"ready")
    assert accepted - started >= LOAD_SECONDS  # refused while the app loaded
    assert answered - accepted < LOAD_SECONDS  # then answered without waiting for a load
