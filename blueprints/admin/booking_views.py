"""Staff pages for consultations: the schedule, and Dr. Brown's availability. The work
(cancelling, marking, saving hours) is booking's; these views parse and render."""

from datetime import date, datetime, timedelta
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.account.roles import NotAllowed
from blueprints.admin.blueprint import bp
from blueprints.admin.confirming import confirmation_page, confirmed
from blueprints.admin.dashboard_panels import money_figure, signed_money
from blueprints.booking import changes, hours, meetings, reports, services
from blueprints.booking.errors import BookingError
from blueprints.booking.forms import (
    WEEKDAYS,
    BlockForm,
    MeetingLinkForm,
    OverrideForm,
    UsualRoomForm,
    WeeklyHoursForm,
)
from blueprints.booking.models import Booking, CallType
from blueprints.core.csv_files import csv_download
from blueprints.core.errors import UserError
from blueprints.core.forms import DayRangeForm
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required
from blueprints.core.timezones import day_span, days_in_words, format_when, practitioner_zone
from blueprints.core.types import CALENDAR_YEARS, parse_id, utcnow
from extensions import db


def _parse_day(value):
    """``value`` as a day, or None when it is not one the schedule can show."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    # Year 1 or 9999 would overflow the week's first and last days.
    return day if day.year in CALENDAR_YEARS else None


def _day_arg():
    return _parse_day(request.args.get("day")) or utcnow().astimezone(practitioner_zone()).date()


VIEWS = ("upcoming", "day", "week")
UPCOMING_SHOWN = 100  # bookings on the upcoming list; the week view reaches the rest
MAX_DAYS_AHEAD = 366  # the upcoming list's ``days`` filter (the dashboard asks for 7)


def _midnight(day, zone):
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)


def _render_schedule(view, day, meeting_forms=None, status=200, *, days=None, going_ahead=False):
    """The schedule page: ``upcoming`` (today onward), one ``day`` or the ``week`` of
    ``day``; ``meeting_forms`` holds a meeting-link form sent back with its errors.

    The dashboard's figures link to the rows they count: ``days`` (upcoming only) lists
    the consultations going ahead in that many days after today, ``going_ahead`` leaves
    out cancelled bookings and holds (``services.GOING_AHEAD``), as
    ``services.consultation_counts`` does."""
    zone = practitioner_zone()
    now = utcnow()
    today = now.astimezone(zone).date()
    statuses = services.GOING_AHEAD if going_ahead or days else services.SCHEDULE_STATUSES
    if view == "upcoming" and days:
        first, last = today + timedelta(days=1), today + timedelta(days=days + 1)
        start, end = day_span(first, last - timedelta(days=1), zone)
        bookings = services.schedule(start, end, now, statuses=statuses)
    elif view == "upcoming":
        first, last = today, None
        bookings = services.schedule(_midnight(today, zone), None, now, limit=UPCOMING_SHOWN)
    else:
        first = day - timedelta(days=day.weekday()) if view == "week" else day
        last = first + timedelta(days=7 if view == "week" else 1)
        start, end = _midnight(first, zone), _midnight(last, zone)
        bookings = services.schedule(start, end, now, statuses=statuses)
    by_day = {}
    for booking in bookings:
        by_day.setdefault(booking.starts_at.astimezone(zone).date(), []).append(booking)
    forms = {
        b.id: MeetingLinkForm(
            prefix=f"meeting-{b.id}", formdata=None, data={"meeting_url": b.meeting_url}
        )
        for b in bookings
        if b.call_type == CallType.VIDEO
    }
    forms.update(meeting_forms or {})
    step = timedelta(days=7 if view == "week" else 1)
    # The "One day" tab opens on today when today is in the week shown.
    nav_day = first if view != "upcoming" else today
    if view == "week" and first <= today < last:
        nav_day = today
    return render_template(
        "admin/booking_schedule.html",
        view=view,
        first=first,
        last=last - timedelta(days=1) if last else None,
        today=today,
        nav_day=nav_day,
        by_day=sorted(by_day.items()),
        more=UPCOMING_SHOWN if view == "upcoming" and len(bookings) == UPCOMING_SHOWN else 0,
        days=days if view == "upcoming" else None,
        going_ahead=bool(going_ahead or days),
        previous=first - step,
        following=first + step,
        attention=services.needing_attention(),
        meeting_forms=forms,
        meeting_link=meetings.link_finder(),
        now=now,
        zone=zone,
    ), status


@bp.get("/schedule")
@staff_required
def schedule():
    """Bookings in Dr. Brown's zone: the upcoming ones first, or one day or week, with
    each client's intake answers and meeting link."""
    view = request.args.get("view")
    if view not in VIEWS:
        view = "day" if request.args.get("day") else "upcoming"
    return _render_schedule(
        view,
        _day_arg(),
        days=parse_id(request.args.get("days", ""), MAX_DAYS_AHEAD),
        going_ahead=request.args.get("going_ahead") == "1",
    )


