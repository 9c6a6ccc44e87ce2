"""Staff pages for the shop: products, variants, prices and stock; orders by status,
an order's event log, marking shipped, and refunds through Stripe. The work itself is
the shop's (``blueprints/shop``); these views parse the request and render."""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.admin.blueprint import bp
from blueprints.core.errors import UserError
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required
from blueprints.shop import editing, fulfilment, refunds
from blueprints.shop.errors import ShopError
from blueprints.shop.forms import ProductForm, RefundForm, ShipForm, VariantForm
from blueprints.shop.models import SHIPPABLE_STATUSES, Order, OrderStatus, Product, Variant
from extensions import db

ORDER_FILTERS = {
    "all": ("All orders", None),
    "to_ship": ("To ship", None),
    "attention": ("Needs attention", None),
    **{s.value: (s.value.replace("_", " ").capitalize(), s) for s in OrderStatus},
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
            Order.status.in_(SHIPPABLE_STATUSES),
            Order.shipped_at.is_(None),
        )
    elif current == "attention":
        query = query.where(Order.needs_attention)
    elif current != "all":
        query = query.where(Order.status == ORDER_FILTERS[current][1])
    counts = dict(
        db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
    )
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
        ),
        status,
    )


@bp.get("/orders/<int:order_id>")
@staff_required
def order(order_id):
    return _render_order(_order_or_404(order_id))


def _order_post(order_id, form, form_name, field, action):
    """A staff action on one order from ``form`` (named ``form_name`` on the page):
    ``action(order)`` returns what to flash; its refusal is shown under ``field`` (409)."""
    order = _order_or_404(order_id)
    if not form.validate():
        return _render_order(order, status=400, **{form_name: form})
    try:
        done = action(order)
    except UserError as exc:
        db.session.rollback()
        field.errors = [exc.message]
        return _render_order(order, status=409, **{form_name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("admin.order", order_id=order.id), 303)


@bp.post("/orders/<int:order_id>/ship")
@staff_required
def order_ship(order_id):
    form = ShipForm()

    def ship(order):
        fulfilment.mark_shipped(order, form.tracking_number.data.strip(), _staff_name())
        return f"Order {order.reference} marked shipped; the customer has been emailed."

    return _order_post(order_id, form, "ship_form", form.tracking_number, ship)


@bp.post("/orders/<int:order_id>/refund")
@staff_required
def order_refund(order_id):
    form = RefundForm()

    def refund(order):
        cents = form.amount_cents
        refunds.refund_order(order, cents, form.request_key.data, _staff_name())
        return f"Refunded {format_money(cents, order.currency)}."

    return _order_post(order_id, form, "refund_form", form.amount, refund)


@bp.post("/orders/<int:order_id>/checked")
@staff_required
def order_checked(order_id):
    """Staff have dealt with a flagged order: clear the flag, keep the record."""
    order = _order_or_404(order_id)
    if fulfilment.clear_attention(order, _staff_name()):
        db.session.commit()
        flash(f"Order {order.reference} is no longer flagged.", "success")
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
    if request.method == "GET":
        return _render_product(product, form, variant_form)
    if not form.validate():
        return _render_product(product, form, variant_form, 400)
    try:
        product = editing.save_product(product, form.product_fields())
    except ShopError as exc:
        db.session.rollback()
        form.slug.errors = [exc.message]
        return _render_product(product, form, variant_form, 400)
    db.session.commit()
    flash("Product saved.", "success")
    return redirect(url_for("admin.product_edit", product_id=product.id), 303)


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
    try:
        variant = editing.save_variant(product, variant, form.variant_fields())
    except ShopError as exc:
        db.session.rollback()
        form.sku.errors = [exc.message]
        return _render_product(product, ProductForm(obj=product, formdata=None), form, 400)
    db.session.commit()
    flash(f"Saved {variant.sku}.", "success")
    return redirect(url_for("admin.product_edit", product_id=product.id), 303)
