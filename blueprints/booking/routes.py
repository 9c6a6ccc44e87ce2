"""Consultation pages: types, free times, the booking form, and the manage link."""

from datetime import datetime, time
from functools import cache

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
from werkzeug.exceptions import NotFound

from blueprints.booking import (
    availability,
    calendar_links,
    changes,
    emails,
    holds,
    links,
    meetings,
    policy,
    services,
)
from blueprints.booking.blueprint import bp
from blueprints.booking.cache_tags import times_page_tags, types_page_tags
from blueprints.booking.display import (
    day_arg,
    day_label,
    month_arg,
    month_calendar,
    month_title,
    next_month,
    previous_month,
    search_zone_groups,
    slot_value,
    zone_choices,
)
from blueprints.booking.errors import (
    AlreadyHeld,
    BookingError,
    LinkExpired,
    LinkInvalid,
    PaymentUnavailable,
    SlotNotOffered,
    SlotTaken,
    TooManyHolds,
)
from blueprints.booking.forms import BookingForm, RescheduleForm
from blueprints.booking.models import BookingStatus
from blueprints.core.cache import cached_page
from blueprints.core.errors import UserError
from blueprints.core.headers import no_store
from blueprints.core.layout import format_money
from blueprints.core.security import safe_next
from blueprints.core.timezones import (
    TZ_COOKIE,
    parse_zone,
    practitioner_zone,
    reader_zone,
    zone_city,
)
from blueprints.core.types import utcnow
from blueprints.core.visitors import current_visitor, session_key
from extensions import db, limiter

# Free times change with every hold, booking and availability edit ("booking:times"),
# and with the clock (minimum notice, expiring holds): their pages live briefly.
TIMES_TIMEOUT = 30


@bp.app_template_global()
def booking_policy():
    return policy.cancellation_policy()


@bp.app_template_filter("slot_day")
def _slot_day(value, zone=None):
    return day_label(value, zone or reader_zone())


bp.add_app_template_global(slot_value)
bp.add_app_template_global(month_title)


@bp.app_template_global()
def home_zone():
    return practitioner_zone()


@bp.app_template_global()
def home_place():
    return zone_city(practitioner_zone())


def _render_zone_context():
    current = reader_zone().key
    return {"current_zone": current, "zone_options": _zone_options(current)}


@cache  # one entry per zone name: a few hundred at most (parse_zone knows no others)
def _zone_options(current):
    """The zone selector's ``<option>`` list with ``current`` chosen. It is the same for
    every reader in that zone, so each zone's list is rendered once per process."""
    template = current_app.jinja_env.get_template("booking/_zone_options.html")
    return Markup(template.render(zone_groups=zone_choices(current), current_zone=current))


@bp.get("/")
@cached_page(tags=types_page_tags())
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
    """Every time zone, for a reader whose zone is not among the common ones; ``q``
    narrows the list to the places it names (the search without JavaScript)."""
    query = request.args.get("q", "")[:64].strip()
    groups, matches = search_zone_groups(query)
    return render_template(
        "booking/time_zones.html",
        zone_groups=groups,
        query=query,
        matches=matches,
        # After a search, its best match is chosen, ready to use (as zones.js does).
        current_zone=groups[0][1][0].name if query and matches else reader_zone().key,
        next_url=safe_next(url_for("booking.index")),
    )


def _type_or_404(slug):
    ctype = services.get_type(slug)
    if ctype is None:
        abort(404)
    return ctype


@bp.get("/<slug>/")
@cached_page(tags=times_page_tags(), allow_args=("month", "day"), timeout=TIMES_TIMEOUT)
def times(slug):
    """Free times as a month calendar: the days with free times link to their times,
    shown under it (the month's first free day's at first). Plain links: no script."""
    ctype = _type_or_404(slug)
    return render_template(
        "booking/times.html", ctype=ctype, **_month_of_times(ctype), **_render_zone_context()
    )


