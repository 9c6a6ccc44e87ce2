"""Two staff saving at the same instant: the unique index decides, the loser sees a form
error, never a 500.

Runs on the file SQLite database and, with TEST_DATABASE_URL, on PostgreSQL. Each editor
has their own client, so each request has its own app context, session and connection.
"""

import contextlib
import re
import threading

import sqlalchemy as sa
from sqlalchemy import select

from blueprints.blog.models import Post
from extensions import db
from tests.admin.test_posts import _form
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

EDITORS = 2
FIRST_WRITE = re.compile(r"\s*(INSERT INTO|UPDATE) post\b", re.IGNORECASE)


def test_two_staff_saving_the_same_new_slug_at_once_one_saved_one_form_error(app, staff_user):
    # Each editor's first write to the post table waits here until the other has reached
    # theirs: whatever a save checks beforehand, it checks before the other's post exists.
    at_first_write = threading.Barrier(EDITORS, timeout=10)
    waited = threading.local()

    def meet_at_first_write(conn, cursor, statement, parameters, context, executemany):
        if FIRST_WRITE.match(statement) and not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                at_first_write.wait()

    results = []
    lock = threading.Lock()

    def save(n):
        # Each thread is its own editor: its own client, app context and connection.
        client = app.test_client()
        client.post("/admin/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
        try:
            response = client.post(
                "/admin/posts/new",
                data=_form(title=f"Editor {n}'s title", slug="bone-loading-basics"),
            )
            result = (response.status_code, response.get_data(as_text=True))
        except Exception as error:  # the test client re-raises what would be a 500
            result = (500, repr(error))
        with lock:
            results.append(result)

    sa.event.listen(db.engine, "before_cursor_execute", meet_at_first_write)
    try:
        threads = [threading.Thread(target=save, args=(n,)) for n in range(EDITORS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", meet_at_first_write)

    assert sorted(status for status, _body in results) == [303, 400]
    refused = next(body for status, body in results if status == 400)
    assert "Another post already uses this web address." in refused
    assert "bone-loading-basics" in refused  # the form comes back with what was typed
    db.session.expire_all()
    posts = db.session.scalars(select(Post)).all()
    assert [post.slug for post in posts] == ["bone-loading-basics"]
