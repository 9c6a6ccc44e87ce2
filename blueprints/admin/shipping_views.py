"""Staff pages for shipping: the rates per country Checkout offers (add, change, take
off sale) and the free-shipping threshold they are free above. The work is the shop's
(``blueprints/shop/shipping.py``); these views parse the request and render."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.admin.blueprint import bp
from blueprints.core.security import staff_required
from blueprints.shop import shipping
from blueprints.shop.errors import ShopError
from blueprints.shop.forms import ShippingRateForm
from blueprints.shop.models import MAX_ACTIVE_RATES, ShippingRate
from extensions import db


@bp.get("/shipping")
@staff_required
def shipping_rates():
    return render_template(
        "admin/shipping.html",
        rates=shipping.all_rates(),
        free_above_cents=shipping.free_above_cents(),
        max_active=MAX_ACTIVE_RATES,
    )


def _render_rate(rate, form, status=200):
    return render_template("admin/shipping_rate.html", rate=rate, form=form), status


@bp.route("/shipping/new", methods=["GET", "POST"])
@bp.route("/shipping/<int:rate_id>", methods=["GET", "POST"])
@staff_required
def shipping_rate_edit(rate_id=None):
    rate = db.session.get(ShippingRate, rate_id) if rate_id else None
    if rate_id and rate is None:
        abort(404)
    form = ShippingRateForm(obj=rate)
    if request.method == "GET":
        if rate is not None:
            form.amount.data = f"{rate.amount_cents / 100:.2f}"
        return _render_rate(rate, form)
    if not form.validate():
        return _render_rate(rate, form, 400)
    try:
        rate = shipping.save_rate(rate, form.rate_fields(), current_user._get_current_object())
    except ShopError as exc:
        db.session.rollback()
        form.name.errors = [exc.message]
        return _render_rate(rate, form, exc.status)
    db.session.commit()
    flash(f"Saved the rate {rate.country_name}: {rate.label}.", "success")
    return redirect(url_for("admin.shipping_rates"), 303)
