"""Two staff saving at the same instant: the unique index decides, the loser sees a form
error, never a 500.

Runs on the file SQLite database and, with TEST_DATABASE_URL, on PostgreSQL. Each editor
has their own client, so each request has its own app context, session and connection.
"""

import threading

import sqlalchemy as sa
from sqlalchemy import select

from blueprints.blog.models import Post
from extensions import db
from tests.admin.test_posts import _form
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

EDITORS = 2


def test_two_staff_saving_the_same_new_slug_at_once_one_saved_one_form_error(app, staff_user):
    # Both editors' inserts wait here until each has reached its own: whatever a save
    # checks beforehand, it has checked it before the other's post exists.
    at_insert = threading.Barrier(EDITORS, timeout=10)

    def meet_at_insert(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO POST "):
            try:
                at_insert.wait()
            except threading.BrokenBarrierError:
                pass

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

    sa.event.listen(db.engine, "before_cursor_execute", meet_at_insert)
    try:
        threads = [threading.Thread(target=save, args=(n,)) for n in range(EDITORS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", meet_at_insert)

    assert sorted(status for status, _body in results) == [303, 400]
    refused = next(body for status, body in results if status == 400)
    assert "Another post already uses this web address." in refused
    assert "bone-loading-basics" in refused  # the form comes back with what was typed
    db.session.expire_all()
    posts = db.session.scalars(select(Post)).all()
    assert [post.slug for post in posts] == ["bone-loading-basics"]
