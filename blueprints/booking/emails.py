"""Booking emails (queued in the outbox, sent after the commit) and .ics invitations.

One calendar UID per booking: a reschedule sends the same UID with a higher SEQUENCE so
calendars move the entry, and a cancellation sends METHOD:CANCEL for it.
"""

from datetime import UTC
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from blueprints.account.services import staff_addresses
from blueprints.booking.display import client_label, practitioner_label
from blueprints.core.outbox import queue_email
from blueprints.core.types import utcnow

PRACTITIONER_NAME = "Dr. Susan E. Brown, PhD"


def calendar_uid(booking):
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "betterbones.example"
    return f"consultation-{booking.public_id}@{host}"


def _organizer_address():
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rsplit("<", 1)[-1].strip(">").strip()


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
    organizer = vCalAddress(f"mailto:{_organizer_address()}")
    organizer.params["cn"] = vText(PRACTITIONER_NAME)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = vText(booking.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def how_the_call_happens(booking):
    if booking.call_type.value == "video":
        return (
            "A video call. We will email you the link to join the day before; you need a "
            "computer, tablet or phone with a camera. If the video fails, Dr. Brown will "
            f"phone you on {booking.phone}."
        )
    return f"A phone call. Dr. Brown will call you at {booking.phone} at the time booked."


def _context(booking):
    from blueprints.booking.services import cancellation_policy, manage_url

    return {
        "booking": booking,
        "ctype": booking.consultation_type,
        "client_time": client_label(booking.starts_at, booking.client_timezone),
        "practitioner_time": practitioner_label(booking.starts_at),
        "how": how_the_call_happens(booking),
        "policy": cancellation_policy(),
        "manage_url": manage_url(booking),
        "practitioner": PRACTITIONER_NAME,
    }


def _invite(booking, method="REQUEST"):
    return [("invite.ics", f"text/calendar; method={method}", build_invitation(booking, method))]


def send_confirmation(booking):
    queue_email(
        booking.email,
        "booking_confirmed",
        f"Your consultation with Dr. Brown: {client_label(booking.starts_at, booking.client_timezone)}",
        attachments=_invite(booking),
        **_context(booking),
    )
    _notify_staff(booking, "New consultation booked")


def send_reschedule(booking, old_start):
    context = _context(booking)
    context["old_time"] = client_label(old_start, booking.client_timezone)
    queue_email(
        booking.email,
        "booking_rescheduled",
        f"Your consultation has moved to {context['client_time']}",
        attachments=_invite(booking),
        **context,
    )
    _notify_staff(booking, "Consultation moved")


def send_cancellation(booking, refunded_cents):
    queue_email(
        booking.email,
        "booking_cancelled",
        "Your consultation with Dr. Brown is cancelled",
        attachments=_invite(booking, "CANCEL"),
        refunded_cents=refunded_cents,
        **_context(booking),
    )
    _notify_staff(booking, "Consultation cancelled")


def send_reminder(booking):
    queue_email(
        booking.email,
        "booking_reminder",
        f"Reminder: your consultation with Dr. Brown, {client_label(booking.starts_at, booking.client_timezone)}",
        **_context(booking),
    )


def send_late_payment_refund(booking):
    queue_email(
        booking.email,
        "booking_late_payment",
        "Your payment was refunded: that consultation time had been taken",
        **_context(booking),
    )
    _notify_staff(booking, "Late payment refunded")


def _notify_staff(booking, headline):
    for address in staff_addresses():
        queue_email(
            address,
            "booking_staff_notice",
            f"{headline}: {booking.name}",
            headline=headline,
            **_context(booking),
        )
