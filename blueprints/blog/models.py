"""Posts, tags, references and comments."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from extensions import db

DEFAULT_AUTHOR = "Dr. Susan E. Brown, PhD"


class PostStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"


post_tag = Table(
    "post_tag",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    """A topic shared by posts (and by shop products)."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class Post(db.Model):
    __tablename__ = "post"
    __table_args__ = (
        # Newest first with the id as tie-break: list pages read it in order, no sort.
        Index("ix_post_status_published_at_id", "status", "published_at", "id"),
        CheckConstraint(
            "status <> 'published' OR published_at IS NOT NULL", name="published_has_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_md: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised once on save, never per request.
    body_html: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str] = mapped_column(String(120), default=DEFAULT_AUTHOR)
    status: Mapped[PostStatus] = mapped_column(
        enum_column(PostStatus, name="post_status"), default=PostStatus.DRAFT
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    tags: Mapped[list[Tag]] = relationship(secondary=post_tag, order_by=Tag.name)
    references: Mapped[list["Reference"]] = relationship(
        order_by="Reference.position", cascade="all, delete-orphan", back_populates="post"
    )


class Reference(db.Model):
    """A cited source, listed under the post in order."""

    __tablename__ = "reference"
    __table_args__ = (UniqueConstraint("post_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    position: Mapped[int]
    citation: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))

    post: Mapped[Post] = relationship(back_populates="references")


class Comment(db.Model):
    """A reader's comment; replies go one level deep (a reply's parent has no parent)."""

    __tablename__ = "comment"
    __table_args__ = (
        Index("ix_comment_post_id_status_created_at", "post_id", "status", "created_at"),
        Index("ix_comment_status_created_at", "status", "created_at"),
        Index("ix_comment_author_email_status", "author_email", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    # Indexed: deleting a comment deletes its replies, found by parent_id.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(80))
    author_email: Mapped[str] = mapped_column(String(254))  # never shown
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # sanitised with nh3
    status: Mapped[CommentStatus] = mapped_column(
        enum_column(CommentStatus, name="comment_status"), default=CommentStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    post: Mapped[Post] = relationship()
