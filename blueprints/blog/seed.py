"""Demo content for the blog: the spinal-exercise article with 20 approved comments (the
benchmark's seed post), and a dozen short posts. Safe to run twice: posts are matched
by slug."""

from datetime import timedelta

from sqlalchemy import select

from blueprints.blog.editing import create_post, slugify
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus, Tag, post_tag
from blueprints.blog.references import ReferenceData
from blueprints.core.bulk import count_where, insert_rows
from blueprints.core.markdown import render_comment, render_post
from blueprints.core.types import utcnow
from blueprints.media.illustrations import demo_image
from extensions import db

SPINE_SLUG = "how-to-increase-spinal-bone-density-with-exercise"

SPINE_BODY = """\
A strong back matters more with every birthday. It holds us upright, lets us carry the
shopping, move a chair or lift a grandchild, and keeps us free of pain and able to play.
In short, it keeps us active for life.

There is now one more reason to build the muscles of the back: they appear to help the
bones of the spine.

## What the Korean study found

Researchers in Korea looked at women aged 60 to 75. Each woman had a magnetic resonance
(MRI) scan of her **paraspinal muscles**, the long muscles that run up the back on either
side of the spine, and a bone mineral density test. The women whose lower-back muscles
were larger and better developed had higher bone density than the women with less muscle
there.[^1]

This matters because back strength does not hold steady on its own. A woman who does no
regular exercise for the lower back loses around **half of her back muscle strength**
between the ages of 50 and 80.

## Five Better Bones tips for a stronger lower back

1. **Build the back extensors on purpose.** Choose exercises that work the muscles which
   straighten the spine. My favourite is the back-strengthening program from the Mayo
   Clinic, which was used safely even by women who had already had a spinal fracture.[^2]
2. **Treat good posture as exercise.** Stand tall with your shoulders back and relaxed,
   as if you were showing off a beautiful necklace. Holding yourself this way works the
   back all day long.
3. **Add some weight.** Light hand weights for the arms (bicep curls, arm raises) are an
   easy way to begin, and a trainer who checks your form and adjusts your routine is a
   great help. If you love to walk, a weighted vest turns each walk into strength work
   for muscle and bone, without extra time.
4. **Try mindful movement.** Yoga and Pilates include many postures that strengthen the
   back gently and steadily.
5. **Ask a physical therapist.** Their advice is always worthwhile, and especially so if
   you have had a fracture or live with another health condition.

Start with one of these this week. Your spine will thank you for years to come.
"""

# Cited in SPINE_BODY as [^1] and [^2].
SPINE_REFERENCES = [
    ReferenceData(
        authors="Lee D-Y, et al",
        title=(
            "Relationship between bone mineral density and spinal muscle area in magnetic "
            "resonance imaging"
        ),
        journal="J Bone Metab",
        year=2015,
        volume="22",
        issue="4",
        pages="197-204",
        doi="10.11005/jbm.2015.22.4.197",
        pmid="26713311",
    ),
    ReferenceData(
        authors="Sinaki M, et al",
        title=(
            "Stronger back muscles reduce the incidence of vertebral fractures: a prospective "
            "10 year follow-up of postmenopausal women"
        ),
        journal="Bone",
        year=2002,
        volume="30",
        issue="6",
        pages="836-841",
        pmid="12052450",
    ),
]
# A stand-in for the clinician who reviews the practice's articles (staff set the real one).
SPINE_REVIEWER = "Jane Smith, MD"

