"""Staff edit the shipping rates: saved, audited and shown on the vest page at once; bad
input gets the form back with what was typed, never a 500."""

import pytest
from sqlalchemy import func, select

from blueprints.core.models import AuditEntry
from blueprints.shop.models import ShippingRate
from extensions import db
from tests.shop.conftest import make_vest

GOOD = {
    "country": "CA",
    "name": "Express",
    "min_days": "2",
    "max_days": "4",
    "amount": "39.50",
    "position": "3",
    "active": "y",
}


@pytest.fixture
def staff_client(client, auth):
    auth.login()
    return client


def _rate(country, name):
    db.session.expire_all()
    return db.session.scalar(
        select(ShippingRate).where(ShippingRate.country == country, ShippingRate.name == name)
    )


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_shipping_admin_is_for_staff_only(client):
    make_vest()
    rate = _rate("US", "Standard")
    for url in ("/admin/shipping", "/admin/shipping/new", f"/admin/shipping/{rate.id}"):
        response = client.get(url)
        assert response.status_code in (302, 303) and "/admin/login" in response.headers["Location"]
    response = client.post("/admin/shipping/new", data=GOOD)
    assert response.status_code in (302, 303, 400, 403)
    assert _rate("CA", "Express") is None


def test_staff_add_and_change_a_rate_and_the_vest_page_shows_it_at_once(
    app, staff_client, staff_user
):
    make_vest()
    reader = app.test_client()
    assert "$39.50" not in reader.get("/shop/weighted-vest").get_data(as_text=True)  # cached

    listing = staff_client.get("/admin/shipping").get_data(as_text=True)
    assert "Standard, 3\u20135 business days" in listing and "$200.00" in listing
    response = staff_client.post("/admin/shipping/new", data=GOOD)
    assert response.status_code == 303

    rate = _rate("CA", "Express")
    assert (rate.amount_cents, rate.min_days, rate.max_days, rate.active) == (3950, 2, 4, True)
    page = reader.get("/shop/weighted-vest").get_data(as_text=True)
    assert "Express, 2\u20134 business days: <strong>$39.50</strong>" in page

    edit = staff_client.get(f"/admin/shipping/{rate.id}").get_data(as_text=True)
    assert 'value="39.50"' in edit
    response = staff_client.post(
        f"/admin/shipping/{rate.id}", data={**GOOD, "amount": "0.00", "active": ""}
    )
    assert response.status_code == 303
    rate = _rate("CA", "Express")
    assert rate.amount_cents == 0 and not rate.active
    assert "Express, 2\u20134" not in reader.get("/shop/weighted-vest").get_data(as_text=True)

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.record_type == "shipping_rate").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["shipping_rate.create", "shipping_rate.update"]
    assert {e.actor_id for e in entries} == {staff_user.id}
    assert entries[0].detail["amount_cents"] == 3950 and entries[1].detail["active"] is False


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("amount", "-5.00", "like 12.00"),
        ("amount", "1000000", "at most $500"),
        ("amount", "twelve", "like 12.00"),
        ("amount", "", "Enter a price"),
        ("min_days", "abc", "integer"),
        ("max_days", "1", "at least the fewest"),
        ("max_days", "100000000000000000000", "business days"),
        ("position", "-1", "from 0 to 10,000"),
        ("country", "FR", "Not a valid choice"),
        ("name", "", "Enter a name"),
        ("name", "x" * 101, "100 characters"),
    ],
)
def test_bad_input_gets_the_form_back_with_what_was_typed(staff_client, field, typed, message):
    make_vest()
    before = _count(ShippingRate)

    response = staff_client.post("/admin/shipping/new", data={**GOOD, field: typed})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "Please correct the highlighted fields" in page
    if typed and field != "country":
        assert f'value="{typed}"' in page
    assert _count(ShippingRate) == before
    assert _count(AuditEntry) == 0


def test_a_second_rate_of_the_same_name_for_a_country_is_refused(staff_client):
    make_vest()
    response = staff_client.post(
        "/admin/shipping/new", data={**GOOD, "country": "US", "name": "standard"}
    )
    assert response.status_code == 409
    assert "already has a rate with this name" in response.get_data(as_text=True)
    assert _count(AuditEntry) == 0


def test_checkout_offers_at_most_five_rates_so_a_sixth_on_sale_is_refused(staff_client):
    make_vest()  # three rates
    for name in ("Two-day", "Overnight"):
        assert (
            staff_client.post("/admin/shipping/new", data={**GOOD, "name": name}).status_code == 303
        )
    response = staff_client.post("/admin/shipping/new", data={**GOOD, "name": "Courier"})
    assert response.status_code == 409
    assert "at most 5 rates" in response.get_data(as_text=True)
    # Off sale, it may be kept.
    response = staff_client.post(
        "/admin/shipping/new", data={**GOOD, "name": "Courier", "active": ""}
    )
    assert response.status_code == 303


def test_the_free_shipping_amount_is_explained_in_plain_words_not_a_setting_name(staff_client):
    page = staff_client.get("/admin/shipping").get_data(as_text=True)
    assert "FLASK_SHIPPING_FREE_ABOVE_CENTS" not in page and "The setting" not in page
    assert "ask the person who looks after the website" in page
