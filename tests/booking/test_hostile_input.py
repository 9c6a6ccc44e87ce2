"""Input a hostile visitor sends to the booking pages: a clear 4xx with the form back,
never a 500 (on PostgreSQL too, which refuses a NUL in text outright)."""

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blueprints.booking import display, links
from blueprints.booking.models import BlockedTime, Booking, BookingStatus, DateOverride
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import (
    booking_count,
    form_data,
    free,
    let_every_hold_go,
    login_staff,
    make_confirmed,
)

# Parsed as they are, these overflow the moment they are moved to UTC (year 0 or 10000).
EXTREME_SLOTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-00:01",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]


def _later_slot(ctype, days=5):
    return next(s for s in free(ctype) if s > utcnow() + timedelta(days=days))


@pytest.mark.parametrize("slot", EXTREME_SLOTS)
def test_extreme_slot_times_on_the_booking_form_page_give_the_times_back(client, types, slot):
    response = client.get("/consultations/follow-up-call/book", query_string={"slot": slot})
    assert response.status_code == 422
    assert "That time is not available" in response.text
    assert 'id="alternatives"' in response.text  # the next free times to choose from


@pytest.mark.parametrize("slot", EXTREME_SLOTS)
def test_extreme_slot_times_posted_to_book_keep_the_form_and_store_nothing(
    client, types, stripe_api, slot
):
    response = client.post("/consultations/follow-up-call/book", data=form_data(slot))
    assert response.status_code == 422
    assert "That time is not available" in response.text
    assert 'value="Margaret Hill"' in response.text  # what she typed is kept
    assert booking_count() == 0


@pytest.mark.parametrize("slot", EXTREME_SLOTS)
def test_extreme_slot_times_posted_to_reschedule_keep_the_booking_and_the_times(
    client, types, stripe_api, slot
):
    ctype = types["follow_up"]
    booking = make_confirmed(ctype, _later_slot(ctype))
    starts_at = booking.starts_at
    token = links.manage_token(booking)
    response = client.post(f"/consultations/manage/{token}/reschedule", data={"slot": slot})
    assert response.status_code == 422
    assert "That time is not available" in response.text
    assert 'id="times"' in response.text  # the free times, to choose another
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CONFIRMED and booking.starts_at == starts_at


# --- control characters in the booking form ------------------------------------------------

SINGLE_LINE_FIELDS = ["name", "email", "phone", "t_scores"]
TEXT_AREAS = ["fractures", "medications", "goals"]


@pytest.mark.parametrize("field", SINGLE_LINE_FIELDS + TEXT_AREAS)
@pytest.mark.parametrize("bad", ["Margaret\x00Hill", "a\x00", "\x1b[31mred", "bell\x07", "x\x7f"])
def test_nul_and_control_characters_in_booking_fields_are_form_errors(
    client, types, stripe_api, field, bad
):
    ctype = types["follow_up"]
    slot = display.slot_value(_later_slot(ctype))
    response = client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(slot, **{field: bad})
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    assert booking_count() == 0


@pytest.mark.parametrize(
    "name",
    ["Margaret\r\nBcc: everyone@example.com", "Margaret\nHill", "Margaret\rHill", "M\u2028H"],
)
def test_a_name_with_a_line_break_is_refused_at_the_form(client, types, stripe_api, name):
    # The name goes into the staff email's headers: a line break there is an injection.
    ctype = types["follow_up"]
    slot = display.slot_value(_later_slot(ctype))
    response = client.post(f"/consultations/{ctype.slug}/book", data=form_data(slot, name=name))
    assert response.status_code == 400
    assert "Please give your name on one line" in response.text
    assert booking_count() == 0


def test_line_breaks_and_tabs_in_the_longer_answers_are_kept(client, types, stripe_api):
    ctype = types["follow_up"]
    slot = display.slot_value(_later_slot(ctype))
    goals = "Two things:\r\n\t1. stand taller\r\n\t2. no more falls"
    response = client.post(f"/consultations/{ctype.slug}/book", data=form_data(slot, goals=goals))
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.goals == goals


# Any text at all, control characters and NUL included (lone surrogates cannot arrive in
# UTF-8, so they are left out).
ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.text(st.characters(max_codepoint=0x9F), max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\r\n", "x\r\nBcc: a@example.com", "\u2028", "\x7f"]),
)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(SINGLE_LINE_FIELDS + TEXT_AREAS), value=ANY_TEXT)
def test_any_text_in_a_booking_field_is_held_as_typed_or_refused_never_a_500(
    client, types, stripe_api, field, value
):
    # Every other field is valid and the time is free, so each example reaches the
    # INSERT: that is where PostgreSQL refused a NUL with a 500.
    let_every_hold_go()
    ctype = types["follow_up"]
    slot = display.slot_value(_later_slot(ctype))
    response = client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(slot, **{field: value})
    )
    assert response.status_code in (303, 400), response.status_code
    if response.status_code == 303:
        booking = db.session.scalar(select(Booking).order_by(Booking.id.desc()))
        assert getattr(booking, field) == value.strip()
    else:
        assert 'aria-invalid="true"' in response.text


# --- staff's availability forms --------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_staff_block_and_override_at_year_1_or_9999_are_form_errors(client, staff_user, types, day):
    login_staff(client, staff_user)
    block = client.post(
        "/admin/availability/blocks",
        data={
            "block-on_date": day,
            "block-start_time": "23:00",
            "block-end_date": day,
            "block-end_time": "23:30",
        },
    )
    assert block.status_code == 400 and "Please give a date between" in block.text
    override = client.post(
        "/admin/availability/overrides",
        data={"override-on_date": day, "override-day_off": "y"},
    )
    assert override.status_code == 400 and "Please give a date between" in override.text
    assert db.session.scalar(select(func.count()).select_from(BlockedTime)) == 0
    assert db.session.scalar(select(func.count()).select_from(DateOverride)) == 0


def test_a_nul_in_a_staff_block_reason_is_a_form_error(client, staff_user, types):
    login_staff(client, staff_user)
    day = (utcnow().date() + timedelta(days=10)).isoformat()
    response = client.post(
        "/admin/availability/blocks",
        data={
            "block-on_date": day,
            "block-start_time": "09:00",
            "block-end_time": "10:00",
            "block-reason": "den\x00tist",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(BlockedTime)) == 0
