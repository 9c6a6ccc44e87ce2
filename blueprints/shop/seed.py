"""Demo products: two programs (with lesson outlines) and a weighted vest in sizes
and added weights, one variant sold out and one nearly gone. Safe to run twice."""

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.blog.models import Tag
from blueprints.core.bulk import count_where, insert_rows
from blueprints.core.markdown import render_post
from blueprints.core.types import utcnow
from blueprints.media.illustrations import demo_image
from blueprints.shop.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductImage,
    ProductKind,
    ProgramLesson,
    ShippingRate,
    Variant,
)
from blueprints.shop.options import SIZE_ORDER
from extensions import db

# The rates the migration also starts with (a database built without migrations, as in
# tests, gets them here): country, name, business days, cents.
SHIPPING_RATES = (
    ("US", "Standard", 3, 5, 1200),
    ("US", "Express", 1, 2, 2900),
    ("CA", "Standard", 5, 10, 2400),
)

BACK_PROGRAM_WEEKS = [
    (
        "Week 1: Stand tall, breathe, and take stock",
        "Start by noticing how you stand and sit. Stand with your back against a wall, "
        "heels a few inches away, and feel where your head, shoulders and hips touch.\n\n"
        "- Twice a day: one minute of slow belly breathing against the wall.\n"
        "- Write down three daily moments when you slump (phone, sink, car).\n"
        "- Walk ten minutes, at a pace where you can still talk.",
    ),
    (
        "Week 2: Wake up the muscles along your spine",
        "Lying face down with a pillow under your hips, lift your head and chest a "
        "finger's width, hold for three breaths, and lower slowly.\n\n"
        "- 2 sets of 5 gentle back lifts, every other day.\n"
        "- Shoulder-blade squeezes while seated: 10, three times a day.",
    ),
    (
        "Week 3: Hips and glutes carry you",
        "Strong hips take load off the lower back. Practise bridges on the floor or bed "
        "and sit-to-stand from a firm chair without using your hands.\n\n"
        "- Bridges: 2 sets of 8.\n- Sit-to-stand: 2 sets of 6.",
    ),
    (
        "Week 4: Balance you can trust",
        "Falls break bones, so balance is bone care. Stand by a counter and practise "
        "standing on one foot, then heel-to-toe steps along it.\n\n"
        "- One-foot stands: 3 of up to 30 seconds per side.\n- Heel-to-toe walk: 3 lengths.",
    ),
    (
        "Week 5: Safe bending and lifting",
        "Hinge at the hips with a long spine instead of rounding forward. Practise the "
        "hip hinge with a broom along your back, then pick up a light bag the same way.\n\n"
        "- 10 hinge practices a day.\n- Avoid deep forward bends and twisting under load.",
    ),
    (
        "Week 6: Add light resistance",
        "Bring in a resistance band: rows for the upper back and pull-aparts for posture.\n\n"
        "- Band rows: 2 sets of 10.\n- Band pull-aparts: 2 sets of 10.\n"
        "- Keep walking; add two minutes each day.",
    ),
    (
        "Week 7: Load your bones by walking",
        "Bones respond to impact they are ready for. If your clinician agrees, add a "
        "light weighted vest (start at 4 lb) for part of your walk.\n\n"
        "- Vest walks: 10 minutes, three days this week.",
    ),
    (
        "Week 8: Core strength without crunches",
        "Crunches and sit-ups flex the spine; skip them. Build the core with a steady "
        "spine instead: bird-dog on hands and knees, and dead-bug on your back.\n\n"
        "- Bird-dog: 2 sets of 6 per side.\n- Dead-bug: 2 sets of 6 per side.",
    ),
    (
        "Week 9: Stairs and step-ups",
        "Step up onto a low, stable step, leading with alternate legs, holding a rail.\n\n"
        "- Step-ups: 2 sets of 8 per leg.\n- Take the stairs once a day where it is safe.",
    ),
    (
        "Week 10: Posture at home and at work",
        "Set up your chair, screen and kitchen so you are not reaching or hunching. "
        "Raise the screen to eye level; keep often-used pans at waist height.\n\n"
        "- Check your set-up with the list in this lesson.\n- Keep all earlier exercises.",
    ),
    (
        "Week 11: Put it together",
        "A 30-minute routine: 5 minutes of warm-up walking, the strength moves from "
        "weeks 2, 3, 6 and 8, balance from week 4, and a gentle cool-down.\n\n"
        "- Do the full routine three times this week.",
    ),
    (
        "Week 12: Your plan from here",
        "Look back at your notes from week 1. Choose the three moves you will keep, when "
        "you will do them, and how you will add load slowly over the next months.\n\n"
        "- Write your weekly plan.\n- Share it with your clinician at your next visit.",
    ),
]

