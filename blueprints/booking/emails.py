"""Booking emails (queued in the outbox, sent after the commit) and .ics invitations.

One calendar UID per booking: a reschedule sends the same UID with a higher SEQUENCE so
calendars move the entry, and a cancellation sends METHOD:CANCEL for it.
"""

from datetime import UTC
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vText

from blueprints.account.services import staff_addresses
from blueprints.booking.links import manage_url
from blueprints.booking.meetings import meeting_link
from blueprints.booking.policy import HOLD_MINUTES, cancellation_policy
from blueprints.core.addresses import sender_address
from blueprints.core.links import site_url
from blueprints.core.outbox import queue_email
from blueprints.core.timezones import format_when, practitioner_zone, zone_name
from blueprints.core.types import utcnow

PRACTITIONER_NAME = "Dr. Susan E. Brown, PhD"


def calendar_uid(booking):
    """The booking's one calendar UID, on the site's host, kept across moves."""
    host = urlsplit(site_url()).hostname or "betterbones.example"
    return f"consultation-{booking.public_id}@{host}"


def build_invitation(booking, method="REQUEST"):
    """The .ics text for a booking: METHOD REQUEST (new or moved), CANCEL, or PUBLISH
    (the copy she downloads from her booking page: no attendee, nothing to answer).
    A video consultation's room is its LOCATION and URL."""
    calendar = Calendar()
    calendar.add("prodid", "-//Better Bones//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", calendar_uid(booking))
    event.add("sequence", booking.ics_sequence)
    event.add("dtstamp", utcnow().astimezone(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("summary", f"{booking.consultation_type.name} with {PRACTITIONER_NAME}")
    event.add("description", how_the_call_happens(booking))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    room = meeting_link(booking)
    if room:
        event.add("location", room)
        event.add("url", room)
    organizer = vCalAddress(f"mailto:{sender_address()}")
    organizer.params["cn"] = vText(PRACTITIONER_NAME)
    event.add("organizer", organizer)
    if method != "PUBLISH":
        attendee = vCalAddress(f"mailto:{booking.email}")
        attendee.params["cn"] = vText(booking.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def how_the_call_happens(booking, find_link=meeting_link):
    """How the call reaches her, in words (for the emails and the invitation);
    ``find_link`` is :func:`meeting_link` or, for a page of many bookings, the
    ``link_finder()`` that read the usual room once."""
    if booking.call_type.value == "video":
        room = find_link(booking)
        join = (
            f"Join at {room} a few minutes before the time booked"
            if room
            else "We will email you the link to join before the call"
        )
        return (
            f"A video call. {join}; you need a computer, tablet or phone with a camera. "
            f"If the video fails, Dr. Brown will phone you at {booking.phone}."
        )
    return (
        f"A phone call. Dr. Brown will call you at {booking.phone} at the time booked; "
        "you do not need to call."
    )


def client_time(booking, value=None):
    """``value`` (her booked time by default) as she reads it, in her own zone."""
    return format_when(value or booking.starts_at, booking.client_timezone)


def _context(booking):
    return {
        "booking": booking,
        "ctype": booking.consultation_type,
        "client_time": client_time(booking),
        "practitioner_time": format_when(booking.starts_at, practitioner_zone()),
        "client_zone": zone_name(booking.client_timezone),
        "how": how_the_call_happens(booking),
        "meeting_url": meeting_link(booking),
        "policy": cancellation_policy(),
        "hold_minutes": HOLD_MINUTES,
        "manage_url": manage_url(booking),
        "practitioner": PRACTITIONER_NAME,
    }


def _send(booking, template, subject, staff_headline=None, invite=None, **extra):
    """Queue one email to the client (with the .ics when ``invite`` names its METHOD)
    and, with ``staff_headline``, a notice to each staff address."""
    context = _context(booking) | extra
    attachments = None
    if invite:
        attachments = [
            ("invite.ics", f"text/calendar; method={invite}", build_invitation(booking, invite))
        ]
    queue_email(booking.email, template, subject, attachments=attachments, **context)
    if staff_headline:
        for address in staff_addresses():
            queue_email(
                address,
                "booking_staff_notice",
                f"{staff_headline}: {booking.name}",
                headline=staff_headline,
                **context,
            )


def send_confirmation(booking):
    """The booking is paid and confirmed: the client's invitation, and staff's notice."""
    _send(
        booking,
        "booking_confirmed",
        f"Your consultation with Dr. Brown: {client_time(booking)}",
        "New consultation booked",
        invite="REQUEST",
    )


def send_reschedule(booking, old_start):
    """The booking moved: the same calendar entry at its new time."""
    _send(
        booking,
        "booking_rescheduled",
        f"Your consultation has moved to {client_time(booking)}",
        "Consultation moved",
        invite="REQUEST",
        old_time=client_time(booking, old_start),
    )


def send_cancellation(booking, refunded_cents):
    """The booking is cancelled: the calendar entry is withdrawn."""
    _send(
        booking,
        "booking_cancelled",
        "Your consultation with Dr. Brown is cancelled",
        "Consultation cancelled",
        invite="CANCEL",
        refunded_cents=refunded_cents,
    )


def send_meeting_link_change(booking, first=False):
    """Staff set her video link: the link, and her calendar entry updated. ``first``:
    she had none before (the email gives her the link), else it changed."""
    subject = "Your video link" if first else "New video link"
    _send(
        booking,
        "booking_meeting_link",
        f"{subject} for your consultation, {client_time(booking)}",
        invite="REQUEST",
        first=first,
    )


def send_reminder(booking):
    """The day-before reminder."""
    _send(
        booking,
        "booking_reminder",
        f"Reminder: your consultation with Dr. Brown, {client_time(booking)}",
    )


def send_late_payment_refund(booking):
    """Her payment came after her time was taken: it was refunded."""
    _send(
        booking,
        "booking_late_payment",
        "Your payment was refunded: that consultation time had been taken",
        "Late payment refunded",
    )
