"""Catch up with Stripe when webhooks were lost (``flask --app app stripe reconcile``).

Stripe keeps every Checkout Session; we list the last few days' sessions and, for each
one whose outcome our database has not recorded yet, run the very handler the webhook
would have run. Areas say which sessions are still outstanding
(:func:`outstanding_check`) and what to report as stale (:func:`stale_report`), so the
fulfilment logic lives in one place: the area's webhook handler.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from blueprints.core.outbox import send_committed
from blueprints.core.stripe import _HANDLERS, get_client, object_kind
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"

_OUTSTANDING = {}  # kind -> func(session, event_type) -> bool
_STALE_REPORTS = []  # func(older_than: datetime) -> list[str]


def outstanding_check(kind):
    """Register ``func(session, event_type)``: True when our record of this session
    still waits for the outcome ``event_type`` (read only: it must not write)."""

    def decorator(func):
        _OUTSTANDING[kind] = func
        return func

    return decorator


def stale_report(func):
    """Register ``func(cutoff)`` returning one line per record pending since before cutoff."""
    _STALE_REPORTS.append(func)
    return func


@dataclass
class ReconcileResult:
    checked: int = 0
    applied: list = field(default_factory=list)  # (session id, kind, event type)
    failed: list = field(default_factory=list)  # (session id, error text)
    stale: list = field(default_factory=list)


def _outcome(session):
    """The webhook event that this session's present state corresponds to, if final."""
    if session["status"] == "complete" and session["payment_status"] in (
        "paid",
        "no_payment_required",
    ):
        return COMPLETED
    if session["status"] == "expired":
        return EXPIRED
    return None


def reconcile_checkouts(days=3, stale_after=timedelta(hours=1)):
    """Apply every final Checkout Session outcome of the last ``days`` days that our
    database missed, once each, committing one session at a time; then list what has
    been pending longer than ``stale_after``. Emails go out after each commit."""
    result = ReconcileResult()
    since = int((utcnow() - timedelta(days=days)).timestamp())
    sessions = get_client().v1.checkout.sessions.list({"created": {"gte": since}, "limit": 100})
    for session in sessions.auto_paging_iter():
        result.checked += 1
        kind = object_kind(session)
        event_type = _outcome(session)
        check = _OUTSTANDING.get(kind)
        handler = _HANDLERS.get((event_type, kind))
        if event_type is None or check is None or handler is None:
            continue  # still open, or not one of ours (another site on the account)
        if not check(session, event_type):
            db.session.rollback()  # end the read-only transaction
            continue
        event = {"id": f"reconcile:{session['id']}", "type": event_type, "data": {}}
        try:
            handler(session, event)
            db.session.commit()
        except Exception as exc:  # reported and counted; the next hourly run retries
            db.session.rollback()
            log.exception("Reconciling Checkout Session %s failed", session["id"])
            result.failed.append((session["id"], str(exc) or type(exc).__name__))
            continue
        send_committed()
        result.applied.append((session["id"], kind, event_type))
    cutoff = utcnow() - stale_after
    for report in _STALE_REPORTS:
        result.stale.extend(report(cutoff))
    db.session.rollback()
    return result
