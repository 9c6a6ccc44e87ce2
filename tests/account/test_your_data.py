"""Her data (issue #18.3): the download and the deletion, each behind a fresh code
emailed to her address, and what deleting an account does in every area."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.account.codes import CONFIRM, issue_code
from blueprints.account.models import AccountCode, Customer
from blueprints.blog.commenters import reply_notices_wanted, stop_reply_notices
from blueprints.blog.models import Comment
from blueprints.booking.models import Booking, BookingStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber
from blueprints.shop.models import Order, OrderEvent, OrderLine, OrderStatus, Product
from extensions import db
from tests import factories
from tests.account.conftest import sign_in_customer
from tests.account.sign_in_support import sign_in_with_code
from tests.booking.conftest import make_confirmed
from tests.booking.conftest import types as types  # noqa: F401  (fixture)
from tests.conftest import text_part
from tests.factories import make_subscriber
from tests.shop.conftest import make_vest
from tests.stripe_fake import stripe_config

HER = "reader@example.com"
OTHER = "other@example.com"


@pytest.fixture
def app_config(httpserver):
    return {**stripe_config(httpserver), "RATELIMIT_ENABLED": False}


def ask_for_code(client):
    return client.post("/account/data/code", data={})


def code_from_mail(mailbox, address, count=1):
    mailbox.wait_for(count)
    message = mailbox.to(address)[-1]
    return re.search(r"Your code is: (\d{6})", text_part(message)).group(1)


def unlock(client, mailbox, address, count=1):
    """Ask for a code, read it from the real SMTP server, type it; the code."""
    assert ask_for_code(client).status_code == 303
    code = code_from_mail(mailbox, address, count)
    response = client.post("/account/data/confirm", data={"code": code})
    assert response.status_code == 303
    return code


def make_order(
    email=HER,
    name="Margaret Hill",
    address="1 High Street\nBath BA1 1AA",
    status=OrderStatus.PAID,
):
    """A vest order of ``email``: paid and waiting to ship, unless ``status`` says
    otherwise (``SHIPPED``: it left two days ago, with a tracking number)."""
    vest = db.session.scalar(select(Product)) or make_vest()
    variant = vest.variants[0]
    order = Order(
        status=status,
        currency="usd",
        total_cents=10900,
        email=email,
        customer_name=name,
        needs_shipping=True,
        shipping_address=address,
        paid_at=utcnow() - timedelta(days=3),
    )
    if status == OrderStatus.SHIPPED:
        order.shipped_at = utcnow() - timedelta(days=2)
        order.tracking_number = "9400100000000000000000"
    order.lines.append(
        OrderLine(
            variant_id=variant.id,
            product_id=vest.id,
            description="Weighted Vest, Size M, 8 lb",
            sku=variant.sku,
            unit_price_cents=10900,
            quantity=1,
        )
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderEvent(order_id=order.id, kind="paid", message="Paid with Stripe"))
    db.session.commit()
    return order


def with_intake(booking, **answers):
    values = {
        "t_scores": "spine -2.6, hip -2.1",
        "fractures": "Wrist, 2019",
        "medications": "Vitamin K2",
        "goals": "Avoid another fracture",
    } | answers
    for name, value in values.items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def soon(days):
    """A Tuesday 14:00 UTC about ``days`` days from now (inside the Tue-Thu hours)."""
    start = (utcnow() + timedelta(days=days)).replace(hour=14, minute=0, second=0, microsecond=0)
    return start + timedelta(days=(1 - start.weekday()) % 7)


def moved(booking, from_now):
    """``booking`` moved to ``from_now`` from now (any time, outside the offered hours)."""
    length, buffer = booking.ends_at - booking.starts_at, booking.buffer_ends_at - booking.ends_at
    booking.starts_at = utcnow() + from_now
    booking.ends_at = booking.starts_at + length
    booking.buffer_ends_at = booking.ends_at + buffer
    db.session.commit()
    return booking


# --- the fresh code ----------------------------------------------------------------------


def test_the_data_pages_send_a_reader_who_is_not_signed_in_to_sign_in(client):
    for url in ("/account/data", "/account/data/download"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/account/sign-in" in response.headers["Location"]
    assert client.post("/account/data/delete", data={"comments": "remove"}).status_code == 302


def test_download_needs_a_fresh_code_even_when_signed_in(customer_client):
    response = customer_client.get("/account/data/download")
    assert response.status_code == 403
    assert "Content-Disposition" not in response.headers
    assert "confirm with a code" in response.get_data(as_text=True)


def test_the_code_goes_to_her_address_and_opens_the_download(customer_client, mailbox):
    page = customer_client.get("/account/data").get_data(as_text=True)
    assert "Email me a code" in page and "/account/data/download" not in page
    unlock(customer_client, mailbox, HER)
    page = customer_client.get("/account/data")
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "/account/data/download" in page.get_data(as_text=True)
    download = customer_client.get("/account/data/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.json["email"] == HER


def test_a_wrong_code_opens_nothing_and_counts_against_the_code(customer_client, mailbox):
    ask_for_code(customer_client)
    right = code_from_mail(mailbox, HER)
    wrong = "000000" if right != "000000" else "111111"
    response = customer_client.post("/account/data/confirm", data={"code": wrong})
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)
    assert customer_client.get("/account/data/download").status_code == 403
    failures = db.session.scalar(select(AccountCode.failures).where(AccountCode.email == HER))
    assert failures == 1


def test_a_used_code_does_not_work_twice(customer_client, mailbox):
    ask_for_code(customer_client)
    code = code_from_mail(mailbox, HER)
    assert customer_client.post("/account/data/confirm", data={"code": code}).status_code == 303
    with customer_client.session_transaction() as session:
        session.pop("data_window")
    assert customer_client.post("/account/data/confirm", data={"code": code}).status_code == 400
    assert customer_client.get("/account/data/download").status_code == 403


def test_a_code_sent_to_another_address_opens_nothing_for_her(customer_client, app):
    other_code, _ = issue_code(OTHER, purpose=CONFIRM)
    db.session.commit()
    ask_for_code(customer_client)  # she has a live code of her own too
    response = customer_client.post("/account/data/confirm", data={"code": other_code})
    assert response.status_code == 400
    assert customer_client.get("/account/data/download").status_code == 403
    assert (
        customer_client.post(
            "/account/data/delete", data={"comments": "remove", "understood": "y"}
        ).status_code
        == 403
    )
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_her_open_window_is_not_another_customers_in_the_same_browser(customer_client, mailbox):
    unlock(customer_client, mailbox, HER)
    sign_in_customer(customer_client, OTHER)  # someone else signs in on this browser
    assert customer_client.get("/account/data/download").status_code == 403
    response = customer_client.post(
        "/account/data/delete", data={"comments": "remove", "understood": "y"}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2


def test_the_window_closes_after_ten_minutes(customer_client, mailbox):
    unlock(customer_client, mailbox, HER)
    with customer_client.session_transaction() as session:
        session["data_window"] = {**session["data_window"], "until": 1}
    assert customer_client.get("/account/data/download").status_code == 403


def test_delete_needs_a_fresh_code(customer_client):
    response = customer_client.post(
        "/account/data/delete", data={"comments": "remove", "understood": "y"}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Customer).where(Customer.email == HER)) is not None


def test_delete_needs_the_box_ticked_and_a_choice_for_comments(customer_client, mailbox):
    unlock(customer_client, mailbox, HER)
    response = customer_client.post("/account/data/delete", data={"comments": "burn"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please tick the box" in page
    assert db.session.scalar(select(Customer).where(Customer.email == HER)) is not None


# --- the download ------------------------------------------------------------------------


def test_the_download_holds_everything_about_her_and_nothing_about_others(
    customer_client, mailbox, types
):
    make_order()
    make_order(email=OTHER, name="Someone Else")
    booking = make_confirmed(types["initial"], soon(20), email="Reader@Example.com")
    with_intake(booking)
    make_confirmed(types["follow_up"], soon(27), email=OTHER)
    make_subscriber(HER, first_name="Margaret")
    post = factories.make_post("Walking for bones")
    factories.make_comment(post, "Lovely post", name="Margaret", email=HER)
    factories.make_comment(post, "Not hers", name="Other", email=OTHER)
    stop_reply_notices(HER)
    stop_reply_notices(OTHER)
    db.session.commit()

    code = unlock(customer_client, mailbox, HER)
    data = json.loads(customer_client.get("/account/data/download").get_data(as_text=True))

    assert [o["name"] for o in data["orders"]] == ["Margaret Hill"]
    order = data["orders"][0]
    assert order["total_cents"] == 10900 and order["shipping_address"].startswith("1 High")
    assert order["items"][0]["description"] == "Weighted Vest, Size M, 8 lb"
    assert [e["kind"] for e in order["events"]] == ["paid"]
    assert len(data["consultations"]) == 1
    consultation = data["consultations"][0]
    assert consultation["intake_answers"] == {
        "t_scores": "spine -2.6, hip -2.1",
        "fractures": "Wrist, 2019",
        "medications": "Vitamin K2",
        "goals": "Avoid another fracture",
    }
    assert consultation["events"], "the booking's history is in the file"
    assert data["newsletter"]["first_name"] == "Margaret"
    assert [c["text"] for c in data["comments"]] == ["Lovely post"]
    assert data["comment_reply_notices"]["stopped_at"]
    # The emails sent to her: what, when and what became of each, never a code.
    [sent] = data["emails"]
    assert sent["subject"] == "Your Better Bones code" and sent["status"] == "sent"
    assert sent["sent_at"] and code not in json.dumps(data)
    assert "Someone Else" not in json.dumps(data) and OTHER not in json.dumps(data)


def test_her_file_names_her_as_her_latest_order_did_once_she_signs_in(client, mailbox):
    make_order(name="Margaret Hill")
    assert sign_in_with_code(client, mailbox, HER).status_code == 303
    unlock(client, mailbox, HER, count=2)
    data = client.get("/account/data/download").json
    assert data["account"]["name"] == "Margaret Hill"


# --- the deletion -------------------------------------------------------------------------


def delete(client, comments="anonymise"):
    return client.post("/account/data/delete", data={"comments": comments, "understood": "y"})


def test_deleting_keeps_order_figures_without_her_name_or_address(customer_client, mailbox):
    order = make_order(status=OrderStatus.SHIPPED)
    order_id = order.id
    unlock(customer_client, mailbox, HER)
    response = delete(customer_client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/deleted")
    db.session.expire_all()
    kept = db.session.get(Order, order_id)
    assert kept.total_cents == 10900 and kept.status == OrderStatus.SHIPPED
    assert [line.sku for line in kept.lines] == ["VEST-M-08"]
    assert kept.paid_at is not None
    assert [e.kind for e in kept.events] == ["paid", "anonymised"]  # the log says why
    assert kept.email is None and kept.customer_name is None and kept.shipping_address is None


def test_delete_is_refused_while_a_paid_order_waits_to_ship_and_nothing_is_erased(
    customer_client, mailbox, types, stripe_api
):
    waiting = make_order()
    shipped = make_order(status=OrderStatus.SHIPPED)
    make_subscriber(HER, first_name="Margaret")
    booking = make_confirmed(types["initial"], soon(20), email=HER)
    ids = {"waiting": waiting.id, "shipped": shipped.id, "booking": booking.id}
    reference, shipped_reference = waiting.reference, shipped.reference

    # The page says so before she asks for a code, naming the order and the way out.
    page = customer_client.get("/account/data").get_data(as_text=True)
    assert "cannot be deleted yet" in page and reference in page
    assert shipped_reference not in page
    assert "/contact" in page and "once it has shipped" in page
    unlock(customer_client, mailbox, HER)
    page = customer_client.get("/account/data").get_data(as_text=True)
    assert "/account/data/download" in page  # her download is not held up
    assert 'action="/account/data/delete"' not in page  # no button that can only fail

    response = delete(customer_client)

    assert response.status_code == 409
    refusal = response.get_data(as_text=True)
    assert reference in refusal and "waiting to ship" in refusal
    assert "contact us" in refusal and "once it has shipped" in refusal
    db.session.expire_all()
    assert db.session.scalar(select(Customer).where(Customer.email == HER)) is not None
    for key in ("waiting", "shipped"):
        kept = db.session.get(Order, ids[key])
        assert kept.email == HER and kept.customer_name == "Margaret Hill"
        assert kept.shipping_address.startswith("1 High")
        assert "anonymised" not in [e.kind for e in kept.events]
    assert db.session.get(Booking, ids["booking"]).status == BookingStatus.CONFIRMED
    assert db.session.get(Booking, ids["booking"]).email == HER
    assert stripe_api.refunds == {}  # no consultation was cancelled and refunded
    assert db.session.scalar(select(Subscriber.email_normalized)) == HER


def test_delete_goes_through_once_the_order_has_shipped(customer_client, mailbox):
    order = make_order()
    order_id = order.id
    unlock(customer_client, mailbox, HER)
    assert delete(customer_client).status_code == 409

    order.status, order.shipped_at = OrderStatus.SHIPPED, utcnow()
    order.tracking_number = "9400100000000000000001"
    db.session.commit()
    page = customer_client.get("/account/data").get_data(as_text=True)
    assert "cannot be deleted yet" not in page and 'action="/account/data/delete"' in page
    response = delete(customer_client)

    assert response.status_code == 303 and response.headers["Location"].endswith("/account/deleted")
    db.session.expire_all()
    kept = db.session.get(Order, order_id)
    assert kept.email is None and kept.customer_name is None and kept.shipping_address is None
    assert kept.tracking_number == "9400100000000000000001"
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


@pytest.mark.parametrize(
    "status", [OrderStatus.REFUNDED, OrderStatus.CANCELLED, OrderStatus.FULFILLED]
)
def test_an_order_that_will_not_ship_does_not_hold_up_the_deletion(
    customer_client, mailbox, status
):
    order_id = make_order(status=status).id
    unlock(customer_client, mailbox, HER)
    assert delete(customer_client).status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, order_id).shipping_address is None


def test_deleting_cancels_her_future_consultations_under_the_policy(
    customer_client, mailbox, types, stripe_api
):
    in_time = make_confirmed(types["initial"], soon(20), email=HER)
    late = moved(make_confirmed(types["follow_up"], soon(30), email=HER), timedelta(hours=30))
    past = moved(make_confirmed(types["follow_up"], soon(40), email=HER), -timedelta(days=30))
    with_intake(in_time)
    ids = {"in_time": in_time.id, "late": late.id, "past": past.id}
    unlock(customer_client, mailbox, HER)
    mailbox.clear()

    assert delete(customer_client).status_code == 303

    db.session.expire_all()
    in_time, late, past = (db.session.get(Booking, ids[k]) for k in ("in_time", "late", "past"))
    assert in_time.status == BookingStatus.CANCELLED
    assert in_time.refunded_cents == in_time.paid_cents == 35000  # in time: full refund
    assert [r["amount"] for r in stripe_api.refunds.values()] == [35000]
    assert late.status == BookingStatus.CANCELLED and late.refunded_cents == 0  # too late
    assert past.status == BookingStatus.CONFIRMED  # what happened stays as it was
    for booking in (in_time, late, past):
        assert booking.email == "" and booking.phone == ""
        assert booking.name != "Client Example"
        assert booking.t_scores == "" and booking.goals == ""
        assert booking.intake_erased_at is not None
        assert booking.events[-1].kind == "personal_data_erased"
    # The cancellations were emailed to her, after the commit.
    cancelled = [m for m in mailbox.wait_for(2) if HER in str(m["To"])]
    assert len(cancelled) == 2
    assert all("cancelled" in m["Subject"] for m in cancelled)


def test_her_old_manage_links_read_sensibly_once_her_phone_number_is_erased(
    app, customer_client, mailbox, types, stripe_api
):
    from blueprints.booking.links import manage_token
    from blueprints.booking.models import CallType

    ahead = make_confirmed(types["initial"], soon(20), email=HER)  # a phone call
    past = moved(make_confirmed(types["follow_up"], soon(30), email=HER), -timedelta(days=30))
    video = moved(make_confirmed(types["follow_up"], soon(40), email=HER), -timedelta(days=60))
    video.call_type = CallType.VIDEO
    db.session.commit()
    with app.test_request_context():
        links = {
            name: f"/consultations/manage/{manage_token(b)}"
            for name, b in (("ahead", ahead), ("past", past), ("video", video))
        }
    assert "Dr. Brown will call you at +1 555 0100" in customer_client.get(links["past"]).text
    unlock(customer_client, mailbox, HER)
    assert delete(customer_client).status_code == 303

    pages = {name: app.test_client().get(url) for name, url in links.items()}
    for name, response in pages.items():
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        assert "call you at" not in page and "phone you at" not in page, name
        assert "+1 555 0100" not in page, name
        assert "You deleted your account" in page and "erased" in page, name
        # Nothing to do with a booking that is no longer anyone's: no change, no calendar,
        # no "find it in My account".
        for offer in (
            "Cancel my consultation",
            "Add it to your calendar",
            "Find this in My account",
        ):
            assert offer not in page, (name, offer)
    assert "Phone call" in pages["ahead"].text and "Cancelled" in pages["ahead"].text
    assert "Phone call" in pages["past"].text
    assert "Video call" in pages["video"].text


def test_a_refund_that_fails_leaves_her_account_and_booking_as_they_were(
    customer_client, mailbox, types, stripe_api
):
    booking = make_confirmed(types["initial"], soon(20), email=HER)
    booking_id = booking.id
    unlock(customer_client, mailbox, HER)
    stripe_api.fail_with = (400, "refunds are down")
    response = delete(customer_client)
    assert response.status_code in (502, 503)
    assert "refund" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == BookingStatus.CONFIRMED
    assert db.session.get(Booking, booking_id).email == HER
    assert db.session.scalar(select(Customer).where(Customer.email == HER)) is not None


def test_deleting_forgets_that_she_stopped_reply_notices(customer_client, mailbox):
    stop_reply_notices(HER)
    stop_reply_notices(OTHER)
    db.session.commit()
    unlock(customer_client, mailbox, HER)
    assert delete(customer_client).status_code == 303
    db.session.expire_all()
    assert reply_notices_wanted(HER) and not reply_notices_wanted(OTHER)


def test_deleting_ends_the_newsletter(customer_client, mailbox):
    make_subscriber(HER, first_name="Margaret")
    make_subscriber(OTHER)
    unlock(customer_client, mailbox, HER)
    delete(customer_client)
    emails = db.session.scalars(select(Subscriber.email_normalized)).all()
    assert emails == [OTHER]


@pytest.mark.parametrize("choice", ["anonymise", "remove"])
def test_her_comments_are_shown_as_a_reader_or_removed_as_she_chooses(
    customer_client, mailbox, choice
):
    post = factories.make_post("Walking for bones")
    factories.make_comment(post, "Lovely post", name="Margaret", email=HER)
    factories.make_comment(post, "Mine too", name="Other", email=OTHER)
    assert "Margaret" in customer_client.get(f"/blog/{post.slug}").get_data(as_text=True)
    unlock(customer_client, mailbox, HER)
    delete(customer_client, comments=choice)

    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    page = customer_client.get(f"/blog/{post.slug}").get_data(as_text=True)
    assert "Margaret" not in page and "Mine too" in page
    if choice == "remove":
        assert [c.body_md for c in comments] == ["Mine too"]
        assert "Lovely post" not in page
    else:
        assert [(c.author_name, c.author_email) for c in comments] == [
            ("a reader", ""),
            ("Other", OTHER),
        ]
        assert "Lovely post" in page and "a reader" in page


def test_deleting_ends_every_session_and_the_address_can_sign_up_again_as_new(
    app, customer_client, customer, mailbox
):
    old_token = customer.session_token
    make_order(status=OrderStatus.SHIPPED)
    elsewhere = app.test_client()
    sign_in_customer(elsewhere, HER)  # her phone
    assert elsewhere.get("/account/data").status_code == 200
    unlock(customer_client, mailbox, HER)
    delete(customer_client)

    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 0
    assert customer_client.get("/account/data").status_code == 302
    assert elsewhere.get("/account/data").status_code == 302

    again = sign_in_customer(app.test_client(), HER)
    assert again.session_token != old_token and again.name == ""
    fresh = app.test_client()
    sign_in_customer(fresh, HER)
    unlock(fresh, mailbox, HER, count=len(mailbox.messages) + 1)
    data = fresh.get("/account/data/download").json
    assert data["orders"] == [] and data["comments"] == [] and data["newsletter"] is None


def test_the_deleted_page_is_plain_and_signed_out(customer_client, mailbox):
    unlock(customer_client, mailbox, HER)
    page = customer_client.get(delete(customer_client).headers["Location"])
    assert page.status_code == 200
    assert "Your account is deleted" in page.get_data(as_text=True)
    with customer_client.session_transaction() as session:
        assert "customer" not in session and "data_window" not in session


def test_the_lessons_she_marked_done_are_in_her_file_and_go_with_her_account(
    customer_client, mailbox, customer
):
    from blueprints.my_account.models import LessonProgress
    from blueprints.my_account.progress import mark_lesson_done
    from tests.account.rows import paid_order, program

    course = program("back-strength", lessons=3)
    paid_order(HER, course)
    mark_lesson_done(customer, course.lessons[1])
    db.session.commit()

    unlock(customer_client, mailbox, HER)
    data = json.loads(customer_client.get("/account/data/download").get_data(as_text=True))
    assert [(row["lesson"], row["title"]) for row in data["lessons_done"]] == [
        (course.lessons[1].position, course.lessons[1].title)
    ]
    assert delete(customer_client).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 0
