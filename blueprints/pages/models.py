"""One row per editable page. The set of pages is fixed (``SLUGS``): staff edit their
words, never add or remove one, so every footer link always has a page behind it."""

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.types import UTCDateTime, utcnow
from extensions import db

SLUGS = ("about", "contact", "privacy", "terms", "shipping-returns")
MAX_TITLE_LENGTH = 120
MAX_BODY_LENGTH = 40_000


class Page(db.Model):
    __tablename__ = "page"
    __table_args__ = (
        CheckConstraint(
            "slug IN (" + ", ".join(f"'{slug}'" for slug in SLUGS) + ")", name="page_slug_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_LENGTH))
    body_md: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised when saved, never per request.
    body_html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
