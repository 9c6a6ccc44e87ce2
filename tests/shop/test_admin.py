"""Staff shop pages: orders by state, the event log, shipping and refunds, products."""

import re

import pytest
from sqlalchemy import func, select

from blueprints.core.models import AuditEntry, OutboxMessage
from blueprints.shop.models import Order, OrderStatus, Product, Variant
from extensions import db
from tests.conftest import text_part
from tests.shop.conftest import make_program, make_vest, paid_order


@pytest.fixture
def staff_client(client, auth):
    auth.login()
    return client


def test_shop_admin_pages_are_for_staff_only(client):
    for url in ("/admin/orders", "/admin/products", "/admin/products/new"):
        response = client.get(url)
        assert response.status_code in (302, 303)
        assert "/admin/login" in response.headers["Location"]


def test_orders_are_filtered_by_state(staff_client, stripe_api, mailbox):
    vest_order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    program_order = paid_order(staff_client, stripe_api, make_program())

    to_ship = staff_client.get("/admin/orders?state=to_ship").get_data(as_text=True)
    fulfilled = staff_client.get("/admin/orders?state=fulfilled").get_data(as_text=True)
    everything = staff_client.get("/admin/orders?state=all").get_data(as_text=True)

    assert vest_order.reference in to_ship and program_order.reference not in to_ship
    assert program_order.reference in fulfilled and vest_order.reference not in fulfilled
    assert vest_order.reference in everything and program_order.reference in everything


def test_marking_shipped_records_an_event_and_emails_the_tracking_number(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    mailbox.wait_for(1)
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Mark shipped" in page and "created" in page and "paid" in page

    response = staff_client.post(
        f"/admin/orders/{order.id}/ship", data={"tracking_number": "1Z999AA10123456784"}
    )

    assert response.status_code == 303
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.SHIPPED and order.tracking_number == "1Z999AA10123456784"
    assert (
        order.events[-1].kind == "shipped" and order.events[-1].actor == "staff@betterbones.example"
    )
    shipped = mailbox.wait_for(2)[-1]
    assert shipped["To"] == "buyer@example.com"
    assert "1Z999AA10123456784" in text_part(shipped)
    # Shipping twice is refused.
    again = staff_client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": "X"})
    assert again.status_code in (400, 409)


def test_shipping_without_a_tracking_number_is_refused(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    response = staff_client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": ""})
    assert response.status_code == 400
    assert "Enter the tracking number." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PAID


def _outbox_count():
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def _shipped_order(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    staff_client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": "1Z999AA1"})
    mailbox.wait_for(2)
    return order


def test_staff_correct_a_tracking_number_audited_and_without_emailing_her(
    staff_client, stripe_api, mailbox
):
    order = _shipped_order(staff_client, stripe_api, mailbox)
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert f'action="/admin/orders/{order.id}/tracking"' in page
    assert 'name="email_customer"' in page and "Email her the corrected number" in page
    emails_before = _outbox_count()

    response = staff_client.post(
        f"/admin/orders/{order.id}/tracking", data={"tracking_number": " 1Z999AA10123456784 "}
    )

    assert response.status_code == 303
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.SHIPPED and order.tracking_number == "1Z999AA10123456784"
    assert order.events[-1].kind == "tracking_corrected"
    assert "1Z999AA1 to 1Z999AA10123456784" in order.events[-1].message
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "order.tracking")
    ).all()
    assert entry.record_id == order.id
    assert entry.detail == {
        "old": "1Z999AA1",
        "tracking_number": "1Z999AA10123456784",
        "emailed": False,
    }
    assert _outbox_count() == emails_before  # not emailed again
    assert "not emailed" in staff_client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_corrected_tracking_number_is_emailed_when_staff_tick_the_box(
    staff_client, stripe_api, mailbox
):
    order = _shipped_order(staff_client, stripe_api, mailbox)

    staff_client.post(
        f"/admin/orders/{order.id}/tracking",
        data={"tracking_number": "1Z999AA10123456784", "email_customer": "y"},
    )

    corrected = mailbox.wait_for(3)[-1]
    assert corrected["To"] == "buyer@example.com"
    assert corrected["Subject"].startswith("The corrected tracking number")
    text = text_part(corrected)
    assert "1Z999AA10123456784" in text and "1Z999AA1\r" not in text
    assert "tLabels=1Z999AA10123456784" in text


def test_a_tracking_number_is_corrected_only_on_a_shipped_order_and_never_blank(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    not_shipped = staff_client.post(
        f"/admin/orders/{order.id}/tracking", data={"tracking_number": "1Z999AA10123456784"}
    )
    assert not_shipped.status_code == 409
    assert "Only a shipped order" in not_shipped.get_data(as_text=True)

    staff_client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": "1Z999AA1"})
    blank = staff_client.post(f"/admin/orders/{order.id}/tracking", data={"tracking_number": " "})
    same = staff_client.post(
        f"/admin/orders/{order.id}/tracking", data={"tracking_number": "1Z999AA1"}
    )

    assert blank.status_code == 400 and "Enter the tracking number." in blank.get_data(as_text=True)
    assert same.status_code == 409
    db.session.expire_all()
    assert db.session.get(Order, order.id).tracking_number == "1Z999AA1"
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "order.tracking")
    ).all()


