"""The shop's work: the cart, placing an order (stock held by conditional updates),
opening its Checkout Session, fulfilling it exactly once, expiry, refunds, shipping.

Services flush and never commit; the view or the webhook commits once.
"""

import logging
import secrets
from datetime import timedelta
from itertools import groupby
from typing import NamedTuple

import stripe
from flask import current_app, has_request_context, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from blueprints.blog.models import Post, PostStatus, Tag, post_tag
from blueprints.core.cache import invalidate_after_commit
from blueprints.core.layout import format_money
from blueprints.core.stripe import (
    create_checkout_session,
    create_refund,
    expire_checkout_session,
    get_client,
    retrieve_checkout_session,
)
from blueprints.core.types import utcnow
from blueprints.shop.models import (
    MAX_LINE_QUANTITY,
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    OrderState,
    Product,
    ProgramAccess,
    Refund,
    Variant,
    product_tag,
)
from extensions import db

log = logging.getLogger(__name__)

CART_SESSION_KEY = "cart_token"
CHECKOUT_LIFETIME = timedelta(minutes=30)
PROGRAMS_SALT = "shop.my-programs"
PROGRAMS_LINK_MAX_AGE = 3 * 365 * 24 * 3600
SHIPPING_COUNTRIES = ("US", "CA")


class ShopError(Exception):
    """A problem the customer can understand; ``str(exc)`` is the message to show."""

    status = 400


class NotAvailable(ShopError):
    status = 404


class SoldOut(ShopError):
    status = 409


class PaymentUnavailable(ShopError):
    status = 503


class InvalidTransition(Exception):
    pass


# --- the state machine -------------------------------------------------------------

S = OrderState
ALLOWED_TRANSITIONS = {
    S.PENDING: {S.PAID, S.EXPIRED, S.CANCELLED},
    S.PAID: {S.FULFILLED, S.SHIPPED, S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.FULFILLED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.SHIPPED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED, S.SHIPPED},
    # A payment that lands after the stock was released: kept, and flagged for staff.
    S.EXPIRED: {S.PAID},
    S.CANCELLED: {S.PAID},
    S.REFUNDED: set(),
}


REFUNDABLE_STATES = (S.PAID, S.FULFILLED, S.SHIPPED, S.PARTIALLY_REFUNDED)


def can_transition(from_state, to_state):
    """The one rule about which order state may follow which."""
    return to_state in ALLOWED_TRANSITIONS[OrderState(from_state)]


