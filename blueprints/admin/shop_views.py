"""Staff pages for the shop: products, variants, prices and stock; orders by state,
an order's event log, marking shipped, and refunds through Stripe."""

import secrets
from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.admin import bp
from blueprints.core.cache import invalidate_after_commit
from blueprints.core.layout import format_money
from blueprints.core.markdown import render_post
from blueprints.core.security import staff_required
from blueprints.shop import services
from blueprints.shop.forms import ProductForm, RefundForm, ShipForm, VariantForm
from blueprints.shop.models import Order, OrderState, Product, Variant
from extensions import db

ORDER_FILTERS = {
    "all": ("All orders", None),
    "to_ship": ("To ship", None),
    "attention": ("Needs attention", None),
    **{state.value: (state.value.replace("_", " ").capitalize(), state) for state in OrderState},
}
PAGE_SIZE = 50


def _staff_name():
    return current_user.email


@bp.get("/orders")
@staff_required
def orders():
    current = request.args.get("state", "to_ship")
    if current not in ORDER_FILTERS:
        current = "all"
    query = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if current == "to_ship":
        query = query.where(
            Order.needs_shipping,
            Order.state.in_([OrderState.PAID, OrderState.PARTIALLY_REFUNDED]),
            Order.shipped_at.is_(None),
        )
    elif current == "attention":
        query = query.where(Order.needs_attention)
    elif current != "all":
        query = query.where(Order.state == ORDER_FILTERS[current][1])
    counts = dict(db.session.execute(select(Order.state, func.count()).group_by(Order.state)).all())
    return render_template(
        "admin/orders.html",
        orders=db.session.scalars(query.limit(PAGE_SIZE)).all(),
        filters=ORDER_FILTERS,
        current=current,
        counts=counts,
    )


def _order_or_404(order_id):
    return db.session.get(Order, order_id) or abort(404)


def _render_order(order, ship_form=None, refund_form=None, status=200):
    refund_form = refund_form or RefundForm(formdata=None)
    if not refund_form.request_key.data:
        refund_form.request_key.data = secrets.token_urlsafe(16)
    return (
        render_template(
            "admin/order.html",
            order=order,
            ship_form=ship_form or ShipForm(formdata=None),
            refund_form=refund_form,
            can_ship=order.needs_shipping
            and order.state in (OrderState.PAID, OrderState.PARTIALLY_REFUNDED)
            and order.shipped_at is None,
            can_refund=order.state in services.REFUNDABLE_STATES
            and order.stripe_payment_intent_id is not None
            and order.refundable_cents > 0,
        ),
        status,
    )


@bp.get("/orders/<int:order_id>")
@staff_required
def order(order_id):
    return _render_order(_order_or_404(order_id))


@bp.post("/orders/<int:order_id>/ship")
@staff_required
def order_ship(order_id):
    order = _order_or_404(order_id)
    form = ShipForm()
    if not form.validate():
        return _render_order(order, ship_form=form, status=400)
    try:
        services.mark_shipped(order, form.tracking_number.data.strip(), _staff_name())
    except services.ShopError as exc:
        db.session.rollback()
        form.tracking_number.errors = [str(exc)]
        return _render_order(order, ship_form=form, status=409)
    db.session.commit()
    flash(f"Order {order.reference} marked shipped; the customer has been emailed.", "success")
    return redirect(url_for("admin.order", order_id=order.id), 303)


@bp.post("/orders/<int:order_id>/checked")
@staff_required
def order_checked(order_id):
    """Staff have dealt with a flagged order: clear the flag, keep the record."""
    order = _order_or_404(order_id)
    if order.needs_attention:
        order.needs_attention = False
        services.record_event(order, "checked", "Flag cleared by staff.", _staff_name())
        db.session.commit()
        flash(f"Order {order.reference} is no longer flagged.", "success")
    return redirect(url_for("admin.order", order_id=order.id), 303)


def _parse_dollars(text):
    try:
        amount = Decimal((text or "").strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


@bp.post("/orders/<int:order_id>/refund")
@staff_required
def order_refund(order_id):
    order = _order_or_404(order_id)
    form = RefundForm()
    if not form.validate():
        return _render_order(order, refund_form=form, status=400)
    cents = _parse_dollars(form.amount.data)
    if cents is None:
        form.amount.errors = ["Enter an amount in dollars and cents, like 25.00."]
        return _render_order(order, refund_form=form, status=400)
    try:
        services.refund_order(order, cents, form.request_key.data, _staff_name())
    except services.ShopError as exc:
        db.session.rollback()
        form.amount.errors = [str(exc)]
        return _render_order(order, refund_form=form, status=409)
    db.session.commit()
    flash(f"Refunded {format_money(cents, order.currency)}.", "success")
    return redirect(url_for("admin.order", order_id=order.id), 303)


# --- products --------------------------------------------------------------------------


@bp.get("/products")
@staff_required
def products():
    return render_template(
        "admin/products.html",
        products=db.session.scalars(select(Product).order_by(Product.position, Product.name)).all(),
    )


def _render_product(product, form, variant_form, status=200):
    return (
        render_template(
            "admin/product_edit.html", product=product, form=form, variant_form=variant_form
        ),
        status,
    )


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@staff_required
def product_edit(product_id=None):
    product = db.session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        abort(404)
    form = ProductForm(obj=product)
    variant_form = VariantForm(formdata=None)
    if request.method == "POST":
        if not form.validate():
            return _render_product(product, form, variant_form, 400)
        taken = db.session.scalar(
            select(Product.id).where(
                Product.slug == form.slug.data, Product.id != (product_id or 0)
            )
        )
        if taken:
            form.slug.errors = ["Another product already uses this address."]
            return _render_product(product, form, variant_form, 400)
        if product is None:
            product = Product()
            db.session.add(product)
        form.populate_obj(product)
        product.description_html = render_post(product.description_md or "")
        # Names, prices and addresses show on every shop page and in blog posts.
        invalidate_after_commit("catalogue")
        db.session.commit()
        flash("Product saved.", "success")
        return redirect(url_for("admin.product_edit", product_id=product.id), 303)
    return _render_product(product, form, variant_form)


@bp.post("/products/<int:product_id>/variants")
@bp.post("/variants/<int:variant_id>")
@staff_required
def variant_save(product_id=None, variant_id=None):
    variant = db.session.get(Variant, variant_id) if variant_id else None
    if variant_id and variant is None:
        abort(404)
    product = variant.product if variant else db.session.get(Product, product_id)
    if product is None:
        abort(404)
    form = VariantForm()
    if not form.validate():
        return _render_product(product, ProductForm(obj=product, formdata=None), form, 400)
    cents = _parse_dollars(form.price.data)
    taken = db.session.scalar(
        select(Variant.id).where(Variant.sku == form.sku.data, Variant.id != (variant_id or 0))
    )
    if cents is None or cents <= 0 or taken:
        if cents is None or cents <= 0:
            form.price.errors = ["Enter a price above zero, like 109.00."]
        if taken:
            form.sku.errors = ["Another variant already uses this SKU."]
        return _render_product(product, ProductForm(obj=product, formdata=None), form, 400)
    if variant is None:
        variant = Variant(product=product)
        db.session.add(variant)
    variant.sku = form.sku.data.strip()
    variant.name = form.name.data.strip()
    variant.price_cents = cents
    variant.stock = form.stock.data  # empty: unlimited
    variant.active = form.active.data
    invalidate_after_commit("catalogue", "shop:stock")
    db.session.commit()
    flash(f"Saved {variant.sku}.", "success")
    return redirect(url_for("admin.product_edit", product_id=product.id), 303)
