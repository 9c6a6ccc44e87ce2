"""My account (/account/): everything bought, booked, subscribed or written with her
verified address, and nothing of anyone else's."""

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.blog.models import CommentStatus
from blueprints.booking import availability
from blueprints.booking.display import slot_value
from blueprints.booking.models import Booking, BookingStatus, CallType, WeeklyHours
from blueprints.core.models import OutboxMessage
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from blueprints.my_account.models import LessonProgress
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from blueprints.shop.links import order_programs_path
from blueprints.shop.models import OrderStatus, ProgramAccess
from extensions import db
from tests import factories
from tests.account import rows
from tests.account.conftest import sign_in_customer
from tests.factories import make_subscriber
from tests.shop.conftest import make_program, make_vest
from tests.shop.conftest import paid_order as shop_paid_order
from tests.stripe_fake import stripe_config

OTHER = "other.customer@example.com"


@pytest.fixture
def app_config(httpserver):
    return {**stripe_config(httpserver), "RATELIMIT_ENABLED": False}


def _page(client, url="/account/"):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _progress_rows():
    db.session.expire_all()
    return db.session.execute(select(LessonProgress.customer_id, LessonProgress.lesson_id)).all()


def _sign_in_as(client, email):
    """Sign ``client`` in as another customer mid-test. The ``app`` fixture keeps one app
    context for the whole test, so ``g`` (where ``current_customer`` keeps the request's
    customer) outlives a request here, as it never does in a real one: clear it."""
    sign_in_customer(client, email)


def _mark(client, slug, position, done="yes", **extra):
    return client.post(f"/account/my-programs/{slug}/{position}/done", data={"done": done, **extra})


# --- signed in or not ------------------------------------------------------------------


