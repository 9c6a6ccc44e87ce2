"""Signed webhooks fulfil an order exactly once, in any order, and refuse forgeries."""

import json
import threading
import time

import pytest
from sqlalchemy import func, select

from blueprints.core.models import OutboxMessage, StripeEvent
from blueprints.shop.models import (
    OrderEvent,
    OrderStatus,
    ProgramAccess,
    Refund,
    Variant,
)
from extensions import db
from tests.conftest import text_part
from tests.shop.conftest import (
    add_to_cart,
    checkout,
    latest_order,
    make_program,
    make_vest,
    paid_order,
)
from tests.stripe_fake import make_event, post_event, sign


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _stock(variant_id):
    db.session.expire_all()
    return db.session.get(Variant, variant_id).stock


def _pending_vest_order(client, stock=3, quantity=1):
    vest = make_vest({"VEST-M-08": stock})
    add_to_cart(client, vest.variants[0], quantity)
    assert checkout(client).status_code == 303
    return latest_order(), vest.variants[0]


def _completed(stripe_api, order, **pay):
    session = stripe_api.pay(order.stripe_session_id, **pay)
    return make_event("checkout.session.completed", dict(session))


# --- signatures ---------------------------------------------------------------------


def _raw_post(client, payload, header):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(
        "/stripe/webhook",
        data=payload,
        headers=headers,
        content_type="application/json",
        csrf=False,
    )


@pytest.mark.parametrize("case", ["forged", "missing", "one_byte", "stale", "other_secret"])
def test_bad_signatures_answer_400_and_write_nothing(client, stripe_api, mailbox, case):
    order, variant = _pending_vest_order(client)
    payload = json.dumps(_completed(stripe_api, order)).encode()
    header = sign(payload)
    if case == "forged":
        header = "t={},v1={}".format(int(time.time()), "0" * 64)
    elif case == "missing":
        header = None
    elif case == "one_byte":
        payload = payload.replace(b'"paid"', b'"paix"', 1)
    elif case == "stale":
        header = sign(payload, timestamp=int(time.time()) - 301)
    elif case == "other_secret":
        header = sign(payload, secret="whsec_someone_else")

    response = _raw_post(client, payload, header)

    assert response.status_code == 400
    assert _count(StripeEvent) == 0
    assert latest_order().status == OrderStatus.PENDING
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 0
    assert _count(OutboxMessage) == 0


def test_a_good_signature_fulfils_the_order_and_emails_the_customer(client, stripe_api, mailbox):
    order, variant = _pending_vest_order(client, stock=3, quantity=2)
    response = post_event(client, _completed(stripe_api, order, email="ann@example.com"))

    assert response.status_code == 200
    order = latest_order()
    assert order.status == OrderStatus.PAID  # a vest: paid, to ship
    assert order.email == "ann@example.com"
    assert order.stripe_payment_intent_id == f"pi_{order.stripe_session_id}"
    assert "1 Main St" in order.shipping_address
    assert _stock(variant.id) == 1
    [message] = mailbox.wait_for(1)
    assert message["To"] == "ann@example.com"
    body = text_part(message)
    assert order.reference in body and "Weighted Vest (Size M, 8 lb) x 2" in body
    assert "$218.00" in body and "tracking number" in body
    # The cart the order came from is emptied.
    assert "Your cart is empty" in client.get("/cart").get_data(as_text=True)


def test_unknown_event_types_get_200_and_change_nothing(client, stripe_api):
    order, _variant = _pending_vest_order(client)
    event = make_event("invoice.paid", {"id": "in_1", "metadata": {"kind": "order"}})
    assert post_event(client, event).status_code == 200
    assert latest_order().status == OrderStatus.PENDING


# --- exactly once ---------------------------------------------------------------------


