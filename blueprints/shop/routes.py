"""Shop pages: the catalogue, product pages, the cart, checkout and its return pages.

Views stay thin: load, check, validate, call a service, commit once, redirect.
"""

import stripe
from flask import abort, flash, redirect, render_template, request, url_for

from blueprints.blog.related import POSTS_TAG, related_posts
from blueprints.core.cache import cached_page
from blueprints.core.headers import no_store
from blueprints.core.types import MAX_ID
from blueprints.shop import cache_tags, cart, catalogue, checkout, fulfilment, holds, links
from blueprints.shop.blueprint import bp
from blueprints.shop.errors import QUANTITY_MESSAGE, PaymentUnavailable, ShopError
from blueprints.shop.forms import (
    AddToCartForm,
    CartLineForm,
    CheckoutForm,
    ReleaseCheckoutForm,
    RemoveLineForm,
)
from blueprints.shop.models import MAX_LINE_QUANTITY, Order, OrderStatus, Variant
from extensions import db, limiter

# What the pages tell the buyer, from the rules themselves.
LIMITS = {
    "max_quantity": MAX_LINE_QUANTITY,
    "hold_minutes": holds.CHECKOUT_MINUTES,
}


@bp.get("/shop/")
# The catalogue: names, prices, products; the stock tag: what is sold out.
@cached_page(tags=[cache_tags.CATALOGUE, cache_tags.STOCK])
def index():
    return render_template("shop/index.html", products=catalogue.catalogue())


def _render_product(product, form, status=200, error=None, variants=None):
    tags = catalogue.product_tags(product)
    return (
        render_template(
            "shop/product.html",
            product=product,
            variants=catalogue.product_options(product) if variants is None else variants,
            tags=tags,
            form=form,
            error=error,
            related=related_posts([tag.id for tag in tags]),
            **LIMITS,
            # A vest option is held while its buyer pays: fewer of one per order.
            max_per_order=MAX_LINE_QUANTITY if product.is_program else holds.max_per_option(),
        ),
        status,
    )


@bp.get("/shop/<slug>")
# The page shows its stock and the blog posts that share its tags.
@cached_page(tags=lambda slug: [cache_tags.CATALOGUE, cache_tags.product_page(slug), POSTS_TAG])
def product(slug):
    product = catalogue.product_by_slug(slug) or abort(404)
    variants = catalogue.product_options(product)
    form = AddToCartForm()
    buyable = [v for v in variants if not v.sold_out]
    if buyable and form.variant_id.data is None:
        form.variant_id.data = buyable[0].id
    return _render_product(product, form, variants=variants)


def _render_cart(status=200, error=None):
    current = cart.current_cart()
    return (
        render_template(
            "shop/cart.html",
            cart=current,
            total=cart.cart_total(current),
            error=error,
            line_form=CartLineForm(formdata=None),
            checkout_form=CheckoutForm(formdata=None),
            **LIMITS,
            max_per_option=holds.max_per_option(),
        ),
        status,
    )


# The modules are named cart and checkout: the endpoints keep those names.
@bp.get("/cart", endpoint="cart")
@no_store
def show_cart():
    return _render_cart()


@bp.post("/cart/add")
@limiter.limit("60/minute")
def add_to_cart():
    form = AddToCartForm()
    # Look the option up only when it is a possible id: a number past the database's
    # integer range would make the lookup itself fail.
    variant_id = form.variant_id.data
    variant = (
        db.session.get(Variant, variant_id) if variant_id and 0 < variant_id <= MAX_ID else None
    )
    product = variant.product if variant and variant.product.active else None
    if product is None:
        db.session.rollback()
        return _render_cart(404, "Sorry, that item is not available.")
    if not form.validate():
        return _render_product(product, form, 400)
    current = cart.current_cart(create=True)
    try:
        cart.add_to_cart(current, variant.id, form.quantity.data)
    except ShopError as exc:
        db.session.rollback()
        return _render_product(product, form, exc.status, exc.message)
    db.session.commit()
    flash(f"Added {variant.label()} to your cart.", "success")
    return redirect(url_for("shop.cart"), 303)


