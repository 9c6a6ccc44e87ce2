"""Money over periods, for the staff dashboard: each area sums its own rows with
``money_by_period`` and the dashboard adds the areas up with ``add_by_period``."""

from sqlalchemy import and_, case, func, select

from extensions import db


def money_by_period(amount, currency, moment, periods, *where):
    """The sum of ``amount`` in each ``(start, end)`` of ``periods`` (UTC, end excluded)
    by when ``moment`` falls, as one ``{currency: cents}`` per period; one query.
    ``where`` narrows the rows (and joins, when the columns are on two tables)."""
    columns = [
        func.coalesce(func.sum(case((and_(moment >= start, moment < end), amount), else_=0)), 0)
        for start, end in periods
    ]
    rows = db.session.execute(
        select(currency, *columns)
        .where(
            moment >= min(start for start, _ in periods),
            moment < max(end for _, end in periods),
            *where,
        )
        .group_by(currency)
    ).all()
    result = [{} for _ in periods]
    for row in rows:
        for index, cents in enumerate(row[1:]):
            result[index][row[0]] = int(cents)
    return result


def add_by_period(*figures):
    """Add per-period ``{currency: cents}`` lists of the same periods, e.g. the shop's
    and the consultations' takings."""
    result = [{} for _ in figures[0]]
    for figure in figures:
        for index, amounts in enumerate(figure):
            for currency, cents in amounts.items():
                result[index][currency] = result[index].get(currency, 0) + cents
    return result
