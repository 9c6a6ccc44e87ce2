"""The owner's pages: staff accounts (invite, disable, reset a second factor) and the
audit log; and the page an invited staff member opens from her email to set her
password. The work and the role checks are the account area's (``account/staff.py``,
``account/roles.py``); these views parse and render."""

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.account import staff as staffing
from blueprints.account.models import User
from blueprints.account.roles import ROLE_LABELS, is_owner, owner_required, refundable_by
from blueprints.account.staff import StaffChangeRefused
from blueprints.account.staff_forms import AcceptInvitationForm, InviteForm, StaffActionForm
from blueprints.admin.audit_words import detail_lines
from blueprints.admin.blueprint import bp
from blueprints.admin.confirming import confirmation_page, confirmed
from blueprints.core.audit import AuditFilters, audit_choices, audit_query
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import parse_id
from extensions import db, limiter

AUDIT_PER_PAGE = 50
MAX_PAGE = 100_000
INVITATION_ACCEPT_LIMIT = "10 per hour"


@bp.app_context_processor
def _staff_role_helpers():
    """What staff pages need to hide what the role would refuse."""
    return {
        "is_owner": lambda: is_owner(current_user),
        "refundable_by_me": lambda refundable, refunded: refundable_by(
            current_user, refundable, refunded
        ),
        "role_labels": ROLE_LABELS,
    }


# --- staff accounts ----------------------------------------------------------------------


def _render_staff(invite_form=None, status=200):
    return (
        render_template(
            "admin/staff.html",
            staff=staffing.staff_accounts(),
            invitations=staffing.pending_invitations(),
            invite_form=invite_form or InviteForm(formdata=None),
            action_form=StaffActionForm(formdata=None),
        ),
        status,
    )


@bp.get("/staff")
@owner_required
def staff():
    return _render_staff()


@bp.post("/staff/invite")
@owner_required
def staff_invite():
    form = InviteForm()
    if not form.validate():
        return _render_staff(form, 400)
    try:
        invitation = staffing.invite_staff(
            form.email.data, form.role.data, actor=current_user._get_current_object()
        )
    except StaffChangeRefused as exc:
        db.session.rollback()
        form.email.errors = [*form.email.errors, exc.message]
        return _render_staff(form, exc.status)
    db.session.commit()
    flash(f"Invitation sent to {invitation.email}.", "success")
    return redirect(url_for("admin.staff"), code=303)


def _staff_member_or_404(user_id):
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        abort(404)
    return user


def _staff_change(user_id, change, message, ask=None):
    """Run ``change(user, actor=...)`` on a staff account, commit, flash ``message`` and
    go back to the staff page; with ``ask``, an unconfirmed POST gets ``ask(user)`` (the
    "are you sure?" page, ``admin/confirming.py``) and nothing changes."""
    user = _staff_member_or_404(user_id)
    if not StaffActionForm().validate():
        abort(400)
    try:
        if ask is not None and not confirmed():
            return ask(user)
        change(user, actor=current_user._get_current_object())
    except StaffChangeRefused as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.staff"), code=303)
    db.session.commit()
    flash(message.format(user.email), "success")
    return redirect(url_for("admin.staff"), code=303)


@bp.post("/staff/<int:user_id>/disable")
@owner_required
def staff_disable(user_id):
    def ask(user):
        staffing.check_disable_staff(user, actor=current_user._get_current_object())
        return confirmation_page(
            f"Disable {user.name or user.email}? She can no longer sign in.",
            "Yes, disable the account",
            url_for("admin.staff"),
            detail="She is signed out everywhere at once.",
        )

    return _staff_change(
        user_id, staffing.disable_staff, "{} is disabled and was signed out everywhere.", ask
    )


@bp.post("/staff/<int:user_id>/reset-two-factor")
@owner_required
def staff_reset_two_factor(user_id):
    return _staff_change(
        user_id,
        staffing.reset_staff_second_factor,
        "Two-step sign-in is off for {}; they can turn it on again after signing in.",
    )


# --- accepting an invitation (no sign-in: the emailed link is the proof) -------------------


def _invitation_page(invitation, form, status=200):
    if invitation is None:
        # Unknown, used, replaced or expired: the same page for each.
        return render_template("admin/invitation.html", invitation=None, form=None), 404
    return render_template("admin/invitation.html", invitation=invitation, form=form), status


@bp.get("/invitation/<token>")
def accept_invitation(token):
    """The page an invited person opens from her email: her name and a password."""
    return _invitation_page(staffing.invitation_for_token(token), AcceptInvitationForm())


@bp.post("/invitation/<token>")
@limiter.limit(INVITATION_ACCEPT_LIMIT)
def accept_invitation_submit(token):
    """Make her account from the invitation; she then signs in as any staff member does."""
    invitation = staffing.invitation_for_token(token)
    form = AcceptInvitationForm()
    if invitation is None or not form.validate():
        form.password.data = form.confirm.data = ""
        return _invitation_page(invitation, form, 400)
    user = staffing.accept_invitation(invitation, name=form.name.data, password=form.password.data)
    if user is None:  # used in another tab a moment ago
        db.session.rollback()
        return _invitation_page(None, None)
    db.session.commit()
    flash("Your staff account is ready. Please sign in with your new password.", "success")
    return redirect(url_for("admin.login"), code=303)


# --- the audit log -------------------------------------------------------------------------


def _date_arg(name):
    try:
        day = datetime.strptime(request.args.get(name, ""), "%Y-%m-%d").date()
    except ValueError:
        return None
    return day if 2000 <= day.year < 3000 else None


def _audit_filters():
    zone = practitioner_zone()
    since, until = _date_arg("from"), _date_arg("to")
    return AuditFilters(
        actor_id=parse_id(request.args.get("actor", "")),
        action=request.args.get("action") or None,
        record_type=request.args.get("record_type") or None,
        record_id=parse_id(request.args.get("record_id", "")),
        since=datetime.combine(since, time.min, tzinfo=zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None,
    )


@bp.get("/audit")
@owner_required
def audit():
    """Every staff action, newest first, narrowed by who, what, which record and when
    (dates in Dr. Brown's zone)."""
    filters = _audit_filters()
    page = db.paginate(
        audit_query(filters),
        page=parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1,
        per_page=AUDIT_PER_PAGE,
        error_out=False,
        count=True,
    )
    # Every staff account (for the "who" filter), and any former one the page names.
    named = {entry.actor_id for entry in page.items}
    actors = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.is_staff | User.id.in_(named)).order_by(User.email)
        )
    }
    actions, record_types = audit_choices()
    return render_template(
        "admin/audit.html",
        page=page,
        actors=actors,
        actions=actions,
        record_types=record_types,
        args=request.args,
        zone=practitioner_zone(),
        detail_lines=detail_lines,
    )