def test_the_same_event_five_times_fulfils_once(client, stripe_api, mailbox):
    order, variant = _pending_vest_order(client, stock=3)
    event = _completed(stripe_api, order)
    answers = [post_event(client, event).status_code for _ in range(5)]

    assert answers == [200] * 5
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 1
    assert _stock(variant.id) == 2  # one decrement: the hold at checkout
    assert len(mailbox.wait_for(1)) == 1
    time.sleep(0.3)
    assert len(mailbox.messages) == 1
    assert _count(OutboxMessage) == 1


def _post_at_once(app, events):
    barrier = threading.Barrier(len(events))
    statuses = []

    def deliver(event):
        client = app.test_client()
        barrier.wait()
        statuses.append(post_event(client, event).status_code)

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_the_same_event_ten_times_at_once_fulfils_once(app, client, stripe_api, mailbox):
    order, variant = _pending_vest_order(client, stock=3)
    event = _completed(stripe_api, order)

    statuses = _post_at_once(app, [event] * 10)

    assert sorted(statuses) == [200] * 10
    assert latest_order().status == OrderStatus.PAID
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 1
    assert _count(StripeEvent) == 1
    assert _stock(variant.id) == 2
    mailbox.wait_for(1)
    time.sleep(0.3)
    assert len(mailbox.messages) == 1


def test_different_events_and_the_success_page_at_once_fulfil_once(
    app, client, stripe_api, mailbox
):
    order, variant = _pending_vest_order(client, stock=3)
    session = stripe_api.pay(order.stripe_session_id)
    events = [make_event("checkout.session.completed", dict(session)) for _ in range(6)]
    events += [make_event("checkout.session.async_payment_succeeded", dict(session))] * 2

    statuses = _post_at_once(app, events)
    page = client.get(f"/shop/success?session_id={order.stripe_session_id}")

    assert set(statuses) == {200}
    assert "Thank you for your order" in page.get_data(as_text=True)
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 1
    assert _stock(variant.id) == 2
    mailbox.wait_for(1)
    time.sleep(0.3)
    assert len(mailbox.messages) == 1


def test_success_page_fulfils_when_the_webhook_is_late(client, stripe_api, mailbox):
    order, _variant = _pending_vest_order(client)
    stripe_api.pay(order.stripe_session_id)
    page = client.get(f"/shop/success?session_id={order.stripe_session_id}")
    assert page.status_code == 200
    assert latest_order().status == OrderStatus.PAID
    assert len(mailbox.wait_for(1)) == 1
    # The webhook arriving afterwards changes nothing.
    post_event(
        client,
        make_event("checkout.session.completed", stripe_api.sessions[order.stripe_session_id]),
    )
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 1


def test_success_page_for_an_unknown_session_is_404(client, stripe_api):
    assert client.get("/shop/success?session_id=cs_test_unknown").status_code == 404
    assert client.get("/shop/success").status_code == 404


def test_success_page_never_trusts_an_unpaid_session(client, stripe_api, mailbox):
    order, _variant = _pending_vest_order(client)
    page = client.get(f"/shop/success?session_id={order.stripe_session_id}")
    assert "confirming your payment" in page.get_data(as_text=True)
    assert latest_order().status == OrderStatus.PENDING


# --- out of order -----------------------------------------------------------------------


def _final_state(client, stripe_api, event_types):
    order, variant = _pending_vest_order(client, stock=3)
    session = stripe_api.sessions[order.stripe_session_id]
    for event_type in event_types:
        if event_type == "checkout.session.completed(unpaid)":
            event = make_event("checkout.session.completed", dict(session))
        else:
            stripe_api.pay(order.stripe_session_id)
            event = make_event(event_type, dict(session))
        assert post_event(client, event).status_code == 200
    order = latest_order()
    return (
        order.status,
        _stock(variant.id),
        [e.kind for e in order.events if e.kind in ("paid", "expired", "cancelled")],
    )


