"""A small Stripe emulator for the offline demo and the browser tests. NOT Stripe.

It answers the few API calls the site makes, in Stripe's JSON shapes, from
form-encoded bodies as the stripe SDK sends them:

- ``POST /v1/checkout/sessions`` (honours ``Idempotency-Key``: the same request is
  answered again, the key with other parameters is refused with ``idempotency_error``)
- ``GET  /v1/checkout/sessions`` (``created[gte|gt|lte|lt]``, ``limit``, ``starting_after``)
- ``GET  /v1/checkout/sessions/<id>`` and ``POST /v1/checkout/sessions/<id>/expire``
- ``GET  /v1/checkout/sessions/<id>/line_items``
- ``POST /v1/refunds`` and ``GET /v1/refunds`` (``payment_intent`` or ``charge`` filter)

A session may carry ``shipping_address_collection`` and ``shipping_options`` (up to
five ``shipping_rate_data`` of ``fixed_amount``, as Stripe takes them). Its page then
asks for the country (one of ``allowed_countries``) and the rate, and the session
reports them as Stripe does: ``shipping_cost``, ``total_details.amount_shipping`` and
an ``amount_total`` of ``amount_subtotal`` plus the rate chosen (Stripe's first until
she chooses).

Each session's ``url`` is a hosted page on this server, marked "TEST PAYMENT: Stripe
emulator", with Pay and Cancel buttons. Pay completes the session, sends a signed
``checkout.session.completed`` event to the webhook URL, then redirects to the
session's ``success_url`` (``async_webhooks``: sends it in the background instead, so
the two race, as with Stripe). Refunds send ``charge.refunded``; expiring sends
``checkout.session.expired``. It is generic: any ``metadata.kind`` goes through.

Every API call must carry the secret key the emulator was started with (the site's
``FLASK_STRIPE_SECRET_KEY``): like Stripe, it answers 401 to any other key, so another
program on the machine cannot list the demo's customers or refund their payments.

It keeps everything in memory and has no dependencies beyond Flask. The site only
ever reaches it through ``STRIPE_API_BASE``; production settings never point there.
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from html import escape

from flask import Flask, Response, abort, jsonify, redirect, request

log = logging.getLogger("stripe_emulator")

__all__ = ["create_emulator", "parse_form", "sign_payload", "EmulatorThread"]


def _new_id(prefix):
    return f"{prefix}_test_{secrets.token_hex(12)}"


def parse_form(pairs):
    """Turn Stripe's bracketed form keys into nested dicts and lists.

    ``line_items[0][price_data][unit_amount]=2500`` becomes
    ``{"line_items": [{"price_data": {"unit_amount": "2500"}}]}``.
    """
    root = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def sign_payload(payload, secret, timestamp=None):
    """The ``Stripe-Signature`` header value for ``payload`` (bytes) and ``secret``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _error(status, message, param=None, error_type="invalid_request_error"):
    body = {"error": {"type": error_type, "message": message}}
    if param:
        body["error"]["param"] = param
    response = jsonify(body)
    response.status_code = status
    return response


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(_error(400, f"Invalid integer: {name}", name))


