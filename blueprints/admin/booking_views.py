"""Staff pages for consultations: the schedule, and Dr. Brown's availability. The work
(cancelling, marking, saving hours) is booking's; these views parse and render."""

from datetime import date, datetime, timedelta
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for

from blueprints.admin.blueprint import bp
from blueprints.booking import changes, hours, services
from blueprints.booking.errors import BookingError
from blueprints.booking.forms import WEEKDAYS, BlockForm, OverrideForm, WeeklyHoursForm
from blueprints.booking.models import Booking
from blueprints.core.errors import UserError
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import CALENDAR_YEARS, utcnow
from extensions import db


def _day_arg():
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = None
    # Year 1 or 9999 would overflow the week's first and last days.
    if day is None or day.year not in CALENDAR_YEARS:
        return utcnow().astimezone(practitioner_zone()).date()
    return day


@bp.get("/schedule")
@staff_required
def schedule():
    """Bookings by day or week, in Dr. Brown's zone, with each client's intake answers."""
    zone = practitioner_zone()
    day = _day_arg()
    view = "week" if request.args.get("view") == "week" else "day"
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    last = first + timedelta(days=7 if view == "week" else 1)
    now = utcnow()
    bookings = services.schedule(
        datetime.combine(first, datetime.min.time(), tzinfo=zone),
        datetime.combine(last, datetime.min.time(), tzinfo=zone),
        now,
    )
    by_day = {}
    for booking in bookings:
        by_day.setdefault(booking.starts_at.astimezone(zone).date(), []).append(booking)
    step = timedelta(days=7 if view == "week" else 1)
    return render_template(
        "admin/booking_schedule.html",
        view=view,
        first=first,
        last=last - timedelta(days=1),
        by_day=sorted(by_day.items()),
        previous=first - step,
        following=first + step,
        attention=services.needing_attention(),
        now=now,
        zone=zone,
    )


def _change(booking_id, change, message):
    """Run ``change(booking)``, commit, flash ``message(booking, result)`` and go back to
    the booking's day; a refusal (too early, changed meanwhile, refund failed) is
    flashed instead."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    day = booking.starts_at.astimezone(practitioner_zone()).date().isoformat()
    try:
        result = change(booking)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message(booking, result), "success")
    return redirect(url_for("admin.schedule", day=day), code=303)


def _cancelled(booking, refunded):
    if refunded:
        return (
            f"Cancelled {booking.name}'s consultation and refunded "
            f"{format_money(refunded, booking.currency)}."
        )
    return f"Cancelled {booking.name}'s consultation without a refund."


@bp.post("/bookings/<int:booking_id>/cancel")
@staff_required
def booking_cancel(booking_id):
    refund = request.form.get("refund") == "yes"
    cancel = partial(changes.cancel_booking, actor="staff", refund=refund)
    return _change(booking_id, cancel, _cancelled)


@bp.post("/bookings/<int:booking_id>/no-show")
@staff_required
def booking_no_show(booking_id):
    return _change(
        booking_id, changes.mark_no_show, lambda b, _: f"Marked {b.name} as not attending."
    )


@bp.post("/bookings/<int:booking_id>/completed")
@staff_required
def booking_completed(booking_id):
    return _change(
        booking_id,
        changes.mark_completed,
        lambda b, _: f"Marked {b.name}'s consultation as done.",
    )


def _render_availability(hours_form=None, override_form=None, block_form=None, status=200):
    return render_template(
        "admin/booking_availability.html",
        **hours.current_availability(),
        weekdays=WEEKDAYS,
        hours_form=hours_form or WeeklyHoursForm(prefix="hours"),
        override_form=override_form or OverrideForm(prefix="override"),
        block_form=block_form or BlockForm(prefix="block"),
        zone=practitioner_zone(),
    ), status


def _saved(message):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.availability"), code=303)


@bp.get("/availability")
@staff_required
def availability():
    """Weekly hours, date overrides and days off, and blocked time."""
    return _render_availability()


@bp.post("/availability/hours")
@staff_required
def availability_add_hours():
    form = WeeklyHoursForm(prefix="hours")
    if not form.validate_on_submit():
        return _render_availability(hours_form=form, status=400)
    hours.add_weekly_hours(int(form.weekday.data), form.start_time.data, form.end_time.data)
    return _saved("Working hours added.")


@bp.post("/availability/overrides")
@staff_required
def availability_add_override():
    form = OverrideForm(prefix="override")
    if not form.validate_on_submit():
        return _render_availability(override_form=form, status=400)
    day_off = form.day_off.data
    hours.add_date_override(
        form.on_date.data,
        None if day_off else form.start_time.data,
        None if day_off else form.end_time.data,
        form.note.data or "",
    )
    return _saved("Date saved.")


@bp.post("/availability/blocks")
@staff_required
def availability_add_block():
    form = BlockForm(prefix="block")
    if not form.validate_on_submit():
        return _render_availability(block_form=form, status=400)
    try:
        hours.block_local_time(
            form.on_date.data,
            form.start_time.data,
            form.end_date.data,
            form.end_time.data,
            form.reason.data or "",
        )
    except BookingError as exc:
        form.end_time.errors.append(exc.message)
        return _render_availability(block_form=form, status=400)
    return _saved("Time blocked.")


@bp.post("/availability/<kind>/<int:row_id>/delete")
@staff_required
def availability_delete(kind, row_id):
    if not hours.remove(kind, row_id):
        abort(404)
    return _saved("Removed.")