@pytest.mark.parametrize(
    "event_types",
    [
        ["checkout.session.completed(unpaid)", "checkout.session.async_payment_succeeded"],
        ["checkout.session.async_payment_succeeded", "checkout.session.completed(unpaid)"],
        ["checkout.session.completed", "checkout.session.async_payment_succeeded"],
        ["checkout.session.async_payment_succeeded", "checkout.session.completed"],
    ],
    ids=["in-order", "reversed", "paid-then-async", "async-then-paid"],
)
def test_payment_events_in_any_order_end_in_the_same_state(
    client, stripe_api, mailbox, event_types
):
    # In order or not, the end is the same: paid once, one hold, one email.
    assert _final_state(client, stripe_api, event_types) == (OrderStatus.PAID, 2, ["paid"])
    assert len(mailbox.wait_for(1)) == 1


def test_refund_overtaking_the_payment_event_ends_the_same(client, stripe_api, mailbox):
    program = make_program(price_cents=4900)
    add_to_cart(client, program.variants[0])
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id)
    charge = _charge(stripe_api, order, refunds=[("re_1", 4900)])

    post_event(client, make_event("charge.refunded", charge))
    post_event(client, make_event("checkout.session.completed", dict(session)))

    order = latest_order()
    assert order.status == OrderStatus.REFUNDED and order.refunded_cents == 4900
    assert _count(OrderEvent, OrderEvent.kind == "paid") == 1
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 0


def test_expired_releases_stock_once(client, stripe_api):
    order, variant = _pending_vest_order(client, stock=3, quantity=2)
    assert _stock(variant.id) == 1
    session = dict(stripe_api.sessions[order.stripe_session_id], status="expired")
    for _ in range(3):  # distinct event ids: only the state change guards the release
        assert (
            post_event(client, make_event("checkout.session.expired", session)).status_code == 200
        )
    assert latest_order().status == OrderStatus.EXPIRED
    assert _stock(variant.id) == 3
    assert _count(OrderEvent, OrderEvent.kind == "expired") == 1


def test_async_payment_failed_cancels_and_releases_stock(client, stripe_api):
    order, variant = _pending_vest_order(client, stock=3)
    session = stripe_api.sessions[order.stripe_session_id]
    post_event(client, make_event("checkout.session.async_payment_failed", dict(session)))
    assert latest_order().status == OrderStatus.CANCELLED and _stock(variant.id) == 3


def test_paid_after_expiry_is_kept_and_flagged_for_staff(client, stripe_api, mailbox):
    order, variant = _pending_vest_order(client, stock=1)
    session = stripe_api.sessions[order.stripe_session_id]
    post_event(client, make_event("checkout.session.expired", dict(session, status="expired")))
    variant_row = db.session.get(Variant, variant.id)
    variant_row.stock = 0  # the released vest sold to someone else meanwhile
    db.session.commit()

    post_event(client, _completed(stripe_api, order))

    order = latest_order()
    assert order.status == OrderStatus.PAID and order.needs_attention
    flagged = [e for e in order.events if e.kind == "flagged"]
    assert len(flagged) == 1 and "VEST-M-08" in flagged[0].message
    assert _stock(variant.id) == 0  # never below zero
    assert len(mailbox.wait_for(1)) == 1  # the customer still hears from us


def test_amount_mismatch_is_flagged_not_fulfilled(client, stripe_api, mailbox):
    order, _variant = _pending_vest_order(client)
    post_event(client, _completed(stripe_api, order, amount_total=100))
    order = latest_order()
    assert order.status == OrderStatus.PENDING and order.needs_attention
    assert [e.kind for e in order.events][-1] == "amount_mismatch"
    assert _count(OutboxMessage) == 0


def test_a_failing_handler_answers_500_and_keeps_nothing(client, stripe_api):
    order, _variant = _pending_vest_order(client)
    stripe_api.pay(order.stripe_session_id)
    event = make_event("checkout.session.completed", stripe_api.sessions[order.stripe_session_id])
    stripe_api.fail_with = (500, "down")  # retrieving the session fails

    assert post_event(client, event).status_code == 500
    assert _count(StripeEvent) == 0  # so Stripe's retry is processed
    assert latest_order().status == OrderStatus.PENDING

    stripe_api.fail_with = None
    assert post_event(client, event).status_code == 200
    assert latest_order().status == OrderStatus.PAID


