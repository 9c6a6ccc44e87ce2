"""``flask stripe reconcile``: a dropped webhook is recovered from Stripe's session list,
for orders and bookings alike, exactly once."""

from datetime import timedelta

from sqlalchemy import select, update

from blueprints.booking import display
from blueprints.booking.models import Booking, BookingStatus
from blueprints.core.types import utcnow
from blueprints.shop.models import Order, OrderStatus, Variant
from extensions import db
from tests.booking.conftest import form_data, free, types  # noqa: F401  (fixture)
from tests.shop.conftest import add_to_cart, checkout, make_vest


def _order_and_booking(app, types):  # noqa: F811
    vest = make_vest({"VEST-M-08": 3})
    shopper = app.test_client()
    add_to_cart(shopper, vest.variants[0], 2)
    assert checkout(shopper).status_code == 303
    ctype = types["follow_up"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))
    response = app.test_client().post(
        f"/consultations/{ctype.slug}/book",
        data=form_data(display.slot_value(slot), email="gwen@example.com"),
    )
    assert response.status_code == 303
    return vest, db.session.scalar(select(Order)), db.session.scalar(select(Booking))


def test_reconcile_recovers_paid_order_and_booking_whose_webhooks_were_dropped_once(
    app,
    stripe_api,
    mailbox,
    runner,
    types,  # noqa: F811
):
    vest, order, booking = _order_and_booking(app, types)
    # Both customers pay; Stripe's webhooks never arrive (nothing is posted to us).
    stripe_api.pay(order.stripe_session_id, email="olive@example.com")
    stripe_api.pay(booking.stripe_session_id, email="gwen@example.com")
    stripe_api.sessions[booking.stripe_session_id]["amount_total"] = booking.price_cents

    result = runner.invoke(args=["stripe", "reconcile"])

    assert result.exit_code == 0, result.output
    assert "2 applied, 0 failed" in result.output
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    booking = db.session.get(Booking, booking.id)
    assert order.status == OrderStatus.PAID and order.email == "olive@example.com"
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_cents == booking.price_cents
    assert db.session.get(Variant, vest.variants[0].id).stock == 1  # taken once, not twice
    recipients = sorted(m["To"] for m in mailbox.wait_for(2))
    assert any("olive@example.com" in r for r in recipients)
    assert any("gwen@example.com" in r for r in recipients)
    sent = len(mailbox.messages)

    # Running it again (cron, next hour) changes nothing and sends nothing.
    again = runner.invoke(args=["stripe", "reconcile"])
    assert "0 applied, 0 failed" in again.output
    db.session.expire_all()
    assert [e.kind for e in db.session.get(Order, order.id).events].count("paid") == 1
    assert db.session.get(Variant, vest.variants[0].id).stock == 1
    assert len(mailbox.messages) == sent


def test_reconcile_releases_expired_checkouts_and_reports_old_pending(
    app,
    stripe_api,
    runner,
    types,  # noqa: F811
):
    vest, order, booking = _order_and_booking(app, types)
    stripe_api.sessions[order.stripe_session_id]["status"] = "expired"
    # A second order stays open at Stripe and has waited two hours.
    late_client = app.test_client()
    add_to_cart(late_client, vest.variants[0], 1)
    checkout(late_client)
    waiting = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    db.session.execute(
        update(Order).where(Order.id == waiting.id).values(created_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()

    result = runner.invoke(args=["stripe", "reconcile"])

    assert "1 applied" in result.output and "1 pending too long" in result.output
    assert f"Order {waiting.reference} pending since" in result.output
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.EXPIRED
    assert db.session.get(Booking, booking.id).status == BookingStatus.HELD  # still open
    assert db.session.get(Variant, vest.variants[0].id).stock == 2  # the expired 2 came back


def test_reconcile_lists_only_the_last_three_days_and_follows_pagination(app, stripe_api, runner):
    vest = make_vest({"VEST-M-08": 9})
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"  # five visitors, not one
        add_to_cart(client, vest.variants[0], 1)
        checkout(client)
    first = db.session.scalars(select(Order).order_by(Order.id)).first()
    stripe_api.sessions[first.stripe_session_id]["created"] -= 4 * 86400
    stripe_api.pay(first.stripe_session_id)

    result = runner.invoke(args=["stripe", "reconcile"])

    assert "Checked 4 session(s)" in result.output  # 4 recent ones, over 2 pages
    lists = [r for r in stripe_api.requests if r[0] == "GET"]
    assert len(lists) == 2
    db.session.expire_all()
    assert db.session.get(Order, first.id).status == OrderStatus.PENDING  # too old to list