class EmulatorState:
    """Everything the emulator remembers, behind one lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.sessions = {}
        self.line_items = {}
        self.refunds = {}
        self.charges = {}  # payment_intent id -> charge
        self.idempotent = {}  # (path, key) -> (request fingerprint, status, body)


def create_emulator(
    webhook_url,
    webhook_secret,
    public_url=None,
    api_version=None,
    async_webhooks=False,
    *,
    api_key,
):
    """The emulator as a Flask app that answers only ``api_key`` (``sk_test_...``).
    ``public_url`` is this server's origin (for the hosted page links); by default it is
    taken from each request.

    By default Pay delivers ``checkout.session.completed`` before it redirects, so the
    site knows of the payment when the customer lands (simple for tests). With
    ``async_webhooks`` the event leaves in the background and the redirect does not wait,
    as with Stripe: the success page and the webhook may then run at the same moment."""
    if not api_key or not api_key.startswith("sk_test_"):
        raise ValueError("the emulator needs a test secret key (sk_test_...) to check")
    app = Flask(__name__)
    app.config["API_KEY"] = api_key
    app.config["ASYNC_WEBHOOKS"] = async_webhooks
    app.config["WEBHOOK_URL"] = webhook_url
    app.config["WEBHOOK_SECRET"] = webhook_secret
    app.config["PUBLIC_URL"] = public_url
    state = EmulatorState()
    app.extensions["stripe_emulator"] = state

    def origin():
        return (app.config["PUBLIC_URL"] or request.host_url).rstrip("/")

    def send_event(event_type, obj):
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": api_version,
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }
        payload = json.dumps(event).encode()
        url = app.config["WEBHOOK_URL"]
        if not url:
            return None
        req = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_payload(payload, app.config["WEBHOOK_SECRET"]),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) emulator",
            },
        )
        # Like Stripe, retry a few times when the site answers 5xx or is unreachable.
        for attempt in range(3):
            try:
                with urllib.request.urlopen(req, timeout=15) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                log.warning("webhook %s answered %s (attempt %s)", event_type, exc.code, attempt)
                if exc.code < 500:
                    return exc.code
            except OSError as exc:
                log.warning("webhook %s failed: %s (attempt %s)", event_type, exc, attempt)
            time.sleep(0.2 * (attempt + 1))
        return None

    def send_event_later(event_type, obj):
        """Send the event from a thread of its own, after the API call has answered, as
        Stripe does: the caller of an API call (a refund, an expiry) is often the site
        itself, mid-transaction, and on SQLite its webhook could not write until that
        transaction ends."""
        threading.Thread(target=send_event, args=(event_type, obj), daemon=True).start()

    def idempotent(view):
        """Replay the first answer for a repeated Idempotency-Key, as Stripe does, and
        refuse the key when it comes back with other parameters (Stripe answers 400
        ``idempotency_error`` rather than replaying an answer to another request)."""

        def wrapped(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if not key:
                return view(*args, **kwargs)
            fingerprint = sorted(request.form.items(multi=True))
            with state.lock:
                cached = state.idempotent.get((request.path, key))
                if cached:
                    first_fingerprint, status, body = cached
                    if first_fingerprint != fingerprint:
                        return _error(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            f"parameters they were first used with. Try using a key other "
                            f"than '{key}' if you meant to execute a different request.",
                            error_type="idempotency_error",
                        )
                    return Response(body, status=status, mimetype="application/json")
                response = app.make_response(view(*args, **kwargs))
                if response.status_code < 500:
                    state.idempotent[(request.path, key)] = (
                        fingerprint,
                        response.status_code,
                        response.get_data(),
                    )
                return response

        wrapped.__name__ = view.__name__
        return wrapped

    @app.before_request
    def _expire_overdue():
        # Like Stripe, an open session past its expires_at expires and says so.
        now = time.time()
        with state.lock:
            overdue = [
                s
                for s in state.sessions.values()
                if s["status"] == "open" and s["expires_at"] <= now
            ]
            for session in overdue:
                session["status"] = "expired"
            snapshots = [_public(session) for session in overdue]
        for snapshot in snapshots:
            send_event_later("checkout.session.expired", snapshot)

    @app.before_request
    def _check_key():
        if request.path.startswith("/v1/"):
            # Stripe takes the key as a bearer token (the SDK) or as the Basic user (curl -u).
            auth = request.authorization
            given = (auth.token or auth.username or "") if auth else ""
            if not hmac.compare_digest(given.encode(), app.config["API_KEY"].encode()):
                return _error(401, "Invalid API Key provided.", error_type="invalid_request_error")
        return None

    # --- Checkout Sessions ----------------------------------------------------------

    @app.post("/v1/checkout/sessions")
    @idempotent
    def create_session():
        params = parse_form(request.form.items(multi=True))
        for required in ("success_url", "line_items"):
            if not params.get(required):
                return _error(400, f"Missing required param: {required}.", required)
        if params.get("mode", "payment") != "payment":
            return _error(400, "The emulator supports mode=payment only.", "mode")
        now = int(time.time())
        session_id = "cs_test_" + secrets.token_urlsafe(24).replace("-", "a").replace("_", "b")
        items = []
        currency = None
        for index, line in enumerate(params["line_items"]):
            price_data = line.get("price_data") or {}
            quantity = _int(line.get("quantity", 1), f"line_items[{index}][quantity]")
            unit_amount = _int(price_data.get("unit_amount"), f"line_items[{index}][unit_amount]")
            if quantity < 1 or unit_amount < 0:
                return _error(400, "Invalid quantity or amount.", f"line_items[{index}]")
            line_currency = (price_data.get("currency") or "usd").lower()
            if currency and line_currency != currency:
                return _error(400, "All line items must use one currency.", "line_items")
            currency = line_currency
            name = (price_data.get("product_data") or {}).get("name", "Item")
            items.append(
                {
                    "id": _new_id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": unit_amount * quantity,
                    "amount_tax": 0,
                    "amount_total": unit_amount * quantity,
                    "currency": line_currency,
                    "description": name,
                    "price": {
                        "id": _new_id("price"),
                        "object": "price",
                        "currency": line_currency,
                        "unit_amount": unit_amount,
                        "product": _new_id("prod"),
                        "type": "one_time",
                    },
                    "quantity": quantity,
                }
            )
        total = sum(item["amount_total"] for item in items)
        rates, error = _shipping_rates(params.get("shipping_options"), currency or "usd")
        if error:
            return error
        expires_at = _int(params.get("expires_at", now + 24 * 3600), "expires_at")
        if expires_at < now + 60:
            return _error(400, "expires_at must be at least 30 minutes ahead.", "expires_at")
        shipping = params.get("shipping_address_collection")
        if rates and not shipping:
            return _error(
                400, "shipping_options needs shipping_address_collection.", "shipping_options"
            )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "collected_information": None,
            "created": now,
            "currency": currency or "usd",
            "customer": None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "shipping_address_collection": shipping or None,
            "shipping_cost": None,
            "shipping_details": None,
            "shipping_options": [
                {"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]}
                for rate in rates
            ],
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{origin()}/pay/{session_id}",
            "_payment_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata")
            or {},
            "_shipping_rates": rates,
        }
        if rates:
            _choose_shipping(session, rates[0])  # Stripe starts with the first option
        with state.lock:
            state.sessions[session_id] = session
            state.line_items[session_id] = items
        return jsonify(_public(session))

    @app.get("/v1/checkout/sessions")
    def list_sessions():
        args = parse_form(request.args.items(multi=True))
        created = args.get("created")
        limit = max(1, min(100, _int(args.get("limit", 10), "limit")))
        with state.lock:
            sessions = sorted(state.sessions.values(), key=lambda s: (-s["created"], s["id"]))
        if isinstance(created, dict):
            bounds = {op: _int(v, f"created[{op}]") for op, v in created.items()}
            checks = {
                "gte": lambda c, b: c >= b,
                "gt": lambda c, b: c > b,
                "lte": lambda c, b: c <= b,
                "lt": lambda c, b: c < b,
            }
            sessions = [
                s
                for s in sessions
                if all(checks[op](s["created"], b) for op, b in bounds.items() if op in checks)
            ]
        elif created is not None:
            sessions = [s for s in sessions if s["created"] == _int(created, "created")]
        if args.get("status"):
            sessions = [s for s in sessions if s["status"] == args["status"]]
        if args.get("starting_after"):
            ids = [s["id"] for s in sessions]
            if args["starting_after"] in ids:
                sessions = sessions[ids.index(args["starting_after"]) + 1 :]
        page = sessions[:limit]
        return jsonify(
            {
                "object": "list",
                "data": [_public(s) for s in page],
                "has_more": len(sessions) > limit,
                "url": "/v1/checkout/sessions",
            }
        )

    def get_session_or_404(session_id):
        session = state.sessions.get(session_id)
        if session is None:
            abort(_error(404, f"No such checkout.session: '{session_id}'", "session"))
        return session

    @app.get("/v1/checkout/sessions/<session_id>")
    def retrieve_session(session_id):
        with state.lock:
            return jsonify(_public(get_session_or_404(session_id)))

    @app.get("/v1/checkout/sessions/<session_id>/line_items")
    def session_line_items(session_id):
        with state.lock:
            get_session_or_404(session_id)
            items = state.line_items[session_id]
        return jsonify(
            {
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/checkout/sessions/{session_id}/line_items",
            }
        )

    @app.post("/v1/checkout/sessions/<session_id>/expire")
    def expire_session(session_id):
        with state.lock:
            session = get_session_or_404(session_id)
            if session["status"] != "open":
                return _error(
                    400,
                    f"Only Checkout Sessions with a status of `open` can be expired; "
                    f"this one is `{session['status']}`.",
                )
            session["status"] = "expired"
            snapshot = _public(session)
        send_event_later("checkout.session.expired", snapshot)
        return jsonify(snapshot)

    # --- Refunds -----------------------------------------------------------------------

    @app.post("/v1/refunds")
    @idempotent
    def create_refund():
        params = parse_form(request.form.items(multi=True))
        intent = params.get("payment_intent")
        with state.lock:
            charge = state.charges.get(intent)
            if charge is None:
                return _error(404, f"No such payment_intent: '{intent}'", "payment_intent")
            remaining = charge["amount"] - charge["amount_refunded"]
            amount = _int(params.get("amount", remaining), "amount")
            if amount <= 0 or amount > remaining:
                return _error(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount "
                    f"on charge ({remaining})",
                    "amount",
                )
            refund = {
                "id": _new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": params.get("metadata") or {},
                "payment_intent": intent,
                "reason": params.get("reason"),
                "status": "succeeded",
            }
            state.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            charge["refunds"]["data"].insert(0, refund)
            charge["refunds"]["total_count"] += 1
            snapshot = json.loads(json.dumps(charge))
        send_event_later("charge.refunded", snapshot)
        return jsonify(refund)

    @app.get("/v1/refunds")
    def list_refunds():
        args = request.args
        with state.lock:
            refunds = sorted(state.refunds.values(), key=lambda r: -r["created"])
        if args.get("payment_intent"):
            refunds = [r for r in refunds if r["payment_intent"] == args["payment_intent"]]
        if args.get("charge"):
            refunds = [r for r in refunds if r["charge"] == args["charge"]]
        return jsonify({"object": "list", "data": refunds, "has_more": False, "url": "/v1/refunds"})

    # --- the hosted checkout page ---------------------------------------------------------

    @app.get("/pay/<session_id>")
    def hosted_page(session_id):
        with state.lock:
            session = state.sessions.get(session_id)
            items = list(state.line_items.get(session_id, []))
        if session is None:
            return _page("Payment not found", "<p>This payment page does not exist.</p>", 404)
        if session["status"] != "open":
            return _page(
                "This payment is closed",
                f"<p>This checkout is <strong>{escape(session['status'])}</strong>.</p>",
                410,
            )
        return _page("Pay", _checkout_form(session, items))

    @app.post("/pay/<session_id>")
    def hosted_submit(session_id):
        action = request.form.get("action")
        with state.lock:
            session = state.sessions.get(session_id)
            if session is None:
                abort(404)
            if action == "cancel":
                return redirect(session["cancel_url"] or "/", 303)
            if session["status"] != "open":
                return _page("This payment is closed", "<p>Nothing was charged.</p>", 410)
            email = (request.form.get("email") or session["customer_email"] or "").strip()
            problem = None if "@" in email else "Please enter an email address."
            problem = problem or _check_shipping_choice(session, request.form)
            if problem:
                return _page(
                    "Pay",
                    f'<p role="alert" class="error">{escape(problem)}</p>'
                    + _checkout_form(session, state.line_items[session_id]),
                    400,
                )
            _complete(session, email, request.form)
            intent_id = session["payment_intent"]
            state.charges[intent_id] = {
                "id": _new_id("ch"),
                "object": "charge",
                "amount": session["amount_total"],
                "amount_captured": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
                "metadata": dict(session["_payment_intent_metadata"]),
                "paid": True,
                "payment_intent": intent_id,
                "refunded": False,
                "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0},
                "status": "succeeded",
            }
            snapshot = _public(session)
        if app.config["ASYNC_WEBHOOKS"]:
            threading.Thread(
                target=send_event, args=("checkout.session.completed", snapshot), daemon=True
            ).start()
        else:
            send_event("checkout.session.completed", snapshot)
        success = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
        return redirect(success, 303)

    @app.get("/")
    def home():
        return _page(
            "Stripe emulator",
            "<p>This server imitates a few Stripe API calls for offline demos and tests. "
            "It never takes real payments.</p>",
        )

    return app


def _shipping_rates(options, currency):
    """``shipping_options`` as Stripe's shipping rate objects, or an error answer."""
    rates = []
    for index, option in enumerate(options or []):
        data = option.get("shipping_rate_data") if isinstance(option, dict) else None
        param = f"shipping_options[{index}][shipping_rate_data]"
        if not isinstance(data, dict) or data.get("type", "fixed_amount") != "fixed_amount":
            return [], _error(400, "Each shipping option needs fixed_amount rate data.", param)
        fixed = data.get("fixed_amount") or {}
        amount = _int(fixed.get("amount"), f"{param}[fixed_amount][amount]")
        if amount < 0 or (fixed.get("currency") or "").lower() != currency:
            return [], _error(400, "Invalid shipping amount or currency.", param)
        if not data.get("display_name"):
            return [], _error(400, "Missing required param: display_name.", param)
        estimate = {
            bound: {"unit": value.get("unit"), "value": _int(value.get("value"), param)}
            for bound, value in (data.get("delivery_estimate") or {}).items()
            if bound in ("minimum", "maximum") and isinstance(value, dict)
        }
        rates.append(
            {
                "id": _new_id("shr"),
                "object": "shipping_rate",
                "active": True,
                "display_name": data["display_name"],
                "delivery_estimate": estimate or None,
                "fixed_amount": {"amount": amount, "currency": currency},
                "type": "fixed_amount",
            }
        )
    if len(rates) > 5:
        return [], _error(400, "At most 5 shipping options are allowed.", "shipping_options")
    return rates, None


