"""Staff's schedule: it opens on what is coming (not only today), keeps its day and week
views, gives each video consultation a meeting link, and prints a day sheet."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.booking import meetings
from blueprints.booking.models import Booking, BookingEvent, BookingStatus, CallType
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free, login_staff, make_confirmed

ROOM = "https://zoom.us/j/5551234567?pwd=bones"


@pytest.fixture
def staff(client, staff_user):
    login_staff(client, staff_user)
    return client


def _video(booking, **values):
    booking.call_type = CallType.VIDEO
    for name, value in values.items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def _local_day(booking):
    return booking.starts_at.astimezone(practitioner_zone()).date()


def _post_link(client, booking, url, view="day"):
    return client.post(
        f"/admin/bookings/{booking.id}/meeting-link",
        data={
            f"meeting-{booking.id}-meeting_url": url,
            f"meeting-{booking.id}-csrf_token": client.csrf_token(),
            "view": view,
        },
    )


def test_schedule_opens_on_upcoming_bookings_days_ahead(staff, types):
    slot = free(types["initial"])[0]  # at least a day's notice: never today
    booking = make_confirmed(types["initial"], slot, email="ahead@example.com")
    booking.goals = "Walk without fear"
    db.session.commit()

    page = staff.get("/admin/schedule")
    assert page.status_code == 200
    assert "Bookings: from today on" in page.text
    assert "ahead@example.com" in page.text and "Walk without fear" in page.text
    day = _local_day(booking)
    assert f'id="day-{day.isoformat()}"' in page.text
    # Today's own view is empty, as it was all the reporter could see.
    today = staff.get("/admin/schedule?view=day").text
    assert "No bookings on this day." in today and "ahead@example.com" not in today


def test_upcoming_leaves_out_past_days_and_lists_by_time(staff, types):
    ctype = types["follow_up"]
    slots = free(ctype)
    later = make_confirmed(ctype, slots[6], email="later@example.com")
    sooner = make_confirmed(ctype, slots[2], email="sooner@example.com")
    past = make_confirmed(ctype, slots[10], email="past@example.com")
    yesterday = utcnow() - timedelta(days=1, hours=1)
    past.starts_at, past.ends_at, past.buffer_ends_at = (
        yesterday,
        yesterday + timedelta(minutes=30),
        yesterday + timedelta(minutes=45),
    )
    db.session.commit()

    text = staff.get("/admin/schedule").text
    assert "past@example.com" not in text
    assert text.index("sooner@example.com") < text.index("later@example.com")
    assert sooner.starts_at < later.starts_at


def test_day_and_week_views_remain(staff, types):
    booking = make_confirmed(types["initial"], free(types["initial"])[3], email="d@example.com")
    day = _local_day(booking)
    assert "d@example.com" in staff.get(f"/admin/schedule?view=day&day={day}").text
    assert "d@example.com" in staff.get(f"/admin/schedule?view=week&day={day}").text
    other = staff.get(f"/admin/schedule?view=day&day={day + timedelta(days=1)}").text
    assert "d@example.com" not in other


def test_staff_set_and_clear_a_video_consultations_meeting_link(staff, types):
    booking = _video(make_confirmed(types["initial"], free(types["initial"])[0]))

    response = _post_link(staff, booking, ROOM, view="upcoming")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/schedule?view=upcoming")
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).meeting_url == ROOM
    kinds = db.session.scalars(
        select(BookingEvent.kind).where(BookingEvent.booking_id == booking.id)
    ).all()
    assert kinds[-1] == "meeting_link_set"
    page = staff.get("/admin/schedule").text
    assert f'<a href="{ROOM}">{ROOM}</a>' in page

    assert _post_link(staff, booking, "").status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).meeting_url is None


@pytest.mark.parametrize(
    "bad",
    [
        "http://zoom.us/j/123",
        "javascript:alert(1)",
        "zoom.us/j/123",
        "https://user:secret@zoom.us/j/123",
        "https://localhost/room",
        "https://zoom.us/j/1 23",
        "https://zoom.us/" + "a" * 600,
        "https://zoom.us:99999/j/1",
    ],
)
def test_a_meeting_link_that_is_not_https_is_refused_and_kept_for_correction(staff, types, bad):
    booking = _video(make_confirmed(types["initial"], free(types["initial"])[0]))
    response = _post_link(staff, booking, bad)
    assert response.status_code == 400
    assert "starting with https://" in response.text or "characters" in response.text
    assert 'aria-invalid="true"' in response.text
    assert bad[:60].replace("&", "&amp;") in response.text
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).meeting_url is None


def test_a_refused_link_shows_on_the_upcoming_view_with_a_summary_linking_to_it(staff, types):
    booking = _video(make_confirmed(types["initial"], free(types["initial"])[0]))
    response = _post_link(staff, booking, "http://zoom.us/j/1", view="upcoming")
    assert response.status_code == 400
    field_id = f"meeting-{booking.id}-meeting_url"
    assert f'<a href="#{field_id}">' in response.text  # the error summary
    assert f'id="{field_id}"' in response.text and '<details class="meeting-form" open>' in (
        response.text
    )
    assert "Bookings: from today on" in response.text  # the view she was on


def test_meeting_link_without_the_csrf_token_is_refused(staff, types):
    booking = _video(make_confirmed(types["initial"], free(types["initial"])[0]))
    response = staff.post(
        f"/admin/bookings/{booking.id}/meeting-link",
        data={f"meeting-{booking.id}-meeting_url": ROOM},
        csrf=False,
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).meeting_url is None


def test_a_phone_consultation_takes_no_meeting_link(staff, types):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[0])
    assert _post_link(staff, booking, ROOM).status_code == 404
    missing = staff.post("/admin/bookings/999999/meeting-link", data={"view": "day"})
    assert missing.status_code == 404


def test_the_default_room_serves_video_bookings_without_their_own(app, staff, types):
    app.config["BOOKING_MEETING_URL"] = "https://meet.example.com/dr-brown"
    own = _video(make_confirmed(types["initial"], free(types["initial"])[0]), meeting_url=ROOM)
    usual = _video(make_confirmed(types["initial"], free(types["initial"])[4]))
    phone = make_confirmed(types["follow_up"], free(types["follow_up"])[20])
    assert meetings.meeting_link(own) == ROOM
    assert meetings.meeting_link(usual) == "https://meet.example.com/dr-brown"
    assert meetings.meeting_link(phone) is None
    page = staff.get("/admin/schedule").text
    assert "https://meet.example.com/dr-brown</a> (the usual room)" in page


def test_day_sheet_prints_each_clients_answers_and_link(staff, types):
    ctype = types["initial"]
    slots = free(ctype)
    first = _video(make_confirmed(ctype, slots[0], email="one@example.com"), meeting_url=ROOM)
    first.t_scores = "spine -2.9, hip -2.1"
    first.medications = "Alendronate since 2019"
    day = _local_day(first)
    same_day = [s for s in slots[1:] if s.astimezone(practitioner_zone()).date() == day]
    cancelled = make_confirmed(ctype, same_day[-1], email="gone@example.com")
    cancelled.status = BookingStatus.CANCELLED
    db.session.commit()

    sheet = staff.get(f"/admin/schedule/day-sheet?day={day.isoformat()}")
    assert sheet.status_code == 200
    for text in ("one@example.com", "spine -2.9, hip -2.1", "Alendronate since 2019"):
        assert text in sheet.text
    assert ROOM in sheet.text
    assert "gone@example.com" not in sheet.text
    assert "1 consultation." in sheet.text
    assert "/static/css/admin.css" in sheet.text  # its print rules
    schedule = staff.get(f"/admin/schedule?view=day&day={day.isoformat()}").text
    assert f"/admin/schedule/day-sheet?day={day.isoformat()}" in schedule


def test_schedule_pages_need_staff(client, types):
    for path in ("/admin/schedule", "/admin/schedule/day-sheet"):
        assert client.get(path).status_code in (302, 401)
    assert client.post("/admin/bookings/1/meeting-link", data={}).status_code in (302, 401)


def test_the_upcoming_list_costs_the_same_queries_for_few_or_many_bookings(
    staff, types, count_queries
):
    ctype = types["follow_up"]
    slots = free(ctype)
    counts = []
    for batch in (slots[0:16:8], slots[32:80:8]):  # two hours apart: no overlap
        for slot in batch:
            make_confirmed(ctype, slot, email=f"c{slot.timestamp():.0f}@example.com")
        db.session.expire_all()
        with count_queries() as counter:
            assert staff.get("/admin/schedule").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counter.statements


def test_unanswered_intake_questions_read_not_answered_on_cards_and_day_sheet(staff, types):
    # "Fractures: none given" reads as "no fractures": a blank answer must say it was
    # never answered, the same words for every question, on every page staff read.
    booking = make_confirmed(types["initial"], free(types["initial"])[0], email="blank@example.com")
    day = _local_day(booking)
    pages = {
        "upcoming": staff.get("/admin/schedule").text,
        "day": staff.get(f"/admin/schedule?view=day&day={day.isoformat()}").text,
        "day sheet": staff.get(f"/admin/schedule/day-sheet?day={day.isoformat()}").text,
    }
    for name, page in pages.items():
        assert "blank@example.com" in page, name
        for question in ("Age", "DEXA T-scores", "Fractures", "Bone medications", "Goals"):
            assert re.search(rf"<dt>{question}</dt><dd[^>]*>not answered</dd>", page), (
                name,
                question,
            )
        assert "none given" not in page and "not given" not in page, name


def test_the_one_day_tab_of_this_week_opens_on_today(staff, types):
    today = utcnow().astimezone(practitioner_zone()).date()
    monday = today - timedelta(days=today.weekday())
    page = staff.get(f"/admin/schedule?view=week&day={monday}").text
    assert f'href="/admin/schedule?view=day&amp;day={today.isoformat()}"' in page
    # Another week's tab opens on its Monday, as before.
    later = monday + timedelta(days=14)
    page = staff.get(f"/admin/schedule?view=week&day={later}").text
    assert f'href="/admin/schedule?view=day&amp;day={later.isoformat()}"' in page


def test_a_refused_link_comes_back_on_the_week_view_she_was_on(staff, types):
    booking = _video(make_confirmed(types["initial"], free(types["initial"])[0]))
    day = _local_day(booking)
    response = staff.post(
        f"/admin/bookings/{booking.id}/meeting-link",
        data={
            f"meeting-{booking.id}-meeting_url": "http://zoom.us/j/1",
            f"meeting-{booking.id}-csrf_token": staff.csrf_token(),
            "view": "week",
            "day": day.isoformat(),
        },
    )
    assert response.status_code == 400
    monday = day - timedelta(days=day.weekday())
    assert f"Bookings: week of {monday.day} {monday.strftime('%B %Y')}" in response.text


def test_cancelling_goes_back_to_the_view_she_came_from(staff, types, stripe_api):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    data = {"refund": "no", "view": "upcoming"}
    ask = staff.post(f"/admin/bookings/{booking.id}/cancel", data=data)
    assert ask.status_code == 200
    assert 'name="view" value="upcoming"' in ask.text
    assert 'href="/admin/schedule?view=upcoming' in ask.text  # "No, go back"
    done = staff.post(f"/admin/bookings/{booking.id}/cancel", data={**data, "confirm": "yes"})
    assert done.status_code == 303
    assert done.headers["Location"].startswith("/admin/schedule?view=upcoming")
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED


@pytest.mark.parametrize("view", ["https://evil.example/", "//evil.example", "nonsense"])
def test_a_cancel_with_a_strange_view_goes_back_to_the_bookings_day(staff, types, view):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    data = {"refund": "no", "view": view, "day": "//evil.example", "confirm": "yes"}
    done = staff.post(f"/admin/bookings/{booking.id}/cancel", data=data)
    assert done.status_code == 303
    location = done.headers["Location"]
    assert location.startswith("/admin/schedule?view=day&day=") and "evil" not in location
    assert _local_day(booking).isoformat() in location


def test_the_cards_name_links_to_her_customer_page_and_her_phone_can_be_called(staff, types):
    booking = make_confirmed(types["initial"], free(types["initial"])[0], email="jo+b@example.com")
    page = staff.get("/admin/schedule").text
    assert 'href="/admin/customers/by-email?email=jo%2Bb@example.com"' in page
    assert f'href="tel:{booking.phone.replace(" ", "")}"' in page
