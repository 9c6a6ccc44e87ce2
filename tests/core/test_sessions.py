"""Staff sessions: idle timeout of 30 minutes, absolute timeout of 12 hours."""

import time

import pytest
from flask_login import current_user, login_user

from blueprints.core.security import ABSOLUTE_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS


@pytest.fixture
def whoami(app):
    @app.get("/whoami-for-test")
    def whoami_view():
        return current_user.email if current_user.is_authenticated else "anonymous"

    return "/whoami-for-test"


def _sign_in(app, client, user, login_at, seen_at):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_login_at"] = login_at
        session["_seen_at"] = seen_at


def test_active_session_stays_signed_in(app, client, staff_user, whoami):
    now = int(time.time())
    _sign_in(app, client, staff_user, now - 3600, now - 60)
    assert client.get(whoami).text == staff_user.email


def test_idle_session_is_signed_out_after_30_minutes(app, client, staff_user, whoami):
    now = int(time.time())
    _sign_in(app, client, staff_user, now - 3600, now - IDLE_TIMEOUT_SECONDS - 5)
    assert client.get(whoami).text == "anonymous"
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_session_ends_12_hours_after_sign_in_even_when_active(app, client, staff_user, whoami):
    now = int(time.time())
    _sign_in(app, client, staff_user, now - ABSOLUTE_TIMEOUT_SECONDS - 5, now - 10)
    assert client.get(whoami).text == "anonymous"


def test_signing_in_stamps_the_session(app, staff_user):
    from flask import session

    with app.test_request_context():
        login_user(staff_user)
        assert abs(session["_login_at"] - time.time()) < 5
        assert session["_seen_at"] == session["_login_at"]


def test_an_area_names_the_session_keys_a_customer_sign_in_keeps():
    """Core knows no area: the keys a sign-in carries over (the shop's cart) are the ones
    the areas registered with their blueprints, each once."""
    from flask import Blueprint, Flask

    from blueprints.core.sessions import keep_across_sign_in, kept_across_sign_in

    app = Flask(__name__)
    first, second = Blueprint("first", __name__), Blueprint("second", __name__)
    keep_across_sign_in(first, "cart", "ship_to")
    keep_across_sign_in(second, "ship_to", "basket")
    assert kept_across_sign_in(app) == ()
    app.register_blueprint(first)
    app.register_blueprint(second)
    assert kept_across_sign_in(app) == ("cart", "ship_to", "basket")


def test_the_shop_keeps_the_cart_and_where_it_ships_across_sign_in(app):
    from blueprints.core.sessions import kept_across_sign_in
    from blueprints.shop.cart import CART_SESSION_KEY, SHIP_TO_SESSION_KEY

    assert set(kept_across_sign_in(app)) == {CART_SESSION_KEY, SHIP_TO_SESSION_KEY}
