"""Shop pages: the catalogue, product pages, the cart, checkout and its return pages.

Views stay thin: load, check, validate, call a service, commit once, redirect.
"""

import stripe
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from blueprints.core.cache import cached_page
from blueprints.core.types import MAX_ID
from blueprints.shop import bp, services
from blueprints.shop.forms import (
    AddToCartForm,
    CartLineForm,
    CheckoutForm,
    RemoveLineForm,
)
from blueprints.shop.models import Order, OrderState, Variant
from extensions import db, limiter


@bp.app_template_global()
def shop_post_url(slug):
    """A blog post's address, before and after the blog's routes land."""
    if "blog.post" in current_app.view_functions:
        return url_for("blog.post", slug=slug)
    return "/blog/" + slug


@bp.get("/shop/")
# "catalogue": names, prices, products; "shop:stock": what is sold out.
@cached_page(tags=["catalogue", "shop:stock"])
def index():
    return render_template("shop/index.html", products=services.catalogue())


def _render_product(product, form, status=200, error=None, variants=None):
    tags = services.product_tags(product)
    return (
        render_template(
            "shop/product.html",
            product=product,
            variants=services.product_options(product) if variants is None else variants,
            tags=tags,
            form=form,
            error=error,
            related=services.related_posts([tag.id for tag in tags]),
        ),
        status,
    )


@bp.get("/shop/<slug>")
# The page shows its stock and the blog posts that share its tags.
@cached_page(tags=lambda slug: ["catalogue", f"product:{slug}", "blog"])
def product(slug):
    product = services.product_by_slug(slug) or abort(404)
    variants = services.product_options(product)
    form = AddToCartForm()
    buyable = [v for v in variants if not v.sold_out]
    if buyable and form.variant_id.data is None:
        form.variant_id.data = buyable[0].id
    return _render_product(product, form, variants=variants)


def _render_cart(status=200, error=None):
    cart = services.current_cart()
    return (
        render_template(
            "shop/cart.html",
            cart=cart,
            total=services.cart_total(cart),
            error=error,
            line_form=CartLineForm(formdata=None),
            checkout_form=CheckoutForm(formdata=None),
        ),
        status,
    )


@bp.get("/cart")
def cart():
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
    cart = services.current_cart(create=True)
    try:
        services.add_to_cart(cart, variant.id, form.quantity.data)
    except services.ShopError as exc:
        db.session.rollback()
        return _render_product(product, form, exc.status, str(exc))
    db.session.commit()
    flash(f"Added {variant.label()} to your cart.", "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/update")
def update_cart():
    form = CartLineForm()
    if not form.validate():
        message = (form.quantity.errors or ["Please choose a quantity from 1 to 10."])[0]
        return _render_cart(400, message)
    try:
        services.update_cart_line(services.current_cart(), form.line_id.data, form.quantity.data)
    except services.ShopError as exc:
        db.session.rollback()
        return _render_cart(exc.status, str(exc))
    db.session.commit()
    flash("Your cart is updated.", "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/remove")
def remove_from_cart():
    form = RemoveLineForm()
    if not form.validate():
        return _render_cart(400, "That item is no longer in your cart.")
    try:
        services.remove_cart_line(services.current_cart(), form.line_id.data)
    except services.ShopError as exc:
        db.session.rollback()
        return _render_cart(exc.status, str(exc))
    db.session.commit()
    flash("Removed from your cart.", "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/checkout")
@limiter.limit("20/minute")
def checkout():
    if not CheckoutForm().validate():
        return _render_cart(400, "Your session ran out. Please try again.")
    cart = services.current_cart()
    if cart is None or not cart.lines:
        return _render_cart(400, "Your cart is empty.")
    services.release_earlier_checkouts(cart)
    try:
        order = services.place_order(cart)
    except services.ShopError as exc:
        # Nothing is held: the order and its holds vanish together.
        db.session.rollback()
        return _render_cart(exc.status, str(exc))
    try:
        url = services.open_checkout_session(order)
    except services.PaymentUnavailable as exc:
        db.session.commit()  # keeps the cancelled order (and its log) with no stock held
        return _render_cart(exc.status, str(exc))
    db.session.commit()
    return redirect(url, 303)


@bp.get("/shop/success")
def success():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_") or len(session_id) > 255:
        abort(404)
    order = db.session.scalar(db.select(Order).where(Order.stripe_session_id == session_id))
    if order is None:
        abort(404)
    try:
        order = services.fulfil_order(session_id)
        db.session.commit()
    except stripe.StripeError:
        db.session.rollback()  # the webhook will confirm it; the page says so
    programs_link = None
    paid = order.state in (OrderState.PAID, OrderState.FULFILLED)
    if order.email and paid and any(line.is_program for line in order.lines):
        programs_link = url_for("account.programs", token=services.programs_token(order.email))
    return render_template("shop/success.html", order=order, programs_link=programs_link)


@bp.get("/shop/cancelled")
def cancelled():
    return render_template("shop/cancelled.html")
