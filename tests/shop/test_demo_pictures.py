"""The demo's pictures (#19.13): drawn from code into the media library at seed time,
the same file every time; the vest and programs have galleries, some posts a main
picture, and the About page Dr. Brown's placeholder portrait; a second seed adds none."""

from sqlalchemy import func, select

from blueprints import area_modules
from blueprints.blog.models import Post
from blueprints.media.illustrations import PICTURES, png
from blueprints.media.models import MediaImage
from blueprints.pages.content import stored_page
from blueprints.shop.models import Product
from extensions import db


def _seed_all():
    for _area, module in area_modules("seed"):
        module.seed(large=False)
        db.session.commit()


def test_the_demo_seed_shows_its_pictures_once(app, client):
    _seed_all()
    images = db.session.scalar(select(func.count(MediaImage.id)))
    assert images == len(PICTURES)
    _seed_all()
    assert db.session.scalar(select(func.count(MediaImage.id))) == images

    vest = db.session.scalar(select(Product).where(Product.slug == "weighted-walking-vest"))
    assert len(vest.images) == 3
    page = client.get("/shop/weighted-walking-vest").get_data(as_text=True)
    assert page.count("<picture") == 3 and "a dark teal weighted vest" in page
    assert client.get("/shop/").get_data(as_text=True).count("<picture") == 3

    heroes = db.session.scalars(select(Post.hero_image_id).where(Post.hero_image_id.is_not(None)))
    assert len(heroes.all()) == 4
    about = stored_page("about")
    assert about.body_md.startswith("![Dr. Susan E. Brown: an illustrated placeholder")
    assert '<img src="/media/' in client.get("/about").get_data(as_text=True)


def test_the_pictures_are_drawn_the_same_every_time():
    names = ("vest-front", "portrait")
    png.cache_clear()
    first = [png(name) for name in names]
    png.cache_clear()
    assert [png(name) for name in names] == first
