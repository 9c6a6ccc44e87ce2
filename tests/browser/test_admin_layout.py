"""Every staff page in Chromium, on a 390 px phone and a 1366 px laptop: nothing wider
than the screen (no sideways scrolling, no control past its edge), axe-core finds
nothing, and the schedule's actions work from the keyboard alone.

The pages come from the URL map, so a new admin page is swept too; one whose URL needs a
value this file cannot fill fails loudly instead of being skipped."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.account.customers import customer_for_email
from blueprints.blog.models import Comment, CommentStatus, Post
from blueprints.blog.revisions import record_revision
from blueprints.blog.seed import seed as seed_blog
from blueprints.booking.events import record_event
from blueprints.booking.models import Booking, BookingEventKind, CallType, ConsultationType
from blueprints.booking.seed import seed as seed_booking
from blueprints.core.markdown import render_comment
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from blueprints.newsletter.models import IssueStatus, NewsletterIssue
from blueprints.newsletter.seed import seed as seed_newsletter
from blueprints.shop.models import Order, OrderLine, OrderStatus, Product, ShippingRate
from blueprints.shop.seed import seed as seed_shop
from extensions import db
from tests.booking.conftest import free, make_confirmed
from tests.browser.conftest import assert_accessible, sign_in_staff
from tests.hardening.conftest import _library_image

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
# Not pages: a CSV download and the newsletter's HTML exactly as mail programs get it.
# Downloads, and a lookup that redirects to a customer's page (it needs ?email=).
NOT_PAGES = {
    "admin.newsletter_export",
    "admin.newsletter_preview_html",
    "admin.orders_csv",
    "admin.schedule_payments_csv",
    "admin.customer_by_email",
}
# Seen before signing in (the second step needs a pending sign-in).
SIGNED_OUT = {
    "admin.login",
    "admin.login_code",
    "admin.accept_invitation",
    "admin.accept_invitation_submit",
}
LONG_ROOM = "https://zoom.us/j/5551234567?pwd=" + "LongMeetingPasswordThatDoesNotBreak" * 2
LONG_EMAIL = "margaret.elizabeth.worthington-smythe.the-third@a-very-long-domain.example.com"


@pytest.fixture
def admin_world(app, staff_user):
    """The demo content, plus what makes a page wide: long addresses and links, a video
    consultation three days out with its intake answers, an order and a sent issue."""
    for seed in (seed_blog, seed_shop, seed_booking, seed_newsletter):
        seed()
    db.session.flush()
    post = db.session.scalar(select(Post).order_by(Post.id))
    comment = Comment(
        post=post,
        author_name="Margaret Worthington-Smythe",
        author_email=LONG_EMAIL,
        body_md="Thank you! https://example.com/" + "a-very-long-path-segment-" * 6,
        body_html=render_comment("Thank you! https://example.com/" + "a-long-path-" * 6),
        status=CommentStatus.PENDING,
    )
    db.session.add(comment)
    ctype = db.session.scalar(select(ConsultationType).order_by(ConsultationType.id))
    slot = free(ctype)[0]
    soon = make_confirmed(ctype, slot, email=LONG_EMAIL)
    soon.call_type = CallType.VIDEO
    soon.meeting_url = LONG_ROOM
    soon.fractures = "Wrist, 2019 (a fall on ice); two vertebrae, 2022"
    soon.goals = "Stronger hips, fewer falls, and off the medication if I safely can"
    later = [s for s in free(ctype) if s - slot >= timedelta(days=3)][0]
    joan = make_confirmed(ctype, later, email="joan@example.com")
    # A fee paid and one paid and partly given back: rows in the list of payments.
    record_event(soon, BookingEventKind.PAID, money_cents=soon.paid_cents)
    record_event(joan, BookingEventKind.PAID, money_cents=joan.paid_cents)
    record_event(joan, BookingEventKind.REFUNDED, money_cents=-5_000)
    product = db.session.scalar(select(Product).order_by(Product.id))
    variant = product.variants[0]
    order = Order(
        status=OrderStatus.PAID,
        currency="usd",
        total_cents=variant.price_cents + 2400,
        shipping_cents=2400,
        shipping_method="Canada: Standard, 5\u201310 business days",
        email=LONG_EMAIL,
        customer_name="Margaret Worthington-Smythe",
        needs_shipping=True,
        shipping_address="Margaret Worthington-Smythe\n1234 Long Avenue\nPortland OR 97201",
        paid_at=utcnow(),
        lines=[
            OrderLine(
                variant_id=variant.id,
                product_id=product.id,
                description=f"{product.name}, {variant.name}",
                sku=variant.sku,
                unit_price_cents=variant.price_cents,
                quantity=1,
            )
        ],
    )
    db.session.add(order)
    issue = NewsletterIssue(
        subject="This week: vitamin K2, walking and your spine",
        status=IssueStatus.SENDING,
        body_text="Text",
        body_html="<p>Text</p>",
        since_at=utcnow() - timedelta(days=9),
        until_at=utcnow() - timedelta(days=2),
    )
    db.session.add(issue)
    customer = customer_for_email(LONG_EMAIL)  # her staff page lists all of the above
    db.session.flush()
    revision = record_revision(post, actor=None)  # the post editor's revisions pages
    issue.status, issue.in_progress = IssueStatus.SENT, None
    db.session.commit()
    ids = {
        "customer_id": customer.id,
        "image_id": _library_image().id,
        "slug": "shipping-returns",  # the editable site pages (blueprints/pages)
        "post_id": post.id,
        "revision_id": revision.id,
        "comment_id": comment.id,
        "order_id": order.id,
        "product_id": product.id,
        "rate_id": db.session.scalar(select(ShippingRate.id).order_by(ShippingRate.id)),
        "day": soon.starts_at.astimezone(practitioner_zone()).date().isoformat(),
        "today": utcnow().astimezone(practitioner_zone()).date().isoformat(),
    }
    db.session.close()  # the live server's threads use their own sessions
    return ids


def admin_pages(app, ids):
    """Every staff page's path (and the schedule's other views), signed in."""
    paths = []
    unfilled = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or "GET" not in rule.methods:
            continue
        if rule.endpoint in NOT_PAGES | SIGNED_OUT:
            continue
        missing = [name for name in rule.arguments if name not in ids]
        if missing:
            unfilled.append((rule.rule, missing))
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(ids[name])).replace(
                f"<{name}>", str(ids[name])
            )
        paths.append(path)
    assert not unfilled, f"give these admin pages a value in admin_world: {unfilled}"
    day = ids["day"]
    paths += [
        f"/admin/schedule?view=day&day={day}",
        f"/admin/schedule?view=week&day={day}",
        f"/admin/schedule/day-sheet?day={day}",
        "/admin/comments?status=all",
        "/admin/orders?state=all",
        # This month's consultation payments (the page opens on them), and one day's.
        f"/admin/schedule/payments?first_day={ids['today']}&last_day={ids['today']}",
    ]
    return sorted(set(paths))


WIDER_THAN_THE_SCREEN = """() => {
  const width = window.innerWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) {
    wide.push("page scrollWidth " + document.documentElement.scrollWidth);
  }
  for (const el of document.querySelectorAll("a, button, input, select, textarea, summary")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.height && (box.right > width + 1 || (box.left < -1 && box.right > 0))) {
      wide.push(el.outerHTML.slice(0, 80) + " right=" + Math.round(box.right));
    }
  }
  return wide;
}"""


def _check_pages(page, app, ids, viewport):
    page.set_viewport_size(viewport)
    page.goto("/admin/login")
    assert page.evaluate(WIDER_THAN_THE_SCREEN) == []
    assert_accessible(page)
    sign_in_staff(page)
    problems = {}
    for path in admin_pages(app, ids):
        response = page.goto(path)
        assert response.status == 200, path
        wide = page.evaluate(WIDER_THAN_THE_SCREEN)
        if wide:
            problems[path] = wide[:5]
        assert_accessible(page)
    assert not problems, f"wider than {viewport['width']} px: {problems}"


def test_every_admin_page_fits_a_390px_phone_with_no_axe_violations(page, app, admin_world):
    _check_pages(page, app, admin_world, PHONE)


def test_every_admin_page_at_1366px_has_no_axe_violations(page, app, admin_world):
    _check_pages(page, app, admin_world, LAPTOP)


def test_admin_pages_use_their_own_layout_without_the_readers_footer(page, admin_world):
    page.set_viewport_size(PHONE)
    sign_in_staff(page)
    assert page.locator(".site-footer").count() == 0
    assert page.get_by_text("Sign up for our free weekly blog").count() == 0
    assert page.get_by_role("navigation", name="Admin").is_visible()
    # On a phone each table row is a stack of cells, each labelled with its column.
    page.goto("/admin/comments")
    cell = page.locator("tbody td[data-label]").first
    assert cell.get_attribute("data-label")
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"


def test_staff_set_a_meeting_link_with_the_keyboard_alone_on_a_phone(page, admin_world):
    page.set_viewport_size(PHONE)
    sign_in_staff(page)
    page.goto("/admin/schedule")
    assert page.get_by_text(LONG_EMAIL).first.is_visible()
    joan = page.locator("article", has_text="joan@example.com")
    summary = joan.get_by_text("Set the meeting link")
    assert summary.count() == 0  # a phone call: no meeting link to set
    card = page.locator("article", has_text=LONG_EMAIL)
    card.get_by_text("Change the meeting link").focus()
    page.keyboard.press("Enter")  # opens the details
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "url"
    page.keyboard.press("Control+A")
    page.keyboard.type("https://meet.example.com/dr-brown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Save the link")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Saved the meeting link")
    db.session.expire_all()
    saved = db.session.scalar(select(Booking.meeting_url).where(Booking.email == LONG_EMAIL))
    assert saved == "https://meet.example.com/dr-brown"


def test_the_day_sheet_prints_without_the_staff_navigation(page, admin_world):
    sign_in_staff(page)
    page.goto(f"/admin/schedule/day-sheet?day={admin_world['day']}")
    assert page.get_by_role("navigation", name="Admin").is_visible()
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Admin").is_visible()
    assert not page.get_by_text("Print this page with your browser").is_visible()
    assert page.get_by_text("Wrist, 2019 (a fall on ice)").is_visible()
    assert page.get_by_text(LONG_ROOM).is_visible()


# The controls a keyboard user must reach: visible and enabled (one taken out of the tab
# order is missed, unless also hidden from screen readers: a duplicate). Radio buttons of one group are one stop (the arrow keys move within
# it). Each one's look without the focus is kept, to tell that the focus changes it.
FOCUSABLE_CONTROLS = """() => {
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  const seenGroups = new Set();
  const wanted = [];
  let next = 0;
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || el.closest("[inert]")) continue;
    // Inside a closed disclosure only its summary shows (Chromium still lays out the rest).
    const closed = el.closest("details:not([open])");
    if (closed && el !== closed.querySelector(":scope > summary")) continue;
    // Hidden from the keyboard and from screen readers alike on purpose: a picture's copy
    // of the link beside it, the post form's default button for the Enter key.
    if (el.tabIndex < 0 && el.getAttribute("aria-hidden") === "true") continue;
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility !== "visible") continue;
    el.dataset.restLook = style.outlineStyle + style.outlineWidth + "|" + style.boxShadow;
    if (el.type === "radio") {
      const group = (el.form ? el.form.id || "form" : "") + "/" + el.name;
      if (seenGroups.has(group)) continue;
      seenGroups.add(group);
      for (const radio of document.querySelectorAll(`input[type=radio][name="${el.name}"]`)) {
        radio.dataset.keyboardStop = "radio:" + group;
      }
    } else {
      el.dataset.keyboardStop = "control:" + next++;
    }
    wanted.push([el.dataset.keyboardStop, el.outerHTML.slice(0, 120)]);
  }
  return wanted;
}"""

# What has the focus now, and whether it can be seen: an outline or a shadow it does not
# have without the focus; looked at again after two frames if not at once (a busy
# machine may restyle late).
FOCUSED = """async () => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  if (!el.dataset.keyboardStop) el.dataset.keyboardStop = "other:" + el.outerHTML.slice(0, 60);
  const [restOutline, restShadow] = (el.dataset.restLook || "none|none").split("|");
  const seen = () => {
    const style = getComputedStyle(el);
    const outline = style.outlineStyle + style.outlineWidth;
    const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    return (outlined && outline !== restOutline) || style.boxShadow !== restShadow;
  };
  let visible = seen();
  for (let frame = 0; !visible && frame < 2; frame++) {
    await new Promise(requestAnimationFrame);
    visible = seen();
  }
  return {stop: el.dataset.keyboardStop, seen: visible, html: el.outerHTML.slice(0, 100)};
}"""


def _tab_through(page):
    """Press Tab from the top of the page until the focus comes round again: the stops
    reached, in order, and those whose focus could not be seen."""
    wanted = page.evaluate(FOCUSABLE_CONTROLS)
    reached, unseen = [], []
    for _ in range(len(wanted) * 2 + 10):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:  # out of the page, before it comes round again
            if reached:
                break
            continue
        if reached and focused["stop"] == reached[0]:
            break
        if reached and focused["stop"] == reached[-1]:
            continue  # the next part of the same field (a date's day, month and year)
        reached.append(focused["stop"])
        if not focused["seen"]:
            unseen.append(focused["html"])
    return wanted, reached, unseen


def test_every_control_of_the_main_admin_pages_is_reached_by_tab_with_a_visible_focus(
    page, admin_world
):
    """Each page's links, buttons, fields and disclosures are reached by pressing Tab, in
    one pass that comes round to the start, and each shows where the focus is."""
    ids = admin_world
    paths = [
        "/admin/",
        "/admin/orders?state=all",
        f"/admin/orders/{ids['order_id']}",
        "/admin/schedule",
        "/admin/schedule/payments",
        "/admin/comments",
        "/admin/media",
        f"/admin/posts/{ids['post_id']}/edit",
        "/admin/products",
        "/admin/staff",
        "/admin/customers",
        "/admin/audit",
    ]
    page.set_viewport_size(LAPTOP)
    sign_in_staff(page)
    problems = {}
    for path in paths:
        page.goto(path)
        page.locator("body").focus()
        wanted, reached, unseen = _tab_through(page)
        missed = [html for stop, html in wanted if stop not in reached]
        if missed or unseen or len(reached) != len(set(reached)):
            problems[path] = f"missed {missed[:5]}; focus not visible on {unseen[:5]}"
        assert len(wanted) > 3, path  # the page's own controls, not only the menu
    assert not problems, "\n".join(f"{path}: {problem}" for path, problem in problems.items())
