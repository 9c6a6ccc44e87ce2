"""Hostile input into every form, public and staff, and every query string: never a
500, never a header with an injected line. Rate limits are off here so the forms
themselves are reached. Runs on PostgreSQL too (TEST_DATABASE_URL), which refuses a NUL
in text and a number past INTEGER where SQLite stores them."""

import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import PRODUCT_FORM, VARIANT_FORM
from tests.stripe_fake import FakeStripe

ALLOWED = {400, 404, 409, 413, 422, 429}

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "x\r\nSet-Cookie: injected=1",
    "x\r\nLocation: https://evil.example",
    "\u2028\u2029",
    "\ufeff",
    "\u202eevil",
    "e\u0301\u0301\u0301",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "😀" * 300,
    "０",
    "٣",
    "²",
    "1²",
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "-0",
    "0x10",
    " 7 ",
    "99999999999999999999999999",
    "-9223372036854775809",
    "2147483648",
    "9223372036854775808",
    "99999999999",
    "9" * 5000,
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "//evil.example",
    "/\\evil.example",
    "%2F%2Fevil.example",
    "../../../etc/passwd",
    "'; DROP TABLE post; --",
    "a@b",
    "@",
    "a" * 300 + "@example.com",
    "x@" + "a" * 300 + ".com",
    "Infinity",
    "-Infinity",
    "1e30",
    "12345678901234567890",
    "$1,000,000.01",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "23:59",
    "24:00",
    "2026-02-30T25:61:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "America/New_York\x00",
    "Etc/GMT+99",
    "../../../../usr/share/zoneinfo/UTC",
    "A" * 200_000,
]

hostile = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x1F), max_size=10),
    # A plausible answer with one control character in it (a NUL, an escape, a C1 code).
    st.tuples(
        st.sampled_from(["Ann", "1Z999", "2030-01-02", "19.00", "ann@example.com", "5"]),
        st.sampled_from(["\x00", "\x1b", "\x7f", "\x85"]) | st.characters(categories=["Cc"]),
    ).map(lambda pair: pair[0][:2] + pair[1] + pair[0][2:]),
    st.text(st.characters(min_codepoint=0x7F, exclude_categories=["Cs"]), max_size=20),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The staff forms post to several pages per example: fewer examples keep each test to a
# few seconds on PostgreSQL.
STAFF_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))


@pytest.fixture
def app_config(httpserver):
    return {
        "RATELIMIT_ENABLED": False,
        "STRIPE_API_BASE": httpserver.url_for("").rstrip("/"),
        "MAIL_SERVER": None,  # logged, not sent: the fuzzer makes many signups
    }


@pytest.fixture
def fake_stripe(httpserver):
    return FakeStripe(httpserver)


def check(response):
    status = response.status_code
    assert status < 400 or status in ALLOWED, f"answered {status}"
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, f"header {name} carries a line break"
    return response


def fields(names):
    """Each field either missing or given a hostile value."""
    return st.fixed_dictionaries({}, optional={name: hostile for name in names})


def spoiled(valid):
    """A valid form with some of its fields left out or given hostile values, so the
    deep paths (the service, the INSERT) are reached as well as the form's checks."""
    names = st.sampled_from(list(valid))
    # One or two bad answers at a time: with more, the form is refused before the deep
    # paths are reached.
    return st.tuples(st.sets(names, max_size=1), st.dictionaries(names, hostile, max_size=2)).map(
        lambda drop_and_bad: {
            **{k: v for k, v in valid.items() if k not in drop_and_bad[0]},
            **drop_and_bad[1],
        }
    )


def nul_in_each_field(**valid_forms):
    """Explicit examples beside the generated ones: each field of each form in turn with a
    NUL in it, the rest valid, so PostgreSQL's refusal of a NUL in text is met on every
    run, not only when the generator happens on it."""

    def decorate(test):
        for arg, valid in valid_forms.items():
            for name, value in valid.items():
                bad = {**valid, name: value[:1] + "\x00" + value[1:]}
                test = example(**{**valid_forms, arg: bad})(test)
        return test

    return decorate


