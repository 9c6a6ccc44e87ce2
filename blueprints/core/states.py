"""State machines: each area declares its transitions beside its status enum, and every
change of status goes through :func:`change_status`, one compare-and-set UPDATE.

Checking a status in Python and then writing it loses races: two requests both read
"confirmed", both cancel, both refund. Here the database decides: the UPDATE names the
statuses the change may start from, and only the request whose UPDATE matched the row
goes on to its side effects (a refund, an email). The others get :class:`StatusRefused`,
which the error handler renders as a 409 page with the message the caller gave.
"""

from collections.abc import Iterable, Mapping
from enum import Enum

from sqlalchemy import update

from blueprints.core.errors import UserError
from extensions import db


class InvalidTransition(Exception):
    """A programming error: code asked for a change the state machine does not declare."""


class StatusRefused(UserError):
    """The row was no longer in a status the change may start from (someone else, or an
    earlier request, changed it first)."""

    status = 409
    default_message = "Someone else changed this at the same moment. Please go back and try again."


class Transitions:
    """The changes a status enum allows: ``{from: {to, ...}}``."""

    def __init__(self, table: Mapping[Enum, Iterable[Enum]]):
        self._table = {source: frozenset(targets) for source, targets in table.items()}

    def allows(self, source, target) -> bool:
        return target in self._table.get(source, ())

    def sources(self, target) -> frozenset:
        """Every status ``target`` may be reached from."""
        return frozenset(s for s, targets in self._table.items() if target in targets)

    def targets(self, source) -> frozenset:
        return self._table.get(source, frozenset())


def claim_status(row, to, *, allowed=None, where=(), **values) -> bool:
    """Move ``row`` to status ``to`` if it is still in one of ``allowed`` (by default
    every status its model's ``TRANSITIONS`` lets reach ``to``) and meets the SQL
    conditions ``where`` (e.g. "its time has come"), writing ``values`` in the same
    UPDATE. True for the one request that made the change; False if the row had already
    left those statuses. ``row`` is refreshed either way.
    """
    model = type(row)
    transitions: Transitions = model.TRANSITIONS
    allowed = frozenset(transitions.sources(to) if allowed is None else allowed)
    for source in allowed:
        if not transitions.allows(source, to):
            raise InvalidTransition(f"{model.__name__}: {source} -> {to}")
    result = db.session.execute(
        update(model)
        .where(model.id == row.id, model.status.in_(allowed), *where)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return result.rowcount == 1


def change_status(row, to, *, allowed=None, refused=None, **values):
    """:func:`claim_status`, raising :class:`StatusRefused` (``refused`` is its message,
    e.g. "This consultation was already cancelled.") when the row had moved on."""
    if not claim_status(row, to, allowed=allowed, **values):
        raise StatusRefused(refused)
    return row
