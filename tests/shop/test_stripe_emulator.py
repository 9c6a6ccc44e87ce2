"""The bundled Stripe emulator answers the SDK in Stripe's shapes and signs its events."""

import json
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
import stripe
from werkzeug.serving import make_server

from blueprints.core.stripe import (
    create_checkout_session,
    create_refund,
    expire_checkout_session,
    get_client,
    retrieve_checkout_session,
)
from blueprints.core.types import utcnow
from stripe_emulator import EmulatorThread, parse_form
from tests.conftest import free_port

SECRET = "whsec_test_secret"


class Receiver:
    """A tiny webhook receiver that checks each signature with the stripe SDK."""

    def __init__(self):
        self.events = []
        # Cleared, the receiver holds each event unanswered, as a busy site would.
        self.answering = threading.Event()
        self.answering.set()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/hook"
        self._server = make_server("127.0.0.1", port, self._wsgi, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _wsgi(self, environ, start_response):
        self.answering.wait(timeout=10)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        event = stripe.Webhook.construct_event(
            body, environ["HTTP_STRIPE_SIGNATURE"], SECRET, tolerance=300
        )
        self.events.append(event)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def wait_for(self, event_type, timeout=10):
        """The newest event of ``event_type``: the emulator sends some from a thread of
        their own, after its API call has answered, as Stripe does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if e.type == event_type]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no {event_type} event within {timeout} s: {self.events}")

    def stop(self):
        self.answering.set()
        self._server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def emulator(app, receiver):
    server = EmulatorThread(
        free_port(), receiver.url, SECRET, api_key=app.config["STRIPE_SECRET_KEY"]
    ).start()
    app.config["STRIPE_API_BASE"] = server.url
    yield server
    server.stop()


def _create(kind="booking", shipping=None, expires_at=None):
    return create_checkout_session(
        kind=kind,
        object_id=7,
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 2500,
                    "product_data": {"name": "Vest, size M"},
                },
                "quantity": 2,
            }
        ],
        customer_email="reader@example.com",
        success_url="http://site.test/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://site.test/cancelled",
        expires_at=expires_at or utcnow() + timedelta(minutes=30),
        idempotency_key="order-7-checkout",
        collect_shipping_countries=["US", "CA"],
    )


def _pay(session_url, **fields):
    data = urllib.parse.urlencode({"action": "pay", **fields}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(session_url, data=data)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Location"]
    raise AssertionError("paying did not redirect")


def test_parse_form_nests_brackets_into_dicts_and_lists():
    parsed = parse_form(
        [
            ("line_items[0][price_data][unit_amount]", "100"),
            ("line_items[1][quantity]", "2"),
            ("metadata[kind]", "order"),
        ]
    )
    assert parsed == {
        "line_items": [{"price_data": {"unit_amount": "100"}}, {"quantity": "2"}],
        "metadata": {"kind": "order"},
    }


def test_sdk_creates_retrieves_and_lists_sessions_in_stripe_shapes(app, emulator):
    # One deadline for both calls: a retry sends the very same parameters.
    expires_at = utcnow() + timedelta(minutes=30)
    session = _create(expires_at=expires_at)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{emulator.url}/pay/{session.id}"
    assert session.amount_total == 5000 and session.currency == "usd"
    assert session.metadata["kind"] == "booking" and session.client_reference_id == "7"
    again = _create(expires_at=expires_at)  # the same key answers the same session
    assert again.id == session.id

    fetched = retrieve_checkout_session(session.id)
    assert fetched.status == "open" and fetched.payment_status == "unpaid"
    items = get_client().v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Vest, size M", 2, 5000)
    ]
    listed = get_client().v1.checkout.sessions.list({"created": {"gte": session.created}})
    assert [s.id for s in listed.data] == [session.id]
    assert get_client().v1.checkout.sessions.list({"created": {"gt": session.created}}).data == []


def test_paying_signs_a_completed_event_and_redirects_to_success(app, emulator, receiver):
    session = _create()
    status, location = _pay(session.url, email="buyer@example.com")
    assert status == 303
    assert location == f"http://site.test/ok?session_id={session.id}"
    [event] = receiver.events
    assert event.type == "checkout.session.completed"
    paid = event.data.object
    assert paid.id == session.id and paid.payment_status == "paid"
    assert paid.payment_intent.startswith("pi_test_")
    assert paid.customer_details.email == "buyer@example.com"
    assert paid.collected_information.shipping_details.address.country == "US"
    assert retrieve_checkout_session(session.id).status == "complete"


def test_refunds_send_charge_refunded_with_the_payment_intent_metadata(app, emulator, receiver):
    session = _create(kind="order")
    _pay(session.url, email="buyer@example.com")
    intent = retrieve_checkout_session(session.id).payment_intent
    refund = create_refund(intent, 1000, "refund-1")
    assert refund.amount == 1000 and refund.status == "succeeded"
    assert create_refund(intent, 1000, "refund-1").id == refund.id  # idempotent
    event = receiver.wait_for("charge.refunded")
    assert event.data.object.metadata["kind"] == "order"
    assert event.data.object.amount_refunded == 1000
    assert [r.id for r in event.data.object.refunds.data] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError):
        create_refund(intent, 9000, "refund-too-much")


def test_expiring_sends_the_expired_event_and_closes_the_page(app, emulator, receiver):
    session = _create()
    expired = expire_checkout_session(session.id)
    assert expired.status == "expired"
    # Sent after the API call has answered, as Stripe does (the caller may be mid-transaction).
    deadline = time.monotonic() + 5
    while not receiver.events and time.monotonic() < deadline:
        time.sleep(0.02)
    assert receiver.events[-1].type == "checkout.session.expired"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(session.url)
    assert info.value.code == 410


def test_hosted_page_is_marked_as_a_test_payment(app, emulator):
    session = _create()
    with urllib.request.urlopen(session.url) as response:
        html = response.read().decode()
    assert "TEST PAYMENT: Stripe emulator" in html
    assert 'value="pay"' in html and 'value="cancel"' in html


def test_unknown_session_is_a_stripe_404(app, emulator):
    with pytest.raises(stripe.InvalidRequestError) as info:
        retrieve_checkout_session("cs_test_nope")
    assert info.value.http_status == 404
    assert json.loads(json.dumps(info.value.json_body))["error"]["type"] == "invalid_request_error"


def test_overdue_sessions_expire_and_send_the_expired_event(app, emulator, receiver):
    session = _create()
    with emulator.state.lock:
        emulator.state.sessions[session.id]["expires_at"] = 0
    assert retrieve_checkout_session(session.id).status == "expired"
    deadline = time.monotonic() + 5
    while not receiver.events and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e.type for e in receiver.events] == ["checkout.session.expired"]


def test_async_webhooks_redirect_without_waiting_for_the_event(app, receiver):
    # The site has not answered the webhook yet; the customer is redirected all the same
    # and the signed event arrives once the site answers.
    receiver.answering.clear()
    server = EmulatorThread(
        free_port(),
        receiver.url,
        SECRET,
        async_webhooks=True,
        api_key=app.config["STRIPE_SECRET_KEY"],
    ).start()
    app.config["STRIPE_API_BASE"] = server.url
    try:
        session = _create()
        status, location = _pay(session.url, email="buyer@example.com")
        assert status == 303 and location.endswith(f"session_id={session.id}")
        assert receiver.events == []
        receiver.answering.set()
        deadline = time.monotonic() + 5
        while not receiver.events and time.monotonic() < deadline:
            time.sleep(0.05)
        [event] = receiver.events
        assert event.type == "checkout.session.completed" and event.data.object.id == session.id
    finally:
        server.stop()


def _create_with_shipping():
    options = [
        {
            "shipping_rate_data": {
                "type": "fixed_amount",
                "display_name": display_name,
                "fixed_amount": {"amount": amount, "currency": "usd"},
                "delivery_estimate": {
                    "minimum": {"unit": "business_day", "value": 3},
                    "maximum": {"unit": "business_day", "value": 5},
                },
            }
        }
        for display_name, amount in (("United States: Standard", 1200), ("Canada: Standard", 2400))
    ]
    return create_checkout_session(
        kind="order",
        object_id=8,
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 10900,
                    "product_data": {"name": "Vest"},
                },
                "quantity": 1,
            }
        ],
        customer_email="reader@example.com",
        success_url="http://site.test/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://site.test/cancelled",
        expires_at=utcnow() + timedelta(minutes=30),
        idempotency_key="order-8-checkout",
        collect_shipping_countries=["US", "CA"],
        shipping_options=options,
    )


def test_shipping_options_are_offered_chosen_on_the_page_and_reported_like_stripe(
    app, emulator, receiver
):
    session = _create_with_shipping()
    # Stripe starts with the first option.
    assert session.amount_subtotal == 10900 and session.amount_total == 12100
    assert session.total_details.amount_shipping == 1200
    assert [o.shipping_amount for o in session.shipping_options] == [1200, 2400]
    page = urllib.request.urlopen(session.url).read().decode()
    assert "United States: Standard, 3\u20135 business days: 12.00 USD" in page
    assert '<option value="CA">Canada</option>' in page

    canada = session.shipping_options[1].shipping_rate
    for bad in ({"country": "FR"}, {"shipping_rate": "shr_test_nope"}):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(
                session.url,
                data=urllib.parse.urlencode({"action": "pay", "email": "a@b.c", **bad}).encode(),
            )
        assert info.value.code == 400
    status, _location = _pay(
        session.url, email="buyer@example.com", country="CA", shipping_rate=canada
    )

    assert status == 303
    paid = receiver.wait_for("checkout.session.completed").data.object
    assert paid.amount_total == 13300 and paid.total_details.amount_shipping == 2400
    assert paid.shipping_cost.amount_total == 2400 and paid.shipping_cost.shipping_rate == canada
    assert paid.collected_information.shipping_details.address.country == "CA"
    charge_amount = emulator.state.charges[paid.payment_intent]["amount"]
    assert charge_amount == 13300


def test_shipping_options_with_a_negative_amount_are_refused(app, emulator):
    with pytest.raises(stripe.InvalidRequestError):
        create_checkout_session(
            kind="order",
            object_id=9,
            line_items=[
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 100,
                        "product_data": {"name": "Vest"},
                    },
                    "quantity": 1,
                }
            ],
            customer_email=None,
            success_url="http://site.test/ok",
            cancel_url="http://site.test/cancelled",
            expires_at=utcnow() + timedelta(minutes=30),
            idempotency_key="order-9-checkout",
            collect_shipping_countries=["US"],
            shipping_options=[
                {
                    "shipping_rate_data": {
                        "type": "fixed_amount",
                        "display_name": "US",
                        "fixed_amount": {"amount": -1, "currency": "usd"},
                    }
                }
            ],
        )
