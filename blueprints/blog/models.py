"""Posts, tags, references and comments."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.states import Transitions
from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from blueprints.media.models import MediaImage
from extensions import db

DEFAULT_AUTHOR = "Dr. Susan E. Brown, PhD"
# What a cited source's year may be (the form says the same, ``blog/references.py``).
MIN_REFERENCE_YEAR = 1600
MAX_REFERENCE_YEAR = 2200
MAX_REVIEWER_LENGTH = 120


class PostStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    # Waiting for its ``publish_at``: ``flask blog publish-due`` publishes it then.
    SCHEDULED = "scheduled"


# Staff publish a draft and take a published post back to draft (``editing.py``); they
# schedule a draft (or move a scheduled one to another time, or back to draft), and the
# site publishes a scheduled post once its time has come (``scheduling.py``).
POST_TRANSITIONS = Transitions(
    {
        PostStatus.DRAFT: {PostStatus.PUBLISHED, PostStatus.SCHEDULED},
        PostStatus.SCHEDULED: {PostStatus.PUBLISHED, PostStatus.SCHEDULED, PostStatus.DRAFT},
        PostStatus.PUBLISHED: {PostStatus.DRAFT},
    }
)


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"


# Moderation (``comments.py``): a waiting comment is approved or marked as spam, and
# staff may change their mind either way. Deleting is not a status.
COMMENT_TRANSITIONS = Transitions(
    {
        CommentStatus.PENDING: {CommentStatus.APPROVED, CommentStatus.SPAM},
        CommentStatus.APPROVED: {CommentStatus.SPAM},
        CommentStatus.SPAM: {CommentStatus.APPROVED},
    }
)


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
    TRANSITIONS: ClassVar[Transitions] = POST_TRANSITIONS
    __table_args__ = (
        # Newest first with the id as tie-break: list pages read it in order, no sort.
        Index("ix_post_status_published_at_id", "status", "published_at", "id"),
        CheckConstraint(
            "status <> 'published' OR published_at IS NOT NULL", name="published_has_date"
        ),
        # ``flask blog publish-due`` finds the scheduled posts whose time has come.
        Index("ix_post_status_publish_at", "status", "publish_at"),
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
    # When a scheduled post goes live (``scheduling.py``); kept as the post's
    # publication date once published.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Medically reviewed by <reviewer_name> on <reviewed_at>": a name as staff type it
    # ("Jane Smith, MD"), not an account: reviewers are clinicians outside the site.
    reviewer_name: Mapped[str | None] = mapped_column(String(MAX_REVIEWER_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The picture at the top of the post (the media library's); an image in use is
    # never deleted (``editing.posts_using_image``).
    hero_image_id: Mapped[int | None] = mapped_column(ForeignKey(MediaImage.id), index=True)

    tags: Mapped[list[Tag]] = relationship(secondary=post_tag, order_by=Tag.name)
    references: Mapped[list["Reference"]] = relationship(
        order_by="Reference.position", cascade="all, delete-orphan", back_populates="post"
    )


# --- the search index ----------------------------------------------------------------
# Search finds substrings of the title, summary and body (``search.search_posts``).
# Each database gets its own trigram index, which the other never sees; the migration
# ``b0b2e805a68a`` builds the same objects for ``db upgrade``.


def postgresql_only(index):
    """``index`` is built on PostgreSQL only; its ``info`` tells the drift check
    (``migrations/env.py``) to leave it out elsewhere."""
    index.info["dialect"] = "postgresql"
    return index.ddl_if(dialect="postgresql")


# PostgreSQL: pg_trgm's GIN indexes answer ``ILIKE '%term%'``, one per column, so the
# search's ``title ILIKE ... OR summary ILIKE ... OR body_md ILIKE ...`` can use them
# (a rare word) and a row read newest first stops at its title (a common word).
# ``fastupdate = off``: a new post goes straight into the index rather than into a
# pending list that every search would read until the next vacuum (posts are written
# a few times a week and searched all day).
for _name in ("title", "summary", "body_md"):
    postgresql_only(
        Index(
            f"ix_post_{_name}_trgm",
            Post.__table__.c[_name],
            postgresql_using="gin",
            postgresql_ops={_name: "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )
    )
event.listen(
    Post.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)

# SQLite: FTS5 tables over the posts' text. They store no copy ("external content":
# they read the post table) and triggers keep them in step with every insert, update
# and delete, the seeders' bulk inserts included.


def sqlite_post_index(name, options):
    """Build an FTS5 table ``name`` over the post's title, summary and body (``options``:
    its tokenizer and the like) with the triggers that keep it in step, whenever
    ``post`` is created on SQLite; drop it with ``post``."""
    statements = (
        f"""CREATE VIRTUAL TABLE {name} USING fts5(
            title, summary, body_md, content='post', content_rowid='id', {options}
        )""",
        f"""CREATE TRIGGER {name}_after_insert AFTER INSERT ON post BEGIN
            INSERT INTO {name} (rowid, title, summary, body_md)
            VALUES (new.id, new.title, new.summary, new.body_md);
        END""",
        f"""CREATE TRIGGER {name}_after_delete AFTER DELETE ON post BEGIN
            INSERT INTO {name} ({name}, rowid, title, summary, body_md)
            VALUES ('delete', old.id, old.title, old.summary, old.body_md);
        END""",
        f"""CREATE TRIGGER {name}_after_update AFTER UPDATE OF title, summary, body_md
        ON post BEGIN
            INSERT INTO {name} ({name}, rowid, title, summary, body_md)
            VALUES ('delete', old.id, old.title, old.summary, old.body_md);
            INSERT INTO {name} (rowid, title, summary, body_md)
            VALUES (new.id, new.title, new.summary, new.body_md);
        END""",
    )
    for statement in statements:
        event.listen(Post.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    # Dropping the post table drops its triggers; the FTS table goes first.
    event.listen(
        Post.__table__,
        "before_drop",
        DDL(f"DROP TABLE IF EXISTS {name}").execute_if(dialect="sqlite"),
    )
    # The FTS table and its shadow tables are not in the metadata: the drift check
    # (``migrations/env.py``) skips them.
    db.metadata.info.setdefault("ddl_tables", set()).update(
        f"{name}{suffix}" for suffix in ("", "_data", "_idx", "_docsize", "_config")
    )
    return name


# The trigram index: case-insensitive substrings of three characters or more.
SEARCH_TABLE = sqlite_post_index("post_search", "tokenize='trigram'")


# --- the word index ------------------------------------------------------------------
# A term of one or two characters ("K2", "D") has no trigram to look up, and as a
# substring "d" is in nearly every post. Search matches such a term as a whole word,
# which a word index answers.
# PostgreSQL: a stored generated ``tsvector`` column, the words of the three columns
# (the ``simple`` configuration: lower case, no stemming, no stop words), with a GIN
# index. Stored, not an expression index: testing a post read newest first is then a
# lookup, not a ``to_tsvector`` of its whole body (35 ms per 1,000 posts), and the
# planner has the column's statistics. The column exists only on PostgreSQL, so it is
# DDL, not a mapped column; queries name it as ``WORDS_COLUMN``.
# SQLite: a second FTS5 table with the ``unicode61`` tokenizer that keeps no positions
# (``detail=none``: whole words are all it is asked for).
# Migration ``4c6f0e2a9d17`` builds the same objects for ``db upgrade``.
WORDS_CONFIG = literal_column("'simple'::regconfig")
WORDS_COLUMN = literal_column("post.search_words")
POSTGRESQL_WORDS_DDL = (
    """ALTER TABLE post ADD COLUMN search_words tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig, title || ' ' || summary || ' ' || body_md)) STORED""",
    "CREATE INDEX ix_post_words ON post USING gin (search_words) WITH (fastupdate = off)",
)
for _statement in POSTGRESQL_WORDS_DDL:
    event.listen(Post.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
# Not in the metadata, yet not drift (``migrations/env.py``).
db.metadata.info.setdefault("ddl_columns", set()).add(("post", "search_words"))
db.metadata.info.setdefault("ddl_indexes", set()).add("ix_post_words")

WORDS_TABLE = sqlite_post_index(
    "post_words", "tokenize='unicode61 remove_diacritics 2', detail=none"
)


class Reference(db.Model):
    """A cited source, listed under the post in order (``position`` 1, 2, ...): the
    number the post's text cites it by (``[^1]``). A journal article has its parts; a
    book, a web page or an old free-text citation may have only a title (and a ``url``).
    Checked by ``blog/references.py``; the database keeps the year and the PubMed id
    sensible too."""

    __tablename__ = "reference"
    __table_args__ = (
        UniqueConstraint("post_id", "position"),
        CheckConstraint(
            f"year IS NULL OR year BETWEEN {MIN_REFERENCE_YEAR} AND {MAX_REFERENCE_YEAR}",
            name="year_plausible",
        ),
        CheckConstraint("position > 0", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    position: Mapped[int]
    # "Lee D-Y, Shin SH, et al." as it is to be shown (NLM style: family name, initials).
    authors: Mapped[str] = mapped_column(String(1000), default="")
    title: Mapped[str] = mapped_column(Text)
    journal: Mapped[str] = mapped_column(String(300), default="")
    year: Mapped[int | None]
    volume: Mapped[str] = mapped_column(String(30), default="")
    issue: Mapped[str] = mapped_column(String(30), default="")
    pages: Mapped[str] = mapped_column(String(30), default="")
    doi: Mapped[str | None] = mapped_column(String(200))
    pmid: Mapped[str | None] = mapped_column(String(12))
    # Any other source's address (a book's page, a report); journal articles use the DOI.
    url: Mapped[str | None] = mapped_column(String(500))

    post: Mapped[Post] = relationship(back_populates="references")


class Comment(db.Model):
    """A reader's comment, or a staff member's reply; replies go one level deep (a
    reply's parent has no parent)."""

    __tablename__ = "comment"
    TRANSITIONS: ClassVar[Transitions] = COMMENT_TRANSITIONS
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
    # A staff reply: written only by ``moderation.add_staff_reply``, for someone signed in
    # as staff; no form field reaches it. ``as_author``: the owner's reply, published as
    # the post's author with the "Author" badge; an assistant's has her own name and the
    # team badge.
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    as_author: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    post: Mapped[Post] = relationship()


class ReplyNoticeOptOut(db.Model):
    """A commenter's address that asked (by the signed link in the email) not to be
    told when Dr. Brown replies to her comments (``moderation.add_staff_reply``)."""

    __tablename__ = "reply_notice_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostRevision(db.Model):
    """The text of a post as one save left it (``revisions.py``): who, when, and the
    title, summary and body. Append-only; restoring one adds a new revision."""

    __tablename__ = "post_revision"
    __table_args__ = (Index("ix_post_revision_post_id_id", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    # Who saved it; kept (as None) when her account is deleted.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_md: Mapped[str] = mapped_column(Text)
    # "restore of revision 12", "published", ...: why it was made, when not a plain save.
    note: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PostAutosave(db.Model):
    """The editor's unsaved fields, one row per staff member and post (``slot``
    ``post-<id>``) or new post (``new``), overwritten every 30 seconds while she types
    (``autosave.py``). Not a revision: nothing readers see; removed when she saves."""

    __tablename__ = "post_autosave"
    __table_args__ = (UniqueConstraint("user_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    slot: Mapped[str] = mapped_column(String(40))
    # The editor's fields by name (title, body, tags...), as typed.
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
