"""Shop pages: the catalogue, product pages, the cart, checkout and its return pages.

Views stay thin: load, check, validate, call a service, commit once, redirect.
"""

import stripe
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from blueprints.blog.related import POSTS_TAG, related_posts
from blueprints.core.cache import cached_page
from blueprints.core.headers import no_store
from blueprints.core.types import MAX_ID, parse_id
from blueprints.shop import (
    cache_tags,
    cart,
    catalogue,
    checkout,
    fulfilment,
    gallery,
    holds,
    links,
    options,
    shipping,
)
from blueprints.shop.blueprint import bp
from blueprints.shop.errors import PaymentUnavailable, QuantityRefused, ShopError
from blueprints.shop.forms import (
    AddToCartForm,
    CartLineForm,
    CheckoutForm,
    ProgramCartForm,
    ReleaseCheckoutForm,
    RemoveLineForm,
    ShipToForm,
)
from blueprints.shop.models import (
    SHIPPING_COUNTRIES,
    Order,
    OrderStatus,
    Product,
    Variant,
)
from extensions import db, limiter

# What the pages tell the buyer, from the rules themselves: the most of an option she
# can choose (the hint, the field's max and every refusal name it), how long a checkout
# holds its items.
LIMITS = {
    "max_quantity": cart.max_quantity,
    "hold_minutes": holds.CHECKOUT_MINUTES,
}


@bp.get("/shop/")
# The catalogue: names, prices, products; the stock tag: what is sold out.
@cached_page(tags=[cache_tags.CATALOGUE, cache_tags.STOCK])
def index():
    return render_template("shop/index.html", products=catalogue.catalogue())


def _render_product(product, form, status=200, error=None, variants=None):
    tags = catalogue.product_tags(product)
    variants = catalogue.product_options(product) if variants is None else variants
    grid = options.option_grid(variants)
    return (
        render_template(
            "shop/product.html",
            product=product,
            variants=variants,
            grid=grid,
            chosen=options.named_option(
                variants, grid, form.variant_id.data, form.size.data, form.weight.data
            ),
            size_guide=options.SIZE_GUIDE,
            stock_text=options.stock_text,
            stock_class=options.stock_class,
            pictures=gallery.gallery(product),
            tags=tags,
            form=form,
            error=error,
            related=related_posts([tag.id for tag in tags]),
            **LIMITS,
            **_product_shipping(product),
        ),
        status,
    )


def _product_shipping(product):
    """The shipping rates a physical product's page shows (shop/_shipping.html)."""
    if product.is_program:
        return {"shipping_rates": None, "free_shipping_above": None}
    return {
        "shipping_rates": shipping.rates_by_country(),
        "free_shipping_above": shipping.free_above_cents(),
    }


@bp.get("/shop/<slug>")
# The page shows its stock, the shipping rates and the blog posts that share its tags.
@cached_page(
    tags=lambda slug: [
        cache_tags.CATALOGUE,
        cache_tags.product_page(slug),
        cache_tags.SHIPPING,
        POSTS_TAG,
    ]
)
def product(slug):
    product = catalogue.product_by_slug(slug) or abort(404)
    variants = catalogue.product_options(product)
    form = (ProgramCartForm if product.is_program else AddToCartForm)()
    buyable = [v for v in variants if not v.sold_out]
    if buyable and form.variant_id.data is None:
        form.variant_id.data = buyable[0].id
        form.size.data, form.weight.data = buyable[0].size, buyable[0].added_weight_lb
    return _render_product(product, form, variants=variants)


def _render_cart(status=200, error=None):
    current = cart.current_cart()
    subtotal = cart.cart_total(current)
    return (
        render_template(
            "shop/cart.html",
            cart=current,
            total=subtotal,
            shipping=shipping.cart_shipping(current, subtotal, cart.ship_to_choice()),
            error=error,
            line_form=CartLineForm(formdata=None),
            checkout_form=CheckoutForm(formdata=None),
            **LIMITS,
        ),
        status,
    )