FOOD_PLAN_WEEKS = [
    (
        "Week 1: A plate that builds bone",
        "Vegetables at every meal, enough protein, and foods rich in calcium and "
        "magnesium. Start by adding one serving of leafy greens a day.",
    ),
    (
        "Week 2: Calcium from food first",
        "Greens, beans, almonds, sardines with bones, yogurt and fortified foods. "
        "Spread calcium across the day rather than all at once.",
    ),
    (
        "Week 3: Vitamin D, K2 and magnesium",
        "The nutrients that help calcium reach bone. Ask your clinician about testing "
        "your vitamin D level.",
    ),
    (
        "Week 4: Keeping it going",
        "A shopping list, five quick meals, and how to eat well when eating out.",
    ),
]

VEST_SIZES = SIZE_ORDER  # the size guide's sizes (shop/options.py)
VEST_WEIGHTS = {4: 8900, 8: 10900, 12: 12900}  # added pounds: price in cents
# Limited stock, with one variant sold out and one nearly gone.
VEST_STOCK = {("S", 4): 2, ("XL", 12): 0}


def _tag(slug, name):
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        tag = Tag(slug=slug, name=name)
        db.session.add(tag)
    return tag


def _product(slug, **fields):
    if db.session.scalar(select(Product.id).where(Product.slug == slug)):
        return None
    product = Product(slug=slug, **fields)
    product.description_html = render_post(product.description_md)
    db.session.add(product)
    return product


def _lessons(product, weeks):
    for position, (title, body) in enumerate(weeks, start=1):
        product.lessons.append(
            ProgramLesson(position=position, title=title, body_md=body, body_html=render_post(body))
        )


# The two programs: slug, fields, tags, SKU, price in cents, lessons.
PROGRAMS = (
    (
        "12-week-back-strengthening-program",
        {
            "name": "12-Week Back-Strengthening Program",
            "summary": "A gentle, week-by-week plan for a stronger, straighter back and better balance.",
            "description_md": (
                "Twelve short weekly lessons that build a stronger back safely, from posture "
                "and breathing to light resistance and loaded walking.\n\n"
                "- About 20 minutes a day, at home, with a chair, a band and a wall.\n"
                "- Written for women with low bone density: no crunches, no deep twists.\n"
                "- Yours to keep: open it any time from the link in your email.\n\n"
                "Please check with your healthcare provider before starting a new exercise plan."
            ),
            "image_path": "img/shop/program-back.svg",
            "image_alt": "A calendar of twelve weeks",
            "position": 1,
        },
        ("exercise", "osteoporosis"),
        "PRG-BACK-12W",
        4900,
        BACK_PROGRAM_WEEKS,
    ),
    (
        "bone-building-food-plan",
        {
            "name": "Bone-Building Food Plan",
            "summary": "Four weeks of simple changes to eat for stronger bones.",
            "description_md": (
                "A four-week plan to put bone-building foods on your plate without fuss: "
                "what to eat more of, shopping lists and quick meals."
            ),
            "image_path": "img/shop/program-food.svg",
            "image_alt": "A bowl of leafy greens",
            "position": 2,
        },
        ("nutrition", "osteoporosis"),
        "PRG-FOOD-4W",
        2900,
        FOOD_PLAN_WEEKS,
    ),
)


def seed(large=False):
    """Add the demo products that are not there yet."""
    tags = {
        "exercise": _tag("exercise", "Exercise"),
        "nutrition": _tag("nutrition", "Nutrition"),
        "osteoporosis": _tag("osteoporosis", "Osteoporosis"),
    }
    for slug, fields, tag_slugs, sku, price_cents, weeks in PROGRAMS:
        program = _product(slug, kind=ProductKind.PROGRAM, **fields)
        if program:
            program.tags = [tags[tag_slug] for tag_slug in tag_slugs]
            program.variants.append(
                Variant(sku=sku, name="Online program", price_cents=price_cents, stock=None)
            )
            _lessons(program, weeks)

    vest = _product(
        "weighted-walking-vest",
        name="Weighted Walking Vest",
        kind=ProductKind.PHYSICAL,
        summary="A snug, adjustable vest with removable weights to load your bones as you walk.",
        description_md=(
            "Walking with a little extra weight close to your body gives your hips and "
            "spine a gentle, bone-building load.\n\n"
            "- Sizes S to XL, with 4, 8 or 12 lb of added weight in small removable bars.\n"
            "- Weight sits evenly front and back, so it does not pull you forward.\n"
            "- Start light; add bars as you grow stronger.\n\n"
            "Ships in the US and Canada."
        ),
        image_path="img/shop/vest.svg",
        image_alt="A dark teal weighted vest with four weight pockets",
        position=3,
    )
    if vest:
        vest.tags = [tags["exercise"], tags["osteoporosis"]]
        position = 0
        for size in VEST_SIZES:
            for pounds, price in VEST_WEIGHTS.items():
                position += 1
                vest.variants.append(
                    Variant(
                        sku=f"VEST-{size}-{pounds:02d}",
                        name=f"Size {size}, {pounds} lb",
                        size=size,
                        added_weight_lb=pounds,
                        price_cents=price,
                        stock=VEST_STOCK.get((size, pounds), 4 + (position * 3) % 9),
                        position=position,
                    )
                )
    seed_shipping_rates()
    db.session.flush()
    _seed_pictures()
    if large:
        _seed_large()