@pytest.fixture
def staff(client, auth):
    """The client, signed in as staff once for all of a test's examples."""
    auth.login()
    return client


def _cart_with_a_line(client, seeded):
    client.post("/cart/add", data={"variant_id": seeded["variant_id"], "quantity": 1})


@nul_in_each_field(data={"name": "Ann", "email": "ann@example.com", "body": "Thank you."})
@given(data=fields(["name", "email", "body", "parent_id", "website"]))
@FUZZ
def test_comment_form_survives_hostile_input(client, seeded, data):
    check(client.post(f"/blog/{seeded['post_slug']}", data=data))


VALID_SIGNUP = {"email": "ann@example.com", "first_name": "Ann", "website": ""}


@nul_in_each_field(data=VALID_SIGNUP)
@given(data=spoiled(VALID_SIGNUP))
@FUZZ
def test_newsletter_signup_survives_hostile_input(client, seeded, data):
    check(client.post("/newsletter/", data=data))


VALID_CONTACT = {"name": "Ann", "email": "ann@example.com", "message": "Hello.", "website": ""}


@nul_in_each_field(data=VALID_CONTACT)
@given(data=spoiled(VALID_CONTACT))
@FUZZ
def test_contact_form_survives_hostile_input(client, seeded, data):
    check(client.post("/contact", data=data))


VALID_PAGE = {"title": "About Dr. Brown", "body_md": "## Her story\n\nShe walks."}


@nul_in_each_field(data=VALID_PAGE)
@given(data=spoiled(VALID_PAGE))
@FUZZ
def test_staff_page_editor_survives_hostile_input(staff, seeded, data):
    check(staff.post("/admin/pages/terms", data=data))


@given(data=fields(["variant_id", "quantity"]), line=fields(["line_id", "quantity"]))
@FUZZ
def test_cart_add_update_remove_survive_hostile_input(client, seeded, data, line):
    check(client.post("/cart/add", data=data))
    _cart_with_a_line(client, seeded)
    check(client.post("/cart/update", data=line))
    check(client.post("/cart/remove", data=line))


@given(data=fields(["email", "quantity", "price_cents", "line_items"]))
@FUZZ
def test_checkout_survives_hostile_input(client, seeded, fake_stripe, data):
    _cart_with_a_line(client, seeded)
    check(client.post("/cart/checkout", data=data))


BOOKING_FIELDS = [
    "slot",
    "name",
    "email",
    "phone",
    "timezone",
    "call_type",
    "age_range",
    "t_scores",
    "fractures",
    "medications",
    "goals",
    "accept_policy",
]


@given(data=fields(BOOKING_FIELDS), keep=st.sets(st.sampled_from(BOOKING_FIELDS)))
@FUZZ
def test_booking_form_survives_hostile_input(client, seeded, fake_stripe, data, keep):
    from tests.booking.conftest import form_data, let_every_hold_go

    # Start from a valid booking and spoil some fields, so the deep paths are reached;
    # the last example's hold is let go, so the time (and the visitor's allowance of
    # holds) is free and a valid example reaches the INSERT on every database.
    let_every_hold_go()
    valid = form_data(seeded["free_slot"])
    posted = {**{k: v for k, v in valid.items() if k in keep}, **data}
    check(client.post(f"/consultations/{seeded['slug']}/book", data=posted))


@given(data=fields(["tz", "next"]), cookie=hostile)
@FUZZ
def test_zone_selector_and_zone_cookie_survive_hostile_input(client, seeded, data, cookie):
    check(client.post("/consultations/timezone", data=data))
    client.set_cookie("tz", quote(cookie[:1000], safe=""))
    check(client.get(f"/consultations/{seeded['slug']}/"))


