"""Moving a booking: the same month calendar and day of times as booking (not every
time of four weeks, 11,500 px tall on a phone), and one more step before anything moves:
"Move your consultation to ...?" with a Confirm button that posts."""

import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

from blueprints.booking import display, links
from blueprints.booking.models import Booking, BookingStatus
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free, make_confirmed

NEW_YORK = ZoneInfo("America/New_York")


def _booking_with_a_later_time(ctype):
    """A confirmed booking five days ahead or more, and a free time thirty minutes after
    it (overlapping her own booking: offered, since that is the one that moves)."""
    slots = free(ctype)
    old = next(
        s for s in slots if s > utcnow() + timedelta(days=5) and s + timedelta(minutes=30) in slots
    )
    return make_confirmed(ctype, old, email="mover@example.com"), old + timedelta(minutes=30)


def _day_url(token, moment):
    local = moment.astimezone(NEW_YORK).date()
    return f"/consultations/manage/{token}/reschedule?month={local:%Y-%m}&day={local.isoformat()}"


def test_the_reschedule_page_is_a_month_calendar_with_one_days_times(client, types):
    ctype = types["initial"]
    booking, new = _booking_with_a_later_time(ctype)
    token = links.manage_token(booking)
    page = unescape(client.get(f"/consultations/manage/{token}/reschedule").text)
    assert '<table class="month">' in page
    days = re.findall(r'href="\?month=(\d{4}-\d{2})&day=(\d{4}-\d{2}-\d{2})#times"', page)
    assert len(days) > 3
    # One day's times, not four weeks of them: each is a link to the confirmation step.
    times = re.findall(rf'href="/consultations/manage/{re.escape(token)}/reschedule\?slot=', page)
    assert 0 < len(times) <= 16
    assert '<button type="submit" class="slot-link"' not in page
    # A later month and back, as on the booking page.
    assert re.search(r'<nav class="pagination" aria-label="Other months">', page)

    chosen_day = unescape(client.get(_day_url(token, new)).text)
    assert display.slot_value(new) in chosen_day
    assert 'aria-current="date"' in chosen_day


def test_choosing_a_time_asks_to_confirm_and_moves_nothing_until_confirmed(
    client, types, stripe_api
):
    ctype = types["initial"]
    booking, new = _booking_with_a_later_time(ctype)
    old = booking.starts_at
    token = links.manage_token(booking)
    day = unescape(client.get(_day_url(token, new)).text)
    link = f"/consultations/manage/{token}/reschedule?slot={display.slot_value(new)}"
    assert f'href="{link}"' in day

    confirm = client.get(link)
    assert confirm.status_code == 200
    text = " ".join(unescape(confirm.text).split())
    assert f"Move your consultation to {format_when(new, NEW_YORK)}?" in text
    form = re.search(
        rf'<form method="post" action="/consultations/manage/{re.escape(token)}/reschedule">'
        r".*?</form>",
        confirm.text,
        re.S,
    ).group(0)
    assert f'name="slot" type="hidden" value="{display.slot_value(new)}"' in form
    assert re.search(r'<button type="submit"[^>]*>Confirm</button>', form)
    assert "Choose another time" in text
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == old  # nothing moved yet

    moved = client.post(
        f"/consultations/manage/{token}/reschedule", data={"slot": display.slot_value(new)}
    )
    assert moved.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.starts_at == new and booking.status == BookingStatus.CONFIRMED


def test_confirming_a_time_that_is_no_longer_free_says_so_and_shows_the_calendar(
    client, types, stripe_api
):
    ctype = types["follow_up"]
    slots = [s for s in free(ctype) if s > utcnow() + timedelta(days=4)]
    mine = make_confirmed(ctype, slots[0])
    other = make_confirmed(ctype, slots[4], email="other@example.com")
    token = links.manage_token(mine)
    page = client.get(
        f"/consultations/manage/{token}/reschedule",
        query_string={"slot": display.slot_value(other.starts_at)},
    )
    assert page.status_code == 409
    assert "someone booked that time" in page.text
    assert '<table class="month">' in page.text
    assert "Confirm</button>" not in page.text
    db.session.expire_all()
    assert db.session.get(Booking, mine.id).starts_at == slots[0]
