"""The mail server is down while a reader buys, books and signs up: everything is saved,
every email waits in the outbox, and once the server is back each arrives exactly once."""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from blueprints.booking import display
from blueprints.booking.models import Booking, BookingStatus
from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber
from blueprints.shop.models import Order, OrderStatus
from extensions import db
from tests.booking.conftest import form_data, free, types  # noqa: F401  (fixture)
from tests.conftest import Mailbox, free_port
from tests.shop.conftest import add_to_cart, checkout, make_vest
from tests.stripe_fake import make_event, post_event, stripe_config

MAIL_PORT = free_port()


@pytest.fixture
def app_config(httpserver):
    # Nothing listens on MAIL_PORT until the test starts its own server there.
    return {**stripe_config(httpserver), "MAIL_PORT": MAIL_PORT}


def _outbox():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_mail_server_down_loses_nothing_and_each_email_arrives_exactly_once(
    app,
    client,
    stripe_api,
    runner,
    types,  # noqa: F811
):
    # An order, paid through a signed webhook.
    vest = make_vest({"VEST-M-08": 2})
    add_to_cart(client, vest.variants[0])
    assert checkout(client).status_code == 303
    order = db.session.scalar(select(Order))
    session = stripe_api.pay(order.stripe_session_id, email="olive@example.com")
    assert post_event(client, make_event("checkout.session.completed", session)).status_code == 200

    # A booking, paid the same way.
    ctype = types["follow_up"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))
    booker = app.test_client()
    response = booker.post(
        f"/consultations/{ctype.slug}/book",
        data=form_data(display.slot_value(slot), email="gwen@example.com"),
    )
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    paid = stripe_api.pay(booking.stripe_session_id, email="gwen@example.com")
    paid["amount_total"] = booking.price_cents
    assert post_event(client, make_event("checkout.session.completed", paid)).status_code == 200

    # A newsletter signup.
    signup = app.test_client().post("/newsletter/", data={"email": "ruth@example.com"})
    assert signup.status_code == 303

    # Everything was saved although no email could be sent.
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PAID
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "ruth@example.com"))
    waiting = _outbox()
    assert len(waiting) >= 3 and all(m.status == OutboxStatus.QUEUED for m in waiting)
    assert all(m.attempts >= 1 for m in waiting)  # each was tried once, after its commit
    assert {"olive@example.com", "gwen@example.com", "ruth@example.com"} <= {
        m.to_address for m in waiting
    }

    # The server comes back; the retry delay has passed (as for the next cron runs).
    inbox = Mailbox()
    server = Controller(inbox, hostname="127.0.0.1", port=MAIL_PORT)
    server.start()
    try:
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        first = runner.invoke(args=["outbox", "send"])
        second = runner.invoke(args=["outbox", "send"])
        assert f"Sent {len(waiting)} message(s)." in first.output
        assert "Sent 0 message(s)." in second.output
        received = inbox.wait_for(len(waiting))
    finally:
        server.stop()

    assert len(received) == len(waiting)  # exactly once each: nothing doubled
    to = sorted(str(m["To"]) for m in received)
    for address in ("olive@example.com", "gwen@example.com", "ruth@example.com"):
        assert any(address in t for t in to), address
    assert all(m.status == OutboxStatus.SENT for m in _outbox())
    # Each message id arrived once.
    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == len(ids)