def _refund_key(page):
    return re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)


def test_partial_then_full_refund_goes_through_stripe_with_idempotency_keys(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    key = _refund_key(page)

    asked = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "10.00", "request_key": key}
    )
    assert asked.status_code == 200 and not [
        r for r in stripe_api.requests if r[1] == "/v1/refunds"
    ]
    confirmed = {"amount": "10.00", "request_key": key, "confirm": "yes"}
    first = staff_client.post(f"/admin/orders/{order.id}/refund", data=confirmed)
    # A double click sends the same form again: Stripe sees the same key.
    staff_client.post(f"/admin/orders/{order.id}/refund", data=confirmed)

    assert first.status_code == 303
    refund_calls = [r for r in stripe_api.requests if r[1] == "/v1/refunds"]
    assert [c[2]["amount"] for c in refund_calls][0] == "1000"
    assert refund_calls[0][2]["payment_intent"] == order.stripe_payment_intent_id
    assert refund_calls[0][3]["Idempotency-Key"] == f"order-{order.id}-refund-{key}"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert order.refunded_cents == 1000 and len(order.refunds) == 1

    rest = order.refundable_cents
    page = staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    staff_client.post(
        f"/admin/orders/{order.id}/refund",
        data={"amount": f"{rest / 100:.2f}", "request_key": _refund_key(page), "confirm": "yes"},
    )
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.REFUNDED and order.refunded_cents == 4900
    assert "access_revoked" in [e.kind for e in order.events]


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "49.001", "1000"])
def test_bad_refund_amounts_are_refused_without_calling_stripe(
    staff_client, stripe_api, mailbox, amount
):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    response = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": amount, "request_key": "k1"}
    )
    assert response.status_code in (400, 409)
    assert not [r for r in stripe_api.requests if r[1] == "/v1/refunds"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).refunded_cents == 0


