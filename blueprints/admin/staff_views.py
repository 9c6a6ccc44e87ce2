"""The owner's pages: staff accounts (invite, cancel or resend an invitation, change a
role, disable and enable, reset a second factor) and the audit log; and the page an
invited staff member opens from her email to set her password. The work and the role checks are the account area's (``account/staff.py``,
``account/roles.py``); these views parse and render."""

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.account import staff as staffing
from blueprints.account.models import StaffInvitation, StaffRole, User
from blueprints.account.roles import ROLE_LABELS, is_owner, owner_required, refundable_by
from blueprints.account.staff import StaffChangeRefused
from blueprints.account.staff_forms import (
    AcceptInvitationForm,
    InviteForm,
    StaffActionForm,
    StaffRoleForm,
)
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
ROLE_VALUES = {role.value for role in StaffRole}


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


def _invitation_or_404(invitation_id):
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


def _staff_action(record, act, ask=None, form=None):
    """Check the form (the CSRF token, and any field), run ``act(record, actor)`` (a
    service call returning what to tell the owner), commit, flash it and go back to the
    staff page. With ``ask``, an unconfirmed POST gets ``ask(record, actor)`` when it is
    a page (the "are you sure?" step, ``admin/confirming.py``) and nothing changes."""
    if not (form or StaffActionForm()).validate():
        abort(400)
    actor = current_user._get_current_object()
    try:
        if ask is not None and not confirmed():
            page = ask(record, actor)
            if page is not None:
                return page
        message = act(record, actor)
    except StaffChangeRefused as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("admin.staff"), code=303)
    db.session.commit()
    flash(message, "success")
    # An owner who made herself an assistant can no longer open the staff page.
    return redirect(url_for("admin.staff" if is_owner(actor) else "admin.dashboard"), code=303)


def _name(user):
    return user.name or user.email


@bp.post("/staff/<int:user_id>/disable")
@owner_required
def staff_disable(user_id):
    def ask(user, actor):
        staffing.check_disable_staff(user, actor=actor)
        return confirmation_page(
            f"Disable {_name(user)}? She can no longer sign in.",
            "Yes, disable the account",
            url_for("admin.staff"),
            detail="She is signed out everywhere at once. You can enable the account again later.",
        )

    def act(user, actor):
        staffing.disable_staff(user, actor=actor)
        return f"{user.email} is disabled and was signed out everywhere."

    return _staff_action(_staff_member_or_404(user_id), act, ask)


@bp.post("/staff/<int:user_id>/enable")
@owner_required
def staff_enable(user_id):
    def act(user, actor):
        staffing.enable_staff(user, actor=actor)
        return f"{user.email} can sign in again, as {ROLE_LABELS[user.role].lower()}."

    return _staff_action(_staff_member_or_404(user_id), act)


@bp.post("/staff/<int:user_id>/role")
@owner_required
def staff_role(user_id):
    form = StaffRoleForm()
    role = StaffRole(form.role.data) if form.role.data in ROLE_VALUES else None

    def ask(user, actor):
        staffing.check_change_staff_role(user, role, actor=actor)
        if role != StaffRole.ASSISTANT:
            return None  # making someone an owner is undone as easily
        yourself = user.id == actor.id
        return confirmation_page(
            "Make yourself an assistant?" if yourself else f"Make {_name(user)} an assistant?",
            "Yes, make " + ("me" if yourself else "her") + " an assistant",
            url_for("admin.staff"),
            detail=(
                f"{'You' if yourself else 'She'} can then no longer manage staff, read the "
                "audit log or make large refunds. "
                + ("Only another owner can make you an owner again." if yourself else "")
            ).strip(),
        )

    def act(user, actor):
        staffing.change_staff_role(user, role, actor=actor)
        return f"{user.email} is now {ROLE_LABELS[role].lower()}."

    return _staff_action(_staff_member_or_404(user_id), act, ask, form)


@bp.post("/staff/<int:user_id>/reset-two-factor")
@owner_required
def staff_reset_two_factor(user_id):
    def ask(user, actor):
        staffing.check_reset_staff_second_factor(user, actor=actor)
        return confirmation_page(
            f"Turn off two-step sign-in for {_name(user)}?",
            "Yes, turn it off",
            url_for("admin.staff"),
            detail=(
                "She then signs in with her password alone, and is signed out everywhere "
                "at once. She can turn two-step sign-in on again after signing in."
            ),
        )

    def act(user, actor):
        staffing.reset_staff_second_factor(user, actor=actor)
        return (
            f"Two-step sign-in is off for {user.email}; they can turn it on again after signing in."
        )

    return _staff_action(_staff_member_or_404(user_id), act, ask)


@bp.post("/staff/invitations/<int:invitation_id>/revoke")
@owner_required
def staff_invitation_revoke(invitation_id):
    def ask(invitation, actor):
        staffing.check_invitation_waiting(invitation)
        return confirmation_page(
            f"Cancel the invitation to {invitation.email}?",
            "Yes, cancel the invitation",
            url_for("admin.staff"),
            detail="Its link stops working at once. You can invite the address again later.",
        )

    def act(invitation, actor):
        staffing.revoke_invitation(invitation, actor=actor)
        return f"The invitation to {invitation.email} is cancelled: its link no longer works."

    return _staff_action(_invitation_or_404(invitation_id), act, ask)


@bp.post("/staff/invitations/<int:invitation_id>/resend")
@owner_required
def staff_invitation_resend(invitation_id):
    def act(invitation, actor):
        staffing.resend_invitation(invitation, actor=actor)
        return (
            f"A new invitation was sent to {invitation.email}. "
            "The link in the earlier email no longer works."
        )

    return _staff_action(_invitation_or_404(invitation_id), act)


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
