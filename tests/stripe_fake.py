"""The one fake Stripe API for every test, on pytest-httpserver, and signed webhook
deliveries.

`FakeStripe` answers what the app's Stripe client calls (Checkout Sessions: create,
retrieve, list, expire; refunds: create, list), keeps Stripe's own record of each
session and refund, replays a refund's first answer for a repeated Idempotency-Key as
Stripe does, and remembers every request. A test can make every call fail
(`fail_with`), slow refunds down (`refund_delay`) or stall Checkout until it is over
(`stall_checkout`). The `stripe_api` fixture (tests/conftest.py) is one of these; the
area's `app_config` points the app at it with `stripe_config(httpserver)`.
"""

import itertools
import json
import re
import threading
import time

from werkzeug import Response

from stripe_emulator import parse_form, sign_payload

WEBHOOK_SECRET = "whsec_test_secret"

# One counter for every id a test makes up (sessions, payment intents, refunds,
# events), so an id a factory writes never names the fake's own records.
_ids = itertools.count(1)


def new_id(prefix):
    """A Stripe-shaped id never used before in this run, e.g. ``cs_test_12``."""
    return f"{prefix}_test_{next(_ids)}"


def stripe_config(httpserver):
    """The app settings that send its Stripe calls to the fake on ``httpserver``."""
    return {"STRIPE_API_BASE": httpserver.url_for("").rstrip("/")}


