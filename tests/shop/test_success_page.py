"""The success page asks Stripe at most once every ten seconds per order, whoever
visits; private shop pages are never stored by a browser or a proxy."""

import re
from datetime import timedelta

from blueprints.core.types import utcnow
from blueprints.shop.models import OrderStatus
from extensions import db
from tests.conftest import text_part
from tests.shop.conftest import add_to_cart, checkout, latest_order, make_program, make_vest


def _asked_stripe(stripe_api, session_id):
    return sum(
        1
        for method, path, _form, _headers in stripe_api.requests
        if method == "GET" and path == f"/v1/checkout/sessions/{session_id}"
    )


def _pending_order(client):
    vest = make_vest({"VEST-M-08": 3})
    add_to_cart(client, vest.variants[0])
    assert checkout(client).status_code == 303
    return latest_order()


def test_the_success_page_asks_stripe_at_most_once_every_ten_seconds(app, client, stripe_api):
    order = _pending_order(client)
    url = f"/shop/success?session_id={order.stripe_session_id}"

    # Reloads, and new sessions each time (a script with no cookies): one call.
    pages = [client.get(url) for _ in range(4)] + [app.test_client().get(url) for _ in range(4)]
    assert client.get_cookie("bb_cart").value == "1"  # not paid yet: the cart still holds it

    assert all(page.status_code == 200 for page in pages)
    assert _asked_stripe(stripe_api, order.stripe_session_id) == 1
    waiting = pages[-1].get_data(as_text=True)
    assert "Checking" in waiting and re.search(r'http-equiv="refresh" content="\d+"', waiting)

    # Ten seconds on, the page asks again and finds the payment.
    order.stripe_checked_at = utcnow() - timedelta(seconds=11)
    db.session.commit()
    stripe_api.pay(order.stripe_session_id)
    paid = client.get(url).get_data(as_text=True)
    assert "Thank you for your order" in paid and 'http-equiv="refresh"' not in paid
    assert client.get_cookie("bb_cart") is None  # paid: the header's count is gone
    assert latest_order().status == OrderStatus.PAID
    assert _asked_stripe(stripe_api, order.stripe_session_id) == 2

    # Once paid, Stripe is never asked again.
    order = latest_order()
    order.stripe_checked_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert _asked_stripe(stripe_api, order.stripe_session_id) == 2


def _links(html, prefix):
    return [h for h in re.findall(r'href="([^"]+)"', html) if h.startswith(prefix)]


def test_private_shop_pages_are_never_stored(app, client, stripe_api, mailbox):
    program = make_program()
    add_to_cart(client, program.variants[0])
    private = ["/cart"]
    assert checkout(client).status_code == 303
    order = latest_order()
    stripe_api.pay(order.stripe_session_id)
    success = f"/shop/success?session_id={order.stripe_session_id}"
    private.append(success)
    [order_link] = _links(client.get(success).get_data(as_text=True), "/account/order/")
    private += [order_link, order_link + "/back-program/1", "/account/programs"]
    client.post("/account/programs", data={"email": "reader@example.com"})
    [everything] = re.findall(
        r"http://localhost(/account/programs/\S+)", text_part(mailbox.wait_for(2)[-1])
    )
    private += [everything, everything + "/back-program/1"]

    for url in private:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
