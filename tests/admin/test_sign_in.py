"""Staff sign-in and sign-out: generic errors, throttling, safe ``next``, a new session
at sign-in, and sign-out that stops every copy of the session cookie."""

from urllib.parse import parse_qs, urlsplit

import pytest

from blueprints.admin.routes import SIGN_IN_FAILED
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

ADMIN_PAGES = ["/admin/", "/admin/posts", "/admin/posts/new", "/admin/comments"]


def _is_signed_in(client):
    return client.get("/admin/").status_code == 200


def _redirect_target(response):
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), f"redirected off site: {response.location}"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_login_page_has_labelled_email_and_password_fields(client):
    response = client.get("/admin/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="email">Email address</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html


def test_staff_signs_in_and_reaches_the_dashboard(client, auth):
    response = auth.login()
    assert response.status_code == 303
    assert _redirect_target(response) == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Dashboard" in page.get_data(as_text=True)


def test_sign_in_records_last_login_time(client, auth, staff_user):
    assert staff_user.last_login_at is None
    auth.login()
    from extensions import db

    db.session.refresh(staff_user)
    assert staff_user.last_login_at is not None


def test_wrong_password_and_unknown_email_get_the_same_generic_message(client, auth):
    wrong_password = auth.login(password="not the password")
    unknown_email = auth.login(email="nobody@betterbones.example", password="whatever it is")
    for response in (wrong_password, unknown_email):
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "That email and password do not match" in html
        assert "no account" not in html.lower() and "not found" not in html.lower()
    # Apart from the address typed back, the two pages say exactly the same thing.
    assert wrong_password.status_code == unknown_email.status_code
    assert SIGN_IN_FAILED in wrong_password.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_failed_sign_in_keeps_the_email_typed_but_never_the_password(client, auth):
    response = auth.login(password="typed secret password")
    html = response.get_data(as_text=True)
    assert f'value="{STAFF_EMAIL}"' in html
    assert "typed secret password" not in html


def test_empty_fields_get_clear_messages_not_a_500(client, staff_user):
    response = client.post("/admin/login", data={"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter your email address." in html and "Enter your password." in html


def test_account_that_is_not_staff_cannot_sign_in_here(client, reader_account):
    response = client.post(
        "/admin/login", data={"email": "reader@example.com", "password": "a reader's long password"}
    )
    assert response.status_code == 400
    assert SIGN_IN_FAILED in response.get_data(as_text=True)


def test_inactive_staff_cannot_sign_in(client, auth, staff_user):
    from extensions import db

    staff_user.active = False
    db.session.commit()
    response = auth.login()
    assert response.status_code == 400
    assert not _is_signed_in(client)


def test_sign_in_without_csrf_token_is_refused(client, staff_user):
    response = client.post(
        "/admin/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert not _is_signed_in(client)


# --- throttling -------------------------------------------------------------------------


def test_after_ten_failures_even_the_right_password_gets_429(client, auth):
    for _ in range(10):
        assert auth.login(password="guess " * 3).status_code == 400
    blocked = auth.login()
    assert blocked.status_code == 429
    assert "Please slow down" in blocked.get_data(as_text=True)
    assert blocked.headers.get("Retry-After")
    assert not _is_signed_in(client)


def test_successful_sign_ins_do_not_count_towards_the_limit(client, auth):
    for _ in range(12):
        assert auth.login().status_code == 303
        assert auth.logout().status_code == 303
    assert auth.login(password="wrong one").status_code == 400


def test_login_page_itself_is_not_throttled(client, auth):
    for _ in range(10):
        auth.login(password="wrong")
    assert client.get("/admin/login").status_code == 200


# --- next= ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_value",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "https:/evil.example",
        "///evil.example",
    ],
)
def test_next_pointing_off_site_is_ignored(client, auth, next_value):
    response = client.post(
        "/admin/login",
        query_string={"next": next_value},
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
    )
    assert response.status_code == 303
    assert _redirect_target(response) == "/admin/"


def test_next_encoded_in_the_raw_query_string_is_ignored(client, auth):
    response = client.post(
        "/admin/login?next=%2F%2Fevil.example",
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
    )
    assert _redirect_target(response) == "/admin/"


def test_next_on_our_site_is_honoured(client, auth):
    response = client.post(
        "/admin/login",
        query_string={"next": "/admin/posts?status=draft"},
        data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
    )
    assert _redirect_target(response) == "/admin/posts?status=draft"


def test_login_form_carries_a_safe_next_but_drops_an_unsafe_one(client):
    safe = client.get("/admin/login", query_string={"next": "/admin/comments"})
    assert 'action="/admin/login?next=/admin/comments"' in safe.get_data(as_text=True)
    unsafe = client.get("/admin/login", query_string={"next": "//evil.example"})
    assert "evil.example" not in unsafe.get_data(as_text=True)


# --- the session ------------------------------------------------------------------------


def test_sign_in_starts_a_new_session(client, auth):
    client.get("/admin/login")
    with client.session_transaction() as session:
        session["planted_before_sign_in"] = "fixation attempt"
        session["csrf_token"] = "token-an-attacker-knows"
    cookie_before = client.get_cookie("session").value

    auth.login()

    with client.session_transaction() as session:
        assert "planted_before_sign_in" not in session
        assert session.get("csrf_token") != "token-an-attacker-knows"
        assert session.permanent
        assert session["_user_id"].startswith(f"{auth_user_id(client)}:")
    assert client.get_cookie("session").value != cookie_before


def auth_user_id(client):
    from sqlalchemy import select

    from blueprints.account.models import User
    from extensions import db

    return db.session.scalar(select(User.id).where(User.email == STAFF_EMAIL))


def test_sign_out_makes_a_copied_session_cookie_useless(app, client, auth):
    auth.login()
    copied = client.get_cookie("session").value

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/").status_code == 200  # the copy works while signed in

    assert auth.logout().status_code == 303

    thief_again = app.test_client()
    thief_again.set_cookie("session", copied)
    response = thief_again.get("/admin/")
    assert response.status_code == 302
    assert _redirect_target(response).startswith("/admin/login")
    assert not _is_signed_in(client)


def test_sign_out_needs_post_with_csrf(client, auth):
    auth.login()
    assert client.get("/admin/logout").status_code == 405
    assert client.post("/admin/logout", data={}, csrf=False).status_code == 400
    assert _is_signed_in(client)


def test_sign_out_says_so_on_the_sign_in_page(client, auth):
    auth.login()
    response = auth.logout()
    assert _redirect_target(response) == "/admin/login"
    assert "You are signed out on every device." in client.get("/admin/login").get_data(
        as_text=True
    )


# --- who may see admin pages ------------------------------------------------------------------


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    target = _redirect_target(response)
    login_path, _, query = target.partition("?")
    assert login_path == "/admin/login"
    assert parse_qs(query) == {"next": [path]}


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_signed_in_non_staff_gets_403(client, reader_account, path):
    with client.session_transaction() as session:
        session["_user_id"] = reader_account.get_id()
        session["_fresh"] = True
    response = client.get(path)
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_signed_in_staff_opening_sign_in_goes_to_the_dashboard(client, auth):
    auth.login()
    response = client.get("/admin/login")
    assert response.status_code == 302
    assert _redirect_target(response) == "/admin/"


def test_admin_nav_shows_areas_and_sign_out_for_staff_only(client, auth):
    anonymous = client.get("/admin/login").get_data(as_text=True)
    assert 'aria-label="Admin"' not in anonymous
    auth.login()
    html = client.get("/admin/").get_data(as_text=True)
    assert 'aria-label="Admin"' in html
    assert "/admin/posts" in html and "/admin/comments" in html and "Sign out" in html
