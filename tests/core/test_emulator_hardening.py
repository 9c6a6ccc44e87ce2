"""The demo's secrets are not public constants, and the Stripe emulator behaves like
Stripe towards callers it does not know: it checks its key and refuses an idempotency
key replayed with other parameters (issue #17, finding 11)."""

import json
import os
import stat
import urllib.error
import urllib.parse
import urllib.request

import pytest
from flask import Flask

from config import ProductionSettingsError, load_config
from stripe_emulator import EmulatorThread
from stripe_emulator.__main__ import main as emulator_main
from tests.conftest import free_port

API_KEY = "sk_test_the_one_this_emulator_was_given"


# --- the development secret key ------------------------------------------------------


def _settings(instance_path, **overrides):
    app = Flask("secret_key_test", instance_path=str(instance_path))
    load_config(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})
    return app.config


def test_development_secret_key_is_generated_once_into_instance_and_kept_private(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_ENV_NAME", raising=False)
    first = _settings(tmp_path / "instance")
    key_file = tmp_path / "instance" / "secret_key"

    assert first["SECRET_KEY"] != "dev-only-not-secret"
    assert len(first["SECRET_KEY"]) >= 32
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # The next start (a reload, a second worker) signs with the same key: sessions last.
    assert _settings(tmp_path / "instance")["SECRET_KEY"] == first["SECRET_KEY"]
    # Another checkout of the project gets a key of its own.
    assert _settings(tmp_path / "elsewhere")["SECRET_KEY"] != first["SECRET_KEY"]


def test_a_configured_secret_key_is_used_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "set-by-the-developer")
    assert _settings(tmp_path)["SECRET_KEY"] == "set-by-the-developer"
    assert not (tmp_path / "secret_key").exists()


def test_production_never_generates_a_key_and_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(ProductionSettingsError) as refused:
        _settings(tmp_path, ENV_NAME="production", SQLALCHEMY_DATABASE_URI="postgresql://db/x")
    assert "FLASK_SECRET_KEY" in str(refused.value)
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ProductionSettingsError):  # nor the old public constant
        _settings(
            tmp_path,
            ENV_NAME="production",
            SECRET_KEY="dev-only-not-secret",
            SQLALCHEMY_DATABASE_URI="postgresql://db/x",
        )


# --- the Stripe emulator ---------------------------------------------------------------


@pytest.fixture
def emulator():
    server = EmulatorThread(free_port(), None, "whsec_test_secret", api_key=API_KEY).start()
    yield server
    server.stop()


def _call(emulator, method, path, params=None, key=API_KEY, idempotency_key=None):
    """One API call as the stripe SDK makes it: ``(status, json body)``."""
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    data = urllib.parse.urlencode(params).encode() if params is not None else None
    request = urllib.request.Request(emulator.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _session_params(amount):
    return {
        "mode": "payment",
        "success_url": "http://site.test/ok",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": str(amount),
        "line_items[0][price_data][product_data][name]": "12-week program",
    }


def test_emulator_refuses_any_key_but_its_own(emulator):
    for stranger in ("sk_test_anything", "sk_live_guess", API_KEY + "x", ""):
        status, body = _call(emulator, "GET", "/v1/checkout/sessions", key=stranger)
        assert status == 401, stranger
        assert body["error"]["type"] == "invalid_request_error"
    status, body = _call(emulator, "GET", "/v1/checkout/sessions")
    assert status == 200 and body["object"] == "list"


def test_emulator_refuses_an_idempotency_key_replayed_with_other_parameters(emulator):
    status, first = _call(
        emulator, "POST", "/v1/checkout/sessions", _session_params(35000), idempotency_key="k-1"
    )
    assert status == 200 and first["amount_total"] == 35000

    # The same request again (a network retry) answers the same session...
    status, again = _call(
        emulator, "POST", "/v1/checkout/sessions", _session_params(35000), idempotency_key="k-1"
    )
    assert status == 200 and again["id"] == first["id"]

    # ...but the key with other parameters is refused, as Stripe does, not replayed.
    status, refused = _call(
        emulator, "POST", "/v1/checkout/sessions", _session_params(1), idempotency_key="k-1"
    )
    assert status == 400
    assert refused["error"]["type"] == "idempotency_error"
    assert "id" not in refused
    # Nothing was created for the refused call.
    _, listed = _call(emulator, "GET", "/v1/checkout/sessions")
    assert [s["id"] for s in listed["data"]] == [first["id"]]


def test_emulator_command_refuses_to_start_without_a_key(monkeypatch, capsys):
    monkeypatch.delenv("FLASK_STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_ENV_NAME", raising=False)
    monkeypatch.setattr(Flask, "run", lambda *a, **k: pytest.fail("it started without a key"))
    with pytest.raises(SystemExit) as stopped:
        emulator_main(["--port", str(free_port()), "--webhook-secret", "whsec_x"])
    assert stopped.value.code == 2
    assert "--api-key" in capsys.readouterr().err


def test_emulator_page_starts_with_the_name_and_email_she_typed(emulator):
    params = {
        **_session_params(35000),
        "customer_email": "margaret@example.com",
        "metadata[customer_name]": "Margaret <Hill>",
    }
    _, session = _call(emulator, "POST", "/v1/checkout/sessions", params)
    page = urllib.request.urlopen(session["url"], timeout=10).read().decode()
    assert 'value="margaret@example.com"' in page
    assert 'value="Margaret &lt;Hill&gt;"' in page  # escaped, as typed
    # Without a name from the site the field starts empty, never with a made-up name.
    _, bare = _call(emulator, "POST", "/v1/checkout/sessions", _session_params(35000))
    page = urllib.request.urlopen(bare["url"], timeout=10).read().decode()
    assert 'id="name" name="name" autocomplete="name" value=""' in page
