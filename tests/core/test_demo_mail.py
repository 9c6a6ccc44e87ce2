"""The demo shows its mail (issue #19.11): with no mail server, scripts/run-demo's setting
prints every email, headers and text body with its links, to the console; without that
setting (production) only a one-line note is logged, never a body."""

import logging
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from config import load_config
from extensions import db

RUN_DEMO = Path(__file__).resolve().parents[2] / "scripts" / "run-demo"


@pytest.fixture
def app_config():
    return {"MAIL_SERVER": None, "MAIL_TO_CONSOLE": True}


def test_the_demo_prints_each_email_with_its_links(client, capfd):
    response = client.post("/newsletter/", data={"email": "ruth@example.com", "first_name": "Ruth"})
    assert response.status_code == 303
    printed = capfd.readouterr().err
    assert "To: ruth@example.com" in printed
    assert re.search(r"^Subject: .+$", printed, re.M)
    assert re.search(r"http://localhost/newsletter/confirm/\S+", printed)


def _run_demo_environment():
    """The ``FLASK_*`` settings scripts/run-demo exports, as bash gives them their values
    in a clean environment (no setting of this machine leaks in): the script's own
    ``export`` lines and the variables they use, run without starting anything."""
    script = RUN_DEMO.read_text().replace(".venv/bin/python", shlex.quote(sys.executable))
    wanted = re.compile(r"^\s*(export \w+=|\w+=\"|random_token\(\))")
    lines = [line.strip() for line in script.splitlines() if wanted.match(line)]
    names = [
        re.match(r"export (\w+)=", line).group(1) for line in lines if line.startswith("export")
    ]
    show = "".join(f'printf "%s\\0" "{name}=${{{name}}}"; ' for name in names)
    done = subprocess.run(
        ["bash", "-euc", "\n".join(lines) + "\n" + show],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if item)


def test_the_app_run_demo_builds_prints_the_confirmation_link(tmp_path, monkeypatch, capsys):
    """The app as ``flask --app app run`` builds it under scripts/run-demo's settings (only
    its database and keys are this test's, so the checkout's instance/ is left alone):
    one newsletter signup prints the email with its confirmation link on the console."""
    settings = _run_demo_environment()
    assert settings["FLASK_MAIL_TO_CONSOLE"] == "true"
    for name in [n for n in os.environ if n.startswith("FLASK_")]:
        monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-secret-key-for-this-test-only-0123456789abcdef")
    monkeypatch.setenv("FLASK_DATA_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

    demo = create_app()
    with demo.app_context():
        db.create_all()
        try:
            capsys.readouterr()
            client = demo.test_client()
            site = settings["FLASK_SITE_URL"]
            form = client.get("/newsletter/", base_url=site).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            response = client.post(
                "/newsletter/",
                data={"email": "ruth@example.com", "first_name": "Ruth", "csrf_token": token},
                base_url=site,
                headers={"Origin": site},  # as the browser sends with the page's form
                buffered=True,  # a WSGI server closes the response: the mail goes then
            )
            assert response.status_code == 303, response.text
            printed = capsys.readouterr().err
        finally:
            db.session.remove()
            db.engine.dispose()
    assert "To: ruth@example.com" in printed
    link = re.search(r"http://127\.0\.0\.1:5000/newsletter/confirm/\S+", printed)
    assert link, printed


def test_without_the_setting_only_a_line_is_logged_never_the_body(app, client, caplog, capfd):
    app.config["MAIL_TO_CONSOLE"] = False
    with caplog.at_level(logging.INFO):
        client.post("/newsletter/", data={"email": "ruth@example.com"})
    assert "not sent (no MAIL_SERVER set)" in caplog.text
    assert "/newsletter/confirm/" not in caplog.text + capfd.readouterr().err


def test_production_settings_never_print_mail(monkeypatch):
    monkeypatch.setenv("FLASK_MAIL_TO_CONSOLE", "true")
    app = Flask("production_mail_test")
    load_config(
        app,
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "a-real-secret-key-for-this-test-only-0123456789",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db.example/site",
            "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        },
    )
    assert app.config["MAIL_TO_CONSOLE"] is False


def test_message_ids_stay_unique_when_random_is_seeded(app):
    """Hypothesis (and any library) may seed ``random``: the outbox's Message-IDs come
    from ``secrets``, so two messages never share one (the column is unique)."""
    import random

    from blueprints.core.outbox import new_message_id

    random.seed(7)
    first = new_message_id("betterbones.example")
    random.seed(7)
    assert new_message_id("betterbones.example") != first