def test_account_pages_send_a_reader_who_is_not_signed_in_to_sign_in(client, app):
    for url in ("/account/", "/account/orders/1", "/account/my-programs/back/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/sign-in?next=" in response.headers["Location"]


def test_home_lists_everything_of_her_address_and_nothing_of_anyone_elses(
    customer_client, customer
):
    back = rows.program("back-program", lessons=3)
    hips = rows.program("hip-program", lessons=2)
    vest = make_vest()
    # Stripe and the booking form keep the address as she typed it.
    rows.paid_order("Reader@Example.com", back)
    rows.paid_order(customer.email, vest, OrderStatus.SHIPPED, "9400 1")
    rows.paid_order(OTHER, hips)
    ctype = factories.make_consultation_type()
    rows.booking(ctype, "READER@example.com", timedelta(days=10))
    rows.booking(ctype, OTHER, timedelta(days=12), call_type=CallType.PHONE)
    post = factories.make_post("Walking for bones")
    factories.make_comment(post, "Mine, published.", email=customer.email)
    factories.make_comment(
        post, "Mine, waiting.", email=customer.email, status=CommentStatus.PENDING
    )
    factories.make_comment(post, "Not hers at all.", email=OTHER, name="Someone Else")
    make_subscriber(OTHER)

    response = customer_client.get("/account/")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "12-Week Back Program" not in html  # make_program's default name is not used
    assert "Back Program" in html and "Hip Program" not in html
    assert html.count("BB-0000") == 2  # her two orders, not the other address's
    assert "Weighted Vest" in html and "9400 1" in html
    assert "Initial consultation" in html and "video call" in html.lower()
    assert "+1 555 0100" in html
    assert "Mine, published." in html and "Published" in html
    assert "Mine, waiting." in html and "Waiting for review" in html
    assert "Not hers at all." not in html
    assert "You do not get the newsletter" in html  # the other address's subscription


def test_her_published_comment_links_to_the_page_of_comments_that_shows_it(
    customer_client, customer
):
    post = factories.make_post("Walking for bones")
    published = factories.make_comment(post, "Mine, published.", email=customer.email)
    factories.make_comment(
        post, "Mine, waiting.", email=customer.email, status=CommentStatus.PENDING
    )
    html = _page(customer_client)
    # Comments go ten threads to a page: the link finds its page when she follows it.
    assert f'href="/blog/comments/{published.id}"' in html
    assert f'href="/blog/{post.slug}"' in html  # the waiting one: the post only


def test_home_says_what_is_missing_when_she_has_nothing_yet(customer_client):
    html = _page(customer_client)
    assert "You have no orders with this address yet" in html
    assert "You have no programs yet" in html
    assert "No consultations coming up" in html
    assert "You have not written any comments" in html


def test_home_reads_a_few_queries_however_much_she_has(customer_client, customer, count_queries):
    def fill(n):
        for i in range(n):
            program = rows.program(f"program-{n}-{i}", lessons=4)
            rows.paid_order(customer.email, program)
            rows.booking(ctype, customer.email, timedelta(days=10 + 3 * i + 30 * n))
            factories.make_comment(post, f"Comment {n}-{i}", email=customer.email)

    ctype = factories.make_consultation_type()
    post = factories.make_post("Walking for bones")
    make_subscriber(customer.email)
    fill(1)
    db.session.expire_all()  # as in a new request: nothing of hers already loaded
    with count_queries() as few:
        _page(customer_client)
    fill(4)
    db.session.expire_all()
    with count_queries() as more:
        html = _page(customer_client)
    assert html.count("Continue where you left off") + html.count("Start with") == 5
    assert more.count == few.count, more.statements
    assert few.count <= 10, few.statements  # 10th: the usual video room, read once


# --- orders and receipts ---------------------------------------------------------------


def test_receipt_of_her_order_lists_what_she_paid_and_prints(customer_client, customer):
    order = rows.paid_order(customer.email, make_vest(), OrderStatus.SHIPPED, "9400 111", 2)

    html = _page(customer_client, f"/account/orders/{order.id}")

    assert f"Receipt for order {order.reference}" in html
    assert "Weighted Vest (Size M, 8 lb)" in html and "$218.00" in html
    assert "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%20111" in html
    assert "data-print" in html and 'class="breadcrumbs no-print"' in html


def test_the_receipt_says_ship_to_until_the_order_ships(customer_client, customer):
    address = "Ann Reader\n12 Danforth Ave\nToronto ON M4C 1B5\nCanada"
    waiting = rows.paid_order(customer.email, make_vest())
    shipped = rows.paid_order(
        customer.email, waiting.lines[0].variant.product, tracking_number="LX1"
    )
    waiting.shipping_address = shipped.shipping_address = address
    db.session.commit()

    html = _page(customer_client, f"/account/orders/{waiting.id}")
    assert "<dt>Ship to</dt>" in html and "Shipped to" not in html
    assert "Toronto ON M4C 1B5\nCanada</dd>" in html
    html = _page(customer_client, f"/account/orders/{shipped.id}")
    assert "<dt>Shipped to</dt>" in html


def test_a_receipt_of_another_address_or_an_unpaid_checkout_is_not_found(customer_client, customer):
    program = rows.program("back-program")
    theirs = rows.paid_order(OTHER, program)
    unpaid = rows.paid_order(customer.email, program, OrderStatus.PENDING)
    mine = rows.paid_order(customer.email, program)

    assert customer_client.get(f"/account/orders/{mine.id}").status_code == 200
    for order_id in (theirs.id, unpaid.id, 999999, 99999999999999999999):
        assert customer_client.get(f"/account/orders/{order_id}").status_code == 404
    assert theirs.reference not in _page(customer_client)


def test_tracking_number_shows_without_a_link_when_no_carrier_page_is_set(
    app, customer_client, customer
):
    app.config["SHOP_TRACKING_URL"] = ""
    order = rows.paid_order(customer.email, make_vest(), OrderStatus.SHIPPED, "LX123")
    html = _page(customer_client, f"/account/orders/{order.id}")
    assert "LX123" in html and "tools.usps.com" not in html


# --- programs and progress -------------------------------------------------------------


def test_marking_lessons_done_counts_them_and_continues_after_the_last_one(
    customer_client, customer
):
    rows.paid_order(customer.email, rows.program("back-program", lessons=12))
    html = _page(customer_client)
    assert "0 of 12 lessons done" in html and "Start with Week 1" in html

    for position in (1, 2, 3):
        response = _mark(customer_client, "back-program", position)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(
            f"/account/my-programs/back-program/{position}"
        )

    html = _page(customer_client)
    assert "3 of 12 lessons done" in html
    assert "Continue where you left off: Week 4" in html
    lesson = _page(customer_client, "/account/my-programs/back-program/3")
    assert "You have marked this lesson done." in lesson and "Mark as not done" in lesson


def test_marking_a_lesson_done_twice_keeps_one_mark_and_undo_takes_it_off(
    customer_client, customer
):
    rows.paid_order(customer.email, rows.program("back-program"))
    _mark(customer_client, "back-program", 2)
    _mark(customer_client, "back-program", 2)
    assert len(_progress_rows()) == 1

    _mark(customer_client, "back-program", 2, done="no")
    assert _progress_rows() == []
    assert "0 of 3 lessons done" in _page(customer_client, "/account/my-programs/back-program")


def test_a_bad_progress_form_changes_nothing(customer_client, customer):
    rows.paid_order(customer.email, rows.program("back-program"))
    response = _mark(customer_client, "back-program", 1, done="maybe")
    assert response.status_code == 303
    assert _progress_rows() == []
    refused = customer_client.post(
        "/account/my-programs/back-program/1/done", data={"done": "yes"}, csrf=False
    )
    assert refused.status_code == 400
    assert _progress_rows() == []


def test_another_customers_program_cannot_be_read_or_marked(customer_client, customer):
    rows.paid_order(OTHER, rows.program("hip-program"))
    rows.paid_order(customer.email, rows.program("back-program"))

    for url in ("/account/my-programs/hip-program", "/account/my-programs/hip-program/1"):
        assert customer_client.get(url).status_code == 404
    assert _mark(customer_client, "hip-program", 1).status_code == 404
    assert _mark(customer_client, "back-program", 99).status_code == 404
    assert _progress_rows() == []


def test_a_fully_refunded_program_leaves_her_account(customer_client, customer):
    order = rows.paid_order(customer.email, rows.program("back-program"))
    db.session.execute(
        ProgramAccess.__table__.update()
        .where(ProgramAccess.order_id == order.id)
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    assert customer_client.get("/account/my-programs/back-program/1").status_code == 404
    assert _mark(customer_client, "back-program", 1).status_code == 404


def test_the_order_link_lesson_lets_its_owner_mark_it_done_and_comes_back(app, client, customer):
    order = rows.paid_order(customer.email, rows.program("back-program"))
    with app.test_request_context():
        base = order_programs_path(order)
    lesson_url = f"{base}/back-program/2"

    # Anyone with the link reads the lesson; only she, signed in, gets the button.
    assert "Mark this lesson done" not in _page(client, lesson_url)
    _sign_in_as(client, OTHER)
    assert "Mark this lesson done" not in _page(client, lesson_url)
    assert _mark(client, "back-program", 2, next=lesson_url).status_code == 404

    _sign_in_as(client, customer.email)
    assert "Mark this lesson done" in _page(client, lesson_url)
    response = _mark(client, "back-program", 2, next=lesson_url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(lesson_url)
    assert "You have marked this lesson done." in _page(client, lesson_url)
    assert "1 of 3 lessons done" in _page(client)


def test_the_order_link_lesson_offers_a_sign_in_that_comes_back_to_this_lesson(
    app, client, mailbox
):
    from tests.account.sign_in_support import sign_in_email

    order = rows.paid_order("reader@example.com", rows.program("back-program"))
    with app.test_request_context():
        lesson_url = f"{order_programs_path(order)}/back-program/2"

    page = _page(client, lesson_url)
    assert "Mark this lesson done" not in page
    assert "keep track of the lessons you have done" in page
    [sign_in] = re.findall(r'href="(/account/sign-in\?next=[^"]+)"', page)
    sign_in_page = _page(client, sign_in.replace("&amp;", "&"))
    mine = "/account/my-programs/back-program/2"
    assert f'name="next" value="{mine}"' in sign_in_page

    client.post("/account/sign-in", data={"email": "reader@example.com", "next": mine})
    code, _link, _message = sign_in_email(mailbox, "reader@example.com", count=1)
    response = client.post("/account/sign-in/code", data={"code": code})
    assert response.status_code == 303 and response.headers["Location"].endswith(mine)
    lesson = _page(client, mine)
    assert "Mark this lesson done" in lesson
    assert "keep track of the lessons you have done" not in lesson


def test_the_order_link_lesson_tells_another_customer_which_address_keeps_track(client, customer):
    order = rows.paid_order(customer.email, rows.program("back-program"))
    with client.application.test_request_context():
        lesson_url = f"{order_programs_path(order)}/back-program/1"
    _sign_in_as(client, OTHER)
    page = _page(client, lesson_url)
    assert "Mark this lesson done" not in page
    assert "the email address you bought this program with" in page
    assert "/account/sign-in?next=" not in page  # she is signed in: that link goes nowhere


def test_progress_posts_go_back_only_to_this_site(customer_client, customer):
    rows.paid_order(customer.email, rows.program("back-program"))
    response = _mark(customer_client, "back-program", 1, next="https://evil.example/x")
    assert response.headers["Location"].endswith("/account/my-programs/back-program/1")


# --- consultations ---------------------------------------------------------------------


def test_upcoming_consultations_show_her_time_and_the_manage_pages_actions(
    customer_client, customer
):
    ctype = factories.make_consultation_type()
    soon = rows.booking(ctype, customer.email, timedelta(hours=20))
    later = rows.booking(ctype, customer.email, timedelta(days=9))
    past = rows.booking(ctype, customer.email, timedelta(days=-30), BookingStatus.COMPLETED)
    rows.booking(ctype, customer.email, timedelta(days=-3), BookingStatus.CANCELLED)
    rows.booking(ctype, customer.email, timedelta(days=5), BookingStatus.EXPIRED)

    html = _page(customer_client)
    upcoming, earlier = html.split("<h3>Earlier</h3>")
    upcoming = upcoming.split('id="consultations"')[1]
    assert upcoming.count("<h4>Initial consultation</h4>") == 2
    assert "UK time (" in upcoming and "in New York)" in upcoming
    # Moving is for more than 48 hours ahead (policy.py); cancelling for any upcoming one.
    assert upcoming.count("/consultations/manage/") >= 5
    assert upcoming.count("Choose another time") == 1
    assert upcoming.count(">Cancel<") == 2
    assert "can no longer be moved or refunded" in upcoming
    assert "Done" in earlier and "Cancelled" in earlier
    assert str(past.starts_at.year) in earlier
    assert soon.public_id not in html and later.public_id not in html  # tokens, not ids


def test_a_cancelled_consultation_still_ahead_is_listed_as_cancelled_not_as_earlier(
    customer_client, customer
):
    ctype = factories.make_consultation_type()
    rows.booking(ctype, customer.email, timedelta(days=9))
    ahead = rows.booking(ctype, customer.email, timedelta(days=12), BookingStatus.CANCELLED)
    ahead.refunded_cents = ahead.paid_cents
    rows.booking(ctype, customer.email, timedelta(days=-30), BookingStatus.COMPLETED)
    db.session.commit()
    ahead_when = format_when(ahead.starts_at, ahead.client_timezone)

    section = _page(customer_client).split('id="consultations"')[1].split('id="newsletter"')[0]
    assert section.index("<h3>Coming up</h3>") < section.index("<h3>Cancelled</h3>")
    assert section.index("<h3>Cancelled</h3>") < section.index("<h3>Earlier</h3>")
    upcoming, rest = section.split("<h3>Cancelled</h3>")
    cancelled, earlier = rest.split("<h3>Earlier</h3>")
    assert ahead_when in cancelled and "Cancelled" in cancelled
    assert "refunded $350.00" in cancelled
    assert ahead_when not in earlier and ahead_when not in upcoming
    assert "Done" in earlier and upcoming.count("<h4>Initial consultation</h4>") == 1


def test_with_only_a_cancelled_consultation_ahead_nothing_is_coming_up(customer_client, customer):
    ctype = factories.make_consultation_type()
    ahead = rows.booking(ctype, customer.email, timedelta(days=12), BookingStatus.CANCELLED)
    section = _page(customer_client).split('id="consultations"')[1].split('id="newsletter"')[0]
    assert "No consultations coming up" in section
    assert "<h3>Earlier</h3>" not in section
    assert (
        format_when(ahead.starts_at, ahead.client_timezone)
        in section.split("<h3>Cancelled</h3>")[1]
    )


def test_the_video_link_of_an_upcoming_consultation_is_a_link_she_can_open(
    customer_client, customer
):
    ctype = factories.make_consultation_type()
    room = "https://meet.example.com/better-bones-ann"
    with_room = rows.booking(ctype, customer.email, timedelta(days=9))
    with_room.meeting_url = room
    rows.booking(ctype, customer.email, timedelta(days=12))  # no room yet
    rows.booking(ctype, customer.email, timedelta(days=15), call_type=CallType.PHONE)
    other = rows.booking(ctype, OTHER, timedelta(days=10))
    other.meeting_url = "https://meet.example.com/someone-else"
    db.session.commit()

    upcoming = _page(customer_client).split('id="consultations"')[1].split("<h3>Earlier</h3>")[0]
    assert upcoming.count(f'<a href="{room}">{room}</a>') == 1
    assert upcoming.count(room) == 2, "the address is the link, not also plain text"
    assert "We will email you the link to join before the call" in upcoming
    assert "Dr. Brown will call you at" in upcoming
    assert "someone-else" not in upcoming


def test_her_reschedule_and_cancel_links_open_the_manage_pages_of_that_booking(
    customer_client, customer
):
    ctype = factories.make_consultation_type()
    rows.booking(ctype, customer.email, timedelta(days=9))
    html = _page(customer_client)
    reschedule = re.search(r'href="(/consultations/manage/[^"]+/reschedule)"', html).group(1)
    cancel = re.search(r'href="(/consultations/manage/[^"]+/cancel)"', html).group(1)
    assert customer_client.get(reschedule).status_code == 200
    cancel_page = _page(customer_client, cancel)
    assert "Initial consultation" in cancel_page


def test_moving_a_consultation_from_her_account_uses_the_manage_pages_move(
    customer_client, customer
):
    ctype = factories.make_consultation_type()
    for weekday in range(7):
        db.session.add(WeeklyHours(weekday=weekday, start_time=time(9), end_time=time(17)))
    db.session.commit()
    booking = rows.booking(ctype, customer.email, timedelta(days=9))
    new_start = next(s for s in availability.free_slots(ctype) if s > utcnow() + timedelta(days=4))
    reschedule = re.search(
        r'href="(/consultations/manage/[^"]+/reschedule)"', _page(customer_client)
    ).group(1)

    response = customer_client.post(reschedule, data={"slot": slot_value(new_start)})

    assert response.status_code == 303
    assert "/consultations/manage/" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).starts_at == new_start
    html = _page(customer_client)
    assert format_when(new_start, "Europe/London") in html


def test_another_addresss_bookings_never_show(customer_client):
    ctype = factories.make_consultation_type()
    rows.booking(ctype, OTHER, timedelta(days=9))
    assert "No consultations coming up" in _page(customer_client)


# --- newsletter ------------------------------------------------------------------------


def _newsletter(client, action):
    return client.post("/account/newsletter", data={"action": action})


def _subscriber(email):
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email_normalized == email))