def _json(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/json")


def _page(found, args, size, url):
    """One page of a Stripe list, after ``starting_after`` if given."""
    if args.get("starting_after"):
        ids = [item["id"] for item in found]
        found = found[ids.index(args["starting_after"]) + 1 :]
    size = min(int(args.get("limit", 10)), size)
    return {"object": "list", "data": found[:size], "has_more": len(found) > size, "url": url}


class FakeStripe:
    """Stripe's side of payments on pytest-httpserver.

    ``sessions`` and ``refunds`` are Stripe's records, by id. ``requests`` is every call
    parsed as ``(method, path, form, headers)``; ``log`` is the server's raw
    ``(request, response)`` pairs.
    """

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.sessions = {}
        self.refunds = {}
        self.requests = []
        self.fail_with = None  # (status, message) to make every API call fail
        self.refund_delay = 0  # seconds a refund takes to answer (to widen a race)
        self.list_page_size = 2  # small, so listing has to follow Stripe's pagination
        self._replies = {}  # Idempotency-Key -> a refund's first answer
        self._stall = None  # (gate, answered) while Checkout is stalled
        self._lock = threading.Lock()
        httpserver.expect_request(re.compile(r"^/v1/.*")).respond_with_handler(self._handle)

    @property
    def log(self):
        return self.httpserver.log

    # --- what a test sets up ---------------------------------------------------------

    def add_session(self, session_id=None, *, amount_total, currency="usd", metadata=None):
        """A Checkout Session Stripe has that the app did not create here (e.g. one a
        factory wrote straight to the database)."""
        with self._lock:
            return self._add_session(session_id, amount_total, currency, metadata or {})

    def pay(
        self,
        session_id,
        email="reader@example.com",
        amount_total=None,
        status="paid",
        *,
        currency=None,
        payment_intent=None,
        shipping_option=0,
        country="US",
        shipping_amount=None,
    ):
        """Make the session complete, as Stripe does once the customer pays; returns
        Stripe's record of it (the object of ``checkout.session.completed``).

        A session created with ``shipping_options`` is paid with the one at index
        ``shipping_option`` (Stripe's first by default), shipped to ``country``:
        ``shipping_cost``, ``total_details.amount_shipping`` and ``amount_total`` say
        so. ``shipping_amount`` makes Stripe report another shipping charge (the total
        follows it); ``amount_total`` overrides the total itself."""
        session = self.sessions[session_id]
        options = session.get("shipping_options") or []
        if options:
            chosen = options[shipping_option]
            shipping = chosen["shipping_amount"] if shipping_amount is None else shipping_amount
            session.update(
                shipping_cost={
                    "amount_subtotal": shipping,
                    "amount_tax": 0,
                    "amount_total": shipping,
                    "shipping_rate": chosen["shipping_rate"],
                },
                total_details={"amount_discount": 0, "amount_shipping": shipping, "amount_tax": 0},
                amount_total=session["amount_subtotal"] + shipping,
            )
        session.update(
            status="complete",
            payment_status=status,
            payment_intent=payment_intent or session["payment_intent"] or f"pi_{session_id}",
            customer_details={"email": email, "name": "Reader Example"},
            collected_information={
                "shipping_details": {
                    "name": "Reader Example",
                    "address": {
                        "line1": "1 Main St",
                        "city": "Syracuse",
                        "state": "NY",
                        "postal_code": "13202",
                        "country": country,
                    },
                }
            },
        )
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        return session

    def add_refund(self, payment_intent, refund_id, amount, status="succeeded"):
        """A refund Stripe has (e.g. one made on its dashboard)."""
        with self._lock:
            return self._add_refund(payment_intent, refund_id, amount, status)

    def stall_checkout(self):
        """Hold every Checkout Session create unanswered until `release()`; returns an
        event set once the stalled call is finally answered."""
        self._stall = (threading.Event(), threading.Event())
        return self._stall[1]

    def release(self):
        if self._stall:
            self._stall[0].set()

    # --- what a test reads back ------------------------------------------------------

    def created(self):
        """The Checkout Session create calls, as ``(method, path, form, headers)``."""
        return [r for r in self.requests if r[0] == "POST" and r[1] == "/v1/checkout/sessions"]

    # --- answering the app -----------------------------------------------------------

    def _handle(self, request):
        form = parse_form(request.form.items(multi=True))
        args = parse_form(request.args.items(multi=True))
        method, path = request.method, request.path
        create = method == "POST" and path == "/v1/checkout/sessions"
        if create and self._stall:
            gate, answered = self._stall
            gate.wait(timeout=30)
            answered.set()
            return _json({})
        if path == "/v1/refunds" and self.refund_delay:
            time.sleep(self.refund_delay)
        with self._lock:
            self.requests.append((method, path, form, dict(request.headers)))
            if self.fail_with:
                status, message = self.fail_with
                return _json({"error": {"type": "api_error", "message": message}}, status)
            if create:
                return _json(self._create(form))
            if method == "GET" and path == "/v1/checkout/sessions":
                return _json(self._list_sessions(args))
            match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
            if match and match.group(1) in self.sessions:
                session = self.sessions[match.group(1)]
                if match.group(2):
                    session["status"] = "expired"
                return _json(session)
            if method == "POST" and path == "/v1/refunds":
                return _json(self._refund(form, request.headers.get("Idempotency-Key")))
            if method == "GET" and path == "/v1/refunds":
                return _json(self._list_refunds(args))
            return _json({"error": {"type": "invalid_request_error", "message": "nope"}}, 404)

    def _add_session(self, session_id, amount_total, currency, metadata, **fields):
        session_id = session_id or new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "created": int(time.time()),
            "amount_total": amount_total,
            "currency": currency,
            "client_reference_id": None,
            "customer_details": None,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            **fields,
        }
        self.sessions[session_id] = session
        return session

    def _create(self, form):
        """A session as Stripe makes it: the shipping options it was sent, the first
        one chosen to start with (in ``amount_total``, not in ``amount_subtotal``)."""
        items = form["line_items"]
        subtotal = sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items)
        options = [
            {
                "shipping_amount": int(option["shipping_rate_data"]["fixed_amount"]["amount"]),
                "shipping_rate": new_id("shr"),
                "display_name": option["shipping_rate_data"]["display_name"],
            }
            for option in form.get("shipping_options", [])
        ]
        first = options[0]["shipping_amount"] if options else 0
        return self._add_session(
            None,
            subtotal + first,
            items[0]["price_data"]["currency"],
            form.get("metadata", {}),
            client_reference_id=form.get("client_reference_id"),
            amount_subtotal=subtotal,
            shipping_options=options,
            shipping_address_collection=form.get("shipping_address_collection"),
            shipping_cost=None,
            total_details={"amount_discount": 0, "amount_shipping": first, "amount_tax": 0},
        )

    def shipping_options_sent(self):
        """The ``shipping_options`` of each Checkout Session create call, as sent."""
        return [form.get("shipping_options") for _m, _p, form, _h in self.created()]

    def _list_sessions(self, args):
        """Newest first, ``created[gte]`` honoured, pages of ``list_page_size`` at most."""
        since = int(args.get("created", {}).get("gte", 0))
        found = sorted(
            (s for s in self.sessions.values() if s["created"] >= since),
            key=lambda s: (-s["created"], s["id"]),
        )
        return _page(found, args, self.list_page_size, "/v1/checkout/sessions")

    def _refund(self, form, key):
        if key and key in self._replies:
            return self._replies[key]
        refund = self._add_refund(form["payment_intent"], new_id("re"), int(form["amount"]))
        if key:
            self._replies[key] = refund
        return refund

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

    def _list_refunds(self, args):
        """Newest first, filtered by ``payment_intent`` or ``charge``, in pages."""
        found = [
            r
            for r in sorted(self.refunds.values(), key=lambda r: (-r["created"], r["id"]))
            if all(r[name] == args[name] for name in ("payment_intent", "charge") if name in args)
        ]
        return _page(found, args, self.list_page_size, "/v1/refunds")


def stripe_requests(stripe, path):
    """The raw requests the app sent to ``path`` (werkzeug requests, body readable)."""
    return [request for request, _response in stripe.log if request.path == path]


# --- signed webhooks ----------------------------------------------------------------


def sign(payload: bytes, secret=WEBHOOK_SECRET, timestamp=None):
    """The ``Stripe-Signature`` header Stripe would send with ``payload``."""
    return sign_payload(payload, secret, timestamp)


def make_event(event_type, obj, event_id=None):
    """A Stripe event of ``event_type`` about ``obj`` (a new id unless given)."""
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def post_event(client, event, secret=WEBHOOK_SECRET, timestamp=None):
    """Deliver ``event`` to the webhook, signed as Stripe signs it."""
    payload = json.dumps(event).encode()
    return client.post(
        "/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret, timestamp)},
        content_type="application/json",
        csrf=False,
    )
