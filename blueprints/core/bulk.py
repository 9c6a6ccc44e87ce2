"""Bulk inserts for the large benchmark data set (``flask seed --large``)."""

from sqlalchemy import func, insert, select

from extensions import db

CHUNK = 2000


def insert_rows(model_or_table, rows, chunk=CHUNK):
    """Insert ``rows`` (dicts) with Core ``insert()``, ``chunk`` rows per statement batch.

    Column defaults still apply. Flushes nothing through the ORM, so it is fast on both
    SQLite and PostgreSQL; the caller commits."""
    table = getattr(model_or_table, "__table__", model_or_table)
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            db.session.execute(insert(table), batch)
            batch = []
    if batch:
        db.session.execute(insert(table), batch)


def count_where(column, *conditions):
    """How many rows match: the large seeds use it to skip work already done."""
    return db.session.scalar(select(func.count(column)).where(*conditions)) or 0
