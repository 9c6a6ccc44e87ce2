"""Managing staff (the owner's staff page): inviting by email (and cancelling or resending
a waiting invitation), the invitee setting her password from the emailed link, changing
a role, disabling an account and enabling it again, and resetting a second factor.

Each action takes the acting owner as ``actor``, checks her role here (not only in the
view), and writes its audit entry in the same transaction. An invitation is a row with
the hash of a random token; its link works once, until it expires, and a newer
invitation to the same address ends the older ones.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from blueprints.account.models import StaffInvitation, StaffRole, User
from blueprints.account.roles import NotAllowed, require_owner
from blueprints.account.services import create_staff, reset_totp, sign_out_everywhere
from blueprints.account.staff_emails import send_invitation
from blueprints.core.addresses import normalise_email
from blueprints.core.audit import record_staff_action
from blueprints.core.errors import UserError
from blueprints.core.types import utcnow
from extensions import db


class StaffChangeRefused(UserError):
    """A staff change that cannot be made as asked (the message says why)."""

    status = 409


def _token_hash(token):
    return hashlib.sha256(f"staff-invitation:{token}".encode()).hexdigest()


def _invitation_lifetime():
    return timedelta(hours=current_app.config["STAFF_INVITATION_HOURS"])


def staff_accounts():
    """Every staff account, owners first, then by address."""
    return db.session.scalars(
        select(User).where(User.is_staff).order_by(User.role.desc(), User.email)
    ).all()


def pending_invitations(now=None):
    """Invitations not used yet whose link still works, newest first."""
    now = now or utcnow()
    return db.session.scalars(
        select(StaffInvitation)
        .where(StaffInvitation.used_at.is_(None), StaffInvitation.expires_at > now)
        .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
    ).all()


def invite_staff(email, role, *, actor, now=None):
    """Invite ``email`` to be staff with ``role``: store the invitation and email its
    link (after the commit). Earlier invitations to the address end. An address that
    already has an active staff account is refused; a disabled one may be invited back
    (accepting sets a new password). Flushes; returns the invitation."""
    require_owner(actor)
    invitation, token = _issue_invitation(email, role, actor=actor, now=now or utcnow())
    record_staff_action(
        actor.id,
        "staff.invite",
        "staff_invitation",
        invitation.id,
        {"email": invitation.email, "role": invitation.role},
    )
    send_invitation(invitation, token, actor)
    return invitation


def _issue_invitation(email, role, *, actor, now):
    """A new invitation of ``email`` as ``role`` (ending the earlier ones) and its
    token, which only the email carries. Flushes."""
    email = normalise_email(email)
    role = StaffRole(role)
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None and existing.is_staff and existing.active:
        raise StaffChangeRefused(f"{email} already has a staff account.")
    db.session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.email == email, StaffInvitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + _invitation_lifetime(),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def check_invitation_waiting(invitation, now=None):
    """Raise unless ``invitation`` can still be accepted (not used, cancelled, replaced
    or expired), so the owner is told before she is asked to confirm."""
    if invitation.used_at is not None or invitation.expires_at <= (now or utcnow()):
        raise StaffChangeRefused(
            f"The invitation to {invitation.email} is no longer waiting: it was used, "
            "cancelled or replaced, or it has expired."
        )


def _claim_invitation(invitation, now):
    """Mark a waiting invitation used (accepted or ended): one conditional UPDATE, so of
    two requests at once exactly one gets True."""
    return (
        db.session.execute(
            update(StaffInvitation)
            .where(
                StaffInvitation.id == invitation.id,
                StaffInvitation.used_at.is_(None),
                StaffInvitation.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def _end_invitation(invitation, now):
    """End a waiting invitation (:func:`_claim_invitation`), so of two requests ending it at
    once (two tabs, or a revoke and a resend) one does and the other is refused."""
    if not _claim_invitation(invitation, now):
        db.session.refresh(invitation)
        check_invitation_waiting(invitation, now)
        raise StaffChangeRefused(f"The invitation to {invitation.email} is no longer waiting.")
    db.session.refresh(invitation)


def revoke_invitation(invitation, *, actor, now=None):
    """Cancel a waiting invitation: its link stops working at once. Flushes."""
    require_owner(actor)
    _end_invitation(invitation, now or utcnow())
    record_staff_action(
        actor.id,
        "staff.invitation_revoke",
        "staff_invitation",
        invitation.id,
        {"email": invitation.email},
    )
    return invitation


def resend_invitation(invitation, *, actor, now=None):
    """Send a waiting invitation again with a new link (its lifetime starts again): the
    old link stops working, the new one is emailed after the commit. Flushes; returns
    the new invitation."""
    require_owner(actor)
    now = now or utcnow()
    _end_invitation(invitation, now)
    new, token = _issue_invitation(invitation.email, invitation.role, actor=actor, now=now)
    record_staff_action(
        actor.id,
        "staff.invitation_resend",
        "staff_invitation",
        invitation.id,
        {"email": invitation.email, "new_invitation": new.id},
    )
    send_invitation(new, token, actor)
    return new


def invitation_for_token(token, now=None):
    """The invitation whose link holds ``token`` while it can still be accepted, else
    None (unknown, used, replaced or expired: the page says the same for each)."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    invitation = db.session.scalar(
        select(StaffInvitation).where(StaffInvitation.token_hash == _token_hash(token))
    )
    if invitation is None or invitation.used_at is not None:
        return None
    if invitation.expires_at <= (now or utcnow()):
        return None
    return invitation