def test_signing_up_from_her_account_still_asks_her_to_confirm_by_email(
    customer_client, customer, mailbox
):
    response = _newsletter(customer_client, "subscribe")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/#newsletter")

    assert _subscriber(customer.email).status == SubscriberStatus.PENDING
    (message,) = mailbox.wait_for(1)
    assert customer.email in str(message["To"])
    html = _page(customer_client)
    assert "We have sent an email to" in html
    assert "Waiting for you to confirm" in html

    # Asking again the same day sends nothing more, and says so.
    _newsletter(customer_client, "subscribe")
    assert "We sent you an email at reader@example.com within the last day" in _page(
        customer_client
    )
    assert len(mailbox.messages) == 1


def test_pause_resume_and_leave_the_newsletter_from_her_account(customer_client, customer):
    make_subscriber(customer.email)
    assert "You get the free weekly newsletter" in _page(customer_client)

    _newsletter(customer_client, "pause")
    assert _subscriber(customer.email).paused_until is not None
    assert "Your newsletter is paused" in _page(customer_client)

    _newsletter(customer_client, "resume")
    assert _subscriber(customer.email).paused_until is None

    _newsletter(customer_client, "unsubscribe")
    assert _subscriber(customer.email).status == SubscriberStatus.UNSUBSCRIBED
    assert "You do not get the newsletter" in _page(customer_client)


