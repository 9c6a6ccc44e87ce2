"""Unpaid holds cost a visitor nothing, so each visitor (client address, and session)
may keep only BOOKING_MAX_OPEN_HOLDS of them open: past that, a 429 page says how to
finish or let go of the earlier ones. The count is the database's, not a cookie's.

The app sits behind one proxy here, as behind nginx: the client address is the last
one in X-Forwarded-For."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.booking import display, links
from blueprints.booking.models import Booking, BookingSlotClaim, BookingStatus
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, pay_booking
from tests.conftest import is_postgres
from tests.stripe_fake import make_event, post_event, stripe_config

VISITOR = "203.0.113.7"


@pytest.fixture
def app_config(httpserver):
    return {
        **stripe_config(httpserver),
        "RATELIMIT_ENABLED": False,
        "TRUSTED_PROXIES": 1,
    }


def _slots(ctype, n):
    """``n`` free times of ``ctype`` far enough apart that no two overlap."""
    found = []
    for slot in free(ctype):
        if slot > utcnow() + timedelta(days=2) and all(
            abs(slot - other) >= timedelta(hours=3) for other in found
        ):
            found.append(slot)
        if len(found) == n:
            return found
    raise AssertionError("not enough free times")


def _hold(client, ctype, slot, address=VISITOR, **overrides):
    return client.post(
        f"/consultations/{ctype.slug}/book",
        data=form_data(display.slot_value(slot), **overrides),
        headers={"X-Forwarded-For": address},
    )


def _open_holds():
    return db.session.scalars(
        select(Booking).where(
            Booking.status == BookingStatus.HELD, Booking.hold_expires_at > utcnow()
        )
    ).all()


def test_a_third_unpaid_hold_from_one_address_gets_the_429_page(app, types, stripe_api):
    ctype = types["initial"]
    slots = _slots(ctype, 5)
    calendar = set(free(ctype))
    # A fresh browser (no cookies) for every try, as an attacker would send them.
    answers = [_hold(app.test_client(), ctype, slot) for slot in slots]
    assert [a.status_code for a in answers] == [303, 303, 429, 429, 429]
    page = answers[2]
    assert "You are already holding 2 times that are not paid for yet" in page.text
    assert "let one go" in page.text
    db.session.expire_all()
    held = _open_holds()
    assert sorted(b.starts_at for b in held) == slots[:2]
    # Only the two held times (with their buffers) left the calendar.
    assert all(slot in free(ctype) for slot in slots[2:])
    cells = db.session.scalar(select(func.count()).select_from(BookingSlotClaim))
    assert cells == 2 * 6  # 60 minutes + 30 buffer, 15-minute cells, per hold
    reach = ctype.duration + ctype.buffer
    taken = calendar - set(free(ctype))
    assert taken and all(min(abs(t - s) for s in slots[:2]) < reach for t in taken)
    assert len(stripe_api.sessions) == 2  # no Checkout Session for a refused hold


def test_one_browser_is_limited_whatever_address_it_comes_from(client, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 3)
    codes = [
        _hold(client, ctype, slot, address=f"198.51.100.{i}").status_code
        for i, slot in enumerate(slots)
    ]
    assert codes == [303, 303, 429]
    assert len(_open_holds()) == 2


def test_other_visitors_still_hold_times_when_one_has_used_hers(app, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 4)
    for slot in slots[:2]:
        assert _hold(app.test_client(), ctype, slot).status_code == 303
    assert _hold(app.test_client(), ctype, slots[2]).status_code == 429
    assert _hold(app.test_client(), ctype, slots[3], address="192.0.2.44").status_code == 303


def test_the_429_page_links_to_pay_for_or_let_go_of_each_earlier_hold(client, types, stripe_api):
    ctype = types["initial"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(client, ctype, slot).status_code == 303
    page = _hold(client, ctype, slots[2])
    assert page.status_code == 429
    assert 'value="Margaret Hill"' not in page.text  # not the form: the holds to finish
    earlier = sorted(_open_holds(), key=lambda b: b.id)
    for booking in earlier:
        assert f'href="{booking.checkout_url}"' in page.text
    tokens = re.findall(r'action="/consultations/manage/([^"/]+)/release"', page.text)
    assert [links.booking_from_token(t).id for t in tokens] == [b.id for b in earlier]
    # Letting one go makes room for the new time.
    released = client.post(
        f"/consultations/manage/{links.manage_token(earlier[0])}/release", data={}
    )
    assert released.status_code == 303
    assert _hold(client, ctype, slots[2]).status_code == 303


def test_the_429_page_names_no_hold_of_another_browser(app, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(app.test_client(), ctype, slot).status_code == 303
    page = _hold(app.test_client(), ctype, slots[2])
    assert page.status_code == 429
    assert "/release" not in page.text
    for booking in _open_holds():
        assert booking.checkout_url not in page.text


def test_holds_that_ran_out_or_were_paid_no_longer_count(client, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 4)
    for slot in slots[:2]:
        assert _hold(client, ctype, slot).status_code == 303
    first, second = sorted(_open_holds(), key=lambda b: b.id)
    first.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert _hold(client, ctype, slots[2]).status_code == 303
    assert post_event(
        client, make_event("checkout.session.completed", pay_booking(stripe_api, second))
    ).status_code
    db.session.expire_all()
    assert db.session.get(Booking, second.id).status == BookingStatus.CONFIRMED
    assert _hold(client, ctype, slots[3]).status_code == 303
    assert _hold(client, ctype, slots[0]).status_code == 429


def test_ten_holds_at_once_from_one_address_take_two_times_at_most(app, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 10)
    barrier = threading.Barrier(len(slots))
    results = [None] * len(slots)

    def hold(i):
        client = app.test_client()  # a browser of its own, without cookies
        data = form_data(display.slot_value(slots[i]))
        data["csrf_token"] = client.csrf_token()
        barrier.wait()
        response = client.post(
            f"/consultations/{ctype.slug}/book", data=data, headers={"X-Forwarded-For": VISITOR}
        )
        results[i] = response.status_code

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(len(slots))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [303, 303] + [429] * 8, (is_postgres(), results)
    db.session.expire_all()
    assert len(_open_holds()) == 2
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 2 * 3


def test_a_holds_deadline_is_written_with_its_zone(client, types, stripe_api):
    """ "Held until 3:45 pm" leaves her guessing whose 3:45: the deadline is written the
    house way, in her zone, on the manage page and on the 429 page."""
    ctype = types["initial"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(client, ctype, slot).status_code == 303
    booking = min(_open_holds(), key=lambda b: b.id)
    deadline = format_when(booking.hold_expires_at, "Europe/London")
    assert "UK time" in deadline
    page = client.get(f"/consultations/manage/{links.manage_token(booking)}").text
    assert f"We are holding this time for you until {deadline}." in page
    refused = _hold(client, ctype, slots[2]).text
    assert f"held until {deadline}." in refused
