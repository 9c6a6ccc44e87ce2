"""Booking fixtures and factories: demo types and hours, confirmed bookings, a booking
paid on the fake Stripe API (tests/stripe_fake.py), and staff sign-in straight through
the session."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.booking import availability, holds
from blueprints.booking.models import (
    Booking,
    BookingStatus,
    CallType,
    WeeklyHours,
)
from extensions import db
from tests.factories import make_consultation_type
from tests.stripe_fake import new_id, stripe_config


@pytest.fixture
def app_config(httpserver):
    return {**stripe_config(httpserver), "RATELIMIT_ENABLED": False}


@pytest.fixture
def types(app):
    """The two demo types and Tue/Wed/Thu 9-12 and 13-17 New York hours."""
    initial = make_consultation_type(commit=False)
    follow_up = make_consultation_type(
        slug="follow-up-call",
        name="Follow-up call",
        duration_minutes=30,
        buffer_minutes=15,
        price_cents=15000,
        offers_video=False,
        commit=False,
    )
    for weekday in (1, 2, 3):
        for start, end in ((9, 12), (13, 17)):
            db.session.add(WeeklyHours(weekday=weekday, start_time=time(start), end_time=time(end)))
    db.session.commit()
    return {"initial": initial, "follow_up": follow_up}


def pay_booking(stripe_api, booking, amount=None, currency=None):
    """Stripe's record of ``booking``'s Checkout Session once she has paid (``amount``,
    ``currency``: what Stripe took, by default the booking's price). Returns a copy of
    the session, the object of its ``checkout.session.completed`` event."""
    session = stripe_api.sessions.get(booking.stripe_session_id) or stripe_api.add_session(
        booking.stripe_session_id,
        amount_total=booking.price_cents,
        currency=booking.currency,
        metadata={"kind": "booking", "id": str(booking.id)},
    )
    paid = stripe_api.pay(
        session["id"],
        amount_total=booking.price_cents if amount is None else amount,
        currency=currency or booking.currency,
        payment_intent=session["payment_intent"] or new_id("pi"),
    )
    return dict(paid)


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
    booking.stripe_session_id = new_id("cs")
    booking.status = BookingStatus.CONFIRMED
    booking.hold_expires_at = None
    booking.confirmed_at = now
    if paid:
        booking.stripe_payment_intent_id = new_id("pi")
        booking.paid_cents = booking.price_cents
    db.session.commit()
    return booking


def login_staff(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def utc(*args):
    return datetime(*args, tzinfo=UTC)