@bp.get("/schedule/day-sheet")
@staff_required
def day_sheet():
    """One day's consultations on paper: times, contact, meeting link, intake answers."""
    zone = practitioner_zone()
    day = _day_arg()
    bookings = services.schedule(
        _midnight(day, zone),
        _midnight(day + timedelta(days=1), zone),
        statuses=services.GOING_AHEAD,
    )
    return render_template(
        "admin/booking_day_sheet.html",
        day=day,
        bookings=bookings,
        meeting_link=meetings.link_finder(),
        zone=zone,
    )


# Larger page numbers would overflow OFFSET; nobody pages that far.
MAX_PAGE = 100_000


def _on_schedule(booking, zone):
    """The schedule's card for ``booking`` (its day, at its place), or None when the
    schedule does not list it (a hold that ran out before the payment came)."""
    if booking.status not in services.SCHEDULE_STATUSES:
        return None
    day = booking.starts_at.astimezone(zone).date().isoformat()
    return url_for("admin.schedule", view="day", day=day, _anchor=f"booking-{booking.id}")


def _payment_days():
    """The days the payments list asks for as ``(form, (first, last))``: this month
    unless asked, either end open (None); ``(form, None)`` when the form is not valid."""
    form = DayRangeForm(request.args)
    if not form.validate():
        return form, None
    first, last = form.first_day.data, form.last_day.data
    if first is None and last is None:
        first = _today().replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        form.first_day.data, form.last_day.data = first, last
    return form, (first, last)


def _today():
    return utcnow().astimezone(practitioner_zone()).date()


@bp.get("/schedule/payments")
@staff_required
def schedule_payments():
    """Consultation fees paid and refunded on a range of Dr. Brown's days (this month
    unless asked), one row per payment or refund, with their total: the dashboard's
    "from consultations" figures link here, and the total is the same figure."""
    form, days = _payment_days()
    if days is None:
        return render_template(
            "admin/booking_payments.html", form=form, page=None, today=_today()
        ), 400
    first, last = days
    zone = practitioner_zone()
    start, end = day_span(first, last, zone)
    page = reports.fee_events(start, end, parse_id(request.args.get("page", ""), MAX_PAGE) or 1)
    return render_template(
        "admin/booking_payments.html",
        form=form,
        today=_today(),
        zone=zone,
        page=page,
        total=money_figure(reports.fee_total(start, end)),
        days=days_in_words(first, last),
        day_args={"first_day": first, "last_day": last},
        money_words=reports.money_words,
        signed_money=signed_money,
        on_schedule=partial(_on_schedule, zone=zone),
    )


@bp.get("/schedule/payments.csv")
@staff_required
def schedule_payments_csv():
    """The payments list of the same days (all pages) as a CSV file; bad days get the
    list's form back with its message."""
    _, days = _payment_days()
    if days is None:
        return schedule_payments()
    first, last = days
    zone = practitioner_zone()
    start, end = day_span(first, last, zone)
    return csv_download(
        reports.fee_events_csv(start, end, zone),
        f"consultation-payments-{first or 'start'}-to-{last or 'now'}.csv",
    )


