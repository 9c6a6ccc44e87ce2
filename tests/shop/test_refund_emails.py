"""The refund email: staff's refund (after the confirmation) and one made on Stripe's
dashboard (reported by ``charge.refunded``) each email her once, saying how much went
back to her card, for which order, what remains paid, and whether program access ended."""

import re

import pytest
from sqlalchemy import func, select

from blueprints.core.models import OutboxMessage
from extensions import db
from tests.conftest import html_part, text_part
from tests.shop.conftest import make_program, make_vest, paid_order
from tests.stripe_fake import make_event, post_event


@pytest.fixture
def staff_client(client, auth):
    auth.login()
    return client


def _refund_emails(order):
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.subject.contains("refund"), OutboxMessage.to_address == order.email
        )
    )


def _refund_key(page):
    return re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)


def _staff_refund(staff_client, order, amount, times=1):
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    data = {"amount": amount, "request_key": _refund_key(page), "confirm": "yes"}
    return [staff_client.post(f"/admin/orders/{order.id}/refund", data=data) for _ in range(times)]


def test_a_partial_refund_emails_her_the_amount_the_order_and_what_remains_paid(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}, price_cents=10900))
    mailbox.wait_for(1)

    _staff_refund(staff_client, order, "25.00")

    refund = mailbox.wait_for(2)[-1]
    assert refund["To"] == "buyer@example.com"
    assert order.reference in refund["Subject"]
    text, html = text_part(refund), html_part(refund)
    for part in (text, html):
        assert "$25.00" in part and order.reference in part
        assert "card you paid with" in part
        assert f"${(order.total_cents - 2500) / 100:.2f}" in part  # what remains paid
        assert "program" not in part.lower()
    assert "You get this email because you ordered from Better Bones" in text
    assert "You get this email because you ordered from Better Bones" in html


def test_a_confirmation_sent_twice_emails_her_once(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    mailbox.wait_for(1)

    _staff_refund(staff_client, order, "12.50", times=2)

    assert _refund_emails(order) == 1


def test_a_full_refund_of_a_program_says_her_access_has_ended(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    mailbox.wait_for(1)

    _staff_refund(staff_client, order, "49.00")

    refund = mailbox.wait_for(2)[-1]
    for part in (text_part(refund), html_part(refund)):
        assert "$49.00" in part and "the whole order" in part
        assert "programs of this order are closed" in part


def test_a_refund_made_on_stripes_dashboard_emails_her_once(client, stripe_api, mailbox):
    order = paid_order(client, stripe_api, make_program(price_cents=9800))
    mailbox.wait_for(1)
    stripe_api.add_refund(f"pi_{order.stripe_session_id}", "re_dash", 1000)
    charge = {
        "id": f"ch_{order.id}",
        "object": "charge",
        "metadata": {"kind": "order", "id": str(order.id)},
    }

    post_event(client, make_event("charge.refunded", charge))
    post_event(client, make_event("charge.refunded", charge))  # a second event, same refund

    refund = mailbox.wait_for(2)[-1]
    assert "$10.00" in text_part(refund) and "$88.00" in text_part(refund)
    assert _refund_emails(order) == 1


def test_the_refund_confirmation_says_she_is_emailed(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)

    partial = staff_client.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": "10.00", "request_key": _refund_key(page)},
    ).get_data(as_text=True)
    full = staff_client.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": "49.00", "request_key": _refund_key(page)},
    ).get_data(as_text=True)

    assert "She is emailed to say so." in partial
    assert "access to its programs ends" not in partial
    assert "She is emailed to say so." in full and "access to its programs ends" in full