def _month_of_times(ctype, exclude_booking_id=None):
    """The month calendar of free times in the reader's zone (``?month=``, ``?day=``)
    and the months before and after it within the horizon: what the booking and the
    reschedule pages show. ``exclude_booking_id``: the booking being moved, whose own
    time is free to it."""
    zone = reader_zone()
    now = utcnow()
    earliest, latest = now + availability.min_notice(), now + availability.horizon()
    first = earliest.astimezone(zone).date().replace(day=1)
    last = latest.astimezone(zone).date().replace(day=1)
    month = month_arg(request.args.get("month"), first, last)
    month_start = datetime.combine(month, time(), zone)
    slots = availability.free_slots(
        ctype,
        now=now,
        range_start=max(month_start, earliest),
        range_end=min(datetime.combine(next_month(month), time(), zone), latest),
        exclude_booking_id=exclude_booking_id,
    )
    return {
        "calendar": month_calendar(slots, zone, month, day_arg(request.args.get("day"))),
        "earlier_month": previous_month(month) if month > first else None,
        "later_month": next_month(month) if month < last else None,
    }


def _render_form(ctype, form, starts_at, status=200, error=None, alternatives=None, held=None):
    """The booking form; after a refusal, with what she typed (``alternatives``: the
    times to choose instead; ``held``: her holds to pay for or let go, after a 429)."""
    form.timezone.choices = zone_choices(form.timezone.data)
    return render_template(
        "booking/book.html",
        ctype=ctype,
        form=form,
        starts_at=starts_at,
        error=error,
        alternatives=alternatives or [],
        held=held,
        hold_minutes=policy.HOLD_MINUTES,
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
    visitor, earlier = None, []
    try:
        if request.method == "GET":
            holds.check_offered(ctype, starts_at)
            return _render_form(ctype, form, starts_at)
        if starts_at is None:
            holds.check_offered(ctype, None)
        if not form.validate_on_submit():
            holds.check_offered(ctype, starts_at)
            return _render_form(ctype, form, starts_at, 400)
        visitor = current_visitor()
        # Her own holds this one replaces (she came back from the payment page, or let
        # one go to stay within her allowance): their payment pages are closed first.
        earlier = holds.close_earlier_holds(ctype, starts_at, visitor, request.form.get("let_go"))
        booking = holds.hold_slot(
            ctype, starts_at, services.booking_details(form), visitor=visitor, replacing=earlier
        )
        # The hold is committed before Stripe is called: a network call must never run
        # inside the transaction that keeps every other booking waiting.
        db.session.commit()
    except PaymentUnavailable as exc:  # an earlier payment page could not be closed
        db.session.rollback()
        return _render_form(ctype, form, starts_at, exc.status, exc.message)
    except (SlotTaken, SlotNotOffered, TooManyHolds) as exc:
        db.session.rollback()
        return _refused(ctype, form, starts_at, exc, visitor, earlier)
    try:
        checkout_url = holds.start_checkout(booking)
    except PaymentUnavailable as exc:
        db.session.commit()  # the released hold
        return _render_form(ctype, form, starts_at, exc.status, exc.message)
    db.session.commit()
    return redirect(checkout_url, code=303)


def _refused(ctype, form, starts_at, error, visitor, earlier):
    """The form back with what she typed, after a refused hold: with her holds to pay
    for or let go (429), or the next free times to choose from (409, 422). The holds
    whose payment pages were closed for this one are let go: they can never be paid."""
    if earlier:
        holds.release_closed_holds(earlier)
        db.session.commit()
    if isinstance(error, TooManyHolds):
        held = holds.open_holds_of_session(session_key())
        return _render_form(ctype, form, starts_at, error.status, error.message, held=held)
    mine = holds.own_hold_at(starts_at, visitor) if isinstance(error, SlotTaken) else None
    if mine is not None:  # her own second press of the button: the time is hers
        if mine.checkout_url:
            return redirect(mine.checkout_url, code=303)
        error = AlreadyHeld()
        return _render_form(ctype, form, starts_at, error.status, error.message)
    alternatives = holds.next_free_times(ctype, starts_at)
    return _render_form(ctype, form, None, error.status, error.message, alternatives)


@bp.errorhandler(LinkExpired)
@bp.errorhandler(LinkInvalid)
def _link_problem(error):
    """A manage link that expired or was mangled: its own page, saying what to do."""
    return render_template("booking/link_problem.html", message=error.message), error.status


@bp.get("/manage/<token>")
def manage(token):
    booking = links.booking_from_token(token)
    now = utcnow()
    just_paid = request.args.get("paid") == "1"
    response = make_response(
        render_template(
            "booking/manage.html",
            booking=booking,
            ctype=booking.consultation_type,
            token=token,
            can_change=booking.status == BookingStatus.CONFIRMED
            and policy.can_change_free(booking, now),
            deadline=policy.change_deadline(booking),
            free_change_hours=policy.FREE_CHANGE_HOURS,
            just_paid=just_paid,
            booked_now=just_paid
            and booking.status == BookingStatus.CONFIRMED
            and not booking.details_erased,
            manage_url=links.manage_url(booking),
            checkout_cancelled=request.args.get("checkout") == "cancelled",
            hold_active=booking.status == BookingStatus.HELD and booking.hold_expires_at > now,
            meeting_url=meetings.meeting_link(booking),
            google_calendar_url=calendar_links.google_calendar_url(booking),
            outlook_calendar_url=calendar_links.outlook_calendar_url(booking),
        )
    )
    # A private page: keep it out of shared caches and search engines.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/manage/<token>/consultation.ics")
@no_store
def calendar_file(token):
    """The confirmed consultation as an .ics file to open in any calendar app; any other
    link, or a booking that is not confirmed, is not found."""
    try:
        booking = links.booking_from_token(token)
    except (LinkExpired, LinkInvalid):
        booking = None
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        # The site's own 404 page, returned (not raised) so it is not stored either.
        return current_app.handle_user_exception(NotFound())
    response = make_response(emails.build_invitation(booking, method="PUBLISH"))
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = 'attachment; filename="consultation.ics"'
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@no_store
def cancel(token):
    """GET asks "are you sure?" and says what will be refunded; POST cancels."""
    booking = links.booking_from_token(token)
    if request.method == "GET":
        if booking.status != BookingStatus.CONFIRMED:
            return redirect(url_for("booking.manage", token=token), code=303)
        return render_template(
            "booking/cancel.html",
            booking=booking,
            ctype=booking.consultation_type,
            token=token,
            refund=policy.client_refund_due(booking),
            free_change_hours=policy.FREE_CHANGE_HOURS,
        )
    try:
        refunded = changes.cancel_booking(booking, actor="client")
    except BookingError as exc:  # the refund failed; a lost race is the 409 page
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
    booking = links.booking_from_token(token)
    if booking.status == BookingStatus.HELD:
        holds.release_hold(booking, "client gave up the time", actor="client")
        db.session.commit()
        flash("We have let that time go. You have not been charged.", "success")
    return redirect(url_for("booking.times", slug=booking.consultation_type.slug), code=303)


def _changeable(booking):
    return booking.status == BookingStatus.CONFIRMED and policy.can_change_free(booking)


@bp.route("/manage/<token>/reschedule", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
@no_store
def reschedule(token):
    """GET shows the month calendar of free times (as booking does); a time chosen
    (``?slot=``) asks "Move your consultation to ...?"; POST, its Confirm, moves it."""
    booking = links.booking_from_token(token)
    form = RescheduleForm()
    status, error, new_start = 200, None, None
    if not _changeable(booking):
        error = (
            "This consultation can no longer be moved online: a confirmed consultation can be "
            f"moved up to {policy.FREE_CHANGE_HOURS} hours before it starts."
        )
        status = 409
    elif request.method == "POST" and form.validate_on_submit():
        try:
            changes.reschedule_booking(booking, services.parse_slot(form.slot.data), actor="client")
            db.session.commit()
        except UserError as exc:  # the time was taken, or another change came first
            db.session.rollback()
            booking = links.booking_from_token(token)
            error, status = exc.message, exc.status
        else:
            flash("Your consultation has moved. We have emailed you the new time.", "success")
            return redirect(url_for("booking.manage", token=token), code=303)
    elif request.method == "POST":
        error, status = "Please choose a time.", 400
    elif request.args.get("slot"):
        new_start = services.parse_slot(request.args["slot"])
        try:
            holds.check_offered(booking.consultation_type, new_start, exclude_booking_id=booking.id)
        except BookingError as exc:
            error, status, new_start = exc.message, exc.status, None
        else:
            form.slot.data = request.args["slot"]
    return _render_reschedule(booking, token, form, new_start, error, status)


def _render_reschedule(booking, token, form, new_start, error, status):
    """The calendar to choose from, or the confirmation of the time chosen
    (``new_start``); neither once the booking can no longer move."""
    ctype = booking.consultation_type
    month = None
    if _changeable(booking) and new_start is None:
        month = _month_of_times(ctype, exclude_booking_id=booking.id)
    return render_template(
        "booking/reschedule.html",
        booking=booking,
        ctype=ctype,
        token=token,
        form=form,
        new_start=new_start,
        error=error,
        **(month or {"calendar": None}),
        **_render_zone_context(),
    ), status
