"""Values staff set for the whole site, by key (:class:`SiteSetting`). Core knows no
area: each area names its keys, checks their values and keeps its own default for a key
staff never set (often a config value)."""

from sqlalchemy.exc import IntegrityError

from blueprints.core.models import SiteSetting
from blueprints.core.types import utcnow
from extensions import db


def read_setting(key):
    """The value staff saved under ``key``, or None when they never set it (an empty
    string is a value: staff chose "none")."""
    row = db.session.get(SiteSetting, key)
    return None if row is None else row.value


def write_setting(key, value):
    """Save ``value`` (text) under ``key``. Flushes, never commits. Two staff saving the
    first value at once: the later one updates the row the other inserted."""
    row = db.session.get(SiteSetting, key)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SiteSetting(key=key, value=value, updated_at=utcnow()))
            return
        except IntegrityError:
            row = db.session.get(SiteSetting, key, populate_existing=True)
    row.value = value
    row.updated_at = utcnow()
    db.session.flush()
