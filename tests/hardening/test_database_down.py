"""The database goes away: a styled 503 with Retry-After, /healthz says so, and a request
cut off half-way leaves nothing half-written."""

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app import create_app
from blueprints.newsletter.models import Subscriber
from extensions import db
from tests.conftest import CSRFClient, make_config

DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:1/gone?connect_timeout=2"


@pytest.fixture
def dead_app(smtp_controller):
    app = create_app(make_config(DEAD_URL, smtp_controller, PAGE_CACHE=False))
    app.test_client_class = CSRFClient
    return app


@pytest.mark.parametrize(
    "url",
    ["/", "/blog/", "/blog/search?q=bone", "/shop/", "/consultations/", "/blog/tag/bone-health"],
)
def test_pages_answer_a_styled_503_with_retry_after_when_the_database_is_unreachable(dead_app, url):
    response = dead_app.test_client().get(url)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 30
    page = response.get_data(as_text=True)
    assert "We will be right back" in page and "<nav" in page  # the site's own layout
    assert "Content-Security-Policy" in response.headers


def test_a_form_post_while_the_database_is_down_is_a_503_not_a_500(dead_app):
    client = dead_app.test_client()
    response = client.post("/newsletter/", data={"email": "ruth@example.com"})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30


def test_pages_that_need_no_database_still_answer_without_it(dead_app):
    # The signup and sign-in forms read nothing: a visitor still sees them.
    assert dead_app.test_client().get("/newsletter/").status_code == 200
    assert dead_app.test_client().get("/admin/login").status_code == 200


def test_healthz_reports_the_database_down(dead_app):
    response = dead_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "down"}
    assert int(response.headers["Retry-After"]) >= 30


def test_healthz_reports_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "up"


def _subscribers():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Subscriber))


def test_a_request_cut_off_half_way_leaves_nothing_half_written(app, client, mailbox):
    failing = {"on": True}

    def before(conn, cursor, statement, parameters, context, executemany):
        if failing["on"] and statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            raise OperationalError(statement, parameters, Exception("connection lost"))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        response = client.post("/newsletter/", data={"email": "ruth@example.com"})
        assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30
        assert "We will be right back" in response.get_data(as_text=True)
        # The subscriber row was flushed before the failure; it was rolled back with it.
        assert _subscribers() == 0

        failing["on"] = False  # the database is back
        response = client.post("/newsletter/", data={"email": "ruth@example.com"})
        assert response.status_code in (302, 303)
        assert _subscribers() == 1
        [message] = mailbox.wait_for(1)
        assert "ruth@example.com" in message["To"]
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
