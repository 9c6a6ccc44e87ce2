"""The order event log: one append-only row for each thing that happens to an order."""

from blueprints.shop.models import OrderEvent, OrderEventKind
from extensions import db


def record_event(order, kind: OrderEventKind, message="", actor="system"):
    """Append ``kind`` to ``order``'s log (``actor``: "system", "stripe" or a staff
    email). Flushes."""
    event = OrderEvent(order_id=order.id, kind=OrderEventKind(kind), message=message, actor=actor)
    db.session.add(event)
    db.session.flush()
    return event