# Pages after which the cart may hold a different number of items than before (after
# payment, the success page finds it emptied).
_COUNT_CHANGES = {"shop.cart", "shop.add_to_cart", "shop.update_cart", "shop.remove_from_cart",
                  "shop.success"}  # fmt: skip


@bp.after_request
def _tell_the_header_the_count(response):
    """Keep the header's count cookie (cart.COUNT_COOKIE) in step with her cart."""
    if request.endpoint not in _COUNT_CHANGES:
        return response
    count = cart.item_count(cart.current_cart())
    if count:
        response.set_cookie(
            cart.COUNT_COOKIE,
            str(count),
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
        )
    elif cart.COUNT_COOKIE in request.cookies:
        response.delete_cookie(cart.COUNT_COOKIE)
    return response


# The modules are named cart and checkout: the endpoints keep those names.
@bp.get("/cart", endpoint="cart")
@no_store
def show_cart():
    return _render_cart()


def _product_asked_for():
    """(product, option or None) that an "Add to cart" form names: an option by its id,
    or a product (whose size and weight choose its option); (None, None) when neither
    is for sale. Only a possible id is looked up: a number past the database's integer
    range would make the lookup itself fail."""
    variant_id = parse_id(request.form.get("variant_id", ""))
    if variant_id is not None:
        variant = db.session.get(Variant, variant_id)
        if variant is None or not variant.product.active:
            return None, None
        return variant.product, variant
    product_id = parse_id(request.form.get("product_id", ""))
    product = db.session.get(Product, product_id) if product_id is not None else None
    return (product, None) if product is not None and product.active else (None, None)


@bp.post("/cart/add")
@limiter.limit("60/minute")
def add_to_cart():
    product, variant = _product_asked_for()
    if product is None:
        db.session.rollback()
        return _render_cart(404, "Sorry, that item is not available.")
    form = (ProgramCartForm if product.is_program else AddToCartForm)()
    if not form.validate():
        return _render_product(product, form, 400)
    if variant is None:
        try:
            variant = options.resolve_option(
                catalogue.product_options(product), form.size.data.strip(), form.weight.data
            )
        except ShopError as exc:
            db.session.rollback()
            return _render_product(product, form, exc.status, exc.message)
    current = cart.current_cart(create=True)
    try:
        _line, added = cart.add_to_cart(current, variant.id, form.quantity.data)
    except QuantityRefused as exc:
        db.session.rollback()
        form.refuse_quantity(exc.message)
        return _render_product(product, form, exc.status)
    except ShopError as exc:
        db.session.rollback()
        return _render_product(product, form, exc.status, exc.message)
    db.session.commit()
    # She stays on the product; the message links to the cart (base.html, "cart").
    if added:
        flash(f"Added {variant.label()} to your cart.", "cart")
    else:
        flash(f"{variant.label()} is already in your cart. A program is bought once.", "cart")
    return redirect(url_for("shop.product", slug=product.slug), 303)


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
    if not form.validate():  # the quantity's range is the cart's to check: only the line
        return _render_cart(400, "That item is no longer in your cart.")
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


@bp.post("/cart/ship-to")
@no_store
def ship_to():
    """The cart's "Ship to": the country whose rates the cart and Checkout offer."""
    form = ShipToForm()  # its token was checked by CSRFProtect
    current = cart.current_cart()
    try:
        country = shipping.check_ship_to(
            form.country.data if form.validate() else None, cart.cart_currency(current)
        )
    except ShopError as exc:
        return _render_cart(exc.status, exc.message)
    cart.choose_ship_to(country)
    flash(f"Shipping to {SHIPPING_COUNTRIES[country]}: your total is updated.", "success")
    return redirect(url_for("shop.cart"), 303)


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
        order = checkout.place_order(current, client_key=visitor, ship_to=cart.ship_to_choice())
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
