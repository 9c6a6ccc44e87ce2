"""Images uploaded by staff and the sizes they are served at, all kept in the database.

The site runs on several machines with no shared disk, so nothing is written to a local
folder: the one SQL database holds each image's record and its renditions' bytes. The
original upload is not kept: it may carry metadata (GPS, camera serial numbers) and it
is never served; every rendition is re-encoded from the decoded pixels.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.types import UTCDateTime, utcnow
from extensions import db

# What an upload may be (Pillow's format names, lower case), and what is served.
UPLOAD_FORMATS = ("jpeg", "png", "webp")
RENDITION_FORMATS = ("webp", "jpeg")
# Each served format's file extension and content type.
EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}
CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg"}
MAX_ALT_TEXT_LENGTH = 500
MAX_FILENAME_LENGTH = 200


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class MediaImage(db.Model):
    """One uploaded picture: its description for people who cannot see it, its size
    once turned upright, and the fingerprint of the file (one row per distinct file)."""

    __tablename__ = "media_image"
    __table_args__ = (
        CheckConstraint("alt_text <> ''", name="alt_text_given"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint(_in("format", UPLOAD_FORMATS), name="format_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME_LENGTH))
    alt_text: Mapped[str] = mapped_column(String(MAX_ALT_TEXT_LENGTH))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    format: Mapped[str] = mapped_column(String(8))
    # The SHA-256 of the uploaded file: the same file uploaded twice is one image, and
    # its first characters fingerprint the image's addresses.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    # Deleted with the image by the ORM too (SQLite enforces no foreign keys here); the
    # bytes are deferred, so loading the rows to delete them reads none.
    renditions: Mapped[list["MediaRendition"]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="MediaRendition.width"
    )


class MediaRendition(db.Model):
    """The image at one width in one format, encoded once at upload and then served
    as is (its address never changes, so browsers keep it a year)."""

    __tablename__ = "media_rendition"
    __table_args__ = (
        UniqueConstraint("image_id", "width", "format"),  # made once, whoever asks first
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint(_in("format", RENDITION_FORMATS), name="format_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("media_image.id", ondelete="CASCADE"))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    format: Mapped[str] = mapped_column(String(8))
    # Read only when served: lists and pages load the rows without their bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary(), deferred=True)

    image: Mapped[MediaImage] = relationship(back_populates="renditions")
