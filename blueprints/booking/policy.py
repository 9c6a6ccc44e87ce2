"""The cancellation policy, the one place it is defined: how long before the start a
consultation may still be moved or cancelled with a refund, and how long a time is held
while she pays. Pages and emails show these numbers from here."""

from datetime import timedelta

from blueprints.core.types import utcnow

FREE_CHANGE_HOURS = 48
HOLD_MINUTES = 30
# Stripe wants a session to live at least 30 minutes after it is created; the hold lasts
# a little longer than the session so a payment made in its last second still finds it.
HOLD_GRACE = timedelta(minutes=3)
# The reminder goes out this long before the start.
REMINDER_LEAD = timedelta(hours=24)


def cancellation_policy():
    """The policy in plain words, shown on the form, the emails and the manage page."""
    return (
        f"You can cancel or move your consultation free of charge up to {FREE_CHANGE_HOURS} "
        "hours before it starts; if you cancel in time, your payment is refunded in full "
        f"automatically. Within {FREE_CHANGE_HOURS} hours of the start we cannot refund "
        "or move the consultation."
    )


def change_deadline(booking):
    """The last moment she may move or cancel the booking with a full refund."""
    return booking.starts_at - timedelta(hours=FREE_CHANGE_HOURS)


def can_change_free(booking, now=None):
    """True while the client may still move or cancel with a full refund."""
    return (now or utcnow()) < change_deadline(booking)


def client_refund_due(booking, now=None):
    """Whether a client who cancels now is refunded: in full before the deadline, not
    at all after it (staff choose for themselves)."""
    return can_change_free(booking, now)
