"""Shop fixtures: products, a fake Stripe API on pytest-httpserver that records what
the SDK sent, signed webhook deliveries, and a client with a cart."""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time

import pytest
from werkzeug import Response

from blueprints.core.markdown import render_post
from blueprints.shop.models import Product, ProductKind, ProgramLesson, Variant
from extensions import db
from stripe_emulator import parse_form

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def app_config(httpserver):
    return {"STRIPE_API_BASE": httpserver.url_for("").rstrip("/")}


# --- products ---------------------------------------------------------------------


def make_vest(stocks=None, price_cents=10900):
    """A vest with one variant per (sku, stock) pair."""
    stocks = stocks or {"VEST-M-08": 5}
    product = Product(
        slug="weighted-vest",
        name="Weighted Vest",
        kind=ProductKind.PHYSICAL,
        summary="A vest.",
        description_md="A **vest**.",
        description_html=render_post("A **vest**."),
    )
    for position, (sku, stock) in enumerate(stocks.items()):
        product.variants.append(
            Variant(
                sku=sku,
                name=f"Size {sku.split('-')[1]}, {int(sku.split('-')[2])} lb",
                price_cents=price_cents,
                stock=stock,
                position=position,
            )
        )
    db.session.add(product)
    db.session.commit()
    return product


def make_program(price_cents=4900, lessons=3):
    product = Product(
        slug="back-program",
        name="12-Week Back Program",
        kind=ProductKind.PROGRAM,
        summary="Twelve weeks.",
        description_md="Weekly lessons.",
        description_html=render_post("Weekly lessons."),
    )
    product.variants.append(
        Variant(sku="PRG-BACK", name="Online program", price_cents=price_cents, stock=None)
    )
    for n in range(1, lessons + 1):
        body = f"Lesson body number {n}: stand tall."
        product.lessons.append(
            ProgramLesson(position=n, title=f"Week {n}", body_md=body, body_html=render_post(body))
        )
    db.session.add(product)
    db.session.commit()
    return product


# --- a fake Stripe API --------------------------------------------------------------


