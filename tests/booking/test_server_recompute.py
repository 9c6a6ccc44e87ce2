"""Whatever time is posted, the server recomputes: only offered times are ever booked."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from blueprints.booking import display, services
from blueprints.booking.models import Booking
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import booking_count, form_data, free, let_every_hold_go

_NOW = datetime.now(UTC)
ARBITRARY = st.datetimes(
    min_value=(_NOW - timedelta(days=30)).replace(tzinfo=None),
    max_value=(_NOW + timedelta(days=90)).replace(tzinfo=None),
    timezones=st.sampled_from([UTC, None]),
)
NEAR_GRID = st.tuples(
    st.integers(min_value=0, max_value=70),
    st.sampled_from([-45, -30, -15, -1, 0, 0, 0, 1, 15, 30, 45, 60]),
)
RAW = st.one_of(
    st.text(max_size=30),
    st.just("2026-02-30T10:00:00Z"),
    st.just("9999-12-31T23:59:59Z"),
)


def _post(client, slug, value):
    return client.post(f"/consultations/{slug}/book", data=form_data(value))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    choice=st.one_of(
        ARBITRARY.map(lambda d: ("dt", d)),
        NEAR_GRID.map(lambda n: ("near", n)),
        RAW.map(lambda r: ("raw", r)),
    ),
    slug=st.sampled_from(["initial-consultation", "follow-up-call"]),
)
def test_posted_time_is_booked_only_when_offered(client, types, stripe_api, choice, slug):
    let_every_hold_go()  # one visitor may keep only a few unpaid holds at once
    ctype = types["initial"] if slug == "initial-consultation" else types["follow_up"]
    offered = free(ctype)
    kind, value = choice
    if kind == "dt":
        posted = value.isoformat()
        starts_at = value.astimezone(UTC) if value.tzinfo else None
    elif kind == "near":
        index, minutes = value
        base = offered[index % len(offered)]
        starts_at = base + timedelta(minutes=minutes)
        posted = display.slot_value(starts_at)
    else:
        posted, starts_at = value, services.parse_slot(value)

    before = booking_count()
    response = _post(client, slug, posted)
    assert response.status_code < 500
    if starts_at is not None and starts_at in offered:
        assert response.status_code == 303
        booking = db.session.scalar(select(Booking).order_by(Booking.id.desc()))
        assert booking.starts_at == starts_at
        assert booking_count() == before + 1
    else:
        assert 400 <= response.status_code < 500
        assert booking_count() == before
        assert "not available" in response.text or "someone booked" in response.text


def test_every_kind_of_bad_time_is_refused(app, client, types, stripe_api):
    ctype = types["follow_up"]
    offered = free(ctype)
    first = offered[0]
    now = utcnow()
    held = offered[10]
    # Held by someone else: her own hold she may move (test_free_holds).
    assert _post(app.test_client(), ctype.slug, display.slot_value(held)).status_code == 303
    candidates = {
        "off the grid": first + timedelta(minutes=10),
        "in the past": now - timedelta(days=1),
        "inside minimum notice": now + timedelta(hours=2),
        "past the horizon": now + timedelta(days=61),
        "outside working hours": first.replace(hour=3),  # 10 or 11 pm in New York
        "overlapping a buffer": held + timedelta(minutes=30),
    }
    before = booking_count()
    for reason, starts_at in candidates.items():
        starts_at = starts_at.replace(second=0, microsecond=0)
        assert starts_at not in offered or reason == "overlapping a buffer", reason
        response = _post(client, ctype.slug, display.slot_value(starts_at))
        assert response.status_code in (409, 422), reason
        assert booking_count() == before, reason
