"""A client books, pays through the Stripe emulator, moves and cancels her consultation,
in London time, in a real browser; axe checks every booking page on the way. At 1366 and
390 px she finds the video link on the "You're booked" page, in the email and in the .ics
(issue #19's "done when")."""

import re

import pytest
from icalendar import Calendar

from blueprints.booking.models import Booking, BookingStatus
from blueprints.booking.seed import seed
from extensions import db
from stripe_emulator import EmulatorThread
from tests.browser.conftest import assert_accessible
from tests.conftest import free_port, text_part

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def demo(app):
    seed()
    db.session.commit()


@pytest.fixture
def emulator(app, live_server, demo):
    server = EmulatorThread(
        free_port(),
        live_server.url + "/stripe/webhook",
        app.config["STRIPE_WEBHOOK_SECRET"],
        api_key=app.config["STRIPE_SECRET_KEY"],
    ).start()
    app.config["STRIPE_API_BASE"] = server.url
    app.config["STRIPE_CHECKOUT_ORIGIN"] = server.url
    yield server
    server.stop()


def _staff_cookie(app, live_server, page, user):
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": user.get_id(), "_fresh": True})
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.url}]
    )


ROOM = "https://meet.example.com/dr-brown"
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def _fill_her_details(page):
    page.get_by_label("Your name").fill("Margaret Hill")
    page.get_by_role("main").get_by_label("Email address").fill("margaret@example.com")
    page.get_by_label("Phone number").fill("+44 20 7946 0000")
    page.get_by_label("Video call").check()
    page.get_by_label("Your age").select_option("60-69")
    page.get_by_label("Your most recent DEXA T-scores, if you know them").fill("spine -2.6")
    page.get_by_label("What would you like from the consultation?").fill("Avoid fractures")


def _pay_and_find_the_meeting_link_everywhere(page, mailbox):
    """Accept the policy, pay on the emulator, and find the video room on the "You're
    booked" page, in the .ics (LOCATION and URL) and in her confirmation email."""
    page.get_by_label("I have read and accept the cancellation policy").check()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator(".banner")).to_contain_text("TEST PAYMENT")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    # Back on our site: the webhook has confirmed the booking; "You're booked".
    expect(page.get_by_role("heading", level=1)).to_contain_text("You're booked")
    expect(page.locator(".booking-facts")).to_contain_text("Confirmed")
    expect(page.locator(".booking-facts").get_by_role("link", name=ROOM)).to_be_visible()
    expect(page.get_by_role("link", name="Google Calendar")).to_be_visible()
    expect(page.get_by_role("link", name="Outlook")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    ics_href = page.get_by_role("link", name=re.compile(r"\.ics file")).get_attribute("href")
    ics = page.request.get(ics_href)
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.body()).walk("VEVENT")[0]
    assert (str(event["location"]), str(event["url"])) == (ROOM, ROOM)
    sent = mailbox.wait_for(1)
    while not mailbox.to("margaret@example.com"):  # staff's notice may come first
        sent = mailbox.wait_for(len(sent) + 1)
    assert f"Join the video call: {ROOM}" in text_part(mailbox.to("margaret@example.com")[0])


def test_book_pay_move_and_cancel_in_london_time(
    app, page, emulator, live_server, staff_user, mailbox
):
    app.config["BOOKING_MEETING_URL"] = ROOM  # the practice's usual video room
    page.set_viewport_size(WIDE)
    page.goto("/consultations/")
    assert_accessible(page)
    page.get_by_role("link", name="See free times for the Initial consultation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Initial consultation")

    # Her browser says New York; she lives in London and picks it without JavaScript help.
    page.get_by_label("Times are shown in this time zone").select_option("Europe/London")
    page.get_by_role("button", name="Change time zone").click()
    expect(page.locator(".lead")).to_contain_text("UK time")
    expect(page.locator(".slot-home").first).to_contain_text("in New York")
    assert_accessible(page)

    # The second time, not the first: the first is the earliest the 24 hours' notice allow
    # when the page was drawn, and in the seconds this test takes it can fall inside the
    # notice (when the 15-minute grid's next mark passes meanwhile), so the booking is
    # refused. The second stays bookable for 15 minutes at least.
    page.locator("a.slot-link").nth(1).click()
    expect(page.locator(".booking-summary")).to_contain_text("UK time (")
    assert_accessible(page)

    # Missing consent: the form comes back with what she typed and a clear message.
    _fill_her_details(page)
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator(".form-errors")).to_contain_text("Please accept the cancellation policy")
    expect(page.get_by_label("Your name")).to_have_value("Margaret Hill")
    expect(page.get_by_label("Your time zone")).to_have_value("Europe/London")
    assert_accessible(page)

    _pay_and_find_the_meeting_link_everywhere(page, mailbox)
    expect(page.locator(".booking-facts")).to_contain_text("UK time (")
    db.session.expire_all()
    booking = db.session.query(Booking).one()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_cents == 35000
    first_start = booking.starts_at

    page.get_by_role("link", name="Choose another time").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move your")
    # The month calendar and one day's times, as when she booked: on a phone a few
    # screens (about 3,600 px), not four weeks of times (11,500 px).
    expect(page.locator("table.month")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollHeight") < 5000
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(WIDE)
    page.locator("a.slot-link").last.click()
    # One tap moves nothing: she is asked first.
    expect(page.locator("#confirm-title")).to_contain_text("Move your consultation to")
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == first_start
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Your consultation has moved")
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert moved.starts_at != first_start and moved.ics_sequence == 1

    page.get_by_role("link", name="Cancel my consultation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel your")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel and refund me").click()
    expect(page.locator(".flash")).to_contain_text("cancelled")
    expect(page.locator(".booking-facts")).to_contain_text("Cancelled")
    assert_accessible(page)
    db.session.expire_all()
    cancelled = db.session.get(Booking, booking.id)
    assert cancelled.status == BookingStatus.CANCELLED and cancelled.refunded_cents == 35000

    # A tampered link and a time that is not offered get clear pages, also accessible.
    page.goto("/consultations/manage/not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_contain_text("could not open your booking")
    assert_accessible(page)
    page.goto("/consultations/follow-up-call/book?slot=2020-01-01T00:00:00Z")
    expect(page.locator(".form-errors")).to_contain_text("not available")
    assert_accessible(page)

    # Staff pages.
    _staff_cookie(app, live_server, page, staff_user)
    day = moved.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).date()
    page.goto(f"/admin/schedule?day={day.isoformat()}&view=week")
    expect(page.locator(".booking-card")).to_contain_text("spine -2.6")
    assert_accessible(page)
    page.goto("/admin/availability")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Availability")
    assert_accessible(page)


def test_first_visit_shows_times_in_the_browsers_zone(browser, live_server, demo):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    page = context.new_page()
    try:
        page.goto("/consultations/initial-consultation/")
        expect(page.locator(".lead")).to_contain_text("Tokyo time")
        expect(page.locator(".slot-home").first).to_contain_text("in New York")
    finally:
        context.close()


def test_book_a_video_consultation_on_a_phone_and_find_the_link(app, page, emulator, mailbox):
    app.config["BOOKING_MEETING_URL"] = ROOM
    page.set_viewport_size(PHONE)
    page.goto("/consultations/initial-consultation/")
    page.locator("a.slot-link").nth(1).click()  # not the first: see the London journey
    expect(page.locator(".booking-summary")).to_be_visible()
    assert_accessible(page)
    _fill_her_details(page)
    _pay_and_find_the_meeting_link_everywhere(page, mailbox)
