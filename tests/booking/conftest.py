"""Booking fixtures: demo types and hours, a fake Stripe API (pytest-httpserver), signed
webhook events, and staff sign-in straight through the session."""

import hashlib
import hmac
import json
import re
import time as _time
from datetime import UTC, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select
from werkzeug import Response

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


class FakeStripe:
    """Stripe's side of a booking's payment on pytest-httpserver: creates Checkout
    Sessions (remembering each, as Stripe does), answers their retrieval and refunds.
    ``log`` is every request the SDK sent."""

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.sessions = {}  # Stripe's own record of each Checkout Session, by id
        httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_handler(
            self._create_session
        )
        httpserver.expect_request(
            re.compile(r"^/v1/checkout/sessions/[^/]+$"), method="GET"
        ).respond_with_handler(self._retrieve_session)
        httpserver.expect_request("/v1/refunds", method="POST").respond_with_handler(
            self._create_refund
        )

    @property
    def log(self):
        return self.httpserver.log

    def _create_session(self, request):
        n = next(_ids)
        session = {
            "id": f"cs_test_{n}",
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
            "payment_status": "unpaid",
            "status": "open",
            "amount_total": int(request.form["line_items[0][price_data][unit_amount]"]),
            "currency": request.form["line_items[0][price_data][currency]"],
            "payment_intent": None,
            "metadata": {
                "kind": request.form.get("metadata[kind]"),
                "id": request.form.get("metadata[id]"),
            },
        }
        self.sessions[session["id"]] = session
        return _json(session)

    def _retrieve_session(self, request):
        session = self.sessions.get(request.path.rsplit("/", 1)[1])
        if session is None:
            return _json({"error": {"type": "invalid_request_error", "message": "none"}}, 404)
        return _json(session)

    def _create_refund(self, request):
        body = {
            "id": f"re_test_{next(_ids)}",
            "object": "refund",
            "amount": int(request.form["amount"]),
            "payment_intent": request.form["payment_intent"],
            "status": "succeeded",
        }
        return _json(body)

    def pay(self, booking, amount=None, currency=None):
        """Stripe's record of ``booking``'s Checkout Session once she has paid
        (``amount``, ``currency``: what Stripe took, by default the booking's price).
        Returns the session, the object of its ``checkout.session.completed`` event."""
        session_id = booking.stripe_session_id or f"cs_test_{next(_ids)}"
        session = self.sessions.setdefault(
            session_id,
            {
                "id": session_id,
                "object": "checkout.session",
                "metadata": {"kind": "booking", "id": str(booking.id)},
            },
        )
        session.update(
            payment_status="paid",
            status="complete",
            payment_intent=session.get("payment_intent") or f"pi_test_{booking.id}_{next(_ids)}",
            amount_total=booking.price_cents if amount is None else amount,
            currency=currency or booking.currency,
        )
        return dict(session)


def _json(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def stripe_api(httpserver):
    """A fake Stripe API (see :class:`FakeStripe`)."""
    return FakeStripe(httpserver)


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
