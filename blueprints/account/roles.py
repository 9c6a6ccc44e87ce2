"""What each staff role may do: the owner everything; an assistant everything but
managing staff, reading the audit log, and refunding more than
``ASSISTANT_REFUND_LIMIT_CENTS`` of one order or booking in all.

The services that refund or manage staff call these checks with the acting account
(``actor``), so a refusal holds whatever page, command or script asked; the views only
use them to hide what would be refused. A refusal is :class:`NotAllowed`, a 403 page
with a message saying who can do it.
"""

from functools import wraps

from flask import current_app
from flask_login import current_user

from blueprints.account.models import StaffRole
from blueprints.core.errors import UserError
from blueprints.core.layout import format_money
from blueprints.core.security import staff_required

ROLE_LABELS = {StaffRole.OWNER: "Owner", StaffRole.ASSISTANT: "Assistant"}


class NotAllowed(UserError):
    """This staff account's role does not allow the action."""

    status = 403
    default_message = "Your staff role does not allow this. Please ask the owner."


def is_owner(actor):
    return (
        actor is not None
        and getattr(actor, "is_staff", False)
        and actor.active
        and actor.role == StaffRole.OWNER
    )


def require_owner(actor, what="manage staff accounts"):
    """Raise :class:`NotAllowed` unless ``actor`` is an owner."""
    if not is_owner(actor):
        raise NotAllowed(f"Only the owner can {what}. Please ask her to do it.")


def refund_limit_cents(actor):
    """How much of one order or booking ``actor`` may refund in all; None: no limit."""
    if is_owner(actor):
        return None
    return current_app.config["ASSISTANT_REFUND_LIMIT_CENTS"]


def refundable_by(actor, refundable_cents, already_refunded_cents):
    """The most ``actor`` may refund now of something with ``refundable_cents`` left, of
    which ``already_refunded_cents`` were refunded before (by anyone)."""
    limit = refund_limit_cents(actor)
    if limit is None:
        return refundable_cents
    return max(0, min(refundable_cents, limit - already_refunded_cents))


def check_refund(actor, amount_cents, already_refunded_cents, currency):
    """Raise :class:`NotAllowed` when ``actor`` may not refund ``amount_cents`` of an order
    or booking that had ``already_refunded_cents`` refunded."""
    limit = refund_limit_cents(actor)
    if limit is None or already_refunded_cents + amount_cents <= limit:
        return
    raise NotAllowed(
        f"An assistant can refund up to {format_money(limit, currency)} of one order or "
        f"booking in all, and this refund would go over that. Please ask the owner to make it."
    )


def owner_required(view):
    """Signed-in owners only: other staff get a 403 page saying so."""

    @staff_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        require_owner(current_user, "open this page")
        return view(*args, **kwargs)

    return wrapped