# (title, summary, tags, body)
DEMO_POSTS = [
    (
        "Calcium: how much do you really need?",
        "Food first, supplements second: a simple way to reach your daily calcium.",
        ["calcium", "nutrition"],
        "Calcium is the best known bone mineral, but more is not always better.\n\n"
        "Most women over 50 do well with about 1,000 to 1,200 mg a day **from all "
        "sources**. Start by adding up what you eat: leafy greens, almonds, sesame, "
        "canned fish with bones, yogurt and fortified foods all count.\n\n"
        "If you fall short, a modest supplement taken with meals fills the gap. Split "
        "larger amounts into two doses, because the body absorbs calcium best in small "
        "portions.",
    ),
    (
        "Vitamin D: the key that lets calcium in",
        "Without enough vitamin D, the calcium you eat cannot reach your bones.",
        ["vitamin D", "nutrition"],
        "Vitamin D helps the gut absorb calcium. When it runs low, the body takes "
        "calcium from the skeleton instead.\n\n"
        "Sunlight on bare skin makes vitamin D, but in winter, at northern latitudes and "
        "as we age, we make much less. A simple blood test (25-hydroxy vitamin D) tells "
        "you where you stand. Ask your healthcare provider about testing before you "
        "choose a dose.",
    ),
    (
        "Vitamin K2 and your bones",
        "The quiet partner of vitamin D that helps put calcium where it belongs.",
        ["vitamin K", "nutrition"],
        "Vitamin K2 activates proteins that bind calcium into bone. Good food sources "
        "include natto, some aged cheeses and egg yolks from pasture-raised hens.\n\n"
        "If you take a blood thinner such as warfarin, talk with your doctor before "
        "changing your vitamin K intake.",
    ),
    (
        "Walking for stronger bones",
        "The simplest weight-bearing exercise, and how to get more from it.",
        ["exercise", "walking"],
        "Walking loads the bones of the hips and legs with every step. To make it count:\n\n"
        "- walk briskly enough that talking takes a little effort;\n"
        "- add short hills or stairs;\n"
        "- aim for 30 minutes on most days, in shorter bouts if you like.\n\n"
        "A weighted vest adds gentle load without changing your routine.",
    ),
    (
        "Balance training to prevent falls",
        "Most fractures follow a fall. Better balance is fracture prevention.",
        ["balance", "falls", "exercise"],
        "A strong skeleton is only half the story: the other half is not falling.\n\n"
        "Try standing on one foot while you brush your teeth (hold the counter at "
        "first), walking heel to toe along a hallway, or a weekly tai chi class. Small "
        "daily practice improves balance at any age.",
    ),
    (
        "Making your home safer from falls",
        "Five quick changes that remove common trip hazards.",
        ["falls", "safety"],
        "1. Remove loose rugs or fix them down.\n"
        "2. Light the way to the bathroom at night.\n"
        "3. Put grab bars by the toilet and in the shower.\n"
        "4. Keep everyday things on shelves you can reach.\n"
        "5. Wear shoes with firm soles indoors.",
    ),
    (
        "Understanding your DEXA scan",
        "T-scores, Z-scores and what the numbers can and cannot tell you.",
        ["DEXA", "testing"],
        "A DEXA scan measures bone mineral density, usually at the hip and spine. The "
        "**T-score** compares you with a young adult; the **Z-score** with women of your "
        "own age.\n\n"
        "Density is only one part of bone strength. Bone quality, muscle strength, "
        "balance and fall risk matter too, so read your results as one piece of a "
        "bigger picture.",
    ),
    (
        "Protein: a building block of bone",
        "Bone is about half protein by volume. Are you eating enough?",
        ["protein", "nutrition"],
        "Protein forms the flexible framework that minerals attach to. Many older women "
        "eat too little of it.\n\n"
        "Include a good source at each meal: eggs, fish, poultry, beans, lentils, nuts "
        "or yogurt. Spreading protein through the day helps muscles too.",
    ),
    (
        "The alkaline diet and bone health",
        "Why plenty of vegetables and fruit helps your bones keep their minerals.",
        ["alkaline diet", "nutrition"],
        "A diet heavy in processed foods produces acid that the body must neutralise, "
        "partly with minerals from bone. Vegetables and fruit supply alkaline minerals "
        "such as potassium and magnesium that do this job instead.\n\n"
        "A simple goal: fill half your plate with vegetables at lunch and dinner.",
    ),
    (
        "Magnesium: the overlooked bone mineral",
        "Much of the body's magnesium lives in bone, yet many of us eat too little.",
        ["magnesium", "nutrition"],
        "Magnesium helps activate vitamin D and supports bone crystal formation. Leafy "
        "greens, pumpkin seeds, almonds, beans and whole grains are rich sources.",
    ),
    (
        "Stress, sleep and your skeleton",
        "Long-term stress and poor sleep can tip the balance toward bone loss.",
        ["stress", "lifestyle"],
        "Stress hormones such as cortisol slow bone building when they stay high for "
        "long. Regular sleep, time outdoors, gentle exercise and time with friends all "
        "help bring them down.",
    ),
    (
        "Getting started with a weighted vest",
        "How to choose a vest and build up the weight safely.",
        ["weighted vests", "exercise", "walking"],
        "Start light, at about 2 to 4 percent of your body weight, and wear the vest for "
        "short walks. Add weight slowly over weeks. The vest should sit snugly and evenly "
        "on your torso, never pulling you forward.\n\n"
        "If you have a spinal fracture or back pain, check with your healthcare provider "
        "or a physical therapist first.",
    ),
    (
        "Bone health after menopause",
        "Why bone loss speeds up after menopause, and what you can do about it.",
        ["menopause", "lifestyle"],
        "Estrogen helps protect bone. As it falls at menopause, bone loss speeds up for "
        "several years. Good nutrition, regular strength and balance exercise and not "
        "smoking all slow it down, and it is never too late to start.",
    ),
]

