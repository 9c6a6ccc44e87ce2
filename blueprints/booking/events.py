"""A booking's append-only history: every change of status, time or money is a row."""

import json

from blueprints.booking.models import BookingEvent
from extensions import db


def record_event(
    booking,
    kind,
    message="",
    actor="system",
    *,
    from_status=None,
    to_status=None,
    money_cents=None,
    **detail,
):
    """Append one row to the booking's history (``message``, a reason in words, goes
    with any other ``detail`` into the row's JSON). ``money_cents`` is the money the
    change moved, for the books: + taken, - given back."""
    if message:
        detail["message"] = message
    event = BookingEvent(
        booking=booking,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        money_cents=money_cents,
        detail=json.dumps(detail, default=str) if detail else "",
    )
    db.session.add(event)
    return event


def record_change(booking, kind, from_status, actor="system", message="", **detail):
    """:func:`record_event` for a change of status: from ``from_status`` to the status
    the booking has now (call it after the claim that made the change)."""
    return record_event(
        booking,
        kind,
        message,
        actor,
        from_status=from_status,
        to_status=booking.status,
        **detail,
    )