def test_staff_change_price_and_stock(staff_client):
    vest = make_vest({"VEST-M-08": 3})
    variant = vest.variants[0]
    response = staff_client.post(
        f"/admin/variants/{variant.id}",
        data={
            "sku": "VEST-M-08",
            "name": "Size M, 8 lb",
            "price": "99.50",
            "stock": "7",
            "active": "y",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    variant = db.session.get(Variant, variant.id)
    assert (variant.price_cents, variant.stock) == (9950, 7)
    assert "$99.50" in staff_client.get("/shop/weighted-vest").get_data(as_text=True)


def test_negative_stock_and_zero_price_are_refused(staff_client):
    vest = make_vest({"VEST-M-08": 3})
    variant = vest.variants[0]
    response = staff_client.post(
        f"/admin/variants/{variant.id}",
        data={"sku": "VEST-M-08", "name": "M", "price": "0", "stock": "-1", "active": "y"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Variant, variant.id).stock == 3


def test_staff_add_a_product_and_an_option(staff_client):
    response = staff_client.post(
        "/admin/products/new",
        data={
            "name": "Balance Class",
            "slug": "balance-class",
            "kind": "program",
            "summary": "Six lessons.",
            "description_md": "**Steady** feet.",
            "image_path": "",
            "image_alt": "",
            "position": "4",
            "active": "y",
        },
    )
    assert response.status_code == 303
    product = db.session.scalar(select(Product).where(Product.slug == "balance-class"))
    assert product.description_html == "<p><strong>Steady</strong> feet.</p>\n"
    staff_client.post(
        f"/admin/products/{product.id}/variants",
        data={"sku": "PRG-BAL", "name": "Online", "price": "19", "stock": "", "active": "y"},
    )
    db.session.expire_all()
    [variant] = db.session.get(Product, product.id).variants
    assert (variant.price_cents, variant.stock) == (1900, None)
    assert "Balance Class" in staff_client.get("/shop/").get_data(as_text=True)


def test_staff_clear_a_flag_and_the_log_keeps_it(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))
    order.needs_attention = True
    db.session.commit()
    assert "Needs attention" in staff_client.get("/admin/orders?state=attention").get_data(
        as_text=True
    )
    response = staff_client.post(f"/admin/orders/{order.id}/checked", data={})
    assert response.status_code == 303
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert not order.needs_attention
    assert order.events[-1].kind == "checked"


def test_order_events_cannot_be_edited_or_deleted(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program())
    event = order.events[0]
    event.message = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValueError, match="append-only"):
        db.session.delete(db.session.get(type(event), event.id))
        db.session.flush()
    db.session.rollback()


def test_a_sku_or_address_in_use_is_a_form_error_and_nothing_changes(staff_client):
    vest = make_vest({"VEST-M-08": 3, "VEST-L-08": 2})
    program = make_program()
    first, second = vest.variants

    taken_sku = staff_client.post(
        f"/admin/variants/{second.id}",
        data={"sku": first.sku, "name": "L", "price": "99.00", "stock": "2", "active": "y"},
    )
    taken_slug = staff_client.post(
        f"/admin/products/{program.id}",
        data={
            "name": program.name,
            "slug": vest.slug,
            "kind": "program",
            "summary": "",
            "description_md": "",
            "image_path": "",
            "image_alt": "",
            "position": "0",
            "active": "y",
        },
    )

    assert taken_sku.status_code == 400
    assert "Another variant already uses this SKU." in taken_sku.get_data(as_text=True)
    assert taken_slug.status_code == 400
    assert "Another product already uses this address." in taken_slug.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Variant, second.id).sku == "VEST-L-08"
    assert db.session.get(Product, program.id).slug == "back-program"


def _refund_calls(stripe_api):
    return [r for r in stripe_api.requests if r[1] == "/v1/refunds"]


def test_a_refund_asks_first_and_the_first_post_changes_nothing(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    status_before = order.status
    key = _refund_key(staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True))

    response = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "12.50", "request_key": key}
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    name = order.customer_name or order.email
    assert f"Refund $12.50 to {name} through Stripe?" in page
    assert 'name="confirm" value="yes"' in page and f'value="{key}"' in page
    assert 'name="amount" value="12.50"' in page and "No, go back" in page
    assert f'href="/admin/orders/{order.id}"' in page
    assert _refund_calls(stripe_api) == []
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == status_before and order.refunded_cents == 0
    assert "order.refund" not in [e.action for e in db.session.scalars(select(AuditEntry))]


def test_a_confirmed_refund_is_made_once_even_when_the_confirmation_is_sent_twice(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    key = _refund_key(staff_client.get(f"/admin/orders/{order.id}").get_data(as_text=True))
    data = {"amount": "12.50", "request_key": key, "confirm": "yes"}

    first = staff_client.post(f"/admin/orders/{order.id}/refund", data=data)
    second = staff_client.post(f"/admin/orders/{order.id}/refund", data=data)

    assert first.status_code == 303
    assert second.status_code in (303, 409)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.refunded_cents == 1250 and len(order.refunds) == 1
    assert {c[3]["Idempotency-Key"] for c in _refund_calls(stripe_api)} == {
        f"order-{order.id}-refund-{key}"
    }
    audited = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert audited.count("order.refund") == 1
    assert [e.kind for e in order.events].count("refund_requested") == 1


def test_a_refund_the_order_cannot_take_is_refused_before_the_confirmation(
    staff_client, stripe_api, mailbox
):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))
    response = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "50.00", "request_key": "k1"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Enter an amount from $0.01 to $49.00." in page and 'name="confirm"' not in page
