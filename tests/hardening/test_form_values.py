"""Values no form may store: control characters (PostgreSQL refuses a NUL in text with a
500), numbers a column cannot hold or that are not numbers at all (Infinity, NaN, 1e30, a
20-digit stock), and dates at year 1 or 9999. Each is a form error: a 4xx, the form back
with what was typed, and nothing stored. Run on SQLite and on PostgreSQL."""

import html

import pytest
from sqlalchemy import func, select

from blueprints.blog.models import Post
from blueprints.newsletter.models import Subscriber
from blueprints.shop.models import Order, Product, Variant
from extensions import db
from tests.shop.conftest import make_program, make_vest, paid_order
from tests.stripe_fake import stripe_config

CONTROL_CHARACTERS = ["Ann\x00", "a\x00b", "\x1b[31mAnn", "Ann\x07", "Ann\x7f", "Ann\x85"]
NOT_NUMBERS = ["Infinity", "-Infinity", "NaN", "1e30", "1e3", "1E2"]
TWENTY_DIGITS = "12345678901234567890"


@pytest.fixture
def app_config(httpserver):
    return {**stripe_config(httpserver), "RATELIMIT_ENABLED": False}


@pytest.fixture
def staff_client(client, auth):
    auth.login()
    return client


def _count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _refused_with_the_form_back(response, typed):
    """A 400 that shows the form again, with the field marked and the value as typed."""
    assert response.status_code == 400, response.status_code
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert html.escape(typed, quote=True) in page or typed in page


# --- the public forms ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [*CONTROL_CHARACTERS, "Ann\nLee", "Ann\u2028Lee"])
def test_control_characters_in_the_newsletter_first_name_are_a_form_error(client, mailbox, bad):
    response = client.post("/newsletter/", data={"email": "ann@example.com", "first_name": bad})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _count(Subscriber) == 0


@pytest.mark.parametrize(
    "bad", ["ann\x00@example.com", "ann@exa\x1bmple.com", "ann@example.com\x7f"]
)
def test_control_characters_in_the_newsletter_email_are_a_form_error(client, mailbox, bad):
    response = client.post("/newsletter/", data={"email": bad, "first_name": "Ann"})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _count(Subscriber) == 0


def test_control_characters_in_the_programs_link_request_are_a_form_error(client, mailbox):
    response = client.post("/account/programs", data={"email": "ann\x00@example.com"})

    assert response.status_code == 400
    assert not mailbox.messages


# --- the post editor ----------------------------------------------------------------


def _post_form(**overrides):
    return {"title": "Bones", "slug": "", "body": "Some words.", "action": "save", **overrides}


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "3000-01-01"])
def test_post_editor_refuses_a_review_date_out_of_the_calendar(staff_client, day):
    response = staff_client.post("/admin/posts/new", data=_post_form(reviewed_on=day))

    _refused_with_the_form_back(response, day)
    assert "between the years 2000 and 2999" in response.get_data(as_text=True)
    assert _count(Post) == 0


@pytest.mark.parametrize(
    "field, bad",
    [("title", "Bo\x00nes"), ("title", "Bones\x1b"), ("tags", "bone\x00"), ("body", "a\x00b")],
)
def test_post_editor_refuses_control_characters(staff_client, field, bad):
    response = staff_client.post("/admin/posts/new", data=_post_form(**{field: bad}))

    assert response.status_code == 400
    assert "character" in response.get_data(as_text=True)
    assert _count(Post) == 0


def test_post_editor_keeps_line_breaks_and_tabs_in_the_body(staff_client):
    response = staff_client.post("/admin/posts/new", data=_post_form(body="One\r\n\tTwo"))

    assert response.status_code == 303
    assert _count(Post) == 1


# --- the product and variant editors --------------------------------------------------------


def _variant_form(**overrides):
    return {
        "sku": "VEST-M-08",
        "name": "M",
        "price": "99.00",
        "stock": "3",
        "active": "y",
        **overrides,
    }


@pytest.mark.parametrize("price", [*NOT_NUMBERS, "1000000.01", "99999999999", "5,00"])
def test_variant_editor_refuses_prices_that_are_not_plain_dollars_up_to_a_million(
    staff_client, price
):
    variant = make_vest({"VEST-M-08": 3}).variants[0]

    response = staff_client.post(f"/admin/variants/{variant.id}", data=_variant_form(price=price))

    _refused_with_the_form_back(response, price)
    db.session.expire_all()
    assert db.session.get(Variant, variant.id).price_cents == 10900


@pytest.mark.parametrize("stock", [*NOT_NUMBERS, TWENTY_DIGITS, "2147483648", "1000001"])
def test_variant_editor_refuses_stock_that_is_not_a_whole_number_in_range(staff_client, stock):
    variant = make_vest({"VEST-M-08": 3}).variants[0]

    response = staff_client.post(f"/admin/variants/{variant.id}", data=_variant_form(stock=stock))

    _refused_with_the_form_back(response, stock)
    db.session.expire_all()
    assert db.session.get(Variant, variant.id).stock == 3