# Each demo product's gallery: the demo's illustrations (blueprints/media/illustrations.py).
GALLERIES = {
    "weighted-walking-vest": ("vest-front", "vest-bars", "vest-walk"),
    "12-week-back-strengthening-program": ("program-back",),
    "bone-building-food-plan": ("program-food",),
}


def _seed_pictures():
    """Give each demo product with an empty gallery its illustrations (in the media
    library, where staff can replace them)."""
    products = db.session.scalars(select(Product).where(Product.slug.in_(GALLERIES))).all()
    for product in products:
        if product.images:
            continue
        for position, name in enumerate(GALLERIES[product.slug]):
            product.images.append(ProductImage(image_id=demo_image(name).id, position=position))
    db.session.flush()


def seed_shipping_rates():
    """The demo's rates, when there are none at all (staff may have changed them)."""
    if db.session.scalar(select(func.count(ShippingRate.id))):
        return
    for position, (country, name, low, high, cents) in enumerate(SHIPPING_RATES):
        db.session.add(
            ShippingRate(
                country=country,
                name=name,
                min_days=low,
                max_days=high,
                amount_cents=cents,
                position=position,
            )
        )


LARGE_PRODUCTS = 300  # in all, with the demo ones
LARGE_ORDERS = 20_000
LARGE_PREFIX = "archive-item-"


def _seed_large():
    """Bulk-insert extra (inactive, so the shop page stays the same) products with one
    variant each, and 20,000 shipped orders of the vest; skipped once there."""
    have = db.session.scalar(select(func.count(Product.id))) or 0
    missing = LARGE_PRODUCTS - have
    if missing > 0:
        start = count_where(Product.id, Product.slug.like(LARGE_PREFIX + "%"))
        numbers = range(start, start + missing)
        insert_rows(
            Product,
            (
                {
                    "slug": f"{LARGE_PREFIX}{n}",
                    "name": f"Archived item {n}",
                    "kind": ProductKind.PHYSICAL,
                    "summary": "No longer sold.",
                    "active": False,
                    "position": 100 + n,
                }
                for n in numbers
            ),
        )
        ids = dict(
            db.session.execute(
                select(Product.slug, Product.id).where(Product.slug.like(LARGE_PREFIX + "%"))
            ).all()
        )
        insert_rows(
            Variant,
            (
                {
                    "product_id": ids[f"{LARGE_PREFIX}{n}"],
                    "sku": f"ARCH-{n}",
                    "name": "One size",
                    "price_cents": 1900,
                    "stock": 0,
                }
                for n in numbers
            ),
        )
    orders = count_where(Order.id, Order.stripe_session_id.like("cs_seed_%"))
    if orders >= LARGE_ORDERS:
        return
    variant = db.session.scalar(select(Variant).where(Variant.sku == "VEST-M-08"))
    if variant is None:
        return
    now = utcnow()
    numbers = range(orders, LARGE_ORDERS)
    insert_rows(
        Order,
        (
            {
                "status": OrderStatus.SHIPPED,
                "currency": "usd",
                "total_cents": variant.price_cents,
                "email": f"buyer{n}@example.com",
                "customer_name": f"Buyer {n}",
                "needs_shipping": True,
                "shipping_address": "1 Main St, Springfield",
                "stripe_session_id": f"cs_seed_{n}",
                "stripe_payment_intent_id": f"pi_seed_{n}",
                "created_at": now - timedelta(days=30, minutes=20 * n),
                "paid_at": now - timedelta(days=30, minutes=20 * n),
                "shipped_at": now - timedelta(days=29, minutes=20 * n),
            }
            for n in numbers
        ),
    )
    order_ids = db.session.scalars(
        select(Order.id)
        .where(Order.stripe_session_id.like("cs_seed_%"))
        .where(Order.id.not_in(select(OrderLine.order_id)))
    ).all()
    insert_rows(
        OrderLine,
        (
            {
                "order_id": order_id,
                "variant_id": variant.id,
                "product_id": variant.product_id,
                "description": "Weighted Walking Vest (Size M, 8 lb)",
                "sku": variant.sku,
                "unit_price_cents": variant.price_cents,
                "quantity": 1,
            }
            for order_id in order_ids
        ),
    )
