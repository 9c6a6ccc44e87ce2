"""The owner manages staff beyond inviting and disabling (a staff walkthrough found these
missing): revoking and resending a pending invitation, changing a staff member's role
between owner and assistant (never leaving the site without an active owner, even when
two owners demote each other at once), enabling a disabled account again; and resetting
two-step sign-in only after the "are you sure?" step."""

import contextlib
import re
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from blueprints.account import staff as staffing
from blueprints.account.models import StaffInvitation, StaffRole, User
from blueprints.account.services import create_staff, new_totp_secret
from blueprints.account.staff import StaffChangeRefused
from blueprints.core.models import AuditEntry
from extensions import db
from tests.conftest import (
    ASSISTANT_EMAIL,
    ASSISTANT_PASSWORD,
    STAFF_EMAIL,
    signed_in_client,
    text_part,
)

NEW_EMAIL = "new.helper@example.com"
NEW_PASSWORD = "kettle orchard lantern pebble"
SECOND_OWNER = "second.owner@betterbones.example"
SECOND_PASSWORD = "a long passphrase for her"

pytestmark = pytest.mark.usefixtures("each_request_loads_its_own_user")


@pytest.fixture
def second_owner(app):
    user = create_staff(SECOND_OWNER, SECOND_PASSWORD, name="Olive", role="owner")
    db.session.commit()
    return user


def _entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def _user(email):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def _links(mailbox, count):
    return [
        re.search(r"http://localhost(/admin/invitation/\S+)", text_part(message)).group(1)
        for message in mailbox.wait_for(count)
    ]


def _invite(owner_client, mailbox, role="assistant"):
    response = owner_client.post("/admin/staff/invite", data={"email": NEW_EMAIL, "role": role})
    assert response.status_code == 303
    [link] = _links(mailbox, 1)
    invitation = db.session.scalars(select(StaffInvitation)).one()
    return invitation, link


def _accept(app, link):
    return app.test_client().post(
        link, data={"name": "Nell", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )


# --- revoking and resending an invitation -----------------------------------------------------


def test_revoking_an_invitation_asks_first_then_its_link_stops_working_at_once(
    app, owner_client, staff_user, mailbox
):
    invitation, link = _invite(owner_client, mailbox)
    page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert f'action="/admin/staff/invitations/{invitation.id}/revoke"' in page

    asked = owner_client.post(f"/admin/staff/invitations/{invitation.id}/revoke", data={})
    assert asked.status_code == 200
    assert f"Cancel the invitation to {NEW_EMAIL}?" in asked.get_data(as_text=True)
    assert 'name="confirm" value="yes"' in asked.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 200  # nothing changed yet

    done = owner_client.post(
        f"/admin/staff/invitations/{invitation.id}/revoke",
        data={"confirm": "yes"},
        follow_redirects=True,
    )
    assert f"The invitation to {NEW_EMAIL} is cancelled" in done.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 404
    assert _accept(app, link).status_code == 404
    assert _user(NEW_EMAIL) is None
    assert "Invitations waiting" not in owner_client.get("/admin/staff").get_data(as_text=True)
    revoke = _entries()[-1]
    assert (revoke.actor_id, revoke.action, revoke.record_type, revoke.record_id) == (
        staff_user.id, "staff.invitation_revoke", "staff_invitation", invitation.id,
    )  # fmt: skip

    # Sent again (a second tab): nothing more happens, nothing more is written.
    again = owner_client.post(
        f"/admin/staff/invitations/{invitation.id}/revoke",
        data={"confirm": "yes"},
        follow_redirects=True,
    )
    assert "no longer waiting" in again.get_data(as_text=True)
    assert [e.action for e in _entries()].count("staff.invitation_revoke") == 1


def test_resending_an_invitation_emails_a_new_link_and_the_old_one_stops_working(
    app, owner_client, staff_user, mailbox
):
    invitation, old_link = _invite(owner_client, mailbox, role="owner")
    page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert f'action="/admin/staff/invitations/{invitation.id}/resend"' in page

    response = owner_client.post(f"/admin/staff/invitations/{invitation.id}/resend", data={})
    assert response.status_code == 303
    old, new_link = _links(mailbox, 2)
    assert old == old_link and new_link != old_link
    assert app.test_client().get(old_link).status_code == 404
    assert app.test_client().get(new_link).status_code == 200
    assert _accept(app, new_link).status_code == 303
    assert _user(NEW_EMAIL).role == StaffRole.OWNER  # the role invited with

    resend = [e for e in _entries() if e.action == "staff.invitation_resend"]
    assert [(e.actor_id, e.record_type, e.record_id) for e in resend] == [
        (staff_user.id, "staff_invitation", invitation.id)
    ]
    newer = db.session.scalars(
        select(StaffInvitation).where(StaffInvitation.id != invitation.id)
    ).one()
    assert resend[0].detail["new_invitation"] == newer.id


def test_a_used_invitation_cannot_be_resent(app, owner_client, mailbox):
    invitation, link = _invite(owner_client, mailbox)
    assert _accept(app, link).status_code == 303
    response = owner_client.post(
        f"/admin/staff/invitations/{invitation.id}/resend", data={}, follow_redirects=True
    )
    assert "no longer waiting" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(StaffInvitation)).all()) == 1


