"""Consultation pages: types, free times, the booking form, and the manage link."""

from datetime import timedelta
from functools import cache

import click
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from blueprints.booking import availability, bp, services
from blueprints.booking.display import (
    ALL_ZONES,
    COMMON_ZONE_NAMES,
    COMMON_ZONES,
    day_label,
    slot_days,
    slot_label,
    slot_value,
    zone_label,
    zone_place,
)
from blueprints.booking.forms import BookingForm, RescheduleForm
from blueprints.booking.models import BookingStatus
from blueprints.core.cache import cached_page
from blueprints.core.layout import format_money
from blueprints.core.outbox import send_committed
from blueprints.core.security import safe_next
from blueprints.core.timezones import TZ_COOKIE, parse_zone, practitioner_zone, reader_zone
from blueprints.core.types import parse_id, utcnow
from extensions import db, limiter

# Free times change with every hold, booking and availability edit ("booking:times"),
# and with the clock (minimum notice, expiring holds): their pages live briefly.
TIMES_TIMEOUT = 30
# A page lists four weeks of free times; ``?week=N`` starts it N weeks later.
WEEKS_PER_PAGE = 4
HORIZON_WEEKS = 9  # the 60-day horizon, in weeks begun


@bp.app_template_global()
def booking_policy():
    return services.cancellation_policy()


@bp.app_template_filter("slot_label")
def _slot_label(value, zone=None):
    return slot_label(value, zone or reader_zone())


@bp.app_template_filter("slot_day")
def _slot_day(value, zone=None):
    return day_label(value, zone or reader_zone())


bp.add_app_template_global(slot_value)


@bp.app_template_global()
def home_zone():
    return practitioner_zone()


@bp.app_template_global()
def home_place():
    return zone_place(practitioner_zone())


def _render_zone_context():
    current = reader_zone().key
    return {"current_zone": current, "zone_options": _zone_options(current)}


@cache  # one entry per zone name: a few hundred at most (parse_zone knows no others)
def _zone_options(current):
    """The zone selector's ``<option>`` list with ``current`` chosen. It is the same for
    every reader in that zone, so each zone's list is rendered once per process."""
    template = current_app.jinja_env.get_template("booking/_zone_options.html")
    return Markup(
        template.render(
            zone_groups=COMMON_ZONES,
            current_zone=current,
            # Her zone, when it is not a common one, is offered (chosen) above the rest.
            own_zone=None if current in COMMON_ZONE_NAMES else (current, zone_label(current)),
        )
    )


@bp.get("/")
@cached_page(tags=["booking"])
def index():
    return render_template(
        "booking/index.html", types=services.active_types(), **_render_zone_context()
    )


