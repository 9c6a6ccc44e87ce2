"""Products and their variants, carts, orders with their lines, events and refunds,
and the access a paid program gives."""

import secrets
from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.blog.models import Tag
from blueprints.core.states import Transitions
from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from blueprints.media.models import MediaImage
from extensions import db

MAX_LINE_QUANTITY = 10

product_tag = db.Table(
    "product_tag",
    db.Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
    db.Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ProductKind(StrEnum):
    PROGRAM = "program"  # digital: unlimited stock, access by signed link
    PHYSICAL = "physical"  # shipped: limited stock, shipping address collected


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductKind] = mapped_column(enum_column(ProductKind, name="product_kind"))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised once on save, never per request.
    description_html: Mapped[str] = mapped_column(Text, default="")
    # Under static/: the picture of a product with no gallery (``images``) yet.
    image_path: Mapped[str | None] = mapped_column(String(200))
    image_alt: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    tags: Mapped[list[Tag]] = relationship(secondary=product_tag, order_by=Tag.name)
    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product", order_by="Variant.position, Variant.id"
    )
    lessons: Mapped[list["ProgramLesson"]] = relationship(
        back_populates="product", order_by="ProgramLesson.position"
    )
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    @property
    def is_program(self):
        return self.kind == ProductKind.PROGRAM


class ProductImage(db.Model):
    """One picture of a product's gallery (the media library's), in its place: the
    first is the one the shop lists. An image in a gallery is never deleted
    (``gallery.products_using_image``)."""

    __tablename__ = "product_image"
    __table_args__ = (
        # Named here: the naming convention names a unique constraint by its first column.
        UniqueConstraint("product_id", "position", name="uq_product_image_position"),
        UniqueConstraint("product_id", "image_id", name="uq_product_image_image"),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey(MediaImage.id), index=True)
    position: Mapped[int] = mapped_column()

    product: Mapped[Product] = relationship(back_populates="images")