# Dr. Brown's reply in the demo: written as staff replies are (``add_staff_reply``), under
# the post's author name with the "Author" badge.
THE_AUTHOR = "<the post's author>"

DEMO_COMMENTS = [
    # (name, email, body, reply to index or None, hours after publication); a name of
    # THE_AUTHOR is the post's author replying as staff.
    (
        "Margaret",
        "margaret@example.com",
        "Thank you for this. I started the posture exercise last month and my back "
        "already feels stronger.",
        None,
        5,
    ),
    (
        "Ellen R.",
        "ellen@example.com",
        "Is the weighted vest safe if I have mild scoliosis? I love my daily walks.",
        None,
        9,
    ),
    (
        THE_AUTHOR,
        "susan@betterbones.example",
        "Good question, Ellen. Many women with mild scoliosis use a vest, but please ask "
        "a physical therapist to check the fit and the weight for you first.",
        1,
        20,
    ),
    *[
        (name, f"{name.split()[0].lower().rstrip('.')}@example.net", body, None, hours)
        for name, body, hours in (
            ("Joan P.", "I am 72 and just started. Is it too late to build bone?", 26),
            ("Barbara", "The wall push-ups are my favourite. Easy on my wrists.", 30),
            ("Linda M.", "My DEXA scan improved a little after a year of walking daily.", 34),
            ("Patricia", "Could you write more about exercises I can do sitting down?", 40),
            ("Carol Ann", "Printed this out for my walking group. Thank you!", 44),
            ("Dorothy", "How heavy should a first weighted vest be?", 49),
            ("Nancy W.", "My physical therapist said the same about back extensions.", 55),
            ("Sandra", "Tai chi helped my balance more than I expected.", 61),
            ("Ruth", "Is swimming good for bones, or only for the heart?", 68),
            ("Helen K.", "I have osteopenia in my hip. Do these help the hip too?", 75),
            ("Judith", "Clear and kind, as always. It gives me hope.", 83),
            ("Frances", "I do the posture exercise while the kettle boils.", 90),
            ("Gloria", "Three months of stair climbing and I feel steadier.", 98),
            ("Marie L.", "Thank you for listing the studies, my doctor liked that.", 107),
            ("Shirley", "Started with two minutes a day, now I do fifteen.", 116),
            ("Beverly", "My sister and I walk together with our vests now.", 125),
            ("Irene", "Very encouraging for someone who never liked sports.", 134),
        )
    ],
]


LARGE_POSTS = 10_000
LARGE_COMMENTS_PER_POST = 20  # 200,000 comments in all
LARGE_PREFIX = "archive-note-"


def seed(large=False):
    """Add the demo posts and comments that are missing; ``large`` adds 10,000 older
    posts with 20 approved comments each (the benchmark's data set)."""
    _seed_demo()
    _seed_pictures()
    if large:
        _seed_large()


