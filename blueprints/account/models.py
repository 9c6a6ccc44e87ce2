"""Staff accounts."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from extensions import db


def new_session_token():
    return secrets.token_urlsafe(24)


class StaffRole(StrEnum):
    """What a staff account may do (``account/roles.py``): the owner everything; an
    assistant everything but managing staff, reading the audit log, and refunding more
    than ``ASSISTANT_REFUND_LIMIT_CENTS`` of one order or booking."""

    OWNER = "owner"
    ASSISTANT = "assistant"


class User(UserMixin, db.Model):
    """A person who signs in: today only staff (Dr. Brown and her assistant)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_staff: Mapped[bool] = mapped_column(default=False)
    # The fewest rights unless said otherwise: the command line and invitations name it.
    role: Mapped[StaffRole] = mapped_column(
        enum_column(StaffRole, name="staff_role"), default=StaffRole.ASSISTANT
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id kept in the session cookie: rotating it signs out every copy.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optional second factor (RFC 6238): the base32 secret once enrolment is confirmed,
    # and the time step of the last code accepted, so the same code never works twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column()
    # Wrong codes at the sign-in's second step, counted here (not in the session, which a
    # client could replay): five lock the step until totp_locked_until.
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def has_totp(self):
        return bool(self.totp_secret)

    @property
    def is_owner(self):
        return self.is_staff and self.role == StaffRole.OWNER

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_token}"


class Customer(db.Model):
    """A customer's account: one per verified email address, with no password.

    Everything she bought, booked, subscribed or commented with this address is hers once
    she has signed in with a code emailed to it. ``session_token`` is part of what her
    session holds (``account/customers.py``): rotating it signs out every copy.
    """

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountCode(db.Model):
    """A 6-digit code (and, for signing in, a link token) emailed to an address.

    Only keyed hashes are stored: nobody reading the database (staff included) sees a
    code. A code lives ``CODE_MINUTES``, is used once, and dies after
    ``MAX_CODE_FAILURES`` wrong tries (``account/codes.py``).
    """

    __tablename__ = "account_code"
    __table_args__ = (
        db.CheckConstraint("failures >= 0", name="failures_not_negative"),
        db.CheckConstraint("purpose IN ('sign_in', 'confirm')", name="purpose_known"),
        db.Index("ix_account_code_email_purpose", "email", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    # "sign_in" (the sign-in page and link) or "confirm" (a fresh code before she
    # downloads or deletes her data, when already signed in).
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffInvitation(db.Model):
    """An owner's invitation to a new staff member: a single-use link emailed to
    ``email``, alive until ``expires_at``, where the invitee sets her password
    (``account/staff.py``). Only a hash of the link's token is stored."""

    __tablename__ = "staff_invitation"
    __table_args__ = (db.Index("ix_staff_invitation_email", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, name="staff_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once: when the invitee set her password (or a newer invitation replaced it).
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
