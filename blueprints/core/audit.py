"""The audit log of staff actions: who did what, when, on which record.

Every service that does something on behalf of staff (a refund, a post published, a
comment approved, a staff account disabled...) takes the acting account as ``actor``
and calls :func:`record_staff_action` in the same transaction, so an action and its
entry are committed together or not at all. Core knows no area: the caller names the
action and the record.

Entries are never changed or deleted: there is no function for it here, the session
refuses to flush a change or a deletion of one (:func:`_refuse_changes`), and
PostgreSQL refuses it by trigger (``core/models.py``).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from blueprints.core.models import AuditEntry
from blueprints.core.types import utcnow
from extensions import db

MAX_DETAIL_CHARACTERS = 2000
# A text in an entry (a description, an address, a title before and after) is kept to
# its start: the entry says what changed, the record itself holds the whole text.
MAX_TEXT_CHARACTERS = 200


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit entry."""


def record_staff_action(actor_id, action, record_type, record_id=None, detail=None):
    """Add one entry: staff account ``actor_id`` did ``action`` (``area.verb``, e.g.
    ``order.refund``) to the record ``record_type`` ``record_id``; ``detail`` is a small
    JSON-able dict (an amount, a title; a long text is kept to its start). Flushes,
    never commits."""
    if actor_id is None:
        raise ValueError("a staff action needs the account that did it")
    text = json.dumps(_shortened(dict(detail or {})), default=str, ensure_ascii=False)
    if len(text) > MAX_DETAIL_CHARACTERS:  # a caller's mistake, not a person's input
        raise ValueError(f"audit detail over {MAX_DETAIL_CHARACTERS} characters: {action}")
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        detail=json.loads(text),
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _shortened(value):
    """``value`` with every text longer than :data:`MAX_TEXT_CHARACTERS` cut to its start
    (ending in "…"), in dicts and lists at any depth."""
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARACTERS:
        return value[: MAX_TEXT_CHARACTERS - 1] + "…"
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shortened(item) for item in value]
    return value


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, flush_context, instances):
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit entries are never changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEntry for mapper in state.all_mappers
    ):
        raise AuditLogIsAppendOnly("audit entries are never changed or deleted")


# --- reading -------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """What the audit page narrows to; None is "any"."""

    actor_id: int | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(filters):
    """Entries matching ``filters``, newest first."""
    query = select(AuditEntry)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.record_type:
        query = query.where(AuditEntry.record_type == filters.record_type)
    if filters.record_id is not None:
        query = query.where(AuditEntry.record_id == filters.record_id)
    if filters.since is not None:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.created_at < filters.until)
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def audit_choices():
    """The actions and record types the log holds (for the page's filters)."""
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by("action")).all()
    types = db.session.scalars(
        select(AuditEntry.record_type).distinct().order_by("record_type")
    ).all()
    return actions, types
