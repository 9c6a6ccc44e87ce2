"""Stripe plumbing shared by the shop and consultations: the client and the webhook.

The webhook verifies the signature on the raw body, records the event id once, and
dispatches through one table keyed by ``(event type, metadata kind)``: each area
registers its handlers with :func:`webhook_handler`. Every Checkout Session we create
carries ``metadata.kind`` (``"order"`` or ``"booking"``) on the session and on its
payment intent, so refunds and charges find their way back too.
"""

import logging

import stripe
from flask import abort, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from blueprints.core.blueprint import bp
from blueprints.core.models import StripeEvent
from extensions import csrf, db, limiter

log = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
_HANDLERS = {}


def webhook_handler(event_type, kind):
    """Register ``func(stripe_object, event)`` for events of ``event_type`` whose object
    carries ``metadata.kind == kind``. A handler flushes; the webhook commits."""

    def decorator(func):
        _HANDLERS[(event_type, kind)] = func
        return func

    return decorator


def get_client():
    """A ``stripe.StripeClient`` from FLASK_STRIPE_SECRET_KEY (and FLASK_STRIPE_API_BASE)."""
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise RuntimeError("FLASK_STRIPE_SECRET_KEY is not set")
    # A customer waits on this call at checkout: a hung Stripe must fail fast (and the
    # caller then releases the stock or the held time) rather than hold a worker.
    options = {
        "max_network_retries": config["STRIPE_MAX_NETWORK_RETRIES"],
        "http_client": stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT_SECONDS"]),
    }
    if config.get("STRIPE_API_BASE"):
        options["base_addresses"] = {"api": config["STRIPE_API_BASE"]}
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], **options)


def metadata_for(kind, object_id):
    return {"kind": kind, "id": str(object_id)}


def create_checkout_session(
    *,
    kind,
    object_id,
    line_items,
    customer_email,
    success_url,
    cancel_url,
    expires_at,
    idempotency_key,
    collect_shipping_countries=None,
    shipping_options=None,
    customer_name=None,
):
    """Create a hosted Checkout Session (mode payment) for one order or booking.

    ``line_items`` use ``price_data`` built from our database only. ``kind`` and the
    object's id travel in the session's and the payment intent's metadata, and in
    ``client_reference_id``. ``customer_name``, the name she typed on our form, goes in
    the session's metadata (staff see it beside the payment in Stripe; the emulator's
    page starts with it). ``shipping_options``: Stripe's list of ``shipping_rate_data``
    (our amounts), sent with ``collect_shipping_countries``. Raises
    ``stripe.StripeError`` on any API failure.
    """
    metadata = metadata_for(kind, object_id)
    session_metadata = {**metadata, "customer_name": customer_name} if customer_name else metadata
    params = {
        "mode": "payment",
        "line_items": line_items,
        "client_reference_id": str(object_id),
        "metadata": session_metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
    }
    if customer_email:
        params["customer_email"] = customer_email
    if collect_shipping_countries:
        params["shipping_address_collection"] = {
            "allowed_countries": list(collect_shipping_countries)
        }
    if shipping_options:
        params["shipping_options"] = list(shipping_options)
    return get_client().v1.checkout.sessions.create(params, {"idempotency_key": idempotency_key})


def retrieve_checkout_session(session_id):
    return get_client().v1.checkout.sessions.retrieve(session_id)


def expire_checkout_session(session_id):
    return get_client().v1.checkout.sessions.expire(session_id)


def create_refund(payment_intent_id, amount_cents, idempotency_key, metadata=None):
    """Refund part or all of a payment (Stripe's refund API, with an idempotency key)."""
    params = {"payment_intent": payment_intent_id, "amount": amount_cents}
    if metadata:
        params["metadata"] = metadata
    return get_client().v1.refunds.create(params, {"idempotency_key": idempotency_key})


def refunds_of(payment_intent_id):
    """Every refund Stripe itself has for this payment (succeeded or on its way), all
    pages of them. A ``charge.refunded`` event says where to look; this says what is so."""
    listing = get_client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
    return [
        refund
        for refund in listing.auto_paging_iter()
        if refund["payment_intent"] == payment_intent_id
        and refund["status"] in ("succeeded", "pending")
    ]


def object_kind(obj):
    # stripe>=15 objects are not dicts (``.get`` raises), so index them instead.
    try:
        return (obj["metadata"] or {})["kind"]
    except (KeyError, TypeError):
        return None


@bp.post("/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    """Verify, deduplicate, dispatch; 5xx on failure so Stripe retries."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("Stripe webhook called but FLASK_STRIPE_WEBHOOK_SECRET is not set")
        abort(503)
    signature = request.headers.get("Stripe-Signature")
    if not signature:
        abort(400)
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except (ValueError, stripe.SignatureVerificationError):
        abort(400)

    db.session.add(StripeEvent(event_id=event["id"], event_type=event["type"]))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return jsonify(received=True, duplicate=True)

    obj = event["data"]["object"]
    handler = _HANDLERS.get((event["type"], object_kind(obj)))
    if handler is None:
        db.session.commit()
        return jsonify(received=True, handled=False)
    try:
        handler(obj, event)
        db.session.commit()
    except Exception:  # any failure must reach Stripe as a 5xx so it retries
        db.session.rollback()
        log.exception("Stripe event %s (%s) failed; Stripe will retry", event["id"], event["type"])
        return jsonify(received=False), 500
    return jsonify(received=True, handled=True)