class FakeStripe:
    """Answers the SDK's Checkout and refund calls and remembers every request."""

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.sessions = {}
        self.requests = []  # (method, path, form dict, headers)
        self.fail_with = None  # (status, body) to make every API call fail
        self._ids = itertools.count(1)
        self._replies = {}  # Idempotency-Key -> the first answer, replayed as Stripe does
        self.refunds = {}  # id -> refund: what Stripe has, whatever a webhook body says
        self._lock = threading.Lock()
        self.list_page_size = 2  # small, so listing has to follow Stripe's pagination
        self.refund_delay = 0  # seconds a refund takes to answer (to widen a race)
        httpserver.expect_request(re.compile(r"^/v1/.*")).respond_with_handler(self._handle)

    def _json(self, body, status=200):
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _handle(self, request):
        form = parse_form(request.form.items(multi=True))
        if request.path == "/v1/refunds" and self.refund_delay:
            time.sleep(self.refund_delay)
        with self._lock:
            self.requests.append((request.method, request.path, form, dict(request.headers)))
            if self.fail_with:
                status, message = self.fail_with
                return self._json({"error": {"type": "api_error", "message": message}}, status)
            path = request.path
            if request.method == "POST" and path == "/v1/checkout/sessions":
                return self._json(self._create(form))
            if request.method == "GET" and path == "/v1/checkout/sessions":
                return self._json(self._list(parse_form(request.args.items(multi=True))))
            match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
            if match and match.group(1) in self.sessions:
                session = self.sessions[match.group(1)]
                if match.group(2):
                    session["status"] = "expired"
                return self._json(session)
            key = request.headers.get("Idempotency-Key")
            if request.method == "POST" and path == "/v1/refunds" and key in self._replies:
                return self._json(self._replies[key])
            if request.method == "POST" and path == "/v1/refunds":
                number = next(self._ids)
                refund = self._add_refund(
                    form["payment_intent"], f"re_test_{number}", int(form["amount"])
                )
                self._replies[key] = refund
                return self._json(refund)
            if request.method == "GET" and path == "/v1/refunds":
                return self._json(self._list_refunds(parse_form(request.args.items(multi=True))))
            return self._json({"error": {"type": "invalid_request_error", "message": "nope"}}, 404)

    def _create(self, form):
        number = next(self._ids)
        session_id = f"cs_test_fake{number}"
        total = sum(
            int(item["price_data"]["unit_amount"]) * int(item["quantity"])
            for item in form["line_items"]
        )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "created": int(time.time()),
            "amount_total": total,
            "currency": form["line_items"][0]["price_data"]["currency"],
            "client_reference_id": form.get("client_reference_id"),
            "customer_details": None,
            "metadata": form.get("metadata", {}),
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "url": f"https://checkout.example/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return session

    def _list(self, args):
        """Newest first, ``created[gte]`` honoured, pages of ``list_page_size`` at most."""
        since = int(args.get("created", {}).get("gte", 0))
        found = sorted(
            (s for s in self.sessions.values() if s["created"] >= since),
            key=lambda s: (-s["created"], s["id"]),
        )
        if args.get("starting_after"):
            ids = [s["id"] for s in found]
            found = found[ids.index(args["starting_after"]) + 1 :]
        size = min(int(args.get("limit", 10)), self.list_page_size)
        return {
            "object": "list",
            "data": found[:size],
            "has_more": len(found) > size,
            "url": "/v1/checkout/sessions",
        }

    def _add_refund(self, payment_intent, refund_id, amount, status="succeeded"):
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "charge": f"ch_{payment_intent}",
            "created": int(time.time()),
            "currency": "usd",
            "payment_intent": payment_intent,
            "status": status,
        }
        self.refunds[refund_id] = refund
        return refund

    def add_refund(self, payment_intent, refund_id, amount, status="succeeded"):
        """A refund Stripe has (e.g. one made on its dashboard)."""
        with self._lock:
            return self._add_refund(payment_intent, refund_id, amount, status)

    def _list_refunds(self, args):
        """Newest first, filtered by ``payment_intent`` or ``charge``, in pages."""
        found = [
            r
            for r in sorted(self.refunds.values(), key=lambda r: (-r["created"], r["id"]))
            if all(r[name] == args[name] for name in ("payment_intent", "charge") if name in args)
        ]
        if args.get("starting_after"):
            ids = [r["id"] for r in found]
            found = found[ids.index(args["starting_after"]) + 1 :]
        size = min(int(args.get("limit", 10)), self.list_page_size)
        return {
            "object": "list",
            "data": found[:size],
            "has_more": len(found) > size,
            "url": "/v1/refunds",
        }

    def created(self):
        return [r for r in self.requests if r[0] == "POST" and r[1] == "/v1/checkout/sessions"]

    def pay(self, session_id, email="reader@example.com", amount_total=None, status="paid"):
        """Make the session complete (as Stripe would once the customer pays)."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status=status,
            payment_intent=f"pi_{session_id}",
            customer_details={"email": email, "name": "Reader Example"},
            collected_information={
                "shipping_details": {
                    "name": "Reader Example",
                    "address": {
                        "line1": "1 Main St",
                        "city": "Syracuse",
                        "state": "NY",
                        "postal_code": "13202",
                        "country": "US",
                    },
                }
            },
        )
        if amount_total is not None:
            session["amount_total"] = amount_total
        return session


@pytest.fixture
def fake_stripe(httpserver):
    return FakeStripe(httpserver)


# --- signed webhooks ----------------------------------------------------------------


def sign(payload: bytes, secret=WEBHOOK_SECRET, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


_event_ids = itertools.count(1)


def make_event(event_type, obj, event_id=None):
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def post_event(client, event, secret=WEBHOOK_SECRET, timestamp=None):
    payload = json.dumps(event).encode()
    return client.post(
        "/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret, timestamp)},
        content_type="application/json",
        csrf=False,
    )


# --- buying ---------------------------------------------------------------------------


def add_to_cart(client, variant, quantity=1):
    return client.post("/cart/add", data={"variant_id": variant.id, "quantity": quantity})


def checkout(client):
    return client.post("/cart/checkout", data={})