@bp.post("/bookings/<int:booking_id>/meeting-link")
@staff_required
def booking_meeting_link(booking_id):
    """Give one video consultation its own meeting link (or clear it)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.call_type != CallType.VIDEO:
        abort(404)
    view, day = _came_from(booking)
    form = MeetingLinkForm(prefix=f"meeting-{booking.id}")
    if not form.validate_on_submit():
        # Back on the view she was on; the error summary at the top names the field.
        return _render_schedule(view, day, meeting_forms={booking.id: form}, status=400)
    changed, emailed = changes.change_meeting_link(booking, form.meeting_url.data, actor=_staff())
    if changed:
        db.session.commit()
        told = f" and emailed {booking.name} the new link" if emailed else ""
        flash(f"Saved the meeting link for {booking.name}{told}.", "success")
    else:
        flash(f"{booking.name}'s meeting link was already that; nothing changed.", "success")
    return redirect(_back_url(booking), code=303)


def _staff():
    """The signed-in staff account, as the services take it (``actor``)."""
    return current_user._get_current_object()


def _came_from(booking):
    """The schedule view (``view``, ``day``) a form on a booking's card was sent from,
    carried in the form's hidden fields and checked: anything else is the booking's own
    day."""
    own_day = booking.starts_at.astimezone(practitioner_zone()).date()
    view = request.form.get("view")
    if view not in VIEWS:
        return "day", own_day
    return view, _parse_day(request.form.get("day")) or own_day


def _back_url(booking):
    """The view the staff member came from, at the booking's card: always our own
    address, built by ``url_for`` from checked values (never an open redirect)."""
    view, day = _came_from(booking)
    args = {} if view == "upcoming" else {"day": day.isoformat()}
    return url_for("admin.schedule", view=view, **args, _anchor=f"booking-{booking.id}")


def _change(booking_id, change, message, ask=None):
    """Run ``change(booking)``, commit, flash ``message(booking, result)`` and go back to
    the view she came from (``_back_url``); a refusal (too early, changed meanwhile, refund failed) is
    flashed instead. With ``ask``, an unconfirmed POST gets ``ask(booking)`` instead:
    the "are you sure?" page, once the change's checks pass (``admin/confirming.py``)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    try:
        if ask is not None and not confirmed():
            return ask(booking)
        result = change(booking)
    except NotAllowed:
        raise  # the role's refusal: a 403 page saying who can do it
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message(booking, result), "success")
    return redirect(_back_url(booking), code=303)


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

    def ask(booking):
        changes.check_staff_cancel(booking, actor=_staff(), refund=refund)
        cents = changes.refund_in_full_cents(booking) if refund else 0
        money = (
            f"and refund {format_money(cents, booking.currency)}" if cents else "without a refund"
        )
        when = format_when(booking.starts_at, practitioner_zone())
        return confirmation_page(
            f"Cancel {booking.name}'s consultation on {when} {money}? She is emailed.",
            "Yes, cancel and refund" if cents else "Yes, cancel without a refund",
            _back_url(booking),
            detail="The time becomes free for others to book. This cannot be undone.",
        )

    cancel = partial(changes.cancel_booking, actor=_staff(), refund=refund)
    return _change(booking_id, cancel, _cancelled, ask)


@bp.post("/bookings/<int:booking_id>/no-show")
@staff_required
def booking_no_show(booking_id):
    return _change(
        booking_id,
        partial(changes.mark_no_show, actor=_staff()),
        lambda b, _: f"Marked {b.name} as not attending.",
    )


@bp.post("/bookings/<int:booking_id>/completed")
@staff_required
def booking_completed(booking_id):
    return _change(
        booking_id,
        partial(changes.mark_completed, actor=_staff()),
        lambda b, _: f"Marked {b.name}'s consultation as done.",
    )


def _render_availability(
    hours_form=None, override_form=None, block_form=None, room_form=None, status=200
):
    if room_form is None:
        room_form = UsualRoomForm(
            prefix="room", formdata=None, data={"meeting_url": meetings.usual_room()}
        )
    return render_template(
        "admin/booking_availability.html",
        **hours.current_availability(),
        weekdays=WEEKDAYS,
        hours_form=hours_form or WeeklyHoursForm(prefix="hours"),
        override_form=override_form or OverrideForm(prefix="override"),
        block_form=block_form or BlockForm(prefix="block"),
        room_form=room_form,
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
    hours.add_weekly_hours(
        int(form.weekday.data), form.start_time.data, form.end_time.data, actor=_staff()
    )
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
        actor=_staff(),
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
            actor=_staff(),
        )
    except BookingError as exc:
        form.end_time.errors.append(exc.message)
        return _render_availability(block_form=form, status=400)
    return _saved("Time blocked.")


@bp.post("/availability/meeting-room")
@staff_required
def availability_usual_room():
    """The usual video room, for video consultations without a link of their own."""
    form = UsualRoomForm(prefix="room")
    if not form.validate_on_submit():
        return _render_availability(room_form=form, status=400)
    if not meetings.set_usual_room(form.meeting_url.data, actor=_staff()):
        flash("The usual video room was already that; nothing changed.", "success")
        return redirect(url_for("admin.availability"), code=303)
    return _saved("Usual video room saved.")


@bp.post("/availability/<kind>/<int:row_id>/delete")
@staff_required
def availability_delete(kind, row_id):
    if not hours.remove(kind, row_id, actor=_staff()):
        abort(404)
    return _saved("Removed.")
