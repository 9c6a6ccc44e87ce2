"""bench/no_templates_app.py, the measuring device behind ``bench/pages.py --variants
no-templates``: every view still runs (same status, same queries), but writes no HTML."""

import pytest
import sqlalchemy as sa

from bench import no_templates_app
from blueprints.blog.comments import add_comment
from blueprints.blog.editing import create_post
from blueprints.blog.moderation import ModerationAction, moderate_comments
from blueprints.core.types import utcnow
from extensions import db
from tests.conftest import make_config


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": False}


def _get(app, url):
    """``(status, body, SQL statements)`` of one anonymous GET, after a warm-up GET."""
    statements = []
    with app.app_context():
        engine = db.engine
    app.test_client().get(url)

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = app.test_client().get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return response.status_code, response.get_data(as_text=True), len(statements)


def test_each_view_runs_its_queries_and_writes_no_html(
    app, database_url, smtp_controller, staff_user
):
    post = create_post("Walking for bones", "Walk **daily**.", published_at=utcnow())
    db.session.flush()
    comment = add_comment(post, name="Ann", email="ann@example.com", body="Thank you.")
    moderate_comments([comment.id], ModerationAction.APPROVE, actor=staff_user)
    db.session.commit()
    measuring = no_templates_app.create_app(
        make_config(database_url, smtp_controller, PAGE_CACHE=False)
    )

    for url in ("/", "/blog/", f"/blog/{post.slug}", "/shop/"):
        site_status, site_body, site_queries = _get(app, url)
        status, body, queries = _get(measuring, url)
        assert site_status == status == 200
        assert queries == site_queries > 0
        assert "<html" in site_body and body == ""
    assert "Thank you." in _get(app, f"/blog/{post.slug}")[1]
    with measuring.app_context():
        db.engine.dispose()
