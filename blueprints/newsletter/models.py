"""Subscribers, weekly issues and one delivery row per issue and recipient."""

from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.states import Transitions
from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from extensions import db

# The limits the pages and emails state ("254 characters", "48 hours", "4 weeks") are
# these, so the words can never drift from what the code enforces.
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a whole address
MAX_FIRST_NAME_LENGTH = 80
CONFIRM_LINK_HOURS = 48
CONFIRM_LINK_LIFETIME = timedelta(hours=CONFIRM_LINK_HOURS)
CONFIRM_EMAIL_INTERVAL = timedelta(hours=24)  # at most one signup email per address
PAUSE_WEEKS = 4
PAUSE_LENGTH = timedelta(weeks=PAUSE_WEEKS)


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not confirmed yet
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # the address failed permanently (SMTP 5xx)


# Confirming needs a valid confirmation token, which only a signup that is not confirmed
# gets: a new one, or one who left or bounced and signed up again.
SUBSCRIBER_TRANSITIONS = Transitions(
    {
        SubscriberStatus.PENDING: {SubscriberStatus.CONFIRMED, SubscriberStatus.UNSUBSCRIBED},
        SubscriberStatus.CONFIRMED: {SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED},
        SubscriberStatus.UNSUBSCRIBED: {SubscriberStatus.CONFIRMED},
        SubscriberStatus.BOUNCED: {SubscriberStatus.CONFIRMED, SubscriberStatus.UNSUBSCRIBED},
    }
)


class IssueStatus(StrEnum):
    DRAFT = "draft"  # content frozen, recipients being recorded
    SENDING = "sending"
    SENT = "sent"


ISSUE_TRANSITIONS = Transitions(
    {
        IssueStatus.DRAFT: {IssueStatus.SENDING},
        IssueStatus.SENDING: {IssueStatus.SENT},
        IssueStatus.SENT: set(),
    }
)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up: rejected message or too many temporary failures
    BOUNCED = "bounced"
    SKIPPED = "skipped"  # the subscriber left or paused after the issue started


class Subscriber(db.Model):
    """One reader's address on the list; the normalised address is unique."""

    __tablename__ = "subscriber"
    __table_args__ = (
        Index("ix_subscriber_status_confirmed_at", "status", "confirmed_at"),
        CheckConstraint(
            "status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_date"
        ),
    )

    TRANSITIONS: ClassVar[Transitions] = SUBSCRIBER_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    # Lower-cased address: the same person typed twice in different case is one row.
    email_normalized: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    first_name: Mapped[str] = mapped_column(String(MAX_FIRST_NAME_LENGTH), default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        enum_column(SubscriberStatus, name="subscriber_status"), default=SubscriberStatus.PENDING
    )
    # Only the SHA-256 of the emailed token is kept: a database leak confirms nobody.
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last signup email to this address: a confirmation link or, once confirmed, the
    # note that it is already on the list (one a day at most, CONFIRM_EMAIL_INTERVAL).
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def is_paused(self, now=None):
        return self.paused_until is not None and self.paused_until > (now or utcnow())


class NewsletterIssue(db.Model):
    """One weekly issue. Its subject and bodies are frozen when it starts."""

    __tablename__ = "newsletter_issue"
    __table_args__ = (
        # ``in_progress`` is TRUE while the issue is unfinished and NULL once sent; being
        # unique, it lets the database refuse a second unfinished issue.
        CheckConstraint(
            "(status = 'sent' AND in_progress IS NULL) OR "
            "(status <> 'sent' AND in_progress IS NOT NULL)",
            name="in_progress_matches_status",
        ),
        CheckConstraint("since_at < until_at", name="window_is_ordered"),
    )

    TRANSITIONS: ClassVar[Transitions] = ISSUE_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[IssueStatus] = mapped_column(
        enum_column(IssueStatus, name="issue_status"), default=IssueStatus.DRAFT
    )
    in_progress: Mapped[bool | None] = mapped_column(unique=True, default=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    post_count: Mapped[int] = mapped_column(default=0)
    recipient_count: Mapped[int] = mapped_column(default=0)
    since_at: Mapped[datetime] = mapped_column(UTCDateTime())
    until_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NewsletterDelivery(db.Model):
    """One recipient of one issue: the row a sender claims, sends and marks."""

    __tablename__ = "newsletter_delivery"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_newsletter_delivery_issue_id_status", "issue_id", "status"),
        Index("ix_newsletter_delivery_claim_token", "claim_token"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("newsletter_issue.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"))
    # The address when the issue started.
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, name="delivery_status"), default=DeliveryStatus.PENDING
    )
    # "host|pid|random" of the sender holding the row, or "deferred|<run>" after a
    # temporary failure (the next run may take it, the same run may not).
    claim_token: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    issue: Mapped[NewsletterIssue] = relationship()
    subscriber: Mapped[Subscriber] = relationship()