def _choose_shipping(session, rate):
    """She chose ``rate``: the session's shipping and total say so, as Stripe's do."""
    amount = rate["fixed_amount"]["amount"]
    session["shipping_cost"] = {
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "shipping_rate": rate["id"],
    }
    session["total_details"] = {"amount_discount": 0, "amount_shipping": amount, "amount_tax": 0}
    session["amount_total"] = session["amount_subtotal"] + amount


def _allowed_countries(session):
    collection = session["shipping_address_collection"] or {}
    return collection.get("allowed_countries") or ["US"]


def _check_shipping_choice(session, form):
    """What is wrong with the country and rate she chose (None: nothing). Missing
    fields take Stripe's defaults: the first country and the first rate."""
    if not session["shipping_address_collection"]:
        return None
    country = (form.get("country") or _allowed_countries(session)[0]).strip().upper()
    if country not in _allowed_countries(session):
        return "Please choose a country we ship to."
    rate_id = form.get("shipping_rate")
    if rate_id and rate_id not in {rate["id"] for rate in session["_shipping_rates"]}:
        return "Please choose a shipping rate."
    return None


def _complete(session, email, form):
    rates = {rate["id"]: rate for rate in session["_shipping_rates"]}
    if rates:
        _choose_shipping(
            session, rates.get(form.get("shipping_rate")) or next(iter(rates.values()))
        )
    session["status"] = "complete"
    session["payment_status"] = "paid"
    session["payment_intent"] = _new_id("pi")
    name = (form.get("name") or "Test Customer").strip()[:100]
    session["customer_details"] = {
        "email": email,
        "name": name,
        "address": None,
        "phone": None,
    }
    if session["shipping_address_collection"]:
        countries = session["shipping_address_collection"].get("allowed_countries") or ["US"]
        shipping = {
            "name": name,
            "address": {
                "line1": (form.get("line1") or "1 Test Street").strip()[:200],
                "line2": None,
                "city": (form.get("city") or "Syracuse").strip()[:100],
                "state": (form.get("state") or "NY").strip()[:50],
                "postal_code": (form.get("postal_code") or "13202").strip()[:20],
                "country": (form.get("country") or countries[0]).strip().upper(),
            },
        }
        session["shipping_details"] = shipping
        session["collected_information"] = {"shipping_details": shipping}
        session["customer_details"]["address"] = shipping["address"]


