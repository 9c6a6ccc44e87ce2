"""The owner's staff page: roles, invitations by email, disabling an account (signed out
at once; never oneself nor the last owner), resetting a second factor; and the audit
log: written for each action under its actor, shown to owners only, append-only."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from blueprints.account.models import StaffInvitation, StaffRole, User
from blueprints.account.services import create_staff, new_totp_secret
from blueprints.account.staff import StaffChangeRefused, disable_staff
from blueprints.core.audit import AuditLogIsAppendOnly, record_staff_action
from blueprints.core.models import AuditEntry
from blueprints.core.timezones import format_when, practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.conftest import (
    ASSISTANT_EMAIL,
    ASSISTANT_PASSWORD,
    STAFF_EMAIL,
    is_postgres,
    signed_in_client,
    text_part,
)

NEW_EMAIL = "new.helper@example.com"
NEW_PASSWORD = "kettle orchard lantern pebble"


pytestmark = pytest.mark.usefixtures("each_request_loads_its_own_user")


def _entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def _user(email):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


# --- roles --------------------------------------------------------------------------------


def test_staff_made_on_the_command_line_are_owners_unless_told(runner):
    runner.invoke(
        args=["users", "create-staff", "a@betterbones.example", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    runner.invoke(
        args=["users", "create-staff", "b@betterbones.example", "--password-stdin"]
        + ["--role", "assistant"],
        input="a long enough passphrase\n",
    )
    assert _user("a@betterbones.example").role == StaffRole.OWNER
    assert _user("b@betterbones.example").role == StaffRole.ASSISTANT


@pytest.mark.parametrize("url", ["/admin/staff", "/admin/audit"])
def test_an_assistant_cannot_open_the_owner_pages(assistant_client, url):
    response = assistant_client.get(url)
    assert response.status_code == 403
    assert "Only the owner can open this page" in response.get_data(as_text=True)


def test_an_assistant_cannot_invite_disable_or_reset(assistant_client, staff_user):
    staff_user.totp_secret = new_totp_secret()
    db.session.commit()
    for url, data in (
        ("/admin/staff/invite", {"email": NEW_EMAIL, "role": "owner"}),
        (f"/admin/staff/{staff_user.id}/disable", {}),
        (f"/admin/staff/{staff_user.id}/reset-two-factor", {}),
    ):
        assert assistant_client.post(url, data=data).status_code == 403
    owner = _user(STAFF_EMAIL)
    assert owner.active and owner.has_totp
    assert db.session.scalars(select(StaffInvitation)).all() == []
    assert _entries() == []


def test_the_nav_shows_the_owner_pages_to_owners_only(owner_client, assistant_client):
    owner_nav = owner_client.get("/admin/").get_data(as_text=True)
    assistant_nav = assistant_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/staff"' in owner_nav and 'href="/admin/audit"' in owner_nav
    assert 'href="/admin/staff"' not in assistant_nav
    assert 'href="/admin/audit"' not in assistant_nav


def test_visitors_are_sent_to_sign_in_from_the_owner_pages(client, staff_user):
    for url in ("/admin/staff", "/admin/audit"):
        response = client.get(url)
        assert response.status_code in (302, 303)
        assert "/admin/login" in response.headers["Location"]


# --- invitations --------------------------------------------------------------------------


def _invite(owner_client, mailbox, email=NEW_EMAIL, role="assistant"):
    response = owner_client.post("/admin/staff/invite", data={"email": email, "role": role})
    assert response.status_code == 303
    message = mailbox.wait_for(1)[-1]
    assert email in str(message["To"])
    return re.search(r"http://localhost(/admin/invitation/\S+)", text_part(message)).group(1)


def test_an_invitation_is_emailed_and_sets_up_an_account_once(
    app, owner_client, staff_user, mailbox
):
    link = _invite(owner_client, mailbox)
    staff_page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert NEW_EMAIL in staff_page and "Invitations waiting" in staff_page
    assert _user(NEW_EMAIL) is None  # nothing can sign in before the password is chosen

    invitee = app.test_client()
    page = invitee.get(link)
    assert page.status_code == 200 and NEW_EMAIL in page.get_data(as_text=True)
    short = invitee.post(link, data={"name": "Nell", "password": "short", "confirm": "short"})
    assert short.status_code == 400
    assert "Use at least 12 characters" in short.get_data(as_text=True)
    done = invitee.post(
        link, data={"name": "Nell", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/login")

    user = _user(NEW_EMAIL)
    assert user.is_staff and user.active and user.role == StaffRole.ASSISTANT
    assert user.name == "Nell" and user.password_hash.startswith("$argon2")
    signed_in = signed_in_client(app, NEW_EMAIL, NEW_PASSWORD)
    assert signed_in.get("/admin/").status_code == 200
    assert signed_in.get("/admin/staff").status_code == 403  # an assistant

    # The link works once.
    again = app.test_client().get(link)
    assert again.status_code == 404
    assert "This invitation link does not work" in again.get_data(as_text=True)
    replay = app.test_client().post(
        link, data={"name": "Eve", "password": "eve's long passphrase", "confirm": "x"}
    )
    assert replay.status_code == 404
    invite, accepted = _entries()
    assert (invite.actor_id, invite.action, invite.record_type) == (
        staff_user.id,
        "staff.invite",
        "staff_invitation",
    )
    assert (accepted.actor_id, accepted.action, accepted.record_id) == (
        user.id,
        "staff.invitation_accepted",
        user.id,
    )
    assert accepted.detail["invited_by"] == staff_user.id


def test_an_expired_or_altered_invitation_link_does_nothing(app, owner_client, mailbox):
    link = _invite(owner_client, mailbox)
    assert app.test_client().get(link + "x").status_code == 404
    db.session.execute(update(StaffInvitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    response = app.test_client().post(
        link, data={"name": "Nell", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 404
    assert _user(NEW_EMAIL) is None


def test_a_new_invitation_ends_the_earlier_one(app, owner_client, mailbox):
    first = _invite(owner_client, mailbox)
    second = _invite(owner_client, mailbox, role="owner")
    assert app.test_client().get(first).status_code == 404
    app.test_client().post(
        second, data={"name": "Nell", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert _user(NEW_EMAIL).role == StaffRole.OWNER


def test_an_active_staff_address_cannot_be_invited(owner_client, assistant, mailbox):
    response = owner_client.post(
        "/admin/staff/invite", data={"email": ASSISTANT_EMAIL, "role": "owner"}
    )
    assert response.status_code == 409
    assert "already has a staff account" in response.get_data(as_text=True)
    assert db.session.scalars(select(StaffInvitation)).all() == []


def test_a_bad_invitation_address_is_shown_again_with_a_message(owner_client, mailbox):
    response = owner_client.post("/admin/staff/invite", data={"email": "nobody", "role": "owner"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter an email address like name@example.com." in page and 'value="nobody"' in page
    bad_role = owner_client.post(
        "/admin/staff/invite", data={"email": NEW_EMAIL, "role": "superuser"}
    )
    assert bad_role.status_code == 400
    assert db.session.scalars(select(StaffInvitation)).all() == []


# --- disabling and second factors -----------------------------------------------------------


def test_a_disabled_assistant_is_signed_out_at_once_and_cannot_sign_in(
    app, owner_client, assistant_client, assistant, staff_user
):
    assert assistant_client.get("/admin/").status_code == 200
    response = owner_client.post(f"/admin/staff/{assistant.id}/disable", data={"confirm": "yes"})
    assert response.status_code == 303

    kicked = assistant_client.get("/admin/")
    assert kicked.status_code in (302, 303) and "/admin/login" in kicked.headers["Location"]
    again = app.test_client().post(
        "/admin/login", data={"email": ASSISTANT_EMAIL, "password": ASSISTANT_PASSWORD}
    )
    assert again.status_code == 400
    assert not _user(ASSISTANT_EMAIL).active
    [entry] = _entries()
    assert (entry.actor_id, entry.action, entry.record_id) == (
        staff_user.id,
        "staff.disable",
        assistant.id,
    )


def test_the_owner_cannot_disable_herself(owner_client, staff_user):
    response = owner_client.post(
        f"/admin/staff/{staff_user.id}/disable", follow_redirects=True, data={}
    )
    assert "You cannot disable your own account" in response.get_data(as_text=True)
    assert _user(STAFF_EMAIL).active
    assert owner_client.get("/admin/staff").status_code == 200  # still signed in
    assert _entries() == []


def test_the_last_owner_is_never_disabled(app, staff_user):
    other = create_staff("second.owner@betterbones.example", "a long passphrase", role="owner")
    db.session.commit()
    # The other owner disabled this one a moment ago; this request still holds her as
    # she was when it loaded her, and tries to disable the only owner left.
    db.session.execute(
        update(User).where(User.id == staff_user.id).values(active=False),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(StaffChangeRefused, match="last owner"):
        disable_staff(other, actor=staff_user)
    db.session.rollback()
    assert _user("second.owner@betterbones.example").active


def test_an_owner_can_disable_another_owner_while_one_is_left(owner_client, staff_user):
    other = create_staff("second.owner@betterbones.example", "a long passphrase", role="owner")
    db.session.commit()
    owner_client.post(f"/admin/staff/{other.id}/disable", data={"confirm": "yes"})
    assert not _user("second.owner@betterbones.example").active


def test_resetting_a_second_factor_turns_it_off_and_signs_her_out(
    owner_client, assistant_client, assistant, staff_user
):
    user = _user(ASSISTANT_EMAIL)
    user.totp_secret = new_totp_secret()
    db.session.commit()
    page = owner_client.get("/admin/staff").get_data(as_text=True)
    assert f"/admin/staff/{assistant.id}/reset-two-factor" in page
    response = owner_client.post(
        f"/admin/staff/{assistant.id}/reset-two-factor", data={"confirm": "yes"}
    )
    assert response.status_code == 303
    assert not _user(ASSISTANT_EMAIL).has_totp
    assert assistant_client.get("/admin/").status_code in (302, 303)
    [entry] = _entries()
    assert (entry.actor_id, entry.action, entry.record_id) == (
        staff_user.id,
        "staff.reset_second_factor",
        assistant.id,
    )


def test_staff_actions_without_csrf_change_nothing(owner_client, assistant):
    response = owner_client.post(f"/admin/staff/{assistant.id}/disable", data={}, csrf=False)
    assert response.status_code == 400
    assert _user(ASSISTANT_EMAIL).active


# --- the audit log ------------------------------------------------------------------------


def test_the_audit_page_lists_and_filters_staff_actions(owner_client, staff_user, assistant):
    record_staff_action(staff_user.id, "order.refund", "order", 7, {"amount_cents": 500})
    record_staff_action(assistant.id, "post.publish", "post", 3, {"title": "Walking"})
    db.session.commit()
    page = owner_client.get("/admin/audit").get_data(as_text=True)
    assert "order.refund" in page and "post.publish" in page and "Amount: $5.00" in page
    # The table stacks on a small screen: its region is named for what it holds only.
    assert 'role="region" aria-label="Staff actions"' in page

    by_amy = owner_client.get(f"/admin/audit?actor={assistant.id}").get_data(as_text=True)
    assert "Walking" in by_amy and "Amount: $5.00" not in by_amy
    refunds = owner_client.get("/admin/audit?action=order.refund").get_data(as_text=True)
    assert "Amount: $5.00" in refunds and "Walking" not in refunds
    by_record = owner_client.get("/admin/audit?record_type=post&record_id=3")
    assert "Walking" in by_record.get_data(as_text=True)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    later = owner_client.get(f"/admin/audit?from={tomorrow}").get_data(as_text=True)
    assert "No staff actions match." in later
    junk = owner_client.get("/admin/audit?actor=abc&from=9999-99-99&record_id=-1&page=x")
    assert junk.status_code == 200


def test_audit_entries_are_never_changed_or_deleted(app, staff_user):
    entry = record_staff_action(staff_user.id, "order.refund", "order", 7, {"amount_cents": 500})
    db.session.commit()
    entry.action = "order.nothing"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(update(AuditEntry).values(action="order.nothing"))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(sa.delete(AuditEntry))
    db.session.rollback()
    assert [(e.action, e.detail) for e in _entries()] == [("order.refund", {"amount_cents": 500})]


@pytest.mark.postgres_only
def test_postgresql_refuses_to_change_or_delete_an_audit_entry(app, staff_user):
    assert is_postgres()
    record_staff_action(staff_user.id, "order.refund", "order", 7)
    db.session.commit()
    for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert len(_entries()) == 1


def test_no_page_can_change_the_audit_log(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")]
    assert rules and all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in rules)


def test_disabling_asks_first_and_the_first_post_changes_nothing(
    owner_client, assistant_client, assistant
):
    response = owner_client.post(f"/admin/staff/{assistant.id}/disable", data={})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Disable Amy? She can no longer sign in." in page
    assert 'name="confirm" value="yes"' in page and "No, go back" in page
    assert f'action="/admin/staff/{assistant.id}/disable"' in page
    assert _user(ASSISTANT_EMAIL).active
    assert assistant_client.get("/admin/").status_code == 200  # still signed in
    assert _entries() == []


def test_a_confirmed_disable_sent_twice_disables_once(owner_client, assistant, staff_user):
    data = {"confirm": "yes"}
    first = owner_client.post(f"/admin/staff/{assistant.id}/disable", data=data)
    second = owner_client.post(
        f"/admin/staff/{assistant.id}/disable", data=data, follow_redirects=True
    )
    assert first.status_code == 303
    assert "is not an active staff account" in second.get_data(as_text=True)
    assert not _user(ASSISTANT_EMAIL).active
    assert [entry.action for entry in _entries()] == ["staff.disable"]


def test_the_owner_page_refused_to_an_assistant_is_shown_in_the_admin_layout(assistant_client):
    response = assistant_client.get("/admin/staff")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Only the owner can open this page" in page
    assert 'class="admin"' in page and "Back to the dashboard" in page
    assert 'href="/admin/"' in page
    assert "My account" not in page and "Go to the home page" not in page


def test_the_audit_page_says_its_details_in_plain_words(owner_client, staff_user):
    record_staff_action(
        staff_user.id,
        "booking.cancel",
        "booking",
        4,
        {"refunded_cents": 35000, "currency": "usd"},
    )
    record_staff_action(
        staff_user.id, "booking.usual_room", "site_setting", detail={"url": "", "kept_old_room": 0}
    )
    record_staff_action(
        staff_user.id,
        "post.schedule",
        "post",
        3,
        {"title": "Walking", "publish_at": "2026-10-26T17:00:00+00:00"},
    )
    db.session.commit()
    page = owner_client.get("/admin/audit").get_data(as_text=True)
    assert "refunded_cents" not in page and "kept_old_room" not in page
    assert "publish_at" not in page and "currency: usd" not in page
    assert "Refunded: $350.00" in page
    assert "none" in page.split("old room")[1][:40]  # "... kept the old room: none"
    # In Dr. Brown's zone, not UTC.
    local = format_when(datetime(2026, 10, 26, 17, tzinfo=UTC), practitioner_zone())
    assert f"Publish at: {local}" in page
