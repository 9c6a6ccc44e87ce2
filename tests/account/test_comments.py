"""Comments of a signed-in customer (issue #18.4): her sign-in proves her address, so
once a comment of that address was approved her next one appears at once; the form has
her name and address filled in, on a page only she gets (never the shared cache)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.account.models import Customer
from blueprints.blog.forms import MAX_NAME
from blueprints.blog.models import Comment, CommentStatus
from blueprints.core.types import utcnow
from extensions import db
from tests import factories
from tests.account.conftest import sign_in_customer
from tests.account.sign_in_support import sign_in_with_code
from tests.factories import make_booking, make_consultation_type, make_order
from tests.shop.conftest import make_vest

EMAIL = "reader@example.com"


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": True, "CACHE_TYPE": "SimpleCache", "CACHE_REDIS_URL": None}


@pytest.fixture
def post(app):
    return factories.make_post("Walking for bones")


def _comment(client, post, **fields):
    data = {"name": "Ann Reader", "email": EMAIL, "body": "This helped me, thank you.", **fields}
    response = client.post(f"/blog/{post.slug}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def test_signed_in_customer_with_an_approved_comment_is_published_at_once(customer_client, post):
    factories.make_comment(post, "An earlier one.", email=EMAIL)
    assert _comment(customer_client, post).status == CommentStatus.APPROVED


def test_her_first_comment_still_waits_for_a_person(customer_client, post):
    factories.make_comment(post, "Held before.", email=EMAIL, status=CommentStatus.PENDING)
    assert _comment(customer_client, post).status == CommentStatus.PENDING


def test_signing_in_proves_only_her_own_address(customer_client, post):
    factories.make_comment(post, "Someone else's.", email="trusted@example.com")
    new = _comment(customer_client, post, email="trusted@example.com")
    assert new.status == CommentStatus.PENDING


def test_the_same_address_without_signing_in_waits(client, post):
    factories.make_comment(post, "An earlier one.", email=EMAIL)
    assert _comment(client, post).status == CommentStatus.PENDING


def test_a_name_like_ours_waits_even_for_her(customer_client, post):
    factories.make_comment(post, "An earlier one.", email=EMAIL)
    assert _comment(customer_client, post, name="Dr. Susan Brown").status == CommentStatus.PENDING


def test_her_name_and_address_are_filled_in_only_on_her_own_uncached_page(app, client, post):
    factories.make_comment(post, "An earlier one.", email=EMAIL, name="Ann Reader")
    url = f"/blog/{post.slug}"
    assert client.get(url).headers["X-Cache"] == "MISS"
    assert client.get(url).headers["X-Cache"] == "HIT"

    reader = app.test_client()
    sign_in_customer(reader, EMAIL)
    mine = reader.get(url)
    html = mine.get_data(as_text=True)
    assert mine.headers.get("X-Cache") != "HIT"
    assert "no-store" in mine.headers["Cache-Control"] or "private" in mine.headers["Cache-Control"]
    assert f'value="{EMAIL}"' in html and 'value="Ann Reader"' in html

    anonymous = app.test_client().get(url)
    assert EMAIL not in anonymous.get_data(as_text=True)
    assert anonymous.headers["X-Cache"] == "HIT"


def test_a_buyer_who_never_commented_finds_her_order_name_in_the_form(client, mailbox, post):
    make_order(make_vest(), email="Reader@Example.com", name="Margaret Hill")
    assert sign_in_with_code(client, mailbox, EMAIL).status_code == 303

    html = client.get(f"/blog/{post.slug}").get_data(as_text=True)
    assert 'value="Margaret Hill"' in html
    db.session.expire_all()
    assert db.session.scalar(select(Customer.name)) == "Margaret Hill"


def test_her_latest_booking_or_order_names_her_and_a_name_she_has_is_kept(client, mailbox, post):
    ctype, vest = make_consultation_type(), make_vest()
    make_order(vest, email=EMAIL, name="Maggie Hill", created_at=utcnow() - timedelta(days=9))
    make_booking(ctype, email=EMAIL, name="Margaret Hill")  # booked after the order
    make_booking(ctype, email="other@example.com", name="Someone Else")
    assert sign_in_with_code(client, mailbox, EMAIL).status_code == 303
    db.session.expire_all()
    customer = db.session.scalar(select(Customer))
    assert customer.name == "Margaret Hill"

    customer.name = "Meg"  # e.g. changed in My account: a later order does not undo it
    db.session.commit()
    make_order(vest, email=EMAIL, name="M. Hill")
    client.post("/account/sign-out")
    assert sign_in_with_code(client, mailbox, EMAIL).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Customer.name)) == "Meg"


def test_a_name_on_record_longer_than_the_comment_forms_limit_is_cut_to_it(client, mailbox):
    long_name = "Margaret " + "Hill-" * 20  # 109 characters, as Stripe may pass it on
    make_order(make_vest(), email=EMAIL, name=long_name)
    assert sign_in_with_code(client, mailbox, EMAIL).status_code == 303
    db.session.expire_all()
    name = db.session.scalar(select(Customer.name))
    assert name == long_name[:MAX_NAME] and len(name) == MAX_NAME
    # The name form takes the name as it shows it.
    page = client.get("/account/")
    assert f'value="{name}"' in page.get_data(as_text=True)