def _public(session):
    return {key: value for key, value in session.items() if not key.startswith("_")}


def _money(cents, currency):
    return f"{cents / 100:,.2f} {currency.upper()}"


_COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}


def _delivery(rate):
    estimate = rate.get("delivery_estimate") or {}
    low, high = (estimate.get(b, {}).get("value") for b in ("minimum", "maximum"))
    if low and high and low != high:
        return f", {low}\u2013{high} business days"
    return f", {low or high} business days" if (low or high) else ""


def _shipping_fields(session):
    """The address, the country (one of ``allowed_countries``) and the rate radios."""
    if not session["shipping_address_collection"]:
        return ""
    countries = "".join(
        f'<option value="{escape(code)}">{escape(_COUNTRY_NAMES.get(code, code))}</option>'
        for code in _allowed_countries(session)
    )
    rates = session["_shipping_rates"]
    chosen = (session.get("shipping_cost") or {}).get("shipping_rate")
    radios = "".join(
        f'<label class="choice" for="rate-{index}"><input type="radio" id="rate-{index}" '
        f'name="shipping_rate" value="{escape(rate["id"])}"'
        f"{' checked' if rate['id'] == chosen else ''}> "
        f"{escape(rate['display_name'])}{_delivery(rate)}: "
        f"{_money(rate['fixed_amount']['amount'], rate['fixed_amount']['currency'])}</label>"
        for index, rate in enumerate(rates)
    )
    rate_fieldset = f"<fieldset><legend>Shipping rate</legend>{radios}</fieldset>" if rates else ""
    return f"""
      <fieldset><legend>Shipping address</legend>
        <label for="line1">Street address</label>
        <input id="line1" name="line1" autocomplete="address-line1" value="1 Test Street">
        <label for="city">City</label>
        <input id="city" name="city" autocomplete="address-level2" value="Syracuse">
        <label for="state">State or province</label>
        <input id="state" name="state" autocomplete="address-level1" value="NY">
        <label for="postal_code">ZIP or postal code</label>
        <input id="postal_code" name="postal_code" autocomplete="postal-code" value="13202">
        <label for="country">Country</label>
        <select id="country" name="country" autocomplete="country">{countries}</select>
      </fieldset>{rate_fieldset}"""


