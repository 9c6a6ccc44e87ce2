"""``flask shop reconcile`` catches up with Stripe when webhooks were lost."""

from datetime import timedelta

from sqlalchemy import select, update

from blueprints.core.types import utcnow
from blueprints.shop.models import Order, OrderState, Variant
from extensions import db
from tests.shop.conftest import add_to_cart, checkout, make_vest


def _orders():
    db.session.expire_all()
    return db.session.scalars(select(Order).order_by(Order.id)).all()


def test_reconcile_fulfils_paid_and_expires_lapsed_checkouts(app, fake_stripe, mailbox, runner):
    vest = make_vest({"VEST-M-08": 5})
    for _ in range(3):
        client = app.test_client()
        add_to_cart(client, vest.variants[0], 1)
        checkout(client)
    paid, lapsed, recent = _orders()
    db.session.execute(
        update(Order)
        .where(Order.id.in_([paid.id, lapsed.id]))
        .values(created_at=utcnow() - timedelta(minutes=40))
    )
    db.session.commit()
    fake_stripe.pay(paid.stripe_session_id, email="late@example.com")
    fake_stripe.sessions[lapsed.stripe_session_id]["status"] = "expired"

    result = runner.invoke(args=["shop", "reconcile"])

    assert "Checked 2 pending order(s); 2 changed." in result.output
    paid, lapsed, recent = _orders()
    assert paid.state == OrderState.PAID and lapsed.state == OrderState.EXPIRED
    assert recent.state == OrderState.PENDING  # still inside its 30 minutes
    assert db.session.get(Variant, vest.variants[0].id).stock == 3
    assert mailbox.wait_for(1)[0]["To"] == "late@example.com"
    # Running it again changes nothing.
    assert "Checked 0 pending order(s)" in runner.invoke(args=["shop", "reconcile"]).output
