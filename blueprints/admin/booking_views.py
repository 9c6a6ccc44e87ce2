"""Staff pages for consultations: the schedule, and Dr. Brown's availability."""

from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from blueprints.admin import bp
from blueprints.booking import services
from blueprints.booking.forms import WEEKDAYS, BlockForm, OverrideForm, WeeklyHoursForm
from blueprints.booking.models import (
    BlockedTime,
    Booking,
    BookingStatus,
    DateOverride,
    WeeklyHours,
)
from blueprints.core.cache import invalidate_after_commit
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

SHOWN_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)


def _day_arg():
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return utcnow().astimezone(practitioner_zone()).date()


@bp.get("/schedule")
@staff_required
def schedule():
    """Bookings by day or week, in Dr. Brown's zone, with each client's intake answers."""
    zone = practitioner_zone()
    day = _day_arg()
    view = "week" if request.args.get("view") == "week" else "day"
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    last = first + timedelta(days=7 if view == "week" else 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last, datetime.min.time(), tzinfo=zone)
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.status.in_(SHOWN_STATUSES),
            # A hold whose 30 minutes ran out is not a booking, even before cleanup.
            or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > utcnow()),
        )
        .order_by(Booking.starts_at)
    ).all()
    attention = db.session.scalars(
        select(Booking)
        .where(Booking.needs_attention.is_not(None))
        .order_by(Booking.id.desc())
        .limit(20)
    ).all()
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
        attention=attention,
        now=utcnow(),
        zone=zone,
    )


def _booking_or_404(booking_id):
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    return booking


def _back(booking):
    day = booking.starts_at.astimezone(practitioner_zone()).date().isoformat()
    return redirect(url_for("admin.schedule", day=day), code=303)


@bp.post("/bookings/<int:booking_id>/cancel")
@staff_required
def booking_cancel(booking_id):
    booking = _booking_or_404(booking_id)
    refund = request.form.get("refund") == "yes"
    try:
        refunded = services.cancel_booking(booking, actor="staff", refund=refund)
    except services.BookingError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(booking)
    db.session.commit()
    flash(
        f"Cancelled {booking.name}'s consultation"
        + (
            f" and refunded {format_money(refunded, booking.currency)}."
            if refunded
            else " without a refund."
        ),
        "success",
    )
    return _back(booking)


@bp.post("/bookings/<int:booking_id>/no-show")
@staff_required
def booking_no_show(booking_id):
    booking = _booking_or_404(booking_id)
    try:
        services.mark_no_show(booking)
    except services.BookingError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(booking)
    db.session.commit()
    flash(f"Marked {booking.name} as not attending.", "success")
    return _back(booking)


@bp.post("/bookings/<int:booking_id>/completed")
@staff_required
def booking_completed(booking_id):
    booking = _booking_or_404(booking_id)
    try:
        services.mark_completed(booking)
    except services.BookingError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(booking)
    db.session.commit()
    flash(f"Marked {booking.name}'s consultation as done.", "success")
    return _back(booking)


def _render_availability(hours_form=None, override_form=None, block_form=None, status=200):
    zone = practitioner_zone()
    today = utcnow().astimezone(zone).date()
    return render_template(
        "admin/booking_availability.html",
        hours=db.session.scalars(
            select(WeeklyHours).order_by(WeeklyHours.weekday, WeeklyHours.start_time)
        ).all(),
        overrides=db.session.scalars(
            select(DateOverride)
            .where(DateOverride.on_date >= today)
            .order_by(DateOverride.on_date, DateOverride.start_time)
        ).all(),
        blocks=db.session.scalars(
            select(BlockedTime)
            .where(BlockedTime.ends_at >= utcnow())
            .order_by(BlockedTime.starts_at)
        ).all(),
        weekdays=WEEKDAYS,
        hours_form=hours_form or WeeklyHoursForm(prefix="hours"),
        override_form=override_form or OverrideForm(prefix="override"),
        block_form=block_form or BlockForm(prefix="block"),
        zone=zone,
    ), status


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
    services.add_weekly_hours(int(form.weekday.data), form.start_time.data, form.end_time.data)
    db.session.commit()
    flash("Working hours added.", "success")
    return redirect(url_for("admin.availability"), code=303)


@bp.post("/availability/overrides")
@staff_required
def availability_add_override():
    form = OverrideForm(prefix="override")
    if not form.validate_on_submit():
        return _render_availability(override_form=form, status=400)
    if form.day_off.data:
        services.add_date_override(form.on_date.data, note=form.note.data or "")
    else:
        services.add_date_override(
            form.on_date.data, form.start_time.data, form.end_time.data, form.note.data or ""
        )
    db.session.commit()
    flash("Date saved.", "success")
    return redirect(url_for("admin.availability"), code=303)


@bp.post("/availability/blocks")
@staff_required
def availability_add_block():
    form = BlockForm(prefix="block")
    if not form.validate_on_submit():
        return _render_availability(block_form=form, status=400)
    starts_at = services.local_to_utc(form.on_date.data, form.start_time.data)
    ends_at = services.local_to_utc(form.end_date.data or form.on_date.data, form.end_time.data)
    try:
        services.block_time(starts_at, ends_at, form.reason.data or "")
    except services.BookingError as exc:
        form.end_time.errors.append(exc.message)
        return _render_availability(block_form=form, status=400)
    db.session.commit()
    flash("Time blocked.", "success")
    return redirect(url_for("admin.availability"), code=303)


@bp.post("/availability/<kind>/<int:row_id>/delete")
@staff_required
def availability_delete(kind, row_id):
    model = {"hours": WeeklyHours, "overrides": DateOverride, "blocks": BlockedTime}.get(kind)
    row = db.session.get(model, row_id) if model else None
    if row is None:
        abort(404)
    db.session.delete(row)
    invalidate_after_commit("booking:times")
    db.session.commit()
    flash("Removed.", "success")
    return redirect(url_for("admin.availability"), code=303)
