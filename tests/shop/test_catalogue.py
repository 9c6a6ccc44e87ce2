"""The shop and product pages tell the truth about prices and stock; related reading;
"My programs" through a signed link."""

from datetime import timedelta

from blueprints.blog.models import PostStatus, Tag
from blueprints.core.types import utcnow
from blueprints.shop.links import programs_token
from blueprints.shop.models import ProgramAccess
from blueprints.shop.seed import seed
from blueprints.shop.sitemap import sitemap_urls
from extensions import db
from tests.factories import make_post
from tests.shop.conftest import make_program, make_vest


def test_product_page_shows_only_2_left_and_sold_out_disabled(client):
    make_vest({"VEST-S-04": 2, "VEST-M-08": 9, "VEST-XL-12": 0})
    page = client.get("/shop/weighted-vest").get_data(as_text=True)
    assert "Only 2 left" in page and "In stock" in page and "Sold out" in page
    # The sold-out option is listed (not hidden) with its radio button disabled.
    xl_radio = page.split("Size XL, 12 lb")[0].rsplit("<input", 1)[1]
    assert "disabled" in xl_radio
    m_radio = page.split("Size M, 8 lb")[0].rsplit("<input", 1)[1]
    assert "disabled" not in m_radio
    assert '<button type="submit">Add to cart</button>' in page


def test_a_fully_sold_out_product_has_its_button_disabled(client):
    make_vest({"VEST-M-08": 0})
    page = client.get("/shop/weighted-vest").get_data(as_text=True)
    assert '<button type="submit" disabled>Sold out</button>' in page
    assert "Sold out" in client.get("/shop/").get_data(as_text=True)


def test_shop_page_lists_active_products_with_prices(client):
    make_vest({"VEST-M-08": 3}, price_cents=10900)
    program = make_program(price_cents=4900)
    program.active = False
    db.session.commit()
    page = client.get("/shop/").get_data(as_text=True)
    assert "Weighted Vest" in page and "$109.00" in page
    assert "Back Program" not in page
    assert client.get("/shop/back-program").status_code == 404
    assert client.get("/shop/no-such-thing").status_code == 404


def _post(slug, tag, published=True):
    post = make_post(
        slug.replace("-", " ").title(),
        "x",
        slug=slug,
        status=PostStatus.PUBLISHED if published else PostStatus.DRAFT,
        published_at=utcnow() - timedelta(days=1) if published else None,
        commit=False,
    )
    post.tags = [tag]
    return post


def test_product_page_shows_related_published_posts(client):
    exercise = Tag(slug="exercise", name="Exercise")
    food = Tag(slug="food", name="Food")
    vest = make_vest({"VEST-M-08": 3})
    vest.tags = [exercise]
    _post("walking-with-weight", exercise)
    _post("draft-about-walking", exercise, published=False)
    _post("greens-for-bones", food)
    db.session.commit()

    page = client.get("/shop/weighted-vest").get_data(as_text=True)

    assert 'href="/blog/walking-with-weight"' in page
    assert "draft-about-walking" not in page and "greens-for-bones" not in page


def test_sitemap_urls_list_the_shop_and_each_product(app):
    make_vest({"VEST-M-08": 3})
    urls = [url for url, _lastmod in sitemap_urls()]
    assert urls == ["http://localhost/shop/", "http://localhost/shop/weighted-vest"]


def test_demo_seed_is_idempotent_and_has_the_promised_variants(app, client):
    seed()
    db.session.commit()
    seed()
    db.session.commit()
    page = client.get("/shop/weighted-walking-vest").get_data(as_text=True)
    for size in ("S", "M", "L", "XL"):
        for pounds in (4, 8, 12):
            assert f"Size {size}, {pounds} lb" in page
    assert "Only 2 left" in page and "Sold out" in page
    program = client.get("/shop/12-week-back-strengthening-program").get_data(as_text=True)
    assert "Week 12: Your plan from here" in program


# --- My programs -----------------------------------------------------------------


def _grant(program, email="ann@example.com"):
    from blueprints.shop.models import Order, OrderStatus

    order = Order(status=OrderStatus.FULFILLED, currency="usd", total_cents=4900, email=email)
    db.session.add(order)
    db.session.flush()
    access = ProgramAccess(order_id=order.id, product_id=program.id, email=email)
    db.session.add(access)
    db.session.commit()
    return access


def test_signed_link_opens_my_programs_and_a_lesson(client):
    program = make_program(lessons=3)
    _grant(program)
    token = programs_token("Ann@Example.com ")
    page = client.get(f"/account/programs/{token}").get_data(as_text=True)
    assert "12-Week Back Program" in page and "Week 2" in page
    lesson = client.get(f"/account/programs/{token}/back-program/2")
    assert lesson.status_code == 200
    body = lesson.get_data(as_text=True)
    assert "Lesson body number 2" in body and "Next: Week 3" in body
    assert 'name="robots" content="noindex"' in body


def test_a_tampered_or_foreign_link_shows_nothing(client):
    program = make_program()
    _grant(program)
    token = programs_token("ann@example.com")
    response = client.get(f"/account/programs/{token[:-2]}xx")
    assert response.status_code == 404 and "Back Program" not in response.get_data(as_text=True)
    other = programs_token("someone@example.com")
    assert "Back Program" not in client.get(f"/account/programs/{other}").get_data(as_text=True)
    assert client.get(f"/account/programs/{other}/back-program/1").status_code == 404


def test_revoked_access_closes_the_lessons(client):
    program = make_program()
    access = _grant(program)
    access.revoked_at = utcnow()
    db.session.commit()
    token = programs_token("ann@example.com")
    assert client.get(f"/account/programs/{token}/back-program/1").status_code == 404


def test_emulator_notice_shows_only_when_the_emulator_is_on(app, client):
    make_vest({"VEST-M-08": 3})
    client.post("/cart/add", data={"variant_id": 1, "quantity": 1})
    assert "Stripe emulator" not in client.get("/cart").get_data(as_text=True)
    app.config["STRIPE_EMULATOR"] = True
    assert "Stripe emulator" in client.get("/cart").get_data(as_text=True)
