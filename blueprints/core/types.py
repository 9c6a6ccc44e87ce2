"""Column types and helpers shared by every area's models."""

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

__all__ = ["StrEnum", "UTCDateTime", "enum_column", "utcnow"]


def utcnow():
    """The current time, timezone-aware, in UTC (called per row, never at import)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite has no zones, so values are stored as
    naive UTC and given their zone back on the way out. Naive input is refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls, **kwargs):
    """A portable enum column: VARCHAR plus a CHECK constraint listing the values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        **kwargs,
    )


# The largest number a PostgreSQL INTEGER column holds; past it the database refuses the
# row with a DataError.
MAX_INTEGER = 2**31 - 1
# The largest id a row can have. A bigger number from a form or a URL cannot name a row.
MAX_ID = MAX_INTEGER
# A date or time given from outside (a posted slot, a date typed into any form) must fall
# in these years: far from year 1 and 9999, every sum and change of zone on it stays in
# range, and no stored date is a typing slip centuries away.
CALENDAR_YEARS = range(2000, 3000)


def parse_id(value, maximum=MAX_ID):
    """``value`` as a whole number from 1 to ``maximum``, else None. ``str.isdigit`` alone
    is not enough: it accepts "²" and "٣", and ``int`` of a huge string is slow or fails."""
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return None
    if len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if 0 < number <= maximum else None