def change_state(order, from_states, to_state, **values):
    """Move ``order`` to ``to_state`` only if it is still in one of ``from_states``.

    One conditional UPDATE, so two requests racing (the webhook and the success page,
    or a retried event) cannot both win. Returns True for the winner; the order is
    refreshed either way.
    """
    from_states = [OrderState(s) for s in from_states]
    for state in from_states:
        if not can_transition(state, to_state):
            raise InvalidTransition(f"{state} -> {to_state}")
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.state.in_(from_states))
        .values(state=to_state, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    return result.rowcount == 1


def record_event(order, kind, message="", actor="system"):
    event = OrderEvent(order_id=order.id, kind=kind, message=message, actor=actor)
    db.session.add(event)
    db.session.flush()
    return event


# --- catalogue ---------------------------------------------------------------------


def active_products():
    """Active products with their variants (one query for all, not one per product)."""
    return db.session.scalars(
        select(Product)
        .where(Product.active)
        .options(selectinload(Product.variants))
        .order_by(Product.position, Product.name)
    ).all()


class CatalogueCard(NamedTuple):
    """What the shop page shows of one product."""

    slug: str
    name: str
    summary: str
    image_path: str | None
    price_cents: int | None  # the lowest price of its active options; None without any
    currency: str | None  # its first option's
    several_options: bool  # "From $..."
    sold_out: bool  # it has options and every one is sold out


_product = Product.__table__.c
_variant = Variant.__table__.c
# Built once: the cards' columns, with each active option's price and stock (no
# descriptions), in the order the page lists them.
_CATALOGUE = (
    select(
        _product.id,
        _product.slug,
        _product.name,
        _product.summary,
        _product.image_path,
        _variant.price_cents,
        _variant.currency,
        _variant.stock,
    )
    .select_from(
        Product.__table__.outerjoin(
            Variant.__table__, and_(_variant.product_id == _product.id, _variant.active)
        )
    )
    .where(_product.active)
    .order_by(_product.position, _product.name, _product.id, _variant.position, _variant.id)
)


def catalogue():
    """The shop page's cards, one query for every active product and its options."""
    cards = []
    for _id, rows in groupby(db.session.execute(_CATALOGUE), key=lambda row: row.id):
        rows = list(rows)
        product = rows[0]
        options = [row for row in rows if row.price_cents is not None]
        cards.append(
            CatalogueCard(
                slug=product.slug,
                name=product.name,
                summary=product.summary,
                image_path=product.image_path,
                price_cents=min((row.price_cents for row in options), default=None),
                currency=options[0].currency if options else None,
                several_options=len(options) > 1,
                sold_out=bool(options)
                and all(row.stock is not None and row.stock <= 0 for row in options),
            )
        )
    return cards


_PRODUCT_BY_SLUG = select(Product).where(Product.slug == bindparam("slug"), Product.active)


def product_by_slug(slug):
    return db.session.scalar(_PRODUCT_BY_SLUG, {"slug": slug})


_PRODUCT_OPTIONS = (
    select(Variant)
    .where(Variant.product_id == bindparam("product_id"), Variant.active)
    .order_by(Variant.position, Variant.id)
)


def product_options(product):
    """``product``'s active variants, in order (as ``product.active_variants()``, from a
    statement built once rather than the relationship's lazy load)."""
    return db.session.scalars(_PRODUCT_OPTIONS, {"product_id": product.id}).all()


_tag = Tag.__table__.c
_PRODUCT_TAGS = (
    select(_tag.id, _tag.name)
    .join(product_tag, product_tag.c.tag_id == _tag.id)
    .where(product_tag.c.product_id == bindparam("product_id"))
    .order_by(_tag.name)
)


def product_tags(product):
    """The id and name of each of ``product``'s tags, by name (plain rows: its page
    only prints them and looks up related posts)."""
    return db.session.execute(_PRODUCT_TAGS, {"product_id": product.id}).all()


def products_for_tags(tag_ids, limit=3):
    """Active products sharing any of ``tag_ids`` (the blog's "From the shop")."""
    tag_ids = list(tag_ids)
    if not tag_ids:
        return []
    matching = select(product_tag.c.product_id).where(product_tag.c.tag_id.in_(tag_ids))
    return db.session.scalars(
        select(Product)
        .where(Product.active, Product.id.in_(matching))
        .options(selectinload(Product.variants))
        .order_by(Product.position, Product.name)
        .limit(limit)
    ).all()


_post = Post.__table__.c
# Built once. Newest published posts first, each kept when it has one of the tags: the
# (status, published_at) index stops after a few posts, where "every post of these
# tags, then sort" reads thousands of rows for a common tag.
_RELATED_POSTS = (
    select(_post.slug, _post.title)
    .where(
        _post.status == PostStatus.PUBLISHED,
        _post.published_at <= bindparam("now"),
        exists().where(
            post_tag.c.post_id == _post.id,
            post_tag.c.tag_id.in_(bindparam("tag_ids", expanding=True)),
        ),
    )
    .order_by(_post.published_at.desc())
    .limit(bindparam("limit"))
)


def related_posts(tag_ids, limit=3):
    """Published posts with any of ``tag_ids``, newest first (slug and title)."""
    if not tag_ids:
        return []
    params = {"now": utcnow(), "tag_ids": tag_ids, "limit": limit}
    return db.session.execute(_RELATED_POSTS, params).all()


def sitemap_urls():
    """The shop page and every active product page, for the sitemap."""
    products = active_products()
    urls = [(_absolute("shop.index"), max((p.updated_at for p in products), default=None))]
    urls += [(_absolute("shop.product", slug=p.slug), p.updated_at) for p in products]
    return urls


# --- the cart ----------------------------------------------------------------------


def current_cart(create=False):
    """The visitor's cart from the token in their session cookie (made on demand)."""
    token = session.get(CART_SESSION_KEY)
    cart = db.session.scalar(select(Cart).where(Cart.token == token)) if token else None
    if cart is None and create:
        cart = Cart(token=secrets.token_urlsafe(32))
        db.session.add(cart)
        db.session.flush()
        session[CART_SESSION_KEY] = cart.token
    return cart


def _buyable_variant(variant_id):
    variant = db.session.get(Variant, variant_id) if variant_id else None
    if variant is None or not variant.active or not variant.product.active:
        raise NotAvailable("Sorry, that item is not available.")
    return variant


def _check_quantity(quantity):
    if quantity is None or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ShopError(f"Please choose a quantity from 1 to {MAX_LINE_QUANTITY}.")


def _check_stock(variant, quantity):
    if variant.sold_out:
        raise SoldOut(f"Sorry, {variant.label()} is sold out.")
    if variant.stock is not None and quantity > variant.stock:
        raise SoldOut(f"Sorry, only {variant.stock} of {variant.label()} left.")


def add_to_cart(cart, variant_id, quantity):
    """Add ``quantity`` of a variant to the cart (or raise :class:`ShopError`)."""
    _check_quantity(quantity)
    variant = _buyable_variant(variant_id)
    line = next((ln for ln in cart.lines if ln.variant_id == variant.id), None)
    total = quantity + (line.quantity if line else 0)
    if total > MAX_LINE_QUANTITY:
        raise ShopError(f"You can buy at most {MAX_LINE_QUANTITY} of one item.")
    _check_stock(variant, total)
    if line is None:
        line = CartLine(variant=variant, quantity=quantity)
        cart.lines.append(line)
    else:
        line.quantity = total
    cart.updated_at = utcnow()
    db.session.flush()
    return line


def _cart_line(cart, line_id):
    line = next((ln for ln in cart.lines if ln.id == line_id), None) if cart else None
    if line is None:
        raise NotAvailable("That item is no longer in your cart.")
    return line


def update_cart_line(cart, line_id, quantity):
    """Change a line's quantity (1 to 10)."""
    line = _cart_line(cart, line_id)
    _check_quantity(quantity)
    _check_stock(line.variant, quantity)
    line.quantity = quantity
    db.session.flush()
    return line


def remove_cart_line(cart, line_id):
    line = _cart_line(cart, line_id)
    cart.lines.remove(line)
    db.session.flush()


def cart_total(cart):
    """The cart's total from today's prices, or None when empty."""
    if cart is None or not cart.lines:
        return None
    return sum(line.variant.price_cents * line.quantity for line in cart.lines)


# --- checkout ----------------------------------------------------------------------


def place_order(cart):
    """Create a pending order from the cart and hold its stock.

    Prices and names are copied from the database. Each limited-stock line is held by
    one conditional UPDATE checked by its row count, so two buyers can never take the
    last vest. Raises :class:`SoldOut` (nothing is held then: the caller rolls back).
    """
    if cart is None or not cart.lines:
        raise ShopError("Your cart is empty.")
    currencies = {line.variant.currency for line in cart.lines}
    if len(currencies) != 1:
        raise ShopError("Items priced in different currencies cannot be bought together.")
    order = Order(
        state=OrderState.PENDING,
        currency=currencies.pop(),
        total_cents=0,
        cart_id=cart.id,
    )
    # Lock rows in one order (by variant id) so concurrent checkouts cannot deadlock.
    for cart_line in sorted(cart.lines, key=lambda ln: ln.variant_id):
        variant = cart_line.variant
        if not variant.active or not variant.product.active:
            raise NotAvailable(f"Sorry, {variant.label()} is no longer available.")
        _check_quantity(cart_line.quantity)
        order.lines.append(
            OrderLine(
                variant_id=variant.id,
                product_id=variant.product_id,
                description=variant.label(),
                sku=variant.sku,
                unit_price_cents=variant.price_cents,
                quantity=cart_line.quantity,
                is_program=variant.product.is_program,
                stock_held=variant.stock is not None,
            )
        )
    order.total_cents = sum(line.total_cents for line in order.lines)
    order.needs_shipping = any(not line.is_program for line in order.lines)
    db.session.add(order)
    db.session.flush()
    for line in order.lines:
        if line.stock_held and not _take_stock(line.variant_id, line.quantity):
            raise SoldOut(f"Sorry, {line.description} is sold out.")
    record_event(
        order, "created", f"Order placed for {format_money(order.total_cents, order.currency)}."
    )
    return order


def stock_changed(*variant_ids):
    """Clear the pages that show these variants' stock once the change commits: their
    product pages and the catalogue's sold-out marks."""
    slugs = db.session.scalars(
        select(Product.slug)
        .join(Variant, Variant.product_id == Product.id)
        .where(Variant.id.in_(variant_ids))
    ).all()
    invalidate_after_commit("shop:stock", *{f"product:{slug}" for slug in slugs})


def _take_stock(variant_id, quantity):
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        stock_changed(variant_id)
    return result.rowcount == 1


def _release_stock(order):
    """Give back the stock the order holds; only a state change's winner calls it."""
    for line in order.lines:
        if line.stock_held:
            db.session.execute(
                update(Variant)
                .where(Variant.id == line.variant_id)
                .values(stock=Variant.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )
            line.stock_held = False
            stock_changed(line.variant_id)
    db.session.flush()


def _absolute(endpoint, **values):
    """An absolute link on SITE_URL, in a request or not (webhooks, CLI commands)."""
    base = current_app.config["SITE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return base + url_for(endpoint, **values)


def checkout_line_items(order):
    """Stripe line items built from the order's copied prices only."""
    return [
        {
            "price_data": {
                "currency": order.currency,
                "unit_amount": line.unit_price_cents,
                "product_data": {"name": line.description, "metadata": {"sku": line.sku}},
            },
            "quantity": line.quantity,
        }
        for line in order.lines
    ]


def open_checkout_session(order):
    """Create the order's Checkout Session and return its URL.

    When Stripe fails (an API error or a timeout), the order is cancelled and its
    stock released at once, then :class:`PaymentUnavailable` is raised.
    """
    try:
        checkout = create_checkout_session(
            kind="order",
            object_id=order.id,
            line_items=checkout_line_items(order),
            customer_email=order.email,
            success_url=_absolute("shop.success") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=_absolute("shop.cancelled", order=order.id),
            expires_at=utcnow() + CHECKOUT_LIFETIME,
            idempotency_key=f"order-{order.id}-checkout",
            collect_shipping_countries=SHIPPING_COUNTRIES if order.needs_shipping else None,
        )
    except stripe.StripeError as exc:
        log.warning("Checkout Session for order %s failed: %s", order.id, exc)
        cancel_order(order, "Stripe could not start the payment; stock released.")
        raise PaymentUnavailable(
            "We could not reach our payment provider, so nothing was charged. "
            "Please try again in a few minutes."
        ) from exc
    order.stripe_session_id = checkout.id
    record_event(order, "checkout_opened", f"Stripe Checkout Session {checkout.id}.")
    db.session.flush()
    return checkout.url


def cancel_order(order, reason, actor="system"):
    """Pending to cancelled, releasing the stock once."""
    if change_state(order, [OrderState.PENDING], OrderState.CANCELLED):
        _release_stock(order)
        record_event(order, "cancelled", reason, actor)
        return True
    return False


def release_earlier_checkouts(cart):
    """Before a new checkout, close this cart's earlier unpaid Checkout Sessions, so
    one visitor never holds the same stock twice.

    Stripe is asked first, before this request writes anything: its expiry webhook
    may arrive meanwhile and does the same release (only one of them wins).
    """
    earlier = db.session.scalars(
        select(Order).where(Order.cart_id == cart.id, Order.state == OrderState.PENDING)
    ).all()
    closed = []
    for order in earlier:
        if order.stripe_session_id:
            try:
                expire_checkout_session(order.stripe_session_id)
            except stripe.StripeError:
                continue  # it may have been paid meanwhile: the webhook decides
        closed.append(order)
    for order in closed:
        if change_state(order, [OrderState.PENDING], OrderState.EXPIRED):
            _release_stock(order)
            record_event(order, "expired", "Replaced by a newer checkout from the same cart.")


# --- payment -----------------------------------------------------------------------


def _get(obj, key, default=None):
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _shipping_from(checkout):
    details = _get(_get(checkout, "collected_information"), "shipping_details") or _get(
        checkout, "shipping_details"
    )
    if not details:
        return None
    address = _get(details, "address", {})
    parts = [
        _get(details, "name", ""),
        _get(address, "line1", ""),
        _get(address, "line2", ""),
        " ".join(
            p
            for p in (
                _get(address, "city", ""),
                _get(address, "state", ""),
                _get(address, "postal_code", ""),
            )
            if p
        ),
        _get(address, "country", ""),
    ]
    return "\n".join(p for p in parts if p)


def order_for_session(session_id, metadata=None):
    order = db.session.scalar(select(Order).where(Order.stripe_session_id == session_id))
    if order is None and metadata and _get(metadata, "kind") == "order":
        # The session id is stored before the customer can pay; this only catches an
        # order whose id was never stored, never one tied to another session.
        order_id = _get(metadata, "id")
        order = db.session.get(Order, int(order_id)) if str(order_id).isdigit() else None
        if order is not None and order.stripe_session_id is not None:
            return None
        if order is not None:
            order.stripe_session_id = session_id
    return order


def order_for_session_readonly(session_id, metadata=None):
    """The order of a Checkout Session, found as :func:`order_for_session` would, without
    storing anything."""
    order = db.session.scalar(select(Order).where(Order.stripe_session_id == session_id))
    if order is None and metadata and _get(metadata, "kind") == "order":
        order_id = _get(metadata, "id")
        order = db.session.get(Order, int(order_id)) if str(order_id).isdigit() else None
        if order is not None and order.stripe_session_id is not None:
            return None
    return order


def pending_orders_before(cutoff):
    """Orders still waiting for Stripe that were created before ``cutoff``."""
    return db.session.scalars(
        select(Order)
        .where(Order.state == OrderState.PENDING, Order.created_at < cutoff)
        .order_by(Order.created_at)
    ).all()


def fulfil_order(session_id):
    """Mark the order of a paid Checkout Session paid, exactly once.

    Serves the webhook and the success page. Reads the session from Stripe (never
    trusting the caller), checks amount and currency, then wins or loses one
    conditional UPDATE: only the winner gives program access and queues the email.
    A payment that arrives after the stock was released is kept and flagged for
    staff. Returns the order (None for an unknown session).
    """
    checkout = retrieve_checkout_session(session_id)
    order = order_for_session(checkout.id, _get(checkout, "metadata"))
    if order is None:
        raise LookupError(f"no order for Checkout Session {session_id}")
    if _get(checkout, "payment_status") not in ("paid", "no_payment_required"):
        return order  # async payment methods: wait for async_payment_succeeded
    if (
        _get(checkout, "amount_total") != order.total_cents
        or str(_get(checkout, "currency", "")).lower() != order.currency
    ):
        if not order.needs_attention:
            order.needs_attention = True
            record_event(
                order,
                "amount_mismatch",
                f"Stripe reports {_get(checkout, 'amount_total')} {_get(checkout, 'currency')} "
                f"for an order of {order.total_cents} {order.currency}: not fulfilled.",
            )
        return order

    details = _get(checkout, "customer_details", {})
    paid = {
        "paid_at": utcnow(),
        "stripe_payment_intent_id": _get(checkout, "payment_intent"),
        "email": _get(details, "email") or _get(checkout, "customer_email") or order.email,
        "customer_name": _get(details, "name"),
        "shipping_address": _shipping_from(checkout),
    }
    if change_state(order, [OrderState.PENDING], OrderState.PAID, **paid):
        record_event(
            order, "paid", f"Paid {format_money(order.total_cents, order.currency)}.", "stripe"
        )
    elif change_state(
        order,
        [OrderState.EXPIRED, OrderState.CANCELLED],
        OrderState.PAID,
        needs_attention=True,
        **paid,
    ):
        _retake_stock_after_late_payment(order)
    else:
        return order  # already fulfilled by another request
    _after_payment(order)
    return order


def _retake_stock_after_late_payment(order):
    short = []
    for line in order.lines:
        if line.variant.stock is not None and not line.stock_held:
            if _take_stock(line.variant_id, line.quantity):
                line.stock_held = True
            else:
                short.append(line.sku)
    message = "Paid after its checkout had expired and its stock had been released."
    if short:
        message += (
            " Not enough stock now for: " + ", ".join(short) + ". Please contact the customer."
        )
    else:
        message += " The stock was taken again; please check the order."
    record_event(order, "flagged", message, "stripe")


def _after_payment(order):
    programs = {line.product_id for line in order.lines if line.is_program}
    for product_id in sorted(programs) if order.email else ():
        db.session.add(
            ProgramAccess(order_id=order.id, product_id=product_id, email=order.email.lower())
        )
    db.session.flush()
    if not order.needs_shipping and change_state(order, [OrderState.PAID], OrderState.FULFILLED):
        record_event(order, "fulfilled", "Program access given.")
    if order.cart_id:
        db.session.execute(delete(CartLine).where(CartLine.cart_id == order.cart_id))
    if order.email:
        from blueprints.shop.emails import send_order_confirmation

        send_order_confirmation(order)


def expire_order(checkout):
    """``checkout.session.expired``: pending to expired, releasing the stock once."""
    order = order_for_session(checkout["id"], _get(checkout, "metadata"))
    if order and change_state(order, [OrderState.PENDING], OrderState.EXPIRED):
        _release_stock(order)
        record_event(order, "expired", "Checkout expired unpaid; stock released.", "stripe")
    return order


def fail_payment(checkout):
    """``checkout.session.async_payment_failed``: cancelled, stock released once."""
    order = order_for_session(checkout["id"], _get(checkout, "metadata"))
    if order and change_state(order, [OrderState.PENDING], OrderState.CANCELLED):
        _release_stock(order)
        record_event(order, "payment_failed", "The payment failed; stock released.", "stripe")
    return order


# --- refunds -----------------------------------------------------------------------


def record_refund(order, refund_id, amount_cents, currency, actor="stripe"):
    """Record one Stripe refund once (its id is unique) and update the order."""
    exists = db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund_id))
    if exists:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Refund(
                    order_id=order.id,
                    stripe_refund_id=refund_id,
                    amount_cents=amount_cents,
                    currency=currency,
                )
            )
    except IntegrityError:
        return False  # recorded at the same moment by another request
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(Refund.order_id == order.id)
    )
    full = refunded >= order.total_cents
    target = OrderState.REFUNDED if full else OrderState.PARTIALLY_REFUNDED
    change_state(order, REFUNDABLE_STATES, target, refunded_cents=refunded)
    order.refunded_cents = refunded
    record_event(
        order,
        "refunded",
        f"Refund {refund_id}: {format_money(amount_cents, currency)} "
        f"({format_money(refunded, order.currency)} refunded in all).",
        actor,
    )
    if full:
        revoked = db.session.execute(
            update(ProgramAccess)
            .where(ProgramAccess.order_id == order.id, ProgramAccess.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if revoked.rowcount:
            record_event(order, "access_revoked", "Full refund: program access ended.", actor)
    db.session.flush()
    return True


def _charge_refunds(charge):
    refunds = _get(_get(charge, "refunds"), "data")
    if refunds is None:
        # Recent API versions leave refunds out of the charge: ask for them.
        refunds = get_client().v1.refunds.list({"charge": charge["id"], "limit": 100}).data
    return refunds


def apply_charge_refunded(charge):
    """``charge.refunded``: record each refund of the charge once."""
    metadata = _get(charge, "metadata", {})
    order_id = _get(metadata, "id")
    order = db.session.get(Order, int(order_id)) if str(order_id).isdigit() else None
    if order is None:
        raise LookupError(f"no order for refunded charge {charge['id']}")
    if order.state == OrderState.PENDING and order.stripe_session_id:
        fulfil_order(order.stripe_session_id)  # the refund overtook the payment event
    for refund in _charge_refunds(charge):
        if _get(refund, "status") in ("succeeded", "pending"):
            record_refund(order, refund["id"], refund["amount"], refund["currency"])
    return order


def refund_order(order, amount_cents, request_key, actor):
    """Refund part or all of a paid order through Stripe (staff action).

    ``request_key`` comes from the form that was shown, so a double submit makes one
    refund. Raises :class:`ShopError` with a message for staff.
    """
    if order.stripe_payment_intent_id is None or order.state not in REFUNDABLE_STATES:
        raise ShopError("Only a paid order can be refunded.")
    if not 0 < amount_cents <= order.refundable_cents:
        raise ShopError(
            f"Enter an amount from $0.01 to {format_money(order.refundable_cents, order.currency)}."
        )
    try:
        refund = create_refund(
            order.stripe_payment_intent_id,
            amount_cents,
            idempotency_key=f"order-{order.id}-refund-{request_key}",
            metadata={"kind": "order", "id": str(order.id)},
        )
    except stripe.StripeError as exc:
        raise ShopError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
    record_event(
        order,
        "refund_requested",
        f"Refund of {format_money(amount_cents, order.currency)} sent to Stripe ({refund.id}).",
        actor,
    )
    record_refund(order, refund.id, refund.amount, refund.currency, actor=actor)
    return refund


# --- shipping ----------------------------------------------------------------------


def mark_shipped(order, tracking_number, actor):
    """A paid vest order leaves: record the tracking number and email the customer."""
    if not order.needs_shipping or not change_state(
        order,
        [OrderState.PAID, OrderState.PARTIALLY_REFUNDED],
        OrderState.SHIPPED,
        tracking_number=tracking_number,
        shipped_at=utcnow(),
    ):
        raise ShopError("Only a paid order waiting to ship can be marked shipped.")
    record_event(order, "shipped", f"Shipped, tracking number {tracking_number}.", actor)
    if order.email:
        from blueprints.shop.emails import send_shipped

        send_shipped(order)


# --- "My programs" links --------------------------------------------------------------


def _programs_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PROGRAMS_SALT)


def programs_token(email):
    return _programs_serializer().dumps(email.strip().lower())


def email_from_programs_token(token):
    """The email a "My programs" link was made for, or None when it is not valid."""
    try:
        return _programs_serializer().loads(token, max_age=PROGRAMS_LINK_MAX_AGE)
    except BadSignature:
        return None


def programs_url(email):
    return _absolute("account.programs", token=programs_token(email))


def programs_for_email(email):
    """Products the email has live access to (deduplicated, in shop order)."""
    return db.session.scalars(
        select(Product)
        .join(ProgramAccess, ProgramAccess.product_id == Product.id)
        .where(ProgramAccess.email == email, ProgramAccess.revoked_at.is_(None))
        .distinct()
        .order_by(Product.position, Product.name)
    ).all()
