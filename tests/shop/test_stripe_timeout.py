"""A Stripe that answers too slowly at checkout: the customer is told, stock comes back."""

from sqlalchemy import select

from blueprints.shop.models import Order, OrderStatus, Variant
from extensions import db
from tests.shop.conftest import add_to_cart, checkout, make_vest


def test_slow_stripe_times_out_with_a_message_and_releases_stock_at_once(
    app, client, stalled_stripe
):
    app.config.update(STRIPE_TIMEOUT_SECONDS=0.3, STRIPE_MAX_NETWORK_RETRIES=0)
    vest = make_vest({"VEST-M-08": 1})
    add_to_cart(client, vest.variants[0])

    response = checkout(client)

    assert not stalled_stripe.is_set()  # our client gave up; Stripe never answered
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "could not reach our payment provider" in page and "nothing was charged" in page
    db.session.expire_all()
    [order] = db.session.scalars(select(Order)).all()
    assert order.status == OrderStatus.CANCELLED
    assert db.session.get(Variant, vest.variants[0].id).stock == 1
    # The last vest can be bought by the next person straight away.
    assert "Weighted Vest" in client.get("/cart").get_data(as_text=True)