def _checkout_form(session, items):
    currency = session["currency"]
    rows = "".join(
        f"<tr><td>{escape(item['description'])}</td><td>{item['quantity']}</td>"
        f"<td>{_money(item['amount_total'], item['currency'])}</td></tr>"
        for item in items
    )
    totals = ""
    if session["_shipping_rates"]:
        shipping = session["total_details"]["amount_shipping"]
        totals = (
            f'<tr><th scope="row" colspan="2">Subtotal</th>'
            f"<td>{_money(session['amount_subtotal'], currency)}</td></tr>"
            '<tr><th scope="row" colspan="2">Shipping (the first rate; choose below)</th>'
            f"<td>{_money(shipping, currency)}</td></tr>"
        )
    # The page starts with what she typed on the site: her email, and her name when the
    # site sent it (metadata.customer_name).
    email = escape(session.get("customer_email") or "")
    name = escape((session.get("metadata") or {}).get("customer_name") or "")
    return f"""
    <table>
      <caption>Order summary</caption>
      <thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Amount</th></tr></thead>
      <tbody>{rows}</tbody>
      <tfoot>{totals}<tr><th scope="row" colspan="2">Total</th>
        <td>{_money(session["amount_total"], currency)}</td></tr></tfoot>
    </table>
    <form method="post">
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="email" value="{email}" required>
      <label for="name">Name</label>
      <input id="name" name="name" autocomplete="name" value="{name}">
      {_shipping_fields(session)}
      <p>No card is needed: nothing is charged.{
        " You pay the items and the shipping rate you chose." if session["_shipping_rates"] else ""
    }</p>
      <button type="submit" name="action" value="pay">Pay {
        "now" if session["_shipping_rates"] else _money(session["amount_total"], currency)
    }</button>
      <button type="submit" name="action" value="cancel" formnovalidate class="secondary">Cancel</button>
    </form>"""


