"""Staff's customer directory (issue #18.5): everyone the site knows by an email address,
and everything it holds under one address.

A customer is an address, whoever wrote it where: a customer account, an order (the
address given at Stripe), a booking, a newsletter signup, a reader's comment (staff
replies are not customers). Addresses are compared in lower case (the form
``core/addresses.normalise_email`` stores); the name shown is one she gave somewhere,
her account's first. Nothing here reads or shows a sign-in code: only their HMACs are
stored (``account/codes.py``).
"""

from dataclasses import dataclass, field
from math import ceil

from sqlalchemy import String, func, literal, or_, select, union_all
from sqlalchemy.orm import selectinload

from blueprints.account.models import Customer
from blueprints.blog.models import Comment
from blueprints.booking.models import Booking
from blueprints.core.addresses import normalise_email
from blueprints.newsletter.models import Subscriber
from blueprints.shop.models import Order, OrderLine
from extensions import db

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200


def like_pattern(text):
    """``%text%`` for a LIKE with ``\\`` as its escape: % and _ typed are matched as
    written, not as wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _people(pattern):
    """One row (email, name, rank) per place an address is written, matching ``pattern``
    (lower-case LIKE on the address or the name) when given. ``rank`` orders the names:
    the account's name first, then the one given at checkout, at booking, ..."""
    # Accounts, signups and comments store the address normalised; an order has it as
    # typed at Stripe and a booking as typed in its form (lower(email) is indexed on both).
    sources = (
        (Customer.email, Customer.name, None),
        (func.lower(Order.email), Order.customer_name, Order.email.is_not(None)),
        (func.lower(Booking.email), Booking.name, None),
        (Subscriber.email_normalized, Subscriber.first_name, None),
        (Comment.author_email, Comment.author_name, Comment.by_staff.is_(False)),
    )
    selects = []
    for rank, (email, name, condition) in enumerate(sources):
        name = func.coalesce(name, literal("", String))
        query = select(email.label("email"), name.label("name"), literal(rank).label("rank"))
        if condition is not None:
            query = query.where(condition)
        if pattern:
            query = query.where(
                or_(email.like(pattern, escape="\\"), func.lower(name).like(pattern, escape="\\"))
            )
        selects.append(query)
    return union_all(*selects).subquery("people")


@dataclass
class CustomerPage:
    """One page of the directory: ``items`` are ``CustomerRow``; the attributes
    ``templates/_pagination.html`` reads."""

    items: list
    page: int
    total: int
    per_page: int = PAGE_SIZE

    @property
    def pages(self):
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


@dataclass
class CustomerRow:
    email: str
    name: str
    customer_id: int | None
    places: int


def search_customers(text="", page=1):
    """The addresses whose address or any name given with it holds ``text`` (any case;
    everyone when empty), in address order, ``PAGE_SIZE`` a page. Two queries."""
    text = (text or "").strip().lower()[:MAX_SEARCH_LENGTH]
    people = _people(like_pattern(text) if text else None)
    grouped = (
        select(
            people.c.email,
            func.count().label("places"),
        )
        .where(people.c.email != "")
        .group_by(people.c.email)
        .subquery("grouped")
    )
    total = db.session.scalar(select(func.count()).select_from(grouped))
    page = max(1, min(page, ceil(total / PAGE_SIZE) or 1))
    emails = select(grouped.c.email, grouped.c.places).order_by(grouped.c.email)
    emails = emails.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE).subquery("shown")
    # The name of each shown address: the one of lowest rank that is not empty.
    every_name = _people(None)
    best_name = (
        select(every_name.c.name)
        .where(every_name.c.email == emails.c.email, every_name.c.name != "")
        .order_by(every_name.c.rank)
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(emails.c.email, emails.c.places, best_name, Customer.id)
        .outerjoin(Customer, Customer.email == emails.c.email)
        .order_by(emails.c.email)
    ).all()
    items = [
        CustomerRow(email=email, name=name or "", customer_id=customer_id, places=places)
        for email, places, name, customer_id in rows
    ]
    return CustomerPage(items=items, page=page, total=total)


@dataclass
class CustomerRecord:
    """Everything held under one address, each with its history."""

    email: str
    customer: Customer | None
    orders: list = field(default_factory=list)
    bookings: list = field(default_factory=list)
    subscriber: Subscriber | None = None
    comments: list = field(default_factory=list)

    @property
    def known(self):
        return bool(
            self.customer or self.orders or self.bookings or self.subscriber or self.comments
        )

    @property
    def name(self):
        names = [self.customer.name if self.customer else ""]
        names += [order.customer_name or "" for order in self.orders]
        names += [booking.name for booking in self.bookings]
        names += [self.subscriber.first_name if self.subscriber else ""]
        names += [comment.author_name for comment in self.comments]
        return next((name for name in names if name), "")


def customer_by_id(customer_id):
    return db.session.get(Customer, customer_id)


def customer_record(email):
    """Her account (if any), orders with their lines and events, bookings with their
    events, newsletter signup and comments (newest first), for ``email`` in any case.
    A fixed number of queries, however much she has."""
    email = normalise_email(email)
    customer = db.session.scalar(select(Customer).where(Customer.email == email))
    orders = db.session.scalars(
        select(Order)
        .where(func.lower(Order.email) == email)
        .options(
            selectinload(Order.lines).load_only(
                OrderLine.description, OrderLine.quantity, OrderLine.unit_price_cents
            ),
            selectinload(Order.events),
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    bookings = db.session.scalars(
        select(Booking)
        .where(func.lower(Booking.email) == email)
        .options(selectinload(Booking.events))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    ).all()
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email_normalized == email))
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.author_email == email, Comment.by_staff.is_(False))
        .options(selectinload(Comment.post))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    return CustomerRecord(
        email=email,
        customer=customer,
        orders=orders,
        bookings=bookings,
        subscriber=subscriber,
        comments=comments,
    )
