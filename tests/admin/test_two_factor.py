"""Optional TOTP second factor for staff: enrol, the second sign-in step, replay refused,
throttled codes, and the reset command."""

import re
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select

from blueprints.account.models import User
from extensions import db
from tests.conftest import ASSISTANT_EMAIL, ASSISTANT_PASSWORD, STAFF_EMAIL, signed_in_client


def _user():
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == STAFF_EMAIL))


def _enrol(client, auth):
    auth.login()
    page = client.get("/admin/two-factor").get_data(as_text=True)
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert f"otpauth://totp/Better%20Bones:{STAFF_EMAIL.replace('@', '%40')}" in page
    assert f"secret={secret}" in page
    response = client.post("/admin/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 303
    return secret


def _code_for_next_step(secret):
    totp = pyotp.TOTP(secret)
    return totp.at(int(time.time()) + totp.interval)


def test_staff_turn_on_the_second_factor_with_a_code_from_their_app(client, auth):
    secret = _enrol(client, auth)
    user = _user()
    assert user.totp_secret == secret and user.totp_last_step is not None
    assert "is <strong>on</strong>" in client.get("/admin/two-factor").get_data(as_text=True)


def test_a_wrong_code_does_not_turn_it_on(client, auth):
    auth.login()
    client.get("/admin/two-factor")
    response = client.post("/admin/two-factor", data={"code": "000000"})
    assert response.status_code == 400 and "That code did not work" in response.text
    assert _user().totp_secret is None


def test_sign_in_asks_for_the_code_after_the_password_and_only_then_signs_in(app, client, auth):
    secret = _enrol(client, auth)
    auth.logout()

    response = auth.login(next_url="/admin/posts")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/admin/login/code"
    )
    # The password alone opens nothing.
    assert client.get("/admin/").status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session and "totp_pending" in session

    code_page = client.get("/admin/login/code")
    assert 'autocomplete="one-time-code"' in code_page.text
    response = client.post("/admin/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/posts"
    assert client.get("/admin/").status_code == 200


def test_the_same_code_cannot_be_used_twice(app, client, auth):
    secret = _enrol(client, auth)
    auth.logout()
    code = _code_for_next_step(secret)
    auth.login()
    assert client.post("/admin/login/code", data={"code": code}).status_code == 303
    auth.logout()

    other = app.test_client()
    other.post("/admin/login", data={"email": STAFF_EMAIL, "password": "correct horse battery"})
    from tests.conftest import STAFF_PASSWORD

    other.post("/admin/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    replay = other.post("/admin/login/code", data={"code": code})
    assert replay.status_code == 400 and "That code did not work" in replay.text
    assert other.get("/admin/").status_code == 302


def test_the_code_step_expires_and_cannot_be_reached_without_the_password(app, client, auth):
    secret = _enrol(client, auth)
    auth.logout()
    # Without the password step first.
    response = client.post("/admin/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login")
    # A pending step older than five minutes is dropped.
    auth.login()
    with client.session_transaction() as session:
        pending = session["totp_pending"]
        pending["at"] -= 301
        session["totp_pending"] = pending
    response = client.post("/admin/login/code", data={"code": _code_for_next_step(secret)})
    assert response.headers["Location"].endswith("/admin/login")
    assert client.get("/admin/").status_code == 302


def test_five_wrong_codes_send_her_back_to_the_password(app, client, auth):
    _enrol(client, auth)
    auth.logout()
    auth.login()
    for _ in range(4):
        assert client.post("/admin/login/code", data={"code": "123456"}).status_code == 400
    response = client.post("/admin/login/code", data={"code": "123456"})
    assert response.headers["Location"].endswith("/admin/login")
    with client.session_transaction() as session:
        assert "totp_pending" not in session


def test_wrong_codes_count_towards_the_sign_in_throttle(app, client, auth):
    _enrol(client, auth)
    auth.logout()
    statuses = []
    for _ in range(3):
        auth.login()
        for _ in range(4):
            statuses.append(client.post("/admin/login/code", data={"code": "123456"}).status_code)
    assert 429 in statuses  # 10 failures per 15 minutes, passwords and codes together


def test_reset_totp_command_turns_it_off_and_signs_out_everywhere(
    app, each_request_loads_its_own_user, client, auth, runner
):
    _enrol(client, auth)
    assert client.get("/admin/").status_code == 200

    result = runner.invoke(args=["users", "reset-totp", STAFF_EMAIL.upper()])

    assert result.exit_code == 0 and "turned off" in result.output
    assert _user().totp_secret is None
    assert client.get("/admin/").status_code == 302  # the old session ended
    response = auth.login()
    assert response.headers["Location"].endswith("/admin/")  # password alone again
    assert "No account" in runner.invoke(args=["users", "reset-totp", "x@example.com"]).output


def test_staff_can_turn_it_off_with_a_current_code(app, client, auth):
    secret = _enrol(client, auth)
    response = client.post("/admin/two-factor/off", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 303
    assert _user().totp_secret is None
    assert client.get("/admin/").status_code == 200  # still signed in here


def _replay_pending(client, saved):
    with client.session_transaction() as session:
        session.clear()
        session.update(saved)


def test_replaying_the_pending_cookie_gives_no_fresh_code_tries(app, client, auth):
    """Tries are counted on the server, per account: a saved copy of the session from just
    after the password (0 tries) replayed before each guess does not reset them."""
    app.config["RATELIMIT_ENABLED"] = False  # the per-address limit is another lock: off here
    secret = _enrol(client, auth)
    auth.logout()
    auth.login()
    with client.session_transaction() as session:
        saved = dict(session)
    for _ in range(5):
        _replay_pending(client, saved)
        client.post("/admin/login/code", data={"code": "123456"})
    _replay_pending(client, saved)
    response = client.post("/admin/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 429
    assert "15 minutes" in response.text
    assert client.get("/admin/").status_code == 302  # not signed in
    user = _user()
    assert user.totp_locked_until is not None


def test_the_code_step_opens_again_after_fifteen_minutes(app, client, auth):
    app.config["RATELIMIT_ENABLED"] = False
    secret = _enrol(client, auth)
    auth.logout()
    auth.login()
    for _ in range(5):
        client.post("/admin/login/code", data={"code": "123456"})
    user = _user()
    user.totp_locked_until = user.totp_locked_until - timedelta(minutes=15, seconds=1)
    db.session.commit()
    auth.login()
    response = client.post("/admin/login/code", data={"code": _code_for_next_step(secret)})
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200
    assert _user().totp_failures == 0


def test_the_two_step_page_tells_staff_to_ask_the_owner_not_to_run_a_command(app, client, auth):
    auth.login()
    page = client.get("/admin/two-factor").get_data(as_text=True)
    assert "flask --app" not in page and "reset-totp" not in page
    # She is the owner: another owner can reset it, or whoever looks after the website.
    assert "another owner can reset" in page and "Staff page" in page
    # The code step of the sign-in says the same to someone who lost her phone.
    secret = _enrol(client, auth)
    auth.logout()
    auth.login()
    step = client.get("/admin/login/code").get_data(as_text=True)
    assert "ask the owner to reset" in step and "reset-totp" not in step
    assert secret not in step


def test_an_assistant_is_told_to_ask_the_owner_who_resets_it_on_the_staff_page(app, assistant):
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    page = amy.get("/admin/two-factor").get_data(as_text=True)
    assert "ask the owner" in page and "on the Staff page" in page
    assert "reset-totp" not in page
