"""Shop factories: products, programs and orders (bought through the real cart and a
paid Checkout Session on the fake Stripe API in tests/stripe_fake.py)."""

import pytest
from sqlalchemy import select

from blueprints.core.markdown import render_post
from blueprints.shop.models import Order, Product, ProductKind, ProgramLesson, Variant
from blueprints.shop.seed import seed_shipping_rates
from extensions import db
from tests.stripe_fake import make_event, post_event, stripe_config


@pytest.fixture
def app_config(httpserver):
    return stripe_config(httpserver)


# --- products ---------------------------------------------------------------------


def make_vest(stocks=None, price_cents=10900):
    """A vest with one variant per (sku, stock) pair, and the demo's shipping rates (US
    Standard $12.00 first, US Express $29.00, Canada Standard $24.00) unless some exist."""
    seed_shipping_rates()
    stocks = stocks or {"VEST-M-08": 5}
    product = Product(
        slug="weighted-vest",
        name="Weighted Vest",
        kind=ProductKind.PHYSICAL,
        summary="A vest.",
        description_md="A **vest**.",
        description_html=render_post("A **vest**."),
    )
    for position, (sku, stock) in enumerate(stocks.items()):
        product.variants.append(
            Variant(
                sku=sku,
                name=f"Size {sku.split('-')[1]}, {int(sku.split('-')[2])} lb",
                price_cents=price_cents,
                stock=stock,
                position=position,
            )
        )
    db.session.add(product)
    db.session.commit()
    return product


def make_program(
    price_cents=4900,
    lessons=3,
    *,
    slug="back-program",
    name="12-Week Back Program",
    sku="PRG-BACK",
    summary="Twelve weeks.",
    lesson_text="Lesson body number {n}: stand tall.",
    position=0,
):
    """An online program (no stock) with ``lessons`` weekly lessons."""
    product = Product(
        slug=slug,
        name=name,
        kind=ProductKind.PROGRAM,
        summary=summary,
        description_md="Weekly lessons.",
        description_html=render_post("Weekly lessons."),
        position=position,
    )
    product.variants.append(
        Variant(sku=sku, name="Online program", price_cents=price_cents, stock=None)
    )
    for n in range(1, lessons + 1):
        body = lesson_text.format(n=n)
        product.lessons.append(
            ProgramLesson(position=n, title=f"Week {n}", body_md=body, body_html=render_post(body))
        )
    db.session.add(product)
    db.session.commit()
    return product


# --- buying ---------------------------------------------------------------------------


def add_to_cart(client, variant, quantity=1):
    return client.post("/cart/add", data={"variant_id": variant.id, "quantity": quantity})


def checkout(client):
    return client.post("/cart/checkout", data={})


def latest_order():
    """The newest order, read afresh."""
    db.session.expire_all()
    return db.session.scalars(select(Order).order_by(Order.id.desc())).first()


def all_orders():
    """Every order, oldest first, read afresh."""
    db.session.expire_all()
    return db.session.scalars(select(Order).order_by(Order.id)).all()


def paid_order(client, stripe_api, product, quantity=1, email="buyer@example.com"):
    """``product`` bought through the cart, paid on Stripe and confirmed by its webhook."""
    add_to_cart(client, product.variants[0], quantity)
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email=email)
    post_event(client, make_event("checkout.session.completed", session))
    return latest_order()