@given(token=hostile, data=fields(["slot", "refund"]))
@FUZZ
def test_manage_cancel_reschedule_survive_hostile_tokens_and_fields(
    client, seeded, fake_stripe, token, data
):
    real = seeded["token"]
    for t in (quote(token[:2000], safe="") or "x", real):
        check(client.get(f"/consultations/manage/{t}"))
        check(client.post(f"/consultations/manage/{t}/reschedule", data=data))
        check(client.get(f"/consultations/manage/{t}/reschedule", query_string=data))
        check(client.post(f"/consultations/manage/{t}/release", data=data))
    check(client.post(f"/consultations/manage/{quote(token[:2000], safe='') or 'x'}/cancel"))


@given(data=fields(["email", "password", "code"]), next_=hostile)
@FUZZ
def test_admin_sign_in_survives_hostile_input(client, seeded, data, next_):
    response = check(client.post("/admin/login", data=data, query_string={"next": next_}))
    assert response.status_code != 302 or "evil" not in response.headers["Location"]


@given(
    q=hostile,
    page=hostile,
    week=hostile,
    slot=hostile,
    session_id=hostile,
    reply_to=hostile,
)
@FUZZ
def test_query_strings_survive_hostile_values(
    client, seeded, fake_stripe, q, page, week, slot, session_id, reply_to
):
    check(client.get("/blog/search", query_string={"q": q, "page": page}))
    check(client.get("/blog/", query_string={"page": page}))
    check(client.get(f"/blog/{seeded['post_slug']}", query_string={"reply_to": reply_to}))
    check(client.get(f"/blog/tag/{quote(q[:500], safe='') or 'x'}"))
    check(client.get(f"/consultations/{seeded['slug']}/", query_string={"month": week, "day": q}))
    check(client.get(f"/consultations/{seeded['slug']}/", query_string={"week": week}))
    check(client.get(f"/consultations/{seeded['slug']}/book", query_string={"slot": slot}))
    check(client.get("/shop/success", query_string={"session_id": session_id}))
    check(client.get(f"/shop/{quote(q[:500], safe='') or 'x'}"))
    check(client.get("/newsletter/", query_string={"email": q}))


@nul_in_each_field(data={"email": "ann@example.com"}, release={"order": "1"})
@given(data=fields(["email"]), release=fields(["order", "session_id"]))
@FUZZ
def test_programs_link_and_release_checkout_survive_hostile_input(client, seeded, data, release):
    check(client.post("/account/programs", data=data))
    check(client.post("/shop/cancelled", data=release, query_string=release))


# --- staff forms -----------------------------------------------------------------------

VALID_POST = {
    "title": "Bones and balance",
    "slug": "",
    "summary": "Short.",
    "body": "Some **words**.",
    "tags": "exercise, balance",
    "references-0-authors": "Lee D-Y, et al",
    "references-0-title": "A study",
    "references-0-year": "2015",
    "references-0-doi": "10.11005/jbm.2015.22.4.197",
    "references-0-pmid": "26713311",
    "references-0-url": "https://example.com/study",
    "reviewer": "Jane Smith, MD",
    "reviewed_on": "2030-01-02",
    "action": "save",
}


@nul_in_each_field(data=VALID_POST)
@given(data=spoiled(VALID_POST))
@STAFF_FUZZ
def test_post_editor_survives_hostile_input(staff, seeded, data):
    check(staff.post("/admin/posts/new", data=data))
    check(staff.post(f"/admin/posts/{seeded['post_id']}/edit", data=data))


@nul_in_each_field(product=PRODUCT_FORM, variant=VARIANT_FORM)
@given(product=spoiled(PRODUCT_FORM), variant=spoiled(VARIANT_FORM))
@STAFF_FUZZ
def test_product_and_variant_editors_survive_hostile_input(staff, seeded, product, variant):
    check(staff.post("/admin/products/new", data=product))
    check(staff.post(f"/admin/products/{seeded['product_id']}", data=product))
    check(staff.post(f"/admin/products/{seeded['product_id']}/variants", data=variant))
    check(staff.post(f"/admin/variants/{seeded['variant_id']}", data=variant))


