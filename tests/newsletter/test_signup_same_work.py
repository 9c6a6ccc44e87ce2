"""A signup does the same work whatever the address's state (issue 17, finding 7).

If the form answered a new address with writes and an email but a subscriber's with one
SELECT, anyone could tell members apart by timing it (14 ms against 98 ms). So every
state runs the same SQL statements, writes one outbox message, and gets the same answer.
The mail itself differs (a confirmation link, or a note that the address is already on
the list), and at most one goes to an address per day. No test here times anything:
they compare the work each request does.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db, limiter
from tests.conftest import html_part, text_part
from tests.factories import make_subscriber

CONFIRM_LINK = re.compile(r"http://localhost/newsletter/confirm/\S+")
UNSUBSCRIBE_LINK = re.compile(r"http://localhost/newsletter/unsubscribe/\S+")


# Rate-limit headers that count down with the clock, not with anything the request did.
CLOCK_HEADERS = {"Retry-After", "X-RateLimit-Reset"}


def _days_ago(days):
    return utcnow() - timedelta(days=days)


# The subscriber row before the signup (None: the address is new). "pending, emailed
# today" had its confirmation email within the day, so it is sent nothing more.
STATES = {
    "new": None,
    "pending": {"status": SubscriberStatus.PENDING, "confirm_sent_at": _days_ago(2)},
    "pending, emailed today": {
        "status": SubscriberStatus.PENDING,
        "confirm_sent_at": utcnow() - timedelta(hours=1),
    },
    "confirmed": {"status": SubscriberStatus.CONFIRMED},
    "paused": {
        "status": SubscriberStatus.CONFIRMED,
        "paused_until": utcnow() + timedelta(weeks=2),
    },
    "unsubscribed": {
        "status": SubscriberStatus.UNSUBSCRIBED,
        "unsubscribed_at": _days_ago(10),
        "confirm_sent_at": _days_ago(40),
    },
    "bounced": {"status": SubscriberStatus.BOUNCED, "bounced_at": _days_ago(10)},
}


def _address(state):
    return re.sub(r"\W+", "-", state) + "@example.com"


def _shape(statement):
    """What a statement does and to which table ("INSERT subscriber"), without values."""
    words = statement.replace('"', "").split()
    verb = words[0].upper()
    after = {"INSERT": "INTO", "SELECT": "FROM", "DELETE": "FROM"}.get(verb)
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if after and after in (w.upper() for w in words):
        upper = [w.upper() for w in words]
        return f"{verb} {words[upper.index(after) + 1]}"
    return verb


def _outbox_count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


def _without_token(body):
    return re.sub(rb'name="csrf_token" value="[^"]+"', b"", body)


def _cookie_without_value(header):
    """``session=<value>; HttpOnly; Path=/``: a Set-Cookie header, its value left out."""
    name, rest = header.split("=", 1)
    return f"{name}=<value>;{rest.split(';', 1)[1]}"


@pytest.fixture
def request_statements(app, count_queries):
    """``request_statements(post)``: the SQL a request runs until its response is ready,
    as shapes. Mail delivery after that point is not the request's work (and happens
    alike for every address that is sent a message)."""
    cut = []

    @app.after_request
    def _response_ready(response):  # registered last, so it runs first
        cut.append(len(counter.statements))
        return response

    def run(send):
        nonlocal counter
        cut.clear()
        with count_queries() as counter:
            response = send()
        return response, [_shape(s) for s in counter.statements[: cut[0]]]

    counter = None
    return run


def test_signup_does_the_same_work_whatever_the_address_state(client, mailbox, request_statements):
    for state, row in STATES.items():
        if row is not None:
            make_subscriber(_address(state), first_name="Kate", **row)

    seen = {}
    for state in STATES:
        limiter.reset()  # the same rate-limit headers for each request
        before = _outbox_count()
        response, statements = request_statements(
            lambda state=state: client.post(
                "/newsletter/", data={"email": _address(state), "first_name": "Someone"}
            )
        )
        # The session keeps the address typed (for "check your inbox" to show it once):
        # the cookie differs by that address alone, so compare what the session holds.
        address = _address(state)
        headers = sorted(
            (k, _cookie_without_value(v) if k == "Set-Cookie" else v)
            for k, v in response.headers
            if k not in CLOCK_HEADERS
        )
        with client.session_transaction() as kept:
            session = repr(sorted(kept.items())).replace(address, "ADDRESS")
        page = _without_token(client.get(response.location).data)
        seen[state] = {
            "status": response.status_code,
            "location": response.location,
            "headers": headers,
            "session": session,
            "body": _without_token(response.data),
            "page": page.replace(address.encode(), b"ADDRESS"),
            "statements": statements,
            "outbox messages": _outbox_count() - before,
        }

    new = seen["new"]
    assert new["status"] == 303 and new["location"] == "/newsletter/check-your-inbox"
    assert new["outbox messages"] == 1
    assert any(s.startswith("INSERT subscriber") for s in new["statements"])
    for state, answer in seen.items():
        for what, value in answer.items():
            assert value == new[what], f"{state}: {what} differs from a new address's"


def test_confirmed_reader_who_signs_up_again_is_told_so_and_nothing_changes(client, mailbox):
    kept = make_subscriber("kept@example.com", first_name="Kate")
    confirmed_at = kept.confirmed_at

    client.post("/newsletter/", data={"email": "Kept@Example.com", "first_name": "Other"})

    message = mailbox.wait_for(1)[0]
    assert str(message["To"]) == "kept@example.com"
    assert "already" in str(message["Subject"])
    for body in (text_part(message), html_part(message)):
        assert "already on the list" in body
        assert "Dear Kate" in body
        assert not CONFIRM_LINK.search(body)
        assert UNSUBSCRIBE_LINK.search(body)  # so a reader who forgot can leave
    db.session.expire_all()
    kept = db.session.scalar(sa.select(Subscriber).filter_by(email="kept@example.com"))
    assert kept.status == SubscriberStatus.CONFIRMED
    assert kept.first_name == "Kate"
    assert kept.confirmed_at == confirmed_at
    assert kept.confirm_token_hash is None


def test_repeated_signups_send_one_email_a_day_to_each_address_whatever_its_state(client, mailbox):
    make_subscriber("kept@example.com")
    make_subscriber("left@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    addresses = ["new@example.com", "kept@example.com", "left@example.com"]

    for _ in range(3):
        for address in addresses:
            limiter.reset()  # the per-client limit is not what is tested here
            assert client.post("/newsletter/", data={"email": address}).status_code == 303

    mailbox.wait_for(3)
    assert sorted(str(m["To"]) for m in mailbox.messages) == sorted(addresses)
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    for address in addresses:
        mine = [m for m in rows if m.to_address == address]
        assert len(mine) == 3  # every signup wrote its message, sent or not
        assert [m.status for m in mine[1:]] == [OutboxStatus.FAILED] * 2
        assert all("one a day" in m.last_error and m.sent_at is None for m in mine[1:])
