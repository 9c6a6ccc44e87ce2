"""An app instance killed in the middle of an answer, behind the stack's nginx.

Two gunicorn instances with the production settings (``gunicorn.conf.py``) serve
``tests/stack/dying_app.py`` behind nginx with the local copy of ``deploy/nginx.conf``;
the first request for a page kills its whole instance (SIGKILL) after the answer's head
and half its body were written. A GET still gets the whole page (nginx received nothing
from the dead instance and asked the other); a POST is never sent twice. With gunicorn's
plain ``sync`` worker, which writes the head and each piece as it comes, the same GET is
cut short: the failure the one-write worker (``deploy/gunicorn_worker.py``) removes.

Needs nginx (``WITH_STACK=1 scripts/setup``); no database or Redis.
"""

import http.client
import shutil
import time
from pathlib import Path

import pytest

from deploy.stack import Stack
from tests.stack.dying_app import PAGE, PAGE_SIZE

pytestmark = pytest.mark.skipif(
    not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
    reason="needs nginx: WITH_STACK=1 scripts/setup",
)


def _stack(tmp_path, monkeypatch, gunicorn_args=()):
    records = tmp_path / "arrivals"
    records.mkdir()
    monkeypatch.setenv("DYING_APP_DIR", str(records))
    stack = Stack.free(
        tmp_path / "stack",
        database_url="",
        workers=1,
        app_target="tests.stack.dying_app:app",
        gunicorn_args=list(gunicorn_args),
    )
    stack.run_dir.mkdir()
    try:
        for index in (0, 1):
            stack.start_app(index, wait=False)
        for index in (0, 1):
            stack.wait_for_app(index)
        stack.start_nginx()
    except BaseException:
        stack.stop()
        raise
    return stack, records


@pytest.fixture
def one_write_stack(tmp_path, monkeypatch):
    """The instances as production runs them: gunicorn.conf.py's worker."""
    stack, records = _stack(tmp_path, monkeypatch)
    yield stack, records
    stack.stop()


@pytest.fixture
def plain_sync_stack(tmp_path, monkeypatch):
    """The same with gunicorn's own sync worker."""
    stack, records = _stack(tmp_path, monkeypatch, gunicorn_args=["--worker-class", "sync"])
    yield stack, records
    stack.stop()


def _fetch(stack, method, path):
    """(status, body, whether the body was cut short) through nginx."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.nginx_port, timeout=30)
    try:
        headers = {"Host": stack.netloc}
        body = None
        if method == "POST":
            body = b"comment=Walking+helps"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        try:
            return response.status, response.read(), False
        except http.client.IncompleteRead as cut:
            return response.status, cut.partial, True
    finally:
        connection.close()


def _arrivals(records, name):
    """(method, pid) of each request that reached an instance for page ``name``."""
    return [tuple(line.split()) for line in (records / name).read_text().splitlines()]


def _one_instance_died(stack, within=10):
    """True once exactly one instance is gone (a SIGKILLed process takes a moment to end
    on a busy machine)."""
    deadline = time.monotonic() + within
    while True:
        alive = [stack._running(f"app-{index}") is not None for index in (0, 1)]
        if sorted(alive) == [False, True] or time.monotonic() > deadline:
            return sorted(alive) == [False, True]
        time.sleep(0.05)


def test_a_get_whose_instance_dies_mid_answer_gets_the_whole_page_from_the_other(
    one_write_stack,
):
    stack, records = one_write_stack
    status, body, cut = _fetch(stack, "GET", "/dies-mid-answer/get")
    assert (status, cut, len(body)) == (200, False, PAGE_SIZE)
    assert body == PAGE
    (first_method, first_pid), (second_method, second_pid) = _arrivals(records, "get")
    assert first_method == second_method == "GET"
    assert first_pid != second_pid  # asked again, on the other instance
    assert _one_instance_died(stack)  # the first one
    # nginx had received nothing from it, not even the head: it was free to ask again.
    error_log = (stack.run_dir / "nginx-error.log").read_text()
    assert "while reading response header from upstream" in error_log
    assert "while reading upstream" not in error_log
    # Later readers are answered by the live instance alone.
    for _ in range(3):
        assert _fetch(stack, "GET", "/dies-mid-answer/get")[:2] == (200, PAGE)


def test_a_post_whose_instance_dies_mid_answer_gets_502_and_is_never_sent_again(
    one_write_stack,
):
    stack, records = one_write_stack
    status, _, cut = _fetch(stack, "POST", "/dies-mid-answer/post")
    assert (status, cut) == (502, False)
    assert [method for method, _ in _arrivals(records, "post")] == ["POST"]
    assert _one_instance_died(stack)


def test_with_gunicorns_plain_sync_worker_the_same_get_is_cut_short(plain_sync_stack):
    stack, records = plain_sync_stack
    status, body, cut = _fetch(stack, "GET", "/dies-mid-answer/plain")
    # nginx had the head and half the page, so it had begun the answer: no retry.
    assert (status, cut) == (200, True)
    assert len(body) < PAGE_SIZE
    assert [method for method, _ in _arrivals(records, "plain")] == ["GET"]
    error_log = (stack.run_dir / "nginx-error.log").read_text()
    assert "upstream prematurely closed connection while reading upstream" in error_log
