"""The visitor's cart: found by a token in the session cookie, checked against the
quantity limit and today's stock on every change."""

import secrets

from flask import session
from sqlalchemy import select

from blueprints.core.types import utcnow
from blueprints.shop.errors import (
    PROGRAM_QUANTITY_MESSAGE,
    NotAvailable,
    QuantityRefused,
    SoldOut,
    quantity_message,
)
from blueprints.shop.holds import max_per_option
from blueprints.shop.models import MAX_LINE_QUANTITY, Cart, CartLine, Variant
from extensions import db

CART_SESSION_KEY = "cart_token"
# The country she ships to, chosen under the cart's "Ship to" (a code of
# SHIPPING_COUNTRIES): kept beside the cart's token, checked again on every use.
SHIP_TO_SESSION_KEY = "cart_ship_to"
# The number of items, for the header's cart link (static/js/site.js reads it): pages
# are shared by every reader, so the count cannot be in their HTML. No secret in it.
COUNT_COOKIE = "bb_cart"


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


def ship_to_choice():
    """The country she chose under the cart's "Ship to", or None (the first one then)."""
    return session.get(SHIP_TO_SESSION_KEY)


def choose_ship_to(country):
    """Remember ``country`` (checked by the caller) as the one her cart ships to."""
    session[SHIP_TO_SESSION_KEY] = country


def cart_currency(cart):
    """The currency of the cart's items, or None when it is empty."""
    return cart.lines[0].variant.currency if cart is not None and cart.lines else None


def _buyable_variant(variant_id):
    variant = db.session.get(Variant, variant_id) if variant_id else None
    if variant is None or not variant.active or not variant.product.active:
        raise NotAvailable("Sorry, that item is not available.")
    return variant


def max_per_order(variant):
    """The most of ``variant`` one order may have, however many are left: a program
    once; a limited-stock option (a vest's size and weight, held while its buyer pays)
    up to ``SHOP_MAX_PER_OPTION``; anything else up to :data:`MAX_LINE_QUANTITY`."""
    if variant.product.is_program:
        return 1
    if variant.stock is None:
        return MAX_LINE_QUANTITY
    return min(max_per_option(), MAX_LINE_QUANTITY)


def max_quantity(variant):
    """The most of ``variant`` she can choose now: the smaller of :func:`max_per_order`
    and what is left (0 when sold out). The product page's hint and field, the cart's
    field and every refusal of a quantity name this one number."""
    limit = max_per_order(variant)
    return limit if variant.stock is None else max(0, min(limit, variant.stock))


def _check_quantity(variant, quantity, in_cart=0):
    """Refuse ``quantity`` (None when not a whole number) more of ``variant``, when the
    cart already holds ``in_cart`` of it, unless it is from 1 to what
    :func:`max_quantity` leaves. Raises :class:`QuantityRefused` or :class:`SoldOut`."""
    if variant.product.is_program:
        # A program is bought once (it gives one reader access): its quantity is 1.
        if quantity != 1:
            raise QuantityRefused(PROGRAM_QUANTITY_MESSAGE)
        return
    if variant.sold_out:
        raise SoldOut(f"Sorry, {variant.label()} is sold out.")
    maximum = max_quantity(variant)
    room = maximum - in_cart
    if in_cart and (quantity is None or not 1 <= quantity <= room):
        held = f"Your cart already holds {in_cart} of {variant.label()}"
        if room <= 0:
            raise QuantityRefused(f"{held}, and you can buy at most {maximum}.")
        raise QuantityRefused(
            f"{held}, and you can buy at most {maximum}. {quantity_message(room)}"
        )
    if quantity is None or not 1 <= quantity <= maximum:
        raise QuantityRefused(quantity_message(maximum))


def check_order_quantity(variant, quantity):
    """Refuse a cart line of ``quantity`` above what one order may have
    (:func:`max_per_order`) when it is checked out; the stock left is taken then, by one
    conditional update."""
    maximum = max_per_order(variant)
    if not 1 <= quantity <= maximum:
        raise QuantityRefused(
            f"You can buy at most {maximum} of {variant.label()} in one order. "
            "Please change its quantity in your cart."
        )


def add_to_cart(cart, variant_id, quantity):
    """Add ``quantity`` of a variant to the cart (or raise :class:`ShopError`); returns
    ``(line, added)``. A program already in the cart stays there once: nothing is added
    then (``added`` is False)."""
    variant = _buyable_variant(variant_id)
    line = next((ln for ln in cart.lines if ln.variant_id == variant.id), None)
    if line is not None and variant.product.is_program:
        _check_quantity(variant, quantity)
        return line, False
    _check_quantity(variant, quantity, line.quantity if line else 0)
    if line is None:
        line = CartLine(variant=variant, quantity=quantity)
        cart.lines.append(line)
    else:
        line.quantity += quantity
    cart.updated_at = utcnow()
    db.session.flush()
    return line, True


def _cart_line(cart, line_id):
    line = next((ln for ln in cart.lines if ln.id == line_id), None) if cart else None
    if line is None:
        raise NotAvailable("That item is no longer in your cart.")
    return line


def update_cart_line(cart, line_id, quantity):
    """Change a line's quantity (1 to its :func:`max_quantity`)."""
    line = _cart_line(cart, line_id)
    _check_quantity(line.variant, quantity)
    line.quantity = quantity
    db.session.flush()
    return line


def remove_cart_line(cart, line_id):
    """Take a line out of the cart."""
    line = _cart_line(cart, line_id)
    cart.lines.remove(line)
    db.session.flush()


def item_count(cart):
    """How many items the cart holds (quantities added up)."""
    return sum(line.quantity for line in cart.lines) if cart is not None else 0


def cart_total(cart):
    """The cart's total from today's prices, or None when empty."""
    if cart is None or not cart.lines:
        return None
    return sum(line.variant.price_cents * line.quantity for line in cart.lines)