VALID_SHIP = {"tracking_number": "1Z999"}
VALID_REFUND = {"amount": "1.00", "request_key": "k"}


@nul_in_each_field(ship=VALID_SHIP, refund=VALID_REFUND)
@given(ship=spoiled(VALID_SHIP), refund=spoiled(VALID_REFUND))
@STAFF_FUZZ
def test_order_ship_and_refund_forms_survive_hostile_input(
    staff, seeded, fake_stripe, ship, refund
):
    from blueprints.shop.models import Order
    from extensions import db

    order_id = db.session.scalar(select(Order.id).order_by(Order.id))
    check(staff.post(f"/admin/orders/{order_id}/ship", data=ship))
    check(staff.post(f"/admin/orders/{order_id}/refund", data=refund))


VALID_HOURS = {"hours-weekday": "1", "hours-start_time": "09:00", "hours-end_time": "12:00"}
VALID_OVERRIDE = {
    "override-on_date": "2030-01-02",
    "override-day_off": "",
    "override-start_time": "09:00",
    "override-end_time": "12:00",
    "override-note": "Clinic",
}
VALID_BLOCK = {
    "block-on_date": "2030-01-03",
    "block-start_time": "09:00",
    "block-end_date": "2030-01-03",
    "block-end_time": "10:00",
    "block-reason": "Dentist",
}


@nul_in_each_field(
    hours=VALID_HOURS, override=VALID_OVERRIDE, block=VALID_BLOCK, refund={"refund": "yes"}
)
@given(
    hours=spoiled(VALID_HOURS),
    override=spoiled(VALID_OVERRIDE),
    block=spoiled(VALID_BLOCK),
    refund=fields(["refund"]),
)
@STAFF_FUZZ
def test_availability_and_staff_booking_forms_survive_hostile_input(
    staff, seeded, fake_stripe, hours, override, block, refund
):
    check(staff.post("/admin/availability/hours", data=hours))
    check(staff.post("/admin/availability/overrides", data=override))
    check(staff.post("/admin/availability/blocks", data=block))
    check(staff.post(f"/admin/bookings/{seeded['booking_id']}/cancel", data=refund))


@nul_in_each_field(data={"code": "123456"})
@given(data=fields(["code"]))
@FUZZ
def test_two_factor_setup_survives_hostile_input(staff, seeded, data):
    check(staff.post("/admin/two-factor", data=data))


@given(one=hostile, ids=st.lists(hostile, max_size=3), page=hostile, status=hostile)
@FUZZ
def test_staff_moderation_and_filters_survive_hostile_input(
    client, seeded, auth, one, ids, page, status
):
    auth.login()
    check(client.post("/admin/comments", data={"one": one}))
    check(
        client.post(
            "/admin/comments",
            data={"ids": ids, "action": one},
            query_string={"page": page, "status": status},
        )
    )
    check(client.get("/admin/comments", query_string={"page": page, "status": status}))
    check(client.get("/admin/orders", query_string={"state": status}))
    check(client.get("/admin/schedule", query_string={"day": status, "view": page}))
    check(client.get("/admin/newsletter", query_string={"page": page, "status": status}))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/99999999999999999999",
        "/admin/posts/2147483648/edit",
        "/admin/products/9223372036854775808",
        "/account/programs/x/y/99999999999999999999",
    ],
)
def test_ids_too_large_for_the_database_are_404_not_500(client, auth, url):
    auth.login()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url", ["/shop/a%00b", "/blog/tag/a%00", "/blog/a%00", "/consultations/a%00/"]
)
def test_nul_in_an_address_is_404_not_a_database_error(client, url):
    # PostgreSQL refuses NUL in text: before the guard, these were 500s there.
    assert client.get(url).status_code == 404