def _seed_large():
    """Bulk-insert the archive posts, their tags and comments; skipped once there."""
    if count_where(Post.id, Post.slug.like(LARGE_PREFIX + "%")) >= LARGE_POSTS:
        return
    now = utcnow()
    body = DEMO_POSTS[0][3]
    body_html = render_post(body)  # one render: every archive post has the same body
    existing = set(db.session.scalars(select(Post.slug).where(Post.slug.like(LARGE_PREFIX + "%"))))
    numbers = [n for n in range(LARGE_POSTS) if f"{LARGE_PREFIX}{n}" not in existing]
    insert_rows(
        Post,
        (
            {
                "slug": f"{LARGE_PREFIX}{n}",
                "title": f"Archive note {n}: bone health through the years",
                "summary": "An older note from the archive about bones, food and movement.",
                "body_md": body,
                "body_html": body_html,
                "status": PostStatus.PUBLISHED,
                # Older than every demo post, one every few hours back in time.
                "published_at": now - timedelta(days=200, hours=3 * n),
                "created_at": now - timedelta(days=200, hours=3 * n),
                "updated_at": now - timedelta(days=200, hours=3 * n),
            }
            for n in numbers
        ),
    )
    ids = {
        int(slug.removeprefix(LARGE_PREFIX)): post_id
        for post_id, slug in db.session.execute(
            select(Post.id, Post.slug).where(Post.slug.like(LARGE_PREFIX + "%"))
        )
    }
    tag_ids = list(db.session.scalars(select(Tag.id).order_by(Tag.id)))
    if tag_ids:
        insert_rows(
            post_tag,
            (
                {"post_id": ids[n], "tag_id": tag_ids[(n + k) % len(tag_ids)]}
                for n in numbers
                for k in (0, 7)
                if k == 0 or len(tag_ids) > 7
            ),
        )
    comment_html = render_comment("Thank you, this is clear and useful.")
    insert_rows(
        Comment,
        (
            {
                "post_id": ids[n],
                "author_name": f"Reader {c}",
                "author_email": f"reader{c}@example.com",
                "body_md": "Thank you, this is clear and useful.",
                "body_html": comment_html,
                "status": CommentStatus.APPROVED,
                "created_at": now - timedelta(days=199, hours=3 * n - c),
                "moderated_at": now - timedelta(days=199, hours=3 * n - c),
            }
            for n in numbers
            for c in range(LARGE_COMMENTS_PER_POST)
        ),
    )


def _seed_demo():
    now = utcnow()
    existing = set(db.session.scalars(select(Post.slug)))
    if SPINE_SLUG not in existing:
        # Its comments come up to DEMO_COMMENTS' last hour after it: all of them, and its
        # review, lie in the past on the day the demo is loaded.
        published = now - timedelta(hours=max(c[-1] for c in DEMO_COMMENTS) + 24)
        spine = create_post(
            "How to increase spinal bone density with exercise",
            SPINE_BODY,
            slug=SPINE_SLUG,
            summary=(
                "Stronger back muscles go with denser spinal bones. Five ways to build "
                "them, whatever your age."
            ),
            tags=["exercise", "spine", "weighted vests"],
            references=SPINE_REFERENCES,
            published_at=published,
            reviewed_at=published + timedelta(days=1),
            reviewer_name=SPINE_REVIEWER,
        )
        _seed_comments(spine)
    for number, (title, summary, tags, body) in enumerate(DEMO_POSTS, start=1):
        slug = slugify(title)
        if slug in existing:
            continue
        published = now - timedelta(days=9 * number, hours=number)
        create_post(
            title,
            body,
            slug=slug,
            summary=summary,
            tags=tags,
            published_at=published,
            # Reviewed a while after it was published, never later than today.
            reviewed_at=published + timedelta(days=3 * number) if number % 3 == 0 else None,
        )


def _seed_comments(post):
    made = []
    for name, email, body, parent, hours in DEMO_COMMENTS:
        at = post.published_at + timedelta(hours=hours)
        by_staff = name == THE_AUTHOR
        comment = Comment(
            post=post,
            parent_id=made[parent].id if parent is not None else None,
            author_name=post.author_name if by_staff else name,
            author_email=email,
            by_staff=by_staff,
            as_author=by_staff,  # the owner's reply: the Author badge
            body_md=body,
            body_html=render_comment(body),
            status=CommentStatus.APPROVED,
            created_at=at,
            moderated_at=at,
        )
        db.session.add(comment)
        db.session.flush()
        made.append(comment)


# The main picture of some demo posts: the demo's illustrations
# (blueprints/media/illustrations.py), in the media library where staff can replace them.
POST_PICTURES = {
    SPINE_SLUG: "post-spine",
    "walking-for-stronger-bones": "post-walking",
    "calcium-how-much-do-you-really-need": "post-calcium",
    "balance-training-to-prevent-falls": "post-balance",
}


def _seed_pictures():
    """Give each of those posts without a main picture its illustration."""
    posts = db.session.scalars(
        select(Post).where(Post.slug.in_(POST_PICTURES), Post.hero_image_id.is_(None))
    ).all()
    for post in posts:
        post.hero_image_id = demo_image(POST_PICTURES[post.slug]).id
    db.session.flush()