def _change_cart(change, done):
    """Apply ``change()`` to the cart: its refusal shown on the cart page, else
    committed and ``done`` flashed."""
    try:
        change()
    except ShopError as exc:
        db.session.rollback()
        return _render_cart(exc.status, exc.message)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/update")
def update_cart():
    form = CartLineForm()
    if not form.validate():
        return _render_cart(400, (form.quantity.errors or [QUANTITY_MESSAGE])[0])
    return _change_cart(
        lambda: cart.update_cart_line(cart.current_cart(), form.line_id.data, form.quantity.data),
        "Your cart is updated.",
    )


@bp.post("/cart/remove")
def remove_from_cart():
    form = RemoveLineForm()
    if not form.validate():
        return _render_cart(400, "That item is no longer in your cart.")
    return _change_cart(
        lambda: cart.remove_cart_line(cart.current_cart(), form.line_id.data),
        "Removed from your cart.",
    )


@bp.post("/cart/checkout", endpoint="checkout")
@limiter.limit("20/minute")
def start_checkout():
    if not CheckoutForm().validate():
        return _render_cart(400, "Your session ran out. Please try again.")
    current = cart.current_cart()
    if current is None or not current.lines:
        return _render_cart(400, "Your cart is empty.")
    visitor = holds.visitor_key(request.remote_addr)
    holds.lock_visitor(visitor)
    checkout.release_earlier_checkouts(current)
    try:
        order = checkout.place_order(current, client_key=visitor)
    except ShopError as exc:
        # Nothing is held: the order and its holds vanish together.
        db.session.rollback()
        return _render_cart(exc.status, exc.message)
    try:
        url = checkout.open_checkout_session(order)
    except PaymentUnavailable as exc:
        db.session.commit()  # keeps the cancelled order (and its log) with no stock held
        return _render_cart(exc.status, exc.message)
    db.session.commit()
    return redirect(url, 303)


@bp.get("/shop/success")
@no_store
def success():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_") or len(session_id) > 255:
        abort(404)
    order = db.session.scalar(db.select(Order).where(Order.stripe_session_id == session_id))
    if order is None:
        abort(404)
    if fulfilment.claim_stripe_check(order):
        # Kept before Stripe is asked, so a slow answer holds no lock on the order (its
        # webhook writes the same row) and other visits meanwhile do not ask again.
        db.session.commit()
        try:
            order = fulfilment.fulfil_order(session_id)
            db.session.commit()
        except stripe.StripeError:
            db.session.rollback()  # the webhook will confirm it; the page says so
    programs_link = None
    paid = order.status in (OrderStatus.PAID, OrderStatus.FULFILLED)
    if paid and any(line.is_program for line in order.lines):
        programs_link = links.order_programs_path(order)
    return render_template(
        "shop/success.html",
        order=order,
        programs_link=programs_link,
        recheck_seconds=int(fulfilment.STRIPE_CHECK_INTERVAL.total_seconds()),
    )


def _returned_order():
    """The order Stripe's cancel link names, when it is this visitor's own (their
    cart's) checkout still waiting for payment."""
    order_id = request.args.get("order", type=int)
    current = cart.current_cart()
    if not order_id or not 0 < order_id <= MAX_ID or current is None:
        return None
    order = db.session.get(Order, order_id)
    if order is None or order.cart_id != current.id or order.status != OrderStatus.PENDING:
        return None
    return order


@bp.get("/shop/cancelled")
@no_store
def cancelled():
    return render_template(
        "shop/cancelled.html",
        order=_returned_order(),
        form=ReleaseCheckoutForm(formdata=None),
        **LIMITS,
    )


@bp.post("/shop/cancelled")
@limiter.limit("20/minute")
def release_checkout():
    """Give the items of the checkout the visitor just left back at once."""
    if not ReleaseCheckoutForm().validate():
        abort(400)
    order = _returned_order()
    if order is not None and checkout.release_checkout(order):
        flash("Done: those items are released. They are still in your cart.", "success")
    db.session.commit()
    return redirect(url_for("shop.cart"), 303)
