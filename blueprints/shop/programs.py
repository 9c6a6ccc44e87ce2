"""What the program pages list: an order's own programs (its link), or every program
of an address (only through a link emailed to that address)."""

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from blueprints.core.addresses import normalise_email
from blueprints.shop.emails import send_programs_link
from blueprints.shop.models import Product, ProgramAccess
from extensions import db


def _live_programs(*where, options=()):
    return db.session.scalars(
        select(Product)
        .join(ProgramAccess, ProgramAccess.product_id == Product.id)
        .where(ProgramAccess.revoked_at.is_(None), *where)
        .options(*options)
        .distinct()
        .order_by(Product.position, Product.name)
    ).all()


def programs_for_email(email, with_lessons=False):
    """Products the email has live access to (deduplicated, in shop order); with their
    lessons loaded in one more query when ``with_lessons``."""
    options = (selectinload(Product.lessons),) if with_lessons else ()
    return _live_programs(ProgramAccess.email == normalise_email(email), options=options)


def programs_for_order(order):
    """Products this order gives live access to (none once it is fully refunded)."""
    return _live_programs(ProgramAccess.order_id == order.id)


def order_access_ended(order):
    """True when the order gave program access that has since been revoked."""
    return db.session.scalar(
        select(
            exists().where(ProgramAccess.order_id == order.id, ProgramAccess.revoked_at.isnot(None))
        )
    )


def request_programs_link(email):
    """Someone asks for the "My programs" link of ``email``: queue it to that address
    when it has any program. The caller answers the same way either way, so the form
    tells nobody which addresses bought something."""
    email = normalise_email(email)
    if programs_for_email(email):
        send_programs_link(email)
