"""Booking emails (queued in the outbox, sent after the commit) and .ics invitations.

One calendar UID per booking: a reschedule sends the same UID with a higher SEQUENCE so
calendars move the entry, and a cancellation sends METHOD:CANCEL for it.
"""

from datetime import UTC
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vText

from blueprints.account.services import staff_addresses
from blueprints.booking.display import client_label, practitioner_label
from blueprints.booking.links import manage_url
from blueprints.booking.policy import HOLD_MINUTES, cancellation_policy
from blueprints.core.addresses import sender_address
from blueprints.core.links import site_url
from blueprints.core.outbox import queue_email
from blueprints.core.types import utcnow

PRACTITIONER_NAME = "Dr. Susan E. Brown, PhD"


def calendar_uid(booking):
    """The booking's one calendar UID, on the site's host, kept across moves."""
    host = urlsplit(site_url()).hostname or "betterbones.example"
    return f"consultation-{booking.public_id}@{host}"


def build_invitation(booking, method="REQUEST"):
    """The .ics text for a booking: METHOD REQUEST (new or moved) or CANCEL."""
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
    organizer = vCalAddress(f"mailto:{sender_address()}")
    organizer.params["cn"] = vText(PRACTITIONER_NAME)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = vText(booking.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def how_the_call_happens(booking):
    """How the call reaches her, in words (for the emails and the invitation)."""
    if booking.call_type.value == "video":
        return (
            "A video call. We will email you the link to join the day before; you need a "
            "computer, tablet or phone with a camera. If the video fails, Dr. Brown will "
            f"phone you on {booking.phone}."
        )
    return f"A phone call. Dr. Brown will call you at {booking.phone} at the time booked."


def _context(booking):
    return {
        "booking": booking,
        "ctype": booking.consultation_type,
        "client_time": client_label(booking.starts_at, booking.client_timezone),
        "practitioner_time": practitioner_label(booking.starts_at),
        "how": how_the_call_happens(booking),
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
        f"Your consultation with Dr. Brown: {client_label(booking.starts_at, booking.client_timezone)}",
        "New consultation booked",
        invite="REQUEST",
    )


def send_reschedule(booking, old_start):
    """The booking moved: the same calendar entry at its new time."""
    client_time = client_label(booking.starts_at, booking.client_timezone)
    _send(
        booking,
        "booking_rescheduled",
        f"Your consultation has moved to {client_time}",
        "Consultation moved",
        invite="REQUEST",
        old_time=client_label(old_start, booking.client_timezone),
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


def send_reminder(booking):
    """The day-before reminder."""
    _send(
        booking,
        "booking_reminder",
        f"Reminder: your consultation with Dr. Brown, {client_label(booking.starts_at, booking.client_timezone)}",
    )


def send_late_payment_refund(booking):
    """Her payment came after her time was taken: it was refunded."""
    _send(
        booking,
        "booking_late_payment",
        "Your payment was refunded: that consultation time had been taken",
        "Late payment refunded",
    )