class Variant(db.Model):
    """One thing a customer can buy: its own SKU, price and stock (NULL: unlimited)."""

    __tablename__ = "variant"
    __table_args__ = (
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # e.g. "Size M, 8 lb"
    size: Mapped[str | None] = mapped_column(String(8))
    added_weight_lb: Mapped[int | None] = mapped_column()
    price_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    stock: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def unlimited(self):
        return self.stock is None

    @property
    def sold_out(self):
        return self.stock is not None and self.stock <= 0

    @property
    def low_stock(self):
        """Stock worth telling the customer about ("Only 2 left")."""
        return self.stock is not None and 0 < self.stock <= 3

    def label(self):
        return f"{self.product.name} ({self.name})" if self.name else self.product.name


# Where vests ship (ISO 3166 codes, as Stripe takes them) and how pages name them. A new
# country needs its name here and the CHECK below widened by a migration.
SHIPPING_COUNTRIES = {"US": "United States", "CA": "Canada"}


def country_name(code):
    """How pages and addresses name the country of ``code`` (itself when unknown)."""
    return SHIPPING_COUNTRIES.get(code, code)


# Stripe Checkout takes at most five shipping options: at most five rates on sale.
MAX_ACTIVE_RATES = 5


class ShippingRate(db.Model):
    """One way a vest can be shipped to one country, at a fixed price (staff edit them).

    Checkout offers the active rates of the country she ships to (Stripe takes at most
    five), her country's first free above the ``SHIPPING_FREE_ABOVE_CENTS`` setting; see
    ``shop/shipping.py``.
    """

    __tablename__ = "shipping_rate"
    __table_args__ = (
        UniqueConstraint("country", "name"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("country IN ('US', 'CA')", name="country_known"),
        CheckConstraint(
            "(min_days IS NULL OR min_days >= 1) AND (max_days IS NULL OR max_days >= 1)"
            " AND (min_days IS NULL OR max_days IS NULL OR min_days <= max_days)",
            name="days_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(100))  # e.g. "Standard"
    # Business days from shipping to her door, as Stripe's delivery estimate; optional.
    min_days: Mapped[int | None] = mapped_column()
    max_days: Mapped[int | None] = mapped_column()
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def country_name(self):
        return country_name(self.country)

    @property
    def delivery(self):
        """ "3\u20135 business days", "2 business days", or "" without an estimate."""
        low, high = self.min_days, self.max_days
        if low and high and low != high:
            return f"{low}\u2013{high} business days"
        days = high or low
        if not days:
            return ""
        return f"{days} business day" + ("" if days == 1 else "s")

    @property
    def label(self):
        """The rate as pages show it: "Standard, 3\u20135 business days"."""
        return f"{self.name}, {self.delivery}" if self.delivery else self.name


class ProgramLesson(db.Model):
    __tablename__ = "program_lesson"
    __table_args__ = (UniqueConstraint("product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)

    product: Mapped[Product] = relationship(back_populates="lessons")


class Cart(db.Model):
    """A visitor's cart, found by a random token kept in their session cookie."""

    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    lines: Mapped[list["CartLine"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id"
    )


class CartLine(db.Model):
    __tablename__ = "cart_line"
    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column()

    cart: Mapped[Cart] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()


class OrderStatus(StrEnum):
    PENDING = "pending"  # stock reserved, waiting for Stripe
    PAID = "paid"  # to ship (or programs given; see FULFILLED)
    FULFILLED = "fulfilled"  # digital only: access given, nothing to ship
    SHIPPED = "shipped"
    EXPIRED = "expired"  # Checkout Session expired: stock released
    CANCELLED = "cancelled"  # checkout failed or payment failed: stock released
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


_S = OrderStatus
ORDER_TRANSITIONS = Transitions(
    {
        _S.PENDING: {_S.PAID, _S.EXPIRED, _S.CANCELLED},
        _S.PAID: {_S.FULFILLED, _S.SHIPPED, _S.PARTIALLY_REFUNDED, _S.REFUNDED},
        _S.FULFILLED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
        _S.SHIPPED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED},
        _S.PARTIALLY_REFUNDED: {_S.PARTIALLY_REFUNDED, _S.REFUNDED, _S.SHIPPED},
        # A payment that lands after the stock was released: kept, and flagged for staff.
        _S.EXPIRED: {_S.PAID},
        _S.CANCELLED: {_S.PAID},
        _S.REFUNDED: set(),
    }
)
# Every status a refund (part or all) may start from: paid, whatever happened since.
REFUNDABLE_STATUSES = ORDER_TRANSITIONS.sources(_S.REFUNDED)
# A vest waits to ship while paid, also after part of it was refunded.
SHIPPABLE_STATUSES = ORDER_TRANSITIONS.sources(_S.SHIPPED)
# The orders whose money was taken (some of it may have been given back since): what
# staff's totals count. Pending, expired and cancelled orders took nothing.
MONEY_TAKEN_STATUSES = frozenset(
    {_S.PAID, _S.FULFILLED, _S.SHIPPED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}
)


class OrderEventKind(StrEnum):
    """What an order's event log records (the ``kind`` of :class:`OrderEvent`)."""

    CREATED = "created"
    CHECKOUT_OPENED = "checkout_opened"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PAYMENT_FAILED = "payment_failed"
    PAID = "paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    FLAGGED = "flagged"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    TRACKING_CORRECTED = "tracking_corrected"
    CHECKED = "checked"
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    ACCESS_REVOKED = "access_revoked"
    ANONYMISED = "anonymised"  # the customer deleted her account: name and addresses erased


def new_access_key():
    """The random half of an order's program link (see ``shop/links.py``)."""
    return secrets.token_urlsafe(24)


class Order(db.Model):
    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("total_cents > 0", name="total_positive"),
        CheckConstraint("refunded_cents >= 0", name="refunded_not_negative"),
        CheckConstraint("shipping_cents >= 0", name="shipping_not_negative"),
        Index("ix_order_status_created_at", "status", "created_at"),
        Index("ix_order_client_key_status", "client_key", "status"),
        # Staff's order list by date, and a customer's orders by her address in any case
        # (Stripe gives it as she typed it).
        Index("ix_order_created_at", "created_at"),
        Index("ix_order_email_lower", func.lower(text("email"))),
    )
    TRANSITIONS: ClassVar[Transitions] = ORDER_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, name="order_status"), default=OrderStatus.PENDING
    )
    currency: Mapped[str] = mapped_column(String(3))
    # The lines plus shipping. Until Stripe reports the rate she chose, the lines only.
    total_cents: Mapped[int] = mapped_column()
    refunded_cents: Mapped[int] = mapped_column(default=0)
    # What she paid for shipping and the rate it was ("United States: Standard, ...").
    shipping_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    shipping_method: Mapped[str | None] = mapped_column(String(200))
    # The rates Checkout offered, as copied at checkout (see shop/shipping.py): what a
    # payment's shipping amount is checked against, whatever staff change meanwhile.
    shipping_offered: Mapped[list | None] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(200))
    # The cart it came from: emptied once paid; its earlier unpaid checkouts are closed.
    cart_id: Mapped[int | None] = mapped_column(
        ForeignKey("cart.id", ondelete="SET NULL"), index=True
    )
    needs_shipping: Mapped[bool] = mapped_column(default=False)
    shipping_address: Mapped[str | None] = mapped_column(Text)  # as printed on a label
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Something a person must look at (e.g. paid after its stock was released).
    needs_attention: Mapped[bool] = mapped_column(default=False)
    # Its program link opens only while this matches: the link names this order alone,
    # and a leaked signing key alone forges none.
    access_key: Mapped[str | None] = mapped_column(String(64), default=new_access_key)
    # Who placed it (a keyed hash of the client's address, never the address itself):
    # their unpaid checkouts are counted against the hold limits.
    client_key: Mapped[str | None] = mapped_column(String(64))
    # When the success page last asked Stripe about it (at most every few seconds).
    stripe_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id"
    )
    refunds: Mapped[list["Refund"]] = relationship(back_populates="order", order_by="Refund.id")

    @property
    def reference(self):
        return f"BB-{self.id:05d}"

    @property
    def lines_cents(self):
        """What the lines cost, without shipping."""
        return sum(line.total_cents for line in self.lines)

    @property
    def refundable_cents(self):
        return self.total_cents - self.refunded_cents

    @property
    def awaiting_shipment(self):
        """A paid order with something to ship that has not left yet."""
        return self.needs_shipping and self.status in SHIPPABLE_STATUSES and self.shipped_at is None

    @property
    def can_be_refunded(self):
        """Paid through Stripe, with something left to give back."""
        return (
            self.status in REFUNDABLE_STATUSES
            and self.stripe_payment_intent_id is not None
            and self.refundable_cents > 0
        )


class OrderLine(db.Model):
    """What was bought, with the name and price copied at checkout."""

    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("unit_price_cents > 0", name="price_positive"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    description: Mapped[str] = mapped_column(String(300))
    sku: Mapped[str] = mapped_column(String(64))
    unit_price_cents: Mapped[int] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    is_program: Mapped[bool] = mapped_column(default=False)
    # Whether this line's stock is held (limited stock only): released at most once.
    stock_held: Mapped[bool] = mapped_column(default=False)

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def total_cents(self):
        return self.unit_price_cents * self.quantity


class OrderEvent(db.Model):
    """Append-only: what happened to an order, when, and who did it."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    # An :class:`OrderEventKind`, stored as plain text: the log keeps kinds a later
    # version no longer writes.
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")


@event.listens_for(OrderEvent, "before_update")
@event.listens_for(OrderEvent, "before_delete")
def _order_events_are_append_only(mapper, connection, target):
    raise ValueError("order events are append-only")


class Refund(db.Model):
    """One Stripe refund, recorded once (its Stripe id is unique)."""

    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="refunds")


class ProgramAccess(db.Model):
    """A paid program, readable by the buyer's email until a full refund revokes it."""

    __tablename__ = "program_access"
    __table_args__ = (UniqueConstraint("order_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[Product] = relationship()
    order: Mapped[Order] = relationship()
