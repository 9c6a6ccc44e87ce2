"""Staff accounts from the command line, and the development-only demo account."""

from sqlalchemy import func, select

from blueprints.account.models import User
from blueprints.account.services import authenticate
from blueprints.admin.seed import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, seed
from extensions import db


def _users(email):
    return db.session.scalars(select(User).where(User.email == email)).all()


def test_create_staff_reads_the_password_from_stdin(runner):
    result = runner.invoke(
        args=["users", "create-staff", "Assistant@BetterBones.example", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Staff account ready" in result.output
    db.session.expire_all()
    user = authenticate("assistant@betterbones.example", "a long enough passphrase")
    assert user is not None and user.is_staff


def test_staff_created_on_the_command_line_can_sign_in(runner, client):
    runner.invoke(
        args=["users", "create-staff", "new@betterbones.example", "--password-stdin"],
        input="another long passphrase\n",
    )
    response = client.post(
        "/admin/login",
        data={"email": "new@betterbones.example", "password": "another long passphrase"},
    )
    assert response.status_code == 303


def test_create_staff_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["users", "create-staff", "short@betterbones.example", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert _users("short@betterbones.example") == []


def test_create_staff_refuses_a_bad_email(runner):
    result = runner.invoke(
        args=["users", "create-staff", "not-an-email", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_staff_is_created_in_development_and_announced(app, capsys):
    app.config["ENV_NAME"] = "development"
    seed()
    db.session.commit()
    out = capsys.readouterr().out
    assert DEMO_STAFF_EMAIL in out and DEMO_STAFF_PASSWORD in out
    user = authenticate(DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    assert user is not None and user.is_staff


def test_demo_staff_seed_is_safe_to_run_twice(app):
    app.config["ENV_NAME"] = "development"
    seed()
    db.session.commit()
    token = _users(DEMO_STAFF_EMAIL)[0].session_token
    seed()
    db.session.commit()
    users = _users(DEMO_STAFF_EMAIL)
    assert len(users) == 1
    assert users[0].session_token == token  # a second seed does not sign the demo out


def test_demo_staff_is_never_created_in_production(app, capsys):
    app.config["ENV_NAME"] = "production"
    seed()
    db.session.commit()
    assert _users(DEMO_STAFF_EMAIL) == []
    assert DEMO_STAFF_PASSWORD not in capsys.readouterr().out


def test_flask_seed_command_creates_the_demo_account(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert f"Demo staff account: {DEMO_STAFF_EMAIL}" in result.output
    assert len(_users(DEMO_STAFF_EMAIL)) == 1