def test_a_failed_resend_sends_no_email(app, owner_client, mailbox):
    """The email leaves through the outbox after the commit: a refused resend (the
    address became staff meanwhile) emails nothing."""
    invitation, _link = _invite(owner_client, mailbox)
    create_staff(NEW_EMAIL, NEW_PASSWORD, role="assistant")
    db.session.commit()
    response = owner_client.post(
        f"/admin/staff/invitations/{invitation.id}/resend", data={}, follow_redirects=True
    )
    assert "already has a staff account" in response.get_data(as_text=True)
    time.sleep(0.5)
    assert len(mailbox.wait_for(1)) == 1


# --- changing a role --------------------------------------------------------------------------


def test_the_owner_makes_an_assistant_an_owner_and_back(owner_client, assistant, staff_user):
    page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert f'action="/admin/staff/{assistant.id}/role"' in page

    promoted = owner_client.post(f"/admin/staff/{assistant.id}/role", data={"role": "owner"})
    assert promoted.status_code == 303
    assert _user(ASSISTANT_EMAIL).role == StaffRole.OWNER

    # Taking the owner role away asks first.
    asked = owner_client.post(f"/admin/staff/{assistant.id}/role", data={"role": "assistant"})
    assert asked.status_code == 200
    assert "Make Amy an assistant?" in asked.get_data(as_text=True)
    assert 'name="role" value="assistant"' in asked.get_data(as_text=True)
    assert _user(ASSISTANT_EMAIL).role == StaffRole.OWNER
    done = owner_client.post(
        f"/admin/staff/{assistant.id}/role", data={"role": "assistant", "confirm": "yes"}
    )
    assert done.status_code == 303
    assert _user(ASSISTANT_EMAIL).role == StaffRole.ASSISTANT

    entries = [e for e in _entries() if e.action == "staff.role"]
    assert [(e.actor_id, e.record_id, e.detail["from"], e.detail["to"]) for e in entries] == [
        (staff_user.id, assistant.id, "assistant", "owner"),
        (staff_user.id, assistant.id, "owner", "assistant"),
    ]


def test_an_unknown_role_or_the_same_role_changes_nothing(owner_client, assistant):
    bad = owner_client.post(f"/admin/staff/{assistant.id}/role", data={"role": "superuser"})
    assert bad.status_code == 400
    same = owner_client.post(
        f"/admin/staff/{assistant.id}/role", data={"role": "assistant"}, follow_redirects=True
    )
    assert "is already an assistant" in same.get_data(as_text=True)
    assert _user(ASSISTANT_EMAIL).role == StaffRole.ASSISTANT
    assert _entries() == []


