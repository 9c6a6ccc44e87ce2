"""Makers of rows more than one area's tests need, written directly (no Stripe, no
forms): blog posts and their comments, consultation types and bookings, orders, and
newsletter subscribers.

Each area keeps its own defaults (the blog's posts are published, the staff area's are
drafts; the account tests' bookings are video calls some days ahead) in a small fixture
or function around these. Makers of one area's rows live in that area's conftest
(tests/shop: products and orders paid through the fake Stripe, tests/booking: hours and
bookings through the real hold), and the fake Stripe API is tests/stripe_fake.py.
"""

from datetime import timedelta

from blueprints.blog.editing import create_post
from blueprints.blog.models import Comment, CommentStatus, PostStatus
from blueprints.booking.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    CallType,
    ConsultationType,
)
from blueprints.core.markdown import render_comment
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from blueprints.shop.models import Order, OrderEvent, OrderLine, OrderStatus, ProgramAccess
from extensions import db


def _save(row, commit):
    db.session.add(row)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return row


def make_post(
    title,
    body="A short note about bones.",
    *,
    status=PostStatus.PUBLISHED,
    published_at=None,
    commit=True,
    **fields,
):
    """A post made as staff make one (the blog's ``create_post``): published an hour ago
    unless ``published_at`` or a draft ``status`` says otherwise. ``fields`` are
    ``create_post``'s own (slug, summary, tags, references, ...)."""
    if status == PostStatus.PUBLISHED and published_at is None:
        published_at = utcnow() - timedelta(hours=1)
    post = create_post(title, body, published_at=published_at, **fields)
    post.status = status  # a draft may keep the date it was once published
    if commit:
        db.session.commit()
    return post


def make_comment(
    post,
    body="Thank you for this.",
    *,
    status=CommentStatus.APPROVED,
    parent=None,
    name="Reader",
    email="reader@example.com",
    created_at=None,
    commit=True,
):
    """A reader's comment on ``post`` (a reply when ``parent`` is given), its HTML
    rendered as the blog renders it."""
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent is not None else None,
        author_name=name,
        author_email=email,
        body_md=body,
        body_html=render_comment(body),
        status=status,
        created_at=created_at or utcnow(),
    )
    return _save(comment, commit)


def make_consultation_type(*, commit=True, **fields):
    """The demo's initial consultation (an hour, half an hour's buffer, $350, by phone or
    video); ``fields`` change any of it."""
    values = {
        "slug": "initial-consultation",
        "name": "Initial consultation",
        "duration_minutes": 60,
        "buffer_minutes": 30,
        "price_cents": 35000,
        "currency": "usd",
        "offers_phone": True,
        "offers_video": True,
    }
    return _save(ConsultationType(**{**values, **fields}), commit)


def make_booking(
    ctype,
    *,
    email="client@example.com",
    name="Client Example",
    starts_at=None,
    status=BookingStatus.CONFIRMED,
    call_type=CallType.PHONE,
    events=(),
    commit=True,
):
    """A paid booking of ``ctype`` by ``email`` (three days ahead unless ``starts_at``),
    confirmed a week before it, with ``events`` (kinds) in its history."""
    starts_at = starts_at or utcnow().replace(second=0, microsecond=0) + timedelta(days=3)
    booking = Booking(
        consultation_type=ctype,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + ctype.duration,
        buffer_ends_at=starts_at + ctype.duration + ctype.buffer,
        name=name,
        email=email,
        phone="+1 555 0100",
        client_timezone="Europe/London",
        call_type=call_type,
        policy_accepted_at=starts_at - timedelta(days=7),
        price_cents=ctype.price_cents,
        currency=ctype.currency,
        paid_cents=ctype.price_cents,
        confirmed_at=starts_at - timedelta(days=7),
    )
    for kind in events:
        booking.events.append(BookingEvent(kind=kind, actor="client", detail=f"Step {kind}."))
    return _save(booking, commit)


def make_order(
    product,
    *,
    email="buyer@example.com",
    name="Ann Buyer",
    quantity=1,
    total_cents=None,
    currency=None,
    status=OrderStatus.PAID,
    refunded_cents=0,
    tracking_number=None,
    created_at=None,
    events=(),
    commit=True,
):
    """An order of ``quantity`` of ``product``'s first variant by ``email``, paid at
    ``created_at`` (now unless given), shipped when it has a ``tracking_number``, with
    program access when ``product`` is a program and ``events`` (kinds) in its log.
    ``total_cents`` and ``currency`` replace the variant's price."""
    variant = product.variants[0]
    at = created_at or utcnow()
    total = variant.price_cents * quantity if total_cents is None else total_cents
    order = Order(
        status=status,
        currency=currency or variant.currency,
        total_cents=total,
        refunded_cents=refunded_cents,
        email=email,
        customer_name=name,
        needs_shipping=not product.is_program,
        tracking_number=tracking_number,
        created_at=at,
        paid_at=at,
        shipped_at=at if tracking_number else None,
    )
    order.lines.append(
        OrderLine(
            variant_id=variant.id,
            product_id=product.id,
            description=variant.label(),
            sku=variant.sku,
            unit_price_cents=total // quantity,
            quantity=quantity,
            is_program=product.is_program,
        )
    )
    for kind in events:
        order.events.append(OrderEvent(kind=kind, message=f"Event {kind}."))
    db.session.add(order)
    db.session.flush()
    if product.is_program:
        db.session.add(ProgramAccess(order_id=order.id, product_id=product.id, email=email.lower()))
    return _save(order, commit)


def make_subscriber(email, status=SubscriberStatus.CONFIRMED, first_name="", *, commit=True,
                    **fields):  # fmt: skip
    """A newsletter subscriber; a confirmed one confirmed 30 days ago."""
    if status == SubscriberStatus.CONFIRMED:
        fields.setdefault("confirmed_at", utcnow() - timedelta(days=30))
    subscriber = Subscriber(
        email=email, email_normalized=email.lower(), first_name=first_name, status=status, **fields
    )
    return _save(subscriber, commit)


# The staff product editor's forms, filled in as staff would for a new program and its
# option (a starting point: tests change one field at a time).
PRODUCT_FORM = {
    "name": "Balance class",
    "slug": "balance-class",
    "kind": "program",
    "summary": "Six lessons.",
    "description_md": "**Steady** feet.",
    "image_path": "",
    "image_alt": "",
    "active": "y",
    "position": "4",
}
VARIANT_FORM = {"sku": "BAL-1", "name": "Online", "price": "19.00", "stock": "5", "active": "y"}