_STYLE = """
body { font: 20px/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
.banner { background: #7a1f00; color: #fff; padding: 1rem 1.25rem; font-weight: 700; text-align: center; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { font: inherit; width: 100%; padding: .5rem; min-height: 48px; border: 2px solid #555; border-radius: 6px; box-sizing: border-box; }
button { font: inherit; min-height: 48px; padding: .6rem 1.2rem; margin: 1rem .5rem 0 0; border: 2px solid #0b5563; border-radius: 6px; background: #0b5563; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0b5563; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #ccc; }
fieldset { margin-top: 1.5rem; border: 1px solid #ccc; border-radius: 6px; }
select { font: inherit; width: 100%; padding: .5rem; min-height: 48px; border: 2px solid #555; border-radius: 6px; }
label.choice { display: flex; gap: .6rem; align-items: center; font-weight: 400; }
label.choice input { width: auto; min-height: 0; }
.error { color: #9b1c1c; font-weight: 700; }
:focus-visible { outline: 4px solid #ffbf47; outline-offset: 2px; }
"""


def _page(title, body, status=200):
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | TEST PAYMENT: Stripe emulator</title>
<style>{_STYLE}</style></head>
<body>
<div class="banner" role="note">TEST PAYMENT: Stripe emulator. This is not Stripe and no money moves.</div>
<main><h1>{escape(title)}</h1>{body}</main>
</body></html>"""
    return Response(html, status=status, mimetype="text/html")


class EmulatorThread:
    """Serve the emulator in a background thread (browser tests, scripts)."""

    def __init__(
        self, port, webhook_url, webhook_secret, host="127.0.0.1", async_webhooks=False, *, api_key
    ):
        from werkzeug.serving import make_server

        self.url = f"http://{host}:{port}"
        self.app = create_emulator(
            webhook_url,
            webhook_secret,
            public_url=self.url,
            async_webhooks=async_webhooks,
            api_key=api_key,
        )
        self._server = make_server(host, port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def state(self):
        return self.app.extensions["stripe_emulator"]

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)
