"""``flask stripe reconcile`` catches up with Stripe when an order's webhooks were lost:
the paid one fulfilled, the lapsed one expired, the open one left alone, once."""

from blueprints.shop.models import OrderStatus, Variant
from extensions import db
from tests.shop.conftest import add_to_cart, all_orders, checkout, make_vest


def test_reconcile_fulfils_paid_and_expires_lapsed_checkouts(app, stripe_api, mailbox, runner):
    vest = make_vest({"VEST-M-08": 5})
    for _ in range(3):
        client = app.test_client()
        add_to_cart(client, vest.variants[0], 1)
        checkout(client)
    paid, lapsed, recent = all_orders()
    stripe_api.pay(paid.stripe_session_id, email="late@example.com")
    stripe_api.sessions[lapsed.stripe_session_id]["status"] = "expired"

    result = runner.invoke(args=["stripe", "reconcile"])

    assert "Checked 3 session(s): 2 applied, 0 failed" in result.output, result.output
    paid, lapsed, recent = all_orders()
    assert paid.status == OrderStatus.PAID and lapsed.status == OrderStatus.EXPIRED
    assert recent.status == OrderStatus.PENDING  # still open at Stripe
    assert db.session.get(Variant, vest.variants[0].id).stock == 3
    assert mailbox.wait_for(1)[0]["To"] == "late@example.com"
    # Running it again changes nothing.
    assert "0 applied, 0 failed" in runner.invoke(args=["stripe", "reconcile"]).output
    assert [o.status for o in all_orders()] == [
        OrderStatus.PAID,
        OrderStatus.EXPIRED,
        OrderStatus.PENDING,
    ]
