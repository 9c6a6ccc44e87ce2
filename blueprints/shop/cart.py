"""The visitor's cart: found by a token in the session cookie, checked against the
quantity limit and today's stock on every change."""

import secrets

from flask import session
from sqlalchemy import select

from blueprints.core.types import utcnow
from blueprints.shop.errors import (
    PROGRAM_QUANTITY_MESSAGE,
    QUANTITY_MESSAGE,
    NotAvailable,
    ShopError,
    SoldOut,
)
from blueprints.shop.holds import check_option_quantity
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


def check_quantity(quantity):
    """Refuse a quantity outside 1 to :data:`MAX_LINE_QUANTITY`."""
    if quantity is None or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ShopError(QUANTITY_MESSAGE)


def _check_stock(variant, quantity):
    if variant.sold_out:
        raise SoldOut(f"Sorry, {variant.label()} is sold out.")
    if variant.stock is not None and quantity > variant.stock:
        raise SoldOut(f"Sorry, only {variant.stock} of {variant.label()} left.")


def _check_program_quantity(variant, quantity):
    """A program is bought once (it gives one reader access): its quantity is 1."""
    if variant.product.is_program and quantity != 1:
        raise ShopError(PROGRAM_QUANTITY_MESSAGE)


def add_to_cart(cart, variant_id, quantity):
    """Add ``quantity`` of a variant to the cart (or raise :class:`ShopError`). A program
    already in the cart stays there once."""
    check_quantity(quantity)
    variant = _buyable_variant(variant_id)
    _check_program_quantity(variant, quantity)
    line = next((ln for ln in cart.lines if ln.variant_id == variant.id), None)
    if line is not None and variant.product.is_program:
        return line
    total = quantity + (line.quantity if line else 0)
    if total > MAX_LINE_QUANTITY:
        raise ShopError(f"You can buy at most {MAX_LINE_QUANTITY} of one item.")
    check_option_quantity(variant, total)
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
    """Change a line's quantity (1 to :data:`MAX_LINE_QUANTITY`)."""
    line = _cart_line(cart, line_id)
    check_quantity(quantity)
    _check_program_quantity(line.variant, quantity)
    check_option_quantity(line.variant, quantity)
    _check_stock(line.variant, quantity)
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
