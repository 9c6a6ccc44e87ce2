"""URL converters."""

from werkzeug.routing import IntegerConverter

from blueprints.core.types import MAX_ID


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` with an upper bound, so /admin/orders/99999999999999999999 is
    a 404 instead of a database error (integers are unbounded in Python, not in SQL)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
