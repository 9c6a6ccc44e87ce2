"""Staff pages for the shop: products, variants, prices and stock; orders by status,
words and days (with their totals and a CSV file), an order's event log, marking
shipped (and correcting its tracking number), and refunds through Stripe. The work itself is the shop's
(``blueprints/shop``); these views parse the request and render."""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.account.roles import NotAllowed
from blueprints.admin.blueprint import bp
from blueprints.admin.confirming import confirmation_page, confirmed
from blueprints.core.csv_files import csv_download
from blueprints.core.errors import UserError
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required
from blueprints.core.timezones import days_in_words, practitioner_zone
from blueprints.core.types import parse_id, utcnow
from blueprints.media import library as media_library
from blueprints.shop import editing, fulfilment, gallery, order_search, refunds
from blueprints.shop.errors import ShopError
from blueprints.shop.forms import (
    GalleryAddForm,
    GalleryMoveForm,
    GalleryRemoveForm,
    OrderSearchForm,
    ProductForm,
    RefundForm,
    ShipForm,
    TrackingForm,
    VariantForm,
)
from blueprints.shop.models import Order, Product, Variant
from blueprints.shop.order_search import BY_PAYMENT, BY_PLACED, STATE_FILTERS, OrderQuery
from extensions import db

# Larger page numbers would overflow OFFSET; nobody pages that far.
MAX_PAGE = 100_000


def _staff():
    """The signed-in staff account, as the services take it (``actor``)."""
    return current_user._get_current_object()


def _page_arg():
    return parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1


def _order_search():
    """(form, query) from the request's arguments; the query is None when the form has
    errors. Searching without a state looks through every order."""
    form = OrderSearchForm(request.args)
    searching = any(request.args.get(name) for name in ("q", "first_day", "last_day"))
    state = request.args.get("state") or ("all" if searching else "to_ship")
    if state not in STATE_FILTERS:
        state = "all"
    if not form.validate():
        return form, state, None
    query = OrderQuery(
        state=state,
        text=(form.q.data or "").strip(),
        first_day=form.first_day.data,
        last_day=form.last_day.data,
        by=_by_arg(),
    )
    return form, state, query


def _by_arg():
    """Days as when orders were placed (the form's), or when money moved (the
    dashboard's revenue links)."""
    return BY_PAYMENT if request.args.get("by") == BY_PAYMENT else BY_PLACED


def _money_days(query):
    """When the list is of orders paid or refunded on some days, those days in words
    (``on 5 December 2026``, ``up to 31 December 2026``); else None."""
    if query is None or query.by != BY_PAYMENT or not (query.first_day or query.last_day):
        return None
    return days_in_words(query.first_day, query.last_day)


def _search_args(form):
    """The search typed, for links that keep it (filters, pages, the CSV file)."""
    by = _by_arg()
    args = {
        "by": by if by != BY_PLACED else None,
        "q": form.q.data,
        "first_day": form.first_day.data,
        "last_day": form.last_day.data,
    }
    return {key: value for key, value in args.items() if value}


@bp.get("/orders")
@staff_required
def orders():
    form, state, query = _order_search()
    if query is None:
        return render_template(
            "admin/orders.html",
            form=form,
            page=None,
            totals=[],
            filters=STATE_FILTERS,
            current=state,
            counts=order_search.state_counts(),
            search_args={},
            state_chosen=bool(request.args.get("state")),
        ), 400
    return render_template(
        "admin/orders.html",
        form=form,
        page=order_search.find_orders(query, _page_arg()),
        totals=order_search.order_totals(query),
        filters=STATE_FILTERS,
        current=state,
        counts=order_search.state_counts(),
        search_args=_search_args(form),
        state_chosen=bool(request.args.get("state")),
        money_days=_money_days(query),
        placed_args={k: v for k, v in _search_args(form).items() if k != "by"},
    )


@bp.get("/orders.csv")
@staff_required
def orders_csv():
    """Every order the list shows for the same search (all pages), as a CSV file."""
    form, state, query = _order_search()
    if query is None:
        return orders()
    today = utcnow().astimezone(practitioner_zone()).date()
    return csv_download(order_search.orders_csv(query), f"orders-{today}.csv")


def _order_or_404(order_id):
    return db.session.get(Order, order_id) or abort(404)


def _render_order(order, ship_form=None, refund_form=None, tracking_form=None, status=200):
    refund_form = refund_form or RefundForm(formdata=None)
    tracking_form = tracking_form or TrackingForm(
        formdata=None, data={"tracking_number": order.tracking_number}
    )
    if not refund_form.request_key.data:
        refund_form.request_key.data = secrets.token_urlsafe(16)
    return (
        render_template(
            "admin/order.html",
            order=order,
            ship_form=ship_form or ShipForm(formdata=None),
            refund_form=refund_form,
            tracking_form=tracking_form,
        ),
        status,
    )


@bp.get("/orders/<int:order_id>")
@staff_required
def order(order_id):
    return _render_order(_order_or_404(order_id))


