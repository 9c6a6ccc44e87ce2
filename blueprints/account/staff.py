"""Managing staff (the owner's staff page): inviting by email, the invitee setting her
password from the emailed link, disabling an account, and resetting a second factor.

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
    now = now or utcnow()
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
    record_staff_action(
        actor.id, "staff.invite", "staff_invitation", invitation.id, {"email": email, "role": role}
    )
    send_invitation(invitation, token, actor)
    return invitation


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
    used = db.session.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
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
            # Lock the owners' rows, so two owners disabling each other at once leave one.
            db.session.execute(
                select(User.id).where(User.role == StaffRole.OWNER, User.active).with_for_update()
            )
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


def reset_staff_second_factor(user, *, actor):
    """Turn off ``user``'s second factor (a lost phone): she signs in with her password
    alone and can turn it on again; her sessions end. Flushes."""
    require_owner(actor)
    if user.id == actor.id:
        raise StaffChangeRefused(
            "Turn your own two-step sign-in off on the Two-step sign-in page (with a code)."
        )
    if not user.is_staff:
        raise NotAllowed("That is not a staff account.")
    if not user.has_totp:
        raise StaffChangeRefused(f"{user.email} does not use two-step sign-in.")
    reset_totp(user)
    record_staff_action(
        actor.id, "staff.reset_second_factor", "user", user.id, {"email": user.email}
    )
    return user