@bp.post("/timezone")
def set_timezone():
    """The no-JavaScript zone selector: remember the zone in the ``tz`` cookie."""
    zone = parse_zone(request.form.get("tz"))
    response = redirect(safe_next(url_for("booking.index")), code=303)
    if zone is None:
        flash("Please choose a time zone from the list.", "error")
        return response
    response.set_cookie(TZ_COOKIE, zone.key, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@bp.get("/time-zones")
def time_zones():
    """Every time zone, for a reader whose zone is not among the common ones."""
    return render_template(
        "booking/time_zones.html",
        zones=ALL_ZONES,
        current_zone=reader_zone().key,
        next_url=safe_next(url_for("booking.index")),
    )


def _type_or_404(slug):
    ctype = services.get_type(slug)
    if ctype is None:
        abort(404)
    return ctype


def _page_of_times(ctype, week, exclude_booking_id=None):
    """Four weeks of free times from ``week`` weeks ahead, by the reader's day (one query
    for the bookings of the whole range)."""
    now = utcnow()
    start = now + availability.min_notice() + timedelta(weeks=week)
    slots = availability.free_slots(
        ctype,
        now=now,
        range_start=start,
        range_end=start + timedelta(weeks=WEEKS_PER_PAGE),
        exclude_booking_id=exclude_booking_id,
    )
    return slot_days(slots, reader_zone())


def _week_arg():
    week = parse_id(request.args.get("week", ""), maximum=HORIZON_WEEKS - 1)
    return week or 0


def _pager(week):
    """The ``week`` of the pages before and after this one (None at either end)."""
    return {
        "earlier_week": max(week - WEEKS_PER_PAGE, 0) if week > 0 else None,
        "later_week": week + WEEKS_PER_PAGE if week + WEEKS_PER_PAGE < HORIZON_WEEKS else None,
    }


@bp.get("/<slug>/")
@cached_page(tags=["booking", "booking:times"], allow_args=("week",), timeout=TIMES_TIMEOUT)
def times(slug):
    ctype = _type_or_404(slug)
    week = _week_arg()
    return render_template(
        "booking/times.html",
        ctype=ctype,
        days=_page_of_times(ctype, week),
        **_pager(week),
        **_render_zone_context(),
    )


def _render_form(ctype, form, starts_at, status=200, error=None, alternatives=None):
    return render_template(
        "booking/book.html",
        ctype=ctype,
        form=form,
        starts_at=starts_at,
        error=error,
        alternatives=alternatives or [],
        **_render_zone_context(),
    ), status


@bp.route("/<slug>/book", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def book(slug):
    ctype = _type_or_404(slug)
    form = BookingForm(ctype=ctype)
    if request.method == "GET":
        form.slot.data = request.args.get("slot", "")
        form.timezone.data = reader_zone().key
    starts_at = services.parse_slot(form.slot.data)
    try:
        if request.method == "GET":
            services.check_offered(ctype, starts_at)
            return _render_form(ctype, form, starts_at)
        if starts_at is None:
            services.check_offered(ctype, None)
        if not form.validate_on_submit():
            services.check_offered(ctype, starts_at)
            return _render_form(ctype, form, starts_at, 400)
        booking = services.hold_slot(ctype, starts_at, services.booking_details(form))
        # The hold is committed before Stripe is called: a network call must never run
        # inside the transaction that keeps every other booking waiting.
        db.session.commit()
    except (services.SlotTaken, services.SlotNotOffered) as exc:
        db.session.rollback()
        return _render_form(
            ctype, form, None, exc.status, exc.message, services.next_free_times(ctype, starts_at)
        )
    try:
        checkout_url = services.start_checkout(booking)
    except services.PaymentUnavailable as exc:
        db.session.commit()  # the released hold
        return _render_form(ctype, form, starts_at, exc.status, exc.message)
    db.session.commit()
    return redirect(checkout_url, code=303)


def _booking_or_error(token):
    try:
        return services.booking_from_token(token), None
    except services.BookingError as exc:
        return None, (
            render_template("booking/link_problem.html", message=exc.message),
            exc.status,
        )


@bp.get("/manage/<token>")
def manage(token):
    booking, problem = _booking_or_error(token)
    if problem:
        return problem
    now = utcnow()
    response = make_response(
        render_template(
            "booking/manage.html",
            booking=booking,
            ctype=booking.consultation_type,
            token=token,
            can_change=booking.status == BookingStatus.CONFIRMED
            and services.can_change_free(booking, now),
            deadline=services.change_deadline(booking),
            free_change_hours=services.FREE_CHANGE_HOURS,
            just_paid=request.args.get("paid") == "1",
            checkout_cancelled=request.args.get("checkout") == "cancelled",
            hold_active=booking.status == BookingStatus.HELD and booking.hold_expires_at > now,
        )
    )
    # A private page: keep it out of shared caches and search engines.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def cancel(token):
    """GET asks "are you sure?" and says what will be refunded; POST cancels."""
    booking, problem = _booking_or_error(token)
    if problem:
        return problem
    if request.method == "GET":
        if booking.status != BookingStatus.CONFIRMED:
            return redirect(url_for("booking.manage", token=token), code=303)
        return render_template(
            "booking/cancel.html",
            booking=booking,
            ctype=booking.consultation_type,
            token=token,
            refund=services.can_change_free(booking),
            free_change_hours=services.FREE_CHANGE_HOURS,
        )
    try:
        refunded = services.cancel_booking(booking, actor="client")
    except services.BookingError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("booking.manage", token=token), code=303)
    db.session.commit()
    if refunded:
        flash(
            f"Your consultation is cancelled. We have refunded "
            f"{format_money(refunded, booking.currency)} to your card.",
            "success",
        )
    else:
        flash("Your consultation is cancelled.", "success")
    return redirect(url_for("booking.manage", token=token), code=303)


@bp.post("/manage/<token>/release")
def release(token):
    booking, problem = _booking_or_error(token)
    if problem:
        return problem
    if booking.status == BookingStatus.HELD:
        services.release_hold(booking, "client gave up the time", actor="client")
        db.session.commit()
        flash("We have let that time go. You have not been charged.", "success")
    return redirect(url_for("booking.times", slug=booking.consultation_type.slug), code=303)


@bp.route("/manage/<token>/reschedule", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def reschedule(token):
    booking, problem = _booking_or_error(token)
    if problem:
        return problem
    ctype = booking.consultation_type
    form = RescheduleForm()
    week = _week_arg()
    status = 200
    error = None
    changeable = booking.status == BookingStatus.CONFIRMED and services.can_change_free(booking)
    if not changeable:
        error = (
            "This consultation can no longer be moved online: a confirmed consultation can be "
            f"moved up to {services.FREE_CHANGE_HOURS} hours before it starts."
        )
        status = 409
    elif form.validate_on_submit():
        new_start = services.parse_slot(form.slot.data)
        try:
            if new_start is None:
                raise services.SlotNotOffered("That time is not available. Please choose another.")
            services.reschedule_booking(booking, new_start, actor="client")
            db.session.commit()
        except services.BookingError as exc:
            db.session.rollback()
            booking, _ = _booking_or_error(token)
            error, status = exc.message, exc.status
        else:
            flash("Your consultation has moved. We have emailed you the new time.", "success")
            return redirect(url_for("booking.manage", token=token), code=303)
    elif request.method == "POST":
        error, status = "Please choose a time.", 400
    days = _page_of_times(ctype, week, exclude_booking_id=booking.id) if changeable else []
    return render_template(
        "booking/reschedule.html",
        booking=booking,
        ctype=ctype,
        token=token,
        form=form,
        days=days,
        **_pager(week),
        error=error,
        **_render_zone_context(),
    ), status


@bp.cli.command("send-reminders")
def send_reminders_command():
    """Email each client a reminder about 24 hours before (cron: every 15 minutes)."""
    queued = services.send_reminders()
    db.session.commit()
    send_committed()
    click.echo(f"Queued {queued} reminder(s).")


@bp.cli.command("release-expired")
def release_expired_command():
    """Free the times of holds whose 30 minutes ran out (optional tidy-up for cron;
    availability already ignores them and a new hold releases them first)."""
    released = services.release_expired_holds()
    db.session.commit()
    click.echo(f"Released {released} expired hold(s).")
