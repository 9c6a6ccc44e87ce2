"""The daily privacy purge (``flask --app app privacy purge``): what is kept past its
time is erased, each area's share by that area's own service."""

from blueprints.account.codes import purge_expired_codes
from blueprints.booking.privacy import purge_intake_answers
from blueprints.core.types import utcnow


def purge(now=None, retention_days=None):
    """Erase intake answers past their retention time (``INTAKE_RETENTION_DAYS``, or
    ``retention_days``) and delete old codes. Idempotent. Flushes; returns
    ``{what: count}`` in the order printed."""
    now = now or utcnow()
    return {
        "intake answers erased": purge_intake_answers(now, retention_days),
        "expired codes deleted": purge_expired_codes(now),
    }