def test_a_newsletter_button_for_another_state_or_a_made_up_one_changes_nothing(
    customer_client, customer
):
    for action in ("pause", "unsubscribe", "resume", "delete-everything", ""):
        response = _newsletter(customer_client, action)
        assert response.status_code == 303
    assert _subscriber(customer.email) is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    html = _page(customer_client)
    assert "Your newsletter settings changed in the meantime" in html
    assert "Please choose one of the newsletter buttons" in html


def test_her_newsletter_buttons_never_touch_another_address(customer_client, customer):
    make_subscriber(OTHER)
    _newsletter(customer_client, "unsubscribe")
    assert _subscriber(OTHER).status == SubscriberStatus.CONFIRMED


# --- "Find this in My account" -----------------------------------------------------------


def test_the_booking_page_offers_my_account(client):
    from blueprints.booking.links import manage_token

    ctype = factories.make_consultation_type()
    booking = rows.booking(ctype, "someone@example.com", timedelta(days=9))
    html = _page(client, f"/consultations/manage/{manage_token(booking)}")
    assert "Find this in My account" in html and 'href="/account/#consultations"' in html


def test_the_shop_success_page_offers_my_account_once_paid(client, stripe_api):
    order = shop_paid_order(client, stripe_api, make_program())
    html = _page(client, f"/shop/success?session_id={order.stripe_session_id}")
    assert "Find this in My account" in html and 'href="/account/#orders"' in html
    assert "Sign in with the address buyer@example.com" in html


def test_she_sees_and_changes_the_name_the_comment_form_fills_in(customer_client, customer):
    customer.name = "Margaret Hill"
    db.session.commit()
    assert 'value="Margaret Hill"' in _page(customer_client)

    response = customer_client.post("/account/name", data={"name": "  Meg Hill "})
    assert response.status_code == 303 and response.headers["Location"].endswith("#your-name")
    db.session.expire_all()
    assert db.session.get(type(customer), customer.id).name == "Meg Hill"
    post = factories.make_post("Walking for bones")
    assert 'value="Meg Hill"' in _page(customer_client, f"/blog/{post.slug}")


def test_a_name_too_long_or_empty_is_refused_and_kept_as_it_was(customer_client, customer):
    customer.name = "Margaret Hill"
    db.session.commit()
    for bad in ("", "x" * 81, "Meg\x00Hill"):
        response = customer_client.post("/account/name", data={"name": bad})
        assert response.status_code == 400
        assert 'id="name-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(customer), customer.id).name == "Margaret Hill"
