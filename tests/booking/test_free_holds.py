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

from blueprints.booking import display, holds, links
from blueprints.booking.models import Booking, BookingSlotClaim, BookingStatus
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, make_confirmed, pay_booking
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


def test_the_429_page_keeps_her_answers_and_lets_her_swap_a_hold_for_the_new_time(
    client, types, stripe_api
):
    """Refused for holding too many, she gets her form back as she typed it, with each
    earlier hold to pay for, or to let go in the same step as holding the new time."""
    ctype = types["initial"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(client, ctype, slot).status_code == 303
    page = _hold(client, ctype, slots[2], goals="Walk my dog again")
    assert page.status_code == 429
    assert 'value="Margaret Hill"' in page.text and "Walk my dog again" in page.text
    assert f'name="slot" type="hidden" value="{display.slot_value(slots[2])}"' in page.text
    earlier = sorted(_open_holds(), key=lambda b: b.id)
    for booking in earlier:
        assert f'href="{booking.checkout_url}"' in page.text
    offered = re.findall(r'type="radio" name="let_go" value="([^"]+)"', page.text)
    assert offered == [b.public_id for b in earlier]
    # She lets the first go: the new time is held in its place, with what she typed.
    swapped = _hold(client, ctype, slots[2], goals="Walk my dog again", let_go=offered[0])
    assert swapped.status_code == 303, swapped.text[:300]
    db.session.expire_all()
    held = sorted(_open_holds(), key=lambda b: b.id)
    assert [b.starts_at for b in held] == [slots[1], slots[2]]
    assert held[1].goals == "Walk my dog again"
    assert db.session.get(Booking, earlier[0].id).status == BookingStatus.RELEASED
    assert stripe_api.sessions[earlier[0].stripe_session_id]["status"] == "expired"
    assert slots[0] in free(ctype)


def test_a_hold_of_another_browser_cannot_be_let_go_from_the_booking_form(app, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(app.test_client(), ctype, slot).status_code == 303
    theirs = min(_open_holds(), key=lambda b: b.id)
    page = _hold(app.test_client(), ctype, slots[2], let_go=theirs.public_id)
    assert page.status_code == 429
    assert 'value="Margaret Hill"' in page.text
    db.session.expire_all()
    assert len(_open_holds()) == 2
    assert stripe_api.sessions[theirs.stripe_session_id]["status"] == "open"


def test_the_429_page_names_no_hold_of_another_browser(app, types, stripe_api):
    ctype = types["follow_up"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(app.test_client(), ctype, slot).status_code == 303
    page = _hold(app.test_client(), ctype, slots[2])
    assert page.status_code == 429
    assert "let_go" not in page.text
    assert "If you held them in another browser" in page.text
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


# --- her own hold, chosen again ---------------------------------------------------------


def test_back_and_resubmit_the_same_time_goes_to_payment_and_holds_it_once(
    client, types, stripe_api
):
    """Back from the payment page and "Continue to payment" again, three times: each
    time she goes on to pay, with what she typed last, and only one time is held."""
    ctype = types["initial"]
    slot = _slots(ctype, 1)[0]
    answers = [_hold(client, ctype, slot, goals=f"Try {n}") for n in range(1, 5)]
    assert [a.status_code for a in answers] == [303] * 4, [a.text[:300] for a in answers]
    db.session.expire_all()
    held = _open_holds()
    assert len(held) == 1
    assert held[0].starts_at == slot and held[0].goals == "Try 4"
    assert answers[-1].headers["Location"] == held[0].checkout_url
    # The earlier payment pages are closed, so none of them can be paid any more.
    earlier = [s for s in stripe_api.sessions.values() if s["id"] != held[0].stripe_session_id]
    assert len(earlier) == 3 and all(s["status"] == "expired" for s in earlier)
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 6
    assert slot not in free(ctype)


def test_her_own_hold_chosen_again_counts_once_against_the_limit(client, types, stripe_api):
    ctype = types["follow_up"]
    first, second = _slots(ctype, 2)
    assert _hold(client, ctype, first).status_code == 303
    assert _hold(client, ctype, second).status_code == 303
    again = _hold(client, ctype, first, name="Margaret A. Hill")
    assert again.status_code == 303, again.text[:300]
    db.session.expire_all()
    held = sorted(_open_holds(), key=lambda b: b.starts_at)
    assert [b.starts_at for b in held] == sorted([first, second])
    assert held[[b.starts_at for b in held].index(first)].name == "Margaret A. Hill"


def test_another_visitor_choosing_her_held_time_is_told_someone_booked_it(app, types, stripe_api):
    """Only her own browser takes up her hold again: another visitor, even from the same
    address, is told the time was booked and her hold stays as it was."""
    ctype = types["initial"]
    slot = _slots(ctype, 1)[0]
    assert _hold(app.test_client(), ctype, slot).status_code == 303
    (mine,) = _open_holds()
    other = _hold(app.test_client(), ctype, slot, name="Joan Other", goals="Stronger hips")
    assert other.status_code == 409
    assert "someone booked that time a moment ago" in other.text
    assert 'value="Joan Other"' in other.text and "Stronger hips" in other.text
    db.session.expire_all()
    assert [b.id for b in _open_holds()] == [mine.id]
    assert stripe_api.sessions[mine.stripe_session_id]["status"] == "open"


def test_a_hold_let_go_for_a_time_taken_meanwhile_is_released_and_her_answers_kept(
    client, types, stripe_api
):
    """Its payment page is already closed when the new time turns out to be taken: the
    old hold is let go (it could never be paid) and she picks another time, typing
    nothing again."""
    ctype = types["follow_up"]
    slots = _slots(ctype, 3)
    for slot in slots[:2]:
        assert _hold(client, ctype, slot).status_code == 303
    first = min(_open_holds(), key=lambda b: b.id)
    make_confirmed(ctype, slots[2], email="quicker@example.com")
    page = _hold(client, ctype, slots[2], goals="Lift my grandson", let_go=first.public_id)
    assert page.status_code == 409
    assert "someone booked that time" in page.text and "Lift my grandson" in page.text
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status == BookingStatus.RELEASED
    assert [b.starts_at for b in _open_holds()] == [slots[1]]


def test_when_stripe_cannot_close_her_earlier_page_she_keeps_her_hold_and_answers(
    client, types, stripe_api
):
    ctype = types["initial"]
    slot = _slots(ctype, 1)[0]
    assert _hold(client, ctype, slot).status_code == 303
    (mine,) = _open_holds()
    stripe_api.fail_with = (500, "boom")
    page = _hold(client, ctype, slot, goals="Garden without pain")
    assert page.status_code == 503
    assert "We could not reach the payment service just now" in page.text
    assert "Garden without pain" in page.text
    db.session.expire_all()
    assert [b.id for b in _open_holds()] == [mine.id]


def test_choosing_a_time_that_overlaps_her_own_hold_moves_the_hold(client, types, stripe_api):
    """Back from the payment page she picks half an hour later, inside her hold's
    time: her own hold does not stand in her way, and the earlier time is free again."""
    ctype = types["initial"]
    offered = free(ctype)
    slot = next(s for s in offered if s + timedelta(minutes=30) in offered)
    later = slot + timedelta(minutes=30)
    assert _hold(client, ctype, slot).status_code == 303
    assert later not in free(ctype)
    assert _hold(client, ctype, later).status_code == 303
    db.session.expire_all()
    assert [b.starts_at for b in _open_holds()] == [later]
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 6


def test_a_double_click_that_finds_her_own_new_hold_goes_to_its_payment_page(
    client, types, stripe_api, monkeypatch
):
    """Two presses at once: the second may look for her earlier holds before the first
    has saved its own, then meet it at the time. It is hers: she goes on to pay for it
    (or is asked to press again while its payment page is still being made), never
    told someone else booked it."""
    ctype = types["initial"]
    slot = _slots(ctype, 1)[0]
    assert _hold(client, ctype, slot).status_code == 303
    (mine,) = _open_holds()
    monkeypatch.setattr(holds, "close_earlier_holds", lambda *args, **kwargs: [])
    again = _hold(client, ctype, slot)
    assert again.status_code == 303 and again.headers["Location"] == mine.checkout_url
    mine.checkout_url = None  # the first press is still waiting for Stripe
    db.session.commit()
    waiting = _hold(client, ctype, slot, goals="Dance at the wedding")
    assert waiting.status_code == 409
    assert "someone booked" not in waiting.text
    assert "We are already holding this time for you" in waiting.text
    assert "Dance at the wedding" in waiting.text
    db.session.expire_all()
    assert [b.id for b in _open_holds()] == [mine.id]


def test_a_hold_whose_payment_page_is_still_being_made_is_not_replaced(client, types, stripe_api):
    ctype = types["initial"]
    slot = _slots(ctype, 1)[0]
    assert _hold(client, ctype, slot).status_code == 303
    (mine,) = _open_holds()
    mine.stripe_session_id = mine.checkout_url = None  # the first press awaits Stripe
    db.session.commit()
    waiting = _hold(client, ctype, slot)
    assert waiting.status_code == 409
    assert "We are already holding this time for you" in waiting.text
    db.session.expire_all()
    assert [b.id for b in _open_holds()] == [mine.id]
    # Minutes later it never got one (its request died): it is replaced.
    mine.created_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    assert _hold(client, ctype, slot).status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, mine.id).status == BookingStatus.RELEASED
