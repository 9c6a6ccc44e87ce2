"""The account tests' defaults around tests/factories.py: programs, orders by Ann Reader
(written as fulfilment writes them), and video consultations some time from now."""

from blueprints.booking.models import BookingStatus, CallType
from blueprints.core.types import utcnow
from blueprints.shop.models import OrderStatus
from tests.factories import make_booking, make_order
from tests.shop.conftest import make_program


def program(slug, lessons=3, name=None):
    """An online program with ``lessons`` lessons ("Week 1", ...)."""
    return make_program(
        slug=slug, name=name or slug.replace("-", " ").title(), sku=f"PRG-{slug}", lessons=lessons
    )


def paid_order(email, product, status=OrderStatus.PAID, tracking_number=None, quantity=1):
    """A paid order of ``product`` by ``email``, with program access when it is one."""
    return make_order(
        product,
        email=email,
        name="Ann Reader",
        status=status,
        tracking_number=tracking_number,
        quantity=quantity,
    )


def booking(ctype, email, starts_in, status=BookingStatus.CONFIRMED, call_type=CallType.VIDEO):
    """A booking by ``email`` starting ``starts_in`` from now (negative: in the past)."""
    return make_booking(
        ctype,
        email=email,
        name="Ann Reader",
        starts_at=(utcnow() + starts_in).replace(second=0, microsecond=0),
        status=status,
        call_type=call_type,
    )