def accept_invitation(invitation, *, name, password, now=None):
    """The invitee sets her name and password: her staff account is made (or a
    disabled one of hers made active again) with the invitation's role. The link is
    used once: one conditional UPDATE, so two tabs submitting at once make one account.
    Returns the account, or None when the link was used meanwhile. Flushes."""
    now = now or utcnow()
    if not _claim_invitation(invitation, now):
        return None
    user = create_staff(invitation.email, password, name=name.strip(), role=invitation.role)
    invitation.user_id = user.id
    db.session.flush()
    # She did this herself: the entry is hers, and names who invited her.
    record_staff_action(
        user.id,
        "staff.invitation_accepted",
        "user",
        user.id,
        {"role": user.role, "invitation": invitation.id, "invited_by": invitation.invited_by_id},
    )
    return user


def _active_owner_count():
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_staff, User.active, User.role == StaffRole.OWNER)
    )


def _lock_active_owners():
    """Lock the active owners' rows until the commit, always in the same order: two
    owners disabling or demoting each other at once then take turns, and the second
    counts the owners the first left (PostgreSQL; SQLite runs one writer at a time)."""
    db.session.execute(
        select(User.id)
        .where(User.is_staff, User.active, User.role == StaffRole.OWNER)
        .order_by(User.id)
        .with_for_update()
    )


def check_disable_staff(user, *, actor, lock=False):
    """Raise what :func:`disable_staff` would refuse (not the owner, her own account, not
    an active staff account, the last owner), so the owner is told before she is asked
    to confirm. ``lock``: hold the owners' rows until the commit. Changes nothing."""
    require_owner(actor)
    if user.id == actor.id:
        raise StaffChangeRefused(
            "You cannot disable your own account. Another owner can, if it is needed."
        )
    if not user.is_staff or not user.active:
        raise StaffChangeRefused(f"{user.email} is not an active staff account.")
    if user.role == StaffRole.OWNER:
        if lock:
            _lock_active_owners()
        if _active_owner_count() <= 1:
            raise StaffChangeRefused("This is the last owner: the site needs one.")


def disable_staff(user, *, actor):
    """Disable ``user``'s staff account: she cannot sign in, and every session of hers
    ends at once (the session token rotates). The owner cannot disable herself, nor the
    last active owner. Flushes."""
    check_disable_staff(user, actor=actor, lock=True)
    user.active = False
    sign_out_everywhere(user)
    db.session.flush()
    record_staff_action(actor.id, "staff.disable", "user", user.id, {"email": user.email})
    return user


def enable_staff(user, *, actor):
    """Let a disabled staff account sign in again with her password (her role is kept).
    One conditional UPDATE: sent twice, it enables once. Flushes."""
    require_owner(actor)
    if not user.is_staff:
        raise NotAllowed("That is not a staff account.")
    enabled = db.session.execute(
        update(User)
        .where(User.id == user.id, User.is_staff, User.active.is_(False))
        .values(active=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if enabled != 1:
        raise StaffChangeRefused(f"{user.email} is already active.")
    record_staff_action(actor.id, "staff.enable", "user", user.id, {"email": user.email})
    return user


def _role_words(role):
    return "an owner" if role == StaffRole.OWNER else "an assistant"


def check_change_staff_role(user, role, *, actor, lock=False):
    """Raise what :func:`change_staff_role` would refuse (not the owner, not staff, the
    role she has already, the last active owner made an assistant), so the owner is
    told before she is asked to confirm. ``lock``: hold the owners' rows until the
    commit. Changes nothing."""
    require_owner(actor)
    role = StaffRole(role)
    if not user.is_staff:
        raise NotAllowed("That is not a staff account.")
    if user.role == role:
        raise StaffChangeRefused(f"{user.name or user.email} is already {_role_words(role)}.")
    if user.role == StaffRole.OWNER and user.active:
        if lock:
            _lock_active_owners()
        if _active_owner_count() <= 1:
            who = "You are" if user.id == actor.id else f"{user.name or user.email} is"
            raise StaffChangeRefused(
                f"{who} the last owner: the site needs one. Make someone else an owner first."
            )


def change_staff_role(user, role, *, actor):
    """Make ``user`` an owner or an assistant. The site always keeps an active owner:
    the owners' rows are locked while they are counted, so two owners making each other
    assistants at once leave one owner. An owner may make herself an assistant while
    another owner is left. Flushes."""
    role = StaffRole(role)
    check_change_staff_role(user, role, actor=actor, lock=True)
    before = user.role
    # Conditional on the role this request saw: a change made meanwhile is not undone.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.is_staff, User.role == before)
        .values(role=role)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    if changed != 1:
        raise StaffChangeRefused(
            f"{user.name or user.email} is {_role_words(user.role)} now: someone changed "
            "it a moment ago."
        )
    record_staff_action(
        actor.id,
        "staff.role",
        "user",
        user.id,
        {"email": user.email, "from": before.value, "to": role.value},
    )
    return user


def check_reset_staff_second_factor(user, *, actor):
    """Raise what :func:`reset_staff_second_factor` would refuse, so the owner is told
    before she is asked to confirm. Changes nothing."""
    require_owner(actor)
    if user.id == actor.id:
        raise StaffChangeRefused(
            "Turn your own two-step sign-in off on the Two-step sign-in page (with a code)."
        )
    if not user.is_staff:
        raise NotAllowed("That is not a staff account.")
    if not user.has_totp:
        raise StaffChangeRefused(f"{user.email} does not use two-step sign-in.")


def reset_staff_second_factor(user, *, actor):
    """Turn off ``user``'s second factor (a lost phone): she signs in with her password
    alone and can turn it on again; her sessions end. Flushes."""
    check_reset_staff_second_factor(user, actor=actor)
    reset_totp(user)
    record_staff_action(
        actor.id, "staff.reset_second_factor", "user", user.id, {"email": user.email}
    )
    return user