def test_new_variant_with_a_twenty_digit_stock_is_a_form_error(staff_client):
    product = make_vest({"VEST-M-08": 3})

    response = staff_client.post(
        f"/admin/products/{product.id}/variants",
        data=_variant_form(sku="VEST-L-10", stock=TWENTY_DIGITS),
    )

    _refused_with_the_form_back(response, TWENTY_DIGITS)
    assert _count(Variant) == 1


def test_variant_editor_still_takes_a_million_dollars_and_a_million_in_stock(staff_client):
    variant = make_vest({"VEST-M-08": 3}).variants[0]

    response = staff_client.post(
        f"/admin/variants/{variant.id}",
        data=_variant_form(price="$1,000,000.00", stock="1000000"),
    )

    assert response.status_code == 303
    db.session.expire_all()
    variant = db.session.get(Variant, variant.id)
    assert (variant.price_cents, variant.stock) == (100_000_000, 1_000_000)


def _product_form(**overrides):
    return {"name": "Balance", "slug": "balance", "kind": "program", "position": "1", **overrides}


@pytest.mark.parametrize("position", [*NOT_NUMBERS, TWENTY_DIGITS, "2147483648"])
def test_product_editor_refuses_a_position_that_is_not_a_whole_number_in_range(
    staff_client, position
):
    response = staff_client.post("/admin/products/new", data=_product_form(position=position))

    _refused_with_the_form_back(response, position)
    assert _count(Product) == 0


@pytest.mark.parametrize("field", ["name", "summary", "image_alt"])
@pytest.mark.parametrize("bad", ["Ve\x00st", "Vest\x1b", "Vest\r\nX: y"])
def test_product_editor_refuses_control_characters(staff_client, field, bad):
    response = staff_client.post("/admin/products/new", data=_product_form(**{field: bad}))

    assert response.status_code == 400
    assert _count(Product) == 0


# --- an order's refund and shipping forms ---------------------------------------------------


@pytest.mark.parametrize("amount", [*NOT_NUMBERS, "99999999999", "1000000.01"])
def test_refund_amount_refuses_what_is_not_plain_dollars_without_calling_stripe(
    staff_client, stripe_api, mailbox, amount
):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))

    response = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": amount, "request_key": "k1"}
    )

    _refused_with_the_form_back(response, amount)
    assert not [r for r in stripe_api.requests if r[1] == "/v1/refunds"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).refunded_cents == 0


def test_refund_request_key_with_a_nul_is_a_form_error(staff_client, stripe_api, mailbox):
    order = paid_order(staff_client, stripe_api, make_program(price_cents=4900))

    response = staff_client.post(
        f"/admin/orders/{order.id}/refund", data={"amount": "10.00", "request_key": "k\x00"}
    )

    assert response.status_code == 400
    assert not [r for r in stripe_api.requests if r[1] == "/v1/refunds"]


@pytest.mark.parametrize("bad", ["1Z\x00999", "1Z\x1b999", "1Z\r\n999"])
def test_tracking_number_with_control_characters_is_a_form_error(
    staff_client, stripe_api, mailbox, bad
):
    order = paid_order(staff_client, stripe_api, make_vest({"VEST-M-08": 3}))

    response = staff_client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": bad})

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Order, order.id).tracking_number is None


# --- the availability forms ---------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_availability_forms_refuse_year_1_and_9999_with_the_form_back(staff_client, day):
    block = staff_client.post(
        "/admin/availability/blocks",
        data={"block-on_date": day, "block-start_time": "09:00", "block-end_time": "10:00"},
    )
    override = staff_client.post(
        "/admin/availability/overrides", data={"override-on_date": day, "override-day_off": "y"}
    )

    _refused_with_the_form_back(block, day)
    _refused_with_the_form_back(override, day)


@pytest.mark.parametrize("bad", ["dent\x00ist", "dentist\x1b"])
def test_availability_override_note_refuses_control_characters(staff_client, bad):
    response = staff_client.post(
        "/admin/availability/overrides",
        data={"override-on_date": "2030-01-02", "override-day_off": "y", "override-note": bad},
    )

    assert response.status_code == 400


def test_availability_override_with_a_start_but_no_end_time_is_a_form_error(staff_client):
    from blueprints.booking.models import DateOverride

    response = staff_client.post(
        "/admin/availability/overrides",
        data={"override-on_date": "2030-01-02", "override-start_time": "09:00"},
    )

    assert response.status_code == 400
    assert "Give both times, or tick day off." in response.get_data(as_text=True)
    assert _count(DateOverride) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("view", ["day", "week"])
def test_staff_schedule_at_year_1_or_9999_shows_today_instead(staff_client, day, view):
    response = staff_client.get("/admin/schedule", query_string={"day": day, "view": view})

    assert response.status_code == 200


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_on_the_site_is_built_on_the_shared_base(app):
    from flask_wtf import FlaskForm

    from blueprints.core.forms import Form

    # The app has imported every area's views, so every form class exists by now.
    site_forms = [f for f in _subclasses(FlaskForm) if f.__module__.startswith("blueprints.")]
    assert len(site_forms) > 20
    outside = [f.__qualname__ for f in site_forms if not issubclass(f, Form)]
    assert outside == []