def _order_post(order_id, form, form_name, field, action, ask=None):
    """A staff action on one order from ``form`` (named ``form_name`` on the page):
    ``action(order)`` returns what to flash; its refusal is shown under ``field`` (409).
    With ``ask``, an unconfirmed POST gets ``ask(order)`` instead: the "are you sure?"
    page, once the action's checks pass (``admin/confirming.py``)."""
    order = _order_or_404(order_id)
    if not form.validate():
        return _render_order(order, status=400, **{form_name: form})
    try:
        if ask is not None and not confirmed():
            return ask(order)
        done = action(order)
    except UserError as exc:
        db.session.rollback()
        field.errors = [exc.message]
        # A role's refusal is a 403; anything else the order's state refused is a 409.
        status = 403 if isinstance(exc, NotAllowed) else 409
        return _render_order(order, status=status, **{form_name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("admin.order", order_id=order.id), 303)


@bp.post("/orders/<int:order_id>/ship")
@staff_required
def order_ship(order_id):
    form = ShipForm()

    def ship(order):
        fulfilment.mark_shipped(order, form.tracking_number.data.strip(), _staff())
        return f"Order {order.reference} marked shipped; the customer has been emailed."

    return _order_post(order_id, form, "ship_form", form.tracking_number, ship)


@bp.post("/orders/<int:order_id>/tracking")
@staff_required
def order_tracking(order_id):
    form = TrackingForm()

    def correct(order):
        emailed = fulfilment.correct_tracking_number(
            order, form.tracking_number.data.strip(), form.email_customer.data, _staff()
        )
        if emailed:
            return "Tracking number corrected; the customer has been emailed the new one."
        return "Tracking number corrected; the customer was not emailed."

    return _order_post(order_id, form, "tracking_form", form.tracking_number, correct)


@bp.post("/orders/<int:order_id>/refund")
@staff_required
def order_refund(order_id):
    form = RefundForm()

    def ask(order):
        cents = form.amount_cents
        refunds.check_refund_order(order, cents, _staff())
        return confirmation_page(
            f"Refund {format_money(cents, order.currency)} to "
            f"{order.customer_name or order.email} through Stripe?",
            "Yes, refund through Stripe",
            url_for("admin.order", order_id=order.id),
            detail=(
                "The money goes back to the card she paid with. "
                + (
                    "It refunds the whole order, so her access to its programs ends. "
                    if refunds.refund_ends_access(order, cents)
                    else ""
                )
                + "She is emailed to say so. A refund cannot be undone."
            ),
        )

    def refund(order):
        cents = form.amount_cents
        refunds.refund_order(order, cents, form.request_key.data, _staff())
        return f"Refunded {format_money(cents, order.currency)}."

    return _order_post(order_id, form, "refund_form", form.amount, refund, ask)


@bp.post("/orders/<int:order_id>/checked")
@staff_required
def order_checked(order_id):
    """Staff have dealt with a flagged order: clear the flag, keep the record."""
    order = _order_or_404(order_id)
    if fulfilment.clear_attention(order, _staff()):
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


def _render_product(product, form, variant_form, status=200, gallery_form=None):
    return (
        render_template(
            "admin/product_edit.html",
            product=product,
            form=form,
            variant_form=variant_form,
            pictures=gallery.gallery(product) if product else [],
            gallery_form=gallery_form
            or GalleryAddForm(formdata=None).with_choices(media_library.image_choices()),
            move_form=GalleryMoveForm(formdata=None),
            remove_form=GalleryRemoveForm(formdata=None),
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
        product = editing.save_product(product, form.product_fields(), actor=_staff())
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
        variant = editing.save_variant(product, variant, form.variant_fields(), actor=_staff())
    except ShopError as exc:
        db.session.rollback()
        form.sku.errors = [exc.message]
        return _render_product(product, ProductForm(obj=product, formdata=None), form, 400)
    db.session.commit()
    flash(f"Saved {variant.sku}.", "success")
    return redirect(url_for("admin.product_edit", product_id=product.id), 303)


# --- a product's gallery ----------------------------------------------------------------


def _product_or_404(product_id):
    return db.session.get(Product, product_id) or abort(404)


def _gallery_change(product, change, done):
    """``change()`` on ``product``'s gallery: its refusal shown on the product page (the
    error's status), else committed and ``done`` flashed."""
    try:
        change()
    except ShopError as exc:
        db.session.rollback()
        form = GalleryAddForm().with_choices(media_library.image_choices())
        form.image.errors = [exc.message]
        product = db.session.get(Product, product.id)
        return _render_product(
            product, ProductForm(obj=product, formdata=None), VariantForm(formdata=None),
            exc.status, gallery_form=form,
        )  # fmt: skip
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("admin.product_edit", product_id=product.id, _anchor="gallery"), 303)


@bp.post("/products/<int:product_id>/images")
@staff_required
def product_image_add(product_id):
    product = _product_or_404(product_id)
    form = GalleryAddForm().with_choices(media_library.image_choices())
    if not form.validate() or form.image_id is None:
        form.image.errors = form.image.errors or ["Choose a picture from the library."]
        return _render_product(
            product, ProductForm(obj=product, formdata=None), VariantForm(formdata=None),
            400, gallery_form=form,
        )  # fmt: skip
    return _gallery_change(
        product,
        lambda: gallery.add_image(product, form.image_id, actor=_staff()),
        "Picture added.",
    )


@bp.post("/products/<int:product_id>/images/<int:item_id>/move")
@staff_required
def product_image_move(product_id, item_id):
    product = _product_or_404(product_id)
    form = GalleryMoveForm()
    if not form.validate():
        abort(400)
    return _gallery_change(
        product,
        lambda: gallery.move_image(product, item_id, form.step, actor=_staff()),
        "Picture moved.",
    )


@bp.post("/products/<int:product_id>/images/<int:item_id>/remove")
@staff_required
def product_image_remove(product_id, item_id):
    product = _product_or_404(product_id)
    if not GalleryRemoveForm().validate():
        abort(400)
    return _gallery_change(
        product,
        lambda: gallery.remove_image(product, item_id, actor=_staff()),
        "Picture taken out of the gallery (it stays in the library).",
    )
