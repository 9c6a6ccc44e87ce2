"""Refunds by role: an assistant refunds up to ASSISTANT_REFUND_LIMIT_CENTS of an order in
all, refused above it in the service and on the page (403, Stripe never asked); the
owner refunds any amount. Each refund and shipment is in the audit log under its actor."""

import re

import pytest
from sqlalchemy import select

from blueprints.account.roles import NotAllowed
from blueprints.core.models import AuditEntry
from blueprints.shop.models import Order
from blueprints.shop.refunds import refund_order
from extensions import db
from tests.conftest import (
    ASSISTANT_EMAIL,
    ASSISTANT_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    signed_in_client,
)
from tests.shop.conftest import make_program, make_vest, paid_order

pytestmark = pytest.mark.usefixtures("each_request_loads_its_own_user")


def _refund_requests(stripe_api):
    return [r for r in stripe_api.requests if r[1] == "/v1/refunds"]


def _refund_key(page):
    return re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)


def _order(order_id):
    db.session.expire_all()
    return db.session.get(Order, order_id)


def test_an_assistant_refund_above_the_limit_is_refused_by_the_service(
    app, client, assistant, stripe_api, mailbox
):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    with pytest.raises(NotAllowed, match=r"up to \$100\.00"):
        refund_order(order, 10001, "key-1", assistant)
    db.session.rollback()
    assert not _refund_requests(stripe_api)
    assert _order(order.id).refunded_cents == 0


def test_an_assistant_refund_above_the_limit_is_a_403_and_stripe_is_never_asked(
    app, client, assistant, stripe_api, mailbox
):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    response = amy.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "109.00", "request_key": "k1"}
    )
    assert response.status_code == 403
    assert "An assistant can refund up to $100.00" in response.get_data(as_text=True)
    assert not _refund_requests(stripe_api)
    assert _order(order.id).refunded_cents == 0
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_an_assistant_refunds_below_the_limit_and_then_no_more_than_the_rest(
    app, client, assistant, stripe_api, mailbox
):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    page = amy.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "As an assistant you can refund up to $100.00" in page
    assert 'value="100.00"' in page  # the form offers what she may refund, not $109

    first = amy.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": "60.00", "request_key": _refund_key(page), "confirm": "yes"},
    )
    assert first.status_code == 303
    assert _order(order.id).refunded_cents == 6000
    # $60 + $45 is over $100 in all: refused, whoever made the first refund.
    over = amy.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "45.00", "request_key": "k2"}
    )
    assert over.status_code == 403
    assert len(_refund_requests(stripe_api)) == 1

    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.action, entry.record_type, entry.record_id) == (
        assistant.id,
        "order.refund",
        "order",
        order.id,
    )
    assert entry.detail["amount_cents"] == 6000


def test_the_refund_form_is_hidden_from_an_assistant_past_her_limit(
    app, client, assistant, stripe_api, mailbox
):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    page = amy.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    amy.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": "100.00", "request_key": _refund_key(page), "confirm": "yes"},
    )
    page = amy.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Refund through Stripe" not in page
    assert "Please ask the owner" in page


def test_the_owner_refunds_above_the_assistant_limit(app, client, staff_user, stripe_api, mailbox):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    owner = signed_in_client(app, STAFF_EMAIL, STAFF_PASSWORD)
    page = owner.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "As an assistant" not in page
    response = owner.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": "109.00", "request_key": _refund_key(page), "confirm": "yes"},
    )
    assert response.status_code == 303
    assert _order(order.id).refunded_cents == 10900
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.action) == (staff_user.id, "order.refund")


def test_the_limit_is_a_setting(app, client, assistant, stripe_api, mailbox):
    app.config["ASSISTANT_REFUND_LIMIT_CENTS"] = 20000
    order = paid_order(client, stripe_api, make_program(price_cents=15000))
    refund_order(order, 15000, "key-1", assistant)
    db.session.commit()
    assert _order(order.id).refunded_cents == 15000


def test_shipping_and_clearing_a_flag_are_audited_under_the_staff_member(
    app, client, assistant, stripe_api, mailbox
):
    order = paid_order(client, stripe_api, make_vest({"VEST-M-08": 3}))
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    amy.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": "1Z999AA10123456784"})
    order = _order(order.id)
    order.needs_attention = True
    db.session.commit()
    amy.post(f"/admin/orders/{order.id}/checked", data={})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.record_id) for e in entries] == [
        (assistant.id, "order.ship", order.id),
        (assistant.id, "order.clear_flag", order.id),
    ]
    assert entries[0].detail == {"tracking_number": "1Z999AA10123456784"}
    assert order.events[-2].actor == ASSISTANT_EMAIL  # the order's own log names her too
