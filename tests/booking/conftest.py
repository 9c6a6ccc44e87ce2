"""Booking fixtures: demo types and hours, a fake Stripe API (pytest-httpserver), signed
webhook events, and staff sign-in straight through the session."""

import hashlib
import hmac
import json
import time as _time
from datetime import UTC, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

from blueprints.booking import availability, holds
from blueprints.booking.models import (
    Booking,
    BookingStatus,
    CallType,
    ConsultationType,
    WeeklyHours,
)
from extensions import db

WEBHOOK_SECRET = "whsec_test_secret"
_ids = count(1)


@pytest.fixture
def app_config(httpserver):
    return {
        "STRIPE_API_BASE": httpserver.url_for("").rstrip("/"),
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def types(app):
    """The two demo types and Tue/Wed/Thu 9-12 and 13-17 New York hours."""
    initial = ConsultationType(
        slug="initial-consultation",
        name="Initial consultation",
        duration_minutes=60,
        buffer_minutes=30,
        price_cents=35000,
        currency="usd",
        offers_phone=True,
        offers_video=True,
    )
    follow_up = ConsultationType(
        slug="follow-up-call",
        name="Follow-up call",
        duration_minutes=30,
        buffer_minutes=15,
        price_cents=15000,
        currency="usd",
        offers_phone=True,
        offers_video=False,
    )
    db.session.add_all([initial, follow_up])
    for weekday in (1, 2, 3):
        for start, end in ((9, 12), (13, 17)):
            db.session.add(WeeklyHours(weekday=weekday, start_time=time(start), end_time=time(end)))
    db.session.commit()
    return {"initial": initial, "follow_up": follow_up}


@pytest.fixture
def stripe_api(httpserver):
    """Answer Checkout Session and Refund creation like Stripe does; records requests."""

    def session_response(request):
        from werkzeug import Response

        n = next(_ids)
        body = {
            "id": f"cs_test_{n}",
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
            "payment_status": "unpaid",
            "status": "open",
            "metadata": {
                "kind": request.form.get("metadata[kind]"),
                "id": request.form.get("metadata[id]"),
            },
        }
        return Response(json.dumps(body), content_type="application/json")

    def refund_response(request):
        from werkzeug import Response

        body = {
            "id": f"re_test_{next(_ids)}",
            "object": "refund",
            "amount": int(request.form["amount"]),
            "payment_intent": request.form["payment_intent"],
            "status": "succeeded",
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_handler(
        session_response
    )
    httpserver.expect_request("/v1/refunds", method="POST").respond_with_handler(refund_response)
    return httpserver


def stripe_requests(httpserver, path):
    return [req for req, _ in httpserver.log if req.path == path]


def signed_event(event_type, obj, event_id=None):
    payload = json.dumps(
        {
            "id": event_id or f"evt_{next(_ids)}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    )
    stamp = int(_time.time())
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return payload, {
        "Stripe-Signature": f"t={stamp},v1={signature}",
        "Content-Type": "application/json",
    }


def post_event(client, event_type, obj, event_id=None):
    payload, headers = signed_event(event_type, obj, event_id)
    return client.post("/stripe/webhook", data=payload, headers=headers, csrf=False)


def paid_session(booking, amount=None):
    return {
        "id": booking.stripe_session_id or f"cs_test_{next(_ids)}",
        "object": "checkout.session",
        "payment_status": "paid",
        "status": "complete",
        "payment_intent": f"pi_test_{booking.id}_{next(_ids)}",
        "amount_total": booking.price_cents if amount is None else amount,
        "metadata": {"kind": "booking", "id": str(booking.id)},
    }


def form_data(slot, **overrides):
    data = {
        "slot": slot,
        "name": "Margaret Hill",
        "email": "margaret@example.com",
        "phone": "+44 20 7946 0000",
        "timezone": "Europe/London",
        "call_type": "phone",
        "age_range": "60-69",
        "t_scores": "spine -2.6, hip -2.1",
        "fractures": "Wrist, 2019",
        "medications": "None",
        "goals": "Avoid another fracture",
        "accept_policy": "y",
    }
    data.update(overrides)
    return data


def free(ctype, **kwargs):
    return availability.free_slots(ctype, **kwargs)


def let_every_hold_go():
    """End every open hold (as if its time ran out), so its time and its visitor's
    allowance of holds are free again."""
    holds.release_expired_holds(datetime.now(UTC) + timedelta(days=1))
    db.session.commit()


def booking_count():
    return db.session.scalar(select(func.count()).select_from(Booking))


def make_confirmed(ctype, starts_at, email="client@example.com", zone="Europe/London", paid=True):
    """A confirmed booking at ``starts_at`` (through the real hold and confirm steps)."""
    details = {
        "name": "Client Example",
        "email": email,
        "phone": "+1 555 0100",
        "client_timezone": zone,
        "call_type": CallType.PHONE,
    }
    now = starts_at - timedelta(days=7)
    booking = holds.hold_slot(ctype, starts_at, details, now=now)
    booking.stripe_session_id = f"cs_test_{next(_ids)}"
    booking.status = BookingStatus.CONFIRMED
    booking.hold_expires_at = None
    booking.confirmed_at = now
    if paid:
        booking.stripe_payment_intent_id = f"pi_test_{next(_ids)}"
        booking.paid_cents = booking.price_cents
    db.session.commit()
    return booking


def login_staff(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def utc(*args):
    return datetime(*args, tzinfo=UTC)