def test_the_only_owner_cannot_make_herself_an_assistant(owner_client, staff_user):
    response = owner_client.post(
        f"/admin/staff/{staff_user.id}/role",
        data={"role": "assistant", "confirm": "yes"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "the last owner" in page and "Make someone else an owner first" in page
    assert _user(STAFF_EMAIL).role == StaffRole.OWNER
    assert _entries() == []


def test_an_owner_steps_down_while_another_owner_is_left(owner_client, staff_user, second_owner):
    response = owner_client.post(
        f"/admin/staff/{staff_user.id}/role", data={"role": "assistant", "confirm": "yes"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/")  # the staff page is not hers now
    assert _user(STAFF_EMAIL).role == StaffRole.ASSISTANT
    assert owner_client.get("/admin/staff").status_code == 403


def test_the_last_owner_is_never_demoted_by_an_owner_demoted_meanwhile(
    app, staff_user, second_owner
):
    # The other owner made this one an assistant a moment ago; this request still holds
    # her as an owner, and tries to demote the only owner left.
    db.session.execute(
        update(User).where(User.id == staff_user.id).values(role=StaffRole.ASSISTANT),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(StaffChangeRefused, match="last owner"):
        staffing.change_staff_role(second_owner, StaffRole.ASSISTANT, actor=staff_user)
    db.session.rollback()
    assert _user(SECOND_OWNER).role == StaffRole.OWNER


def test_a_disabled_owner_does_not_count_as_the_owner_left(app, staff_user, second_owner):
    third = create_staff("third.owner@betterbones.example", "a long passphrase", role="owner")
    third.active = False
    db.session.commit()
    with pytest.raises(StaffChangeRefused, match="last owner"):
        staffing.change_staff_role(staff_user, StaffRole.ASSISTANT, actor=second_owner)
        staffing.change_staff_role(second_owner, StaffRole.ASSISTANT, actor=second_owner)
    db.session.rollback()
    assert _user(SECOND_OWNER).role == StaffRole.OWNER


def _demote(target, actor):
    staffing.change_staff_role(target, StaffRole.ASSISTANT, actor=actor)


def _disable(target, actor):
    staffing.disable_staff(target, actor=actor)


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("first", "second"),
    [(_demote, _demote), (_disable, _demote)],
    ids=["both-demote", "one-disables-one-demotes"],
)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    app, staff_user, second_owner, first, second
):
    """Two transactions on PostgreSQL: each owner demotes (or disables) the other. Each
    would see two owners if it only counted; they meet at their first write to the user
    table (or the meeting times out, when one waits for the other's lock) and the site
    keeps one active owner."""
    meet = threading.Barrier(2, timeout=3)
    waited = threading.local()
    first_write = re.compile(r'\s*UPDATE "?user"?\b', re.IGNORECASE)

    def meet_at_first_write(conn, cursor, statement, parameters, context, executemany):
        if first_write.match(statement) and not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()

    results = []

    def act(change, actor_id, target_id):
        with app.app_context():
            actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
            try:
                change(target, actor)
                db.session.commit()
                results.append("done")
            except StaffChangeRefused as exc:
                db.session.rollback()
                results.append(exc.message)
            finally:
                db.session.remove()

    sa.event.listen(db.engine, "before_cursor_execute", meet_at_first_write)
    try:
        threads = [
            threading.Thread(target=act, args=(first, staff_user.id, second_owner.id)),
            threading.Thread(target=act, args=(second, second_owner.id, staff_user.id)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", meet_at_first_write)

    assert len(results) == 2 and results.count("done") == 1, results
    assert "last owner" in next(result for result in results if result != "done")
    db.session.expire_all()
    owners = db.session.scalars(select(User).where(User.role == StaffRole.OWNER, User.active)).all()
    assert len(owners) == 1


# --- enabling a disabled account ------------------------------------------------------------


def test_a_disabled_assistant_is_enabled_again_and_can_sign_in(
    app, owner_client, assistant, staff_user
):
    owner_client.post(f"/admin/staff/{assistant.id}/disable", data={"confirm": "yes"})
    assert not _user(ASSISTANT_EMAIL).active
    page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert f'action="/admin/staff/{assistant.id}/enable"' in page

    response = owner_client.post(f"/admin/staff/{assistant.id}/enable", data={})
    assert response.status_code == 303
    assert _user(ASSISTANT_EMAIL).active
    assert (
        signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD).get("/admin/").status_code == 200
    )
    enable = _entries()[-1]
    assert (enable.actor_id, enable.action, enable.record_id) == (
        staff_user.id, "staff.enable", assistant.id,
    )  # fmt: skip

    again = owner_client.post(f"/admin/staff/{assistant.id}/enable", data={}, follow_redirects=True)
    assert "is already active" in again.get_data(as_text=True)
    assert [e.action for e in _entries()].count("staff.enable") == 1


# --- resetting two-step sign-in asks first ------------------------------------------------------


def test_resetting_two_step_sign_in_asks_first_and_the_first_post_changes_nothing(
    owner_client, assistant_client, assistant
):
    user = _user(ASSISTANT_EMAIL)
    user.totp_secret = new_totp_secret()
    db.session.commit()
    response = owner_client.post(f"/admin/staff/{assistant.id}/reset-two-factor", data={})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Turn off two-step sign-in for Amy?" in page
    assert 'name="confirm" value="yes"' in page and "No, go back" in page
    assert _user(ASSISTANT_EMAIL).has_totp
    assert assistant_client.get("/admin/").status_code == 200  # still signed in
    assert _entries() == []


# --- only the owner, only with CSRF ------------------------------------------------------------


def test_an_assistant_cannot_revoke_resend_change_roles_or_enable(
    owner_client, assistant_client, mailbox, staff_user, assistant
):
    invitation, _link = _invite(owner_client, mailbox)
    disabled = create_staff("gone@betterbones.example", "a long passphrase", role="assistant")
    disabled.active = False
    db.session.commit()
    before = len(_entries())
    for url, data in (
        (f"/admin/staff/invitations/{invitation.id}/revoke", {"confirm": "yes"}),
        (f"/admin/staff/invitations/{invitation.id}/resend", {}),
        (f"/admin/staff/{assistant.id}/role", {"role": "owner"}),
        (f"/admin/staff/{staff_user.id}/role", {"role": "assistant", "confirm": "yes"}),
        (f"/admin/staff/{disabled.id}/enable", {}),
    ):
        assert assistant_client.post(url, data=data).status_code == 403, url
    assert _user(ASSISTANT_EMAIL).role == StaffRole.ASSISTANT
    assert _user(STAFF_EMAIL).role == StaffRole.OWNER
    assert not _user("gone@betterbones.example").active
    db.session.expire_all()
    assert db.session.get(StaffInvitation, invitation.id).used_at is None
    assert len(_entries()) == before
    assert len(mailbox.wait_for(1)) == 1


def test_the_new_staff_actions_without_csrf_change_nothing(
    owner_client, mailbox, assistant, staff_user
):
    invitation, _link = _invite(owner_client, mailbox)
    for url, data in (
        (f"/admin/staff/invitations/{invitation.id}/revoke", {"confirm": "yes"}),
        (f"/admin/staff/invitations/{invitation.id}/resend", {}),
        (f"/admin/staff/{assistant.id}/role", {"role": "owner"}),
        (f"/admin/staff/{assistant.id}/enable", {}),
    ):
        assert owner_client.post(url, data=data, csrf=False).status_code == 400, url
    assert _user(ASSISTANT_EMAIL).role == StaffRole.ASSISTANT
    db.session.expire_all()
    assert db.session.get(StaffInvitation, invitation.id).used_at is None