# --- refunds ----------------------------------------------------------------------------


def _charge(stripe_api, order, refunds):
    """A ``charge.refunded`` body listing ``refunds``, which Stripe has too."""
    for refund_id, amount in refunds:
        if refund_id not in stripe_api.refunds:
            stripe_api.add_refund(f"pi_{order.stripe_session_id}", refund_id, amount)
    return {
        "id": f"ch_{order.id}",
        "object": "charge",
        "amount": order.total_cents,
        "amount_refunded": sum(a for _i, a in refunds),
        "currency": "usd",
        "payment_intent": f"pi_{order.stripe_session_id}",
        "metadata": {"kind": "order", "id": str(order.id)},
        "refunds": {
            "object": "list",
            "data": [
                {"id": i, "object": "refund", "amount": a, "currency": "usd", "status": "succeeded"}
                for i, a in refunds
            ],
        },
    }


def _paid_program_order(client, stripe_api):
    # A program is bought once (one reader): the order's $98.00 is one program.
    program = make_program(price_cents=9800)
    return paid_order(client, stripe_api, program, email="reader@example.com")


def test_program_order_is_fulfilled_with_access_at_once(client, stripe_api, mailbox):
    order = _paid_program_order(client, stripe_api)
    assert order.status == OrderStatus.FULFILLED
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 1
    body = text_part(mailbox.wait_for(1)[0])
    assert "/account/order/" in body  # the order's own link (issue 17, finding 1)


def test_each_refund_is_recorded_once_and_a_full_refund_revokes_access(client, stripe_api):
    order = _paid_program_order(client, stripe_api)
    partial = make_event("charge.refunded", _charge(stripe_api, order, [("re_a", 1000)]))
    post_event(client, partial)
    post_event(client, partial)
    order = latest_order()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_cents == 1000
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 1

    # Stripe's next event lists both refunds; the first must not count twice.
    post_event(
        client,
        make_event("charge.refunded", _charge(stripe_api, order, [("re_b", 8800), ("re_a", 1000)])),
    )

    order = latest_order()
    assert order.status == OrderStatus.REFUNDED and order.refunded_cents == 9800
    assert _count(Refund) == 2
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 0
    assert any(e.kind == "access_revoked" for e in order.events)


def test_a_signed_refund_event_stripe_does_not_confirm_revokes_nothing(client, stripe_api):
    # The body claims a full refund; Stripe has none. Only Stripe's own records count.
    order = _paid_program_order(client, stripe_api)
    forged = _charge(stripe_api, order, [])
    forged["amount_refunded"] = order.total_cents
    forged["refunded"] = True
    forged["refunds"]["data"] = [
        {
            "id": "re_forged",
            "object": "refund",
            "amount": order.total_cents,
            "currency": "usd",
            "status": "succeeded",
        }
    ]

    post_event(client, make_event("charge.refunded", forged))

    order = latest_order()
    assert order.status == OrderStatus.FULFILLED and order.refunded_cents == 0
    assert _count(Refund) == 0
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 1
    assert not any(e.kind in ("refunded", "access_revoked") for e in order.events)
    assert any(r[:2] == ("GET", "/v1/refunds") for r in stripe_api.requests)


def test_a_refund_event_counts_only_refunds_of_the_orders_own_payment(client, stripe_api):
    # A real refund of another payment, named in this order's event, changes nothing.
    order = _paid_program_order(client, stripe_api)
    stripe_api.add_refund("pi_someone_else", "re_other", order.total_cents)
    charge = _charge(stripe_api, order, [])
    charge["refunds"]["data"] = [dict(stripe_api.refunds["re_other"])]

    post_event(client, make_event("charge.refunded", charge))

    assert latest_order().status == OrderStatus.FULFILLED
    assert _count(ProgramAccess, ProgramAccess.revoked_at.is_(None)) == 1
