"""Program links: an order opens only its own programs; everything an address owns is
shown only through a link sent to that mailbox; a full refund ends an order's access."""

import re
from collections import deque
from urllib.parse import urlsplit

from blueprints.core.links import signer
from tests.conftest import text_part
from tests.shop.conftest import add_to_cart, checkout, latest_order, make_program
from tests.stripe_fake import make_event, post_event

VICTIM = "victim@example.com"
VICTIM_LESSON = "Private lesson of the twelve-week program"
CHEAP_LESSON = "Lesson of the cheapest program"


def _program(slug, name, price_cents, lesson_text, position=0):
    return make_program(
        price_cents,
        lessons=2,
        slug=slug,
        name=name,
        sku=slug.upper(),
        summary=f"{name}.",
        lesson_text=lesson_text + " number {n}.",
        position=position,
    )


def _buy(app, stripe_api, product, email):
    """A visitor of their own buys ``product``, typing ``email`` on Stripe's page; the
    success page they land on."""
    buyer = app.test_client()
    add_to_cart(buyer, product.variants[0])
    assert checkout(buyer).status_code == 303
    session_id = latest_order().stripe_session_id
    stripe_api.pay(session_id, email=email)
    page = buyer.get(f"/shop/success?session_id={session_id}")
    assert page.status_code == 200
    return buyer, page.get_data(as_text=True)


def _links(html):
    """The site's own links on a page (not its static files)."""
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        parts = urlsplit(href.replace("&amp;", "&"))
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            continue
        if parts.path.startswith("/static/"):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _crawl(client, start_html):
    """Every page linked from the success page, and everything reachable from there
    under /account/ (program pages and their lessons): {url: (status, text)}."""
    seen = {}
    queue = deque((url, 1) for url in _links(start_html))
    while queue and len(seen) < 120:
        url, depth = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        text = response.get_data(as_text=True)
        seen[url] = (response.status_code, text)
        for link in _links(text):
            if link not in seen and (link.startswith("/account/") or depth < 1):
                queue.append((link, depth + 1))
    return seen


def _order_link(html):
    [link] = [url for url in _links(html) if url.startswith("/account/order/")]
    return link


def test_a_typed_email_opens_only_the_programs_of_that_order(app, stripe_api, mailbox):
    twelve_week = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    cheapest = _program("stretch-basics", "Stretch Basics", 900, CHEAP_LESSON, position=1)
    victim, victim_page = _buy(app, stripe_api, twelve_week, VICTIM)
    victim_pages = _crawl(victim, victim_page)
    assert any(VICTIM_LESSON in text for _status, text in victim_pages.values())

    # The attacker buys the cheapest program, typing the victim's email at Stripe.
    attacker, success_page = _buy(app, stripe_api, cheapest, VICTIM)
    pages = _crawl(attacker, success_page)

    assert VICTIM_LESSON not in success_page
    for url, (_status, text) in pages.items():
        assert VICTIM_LESSON not in text, url
    for url, (status, text) in pages.items():
        assert "back-program/" not in url or status != 200, url
        assert "/account/programs/" not in text, url
    assert "/account/programs/" not in success_page  # no address-wide link on a page
    assert any(CHEAP_LESSON in text for _status, text in pages.values())  # the crawl reached it
    order_page = pages[_order_link(success_page)][1]
    assert "Stretch Basics" in order_page and "12-Week Back Program" not in order_page
    # Guessing the other program's lesson under the attacker's own link finds nothing.
    guess = attacker.get(_order_link(success_page) + "/back-program/1")
    assert guess.status_code == 404 and VICTIM_LESSON not in guess.get_data(as_text=True)


def test_the_order_email_links_only_to_that_order(app, stripe_api, mailbox):
    program = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    _buy(app, stripe_api, program, VICTIM)
    body = text_part(mailbox.wait_for(1)[0])
    assert "/account/order/" in body and "/account/programs/" not in body


def test_a_full_refund_ends_the_order_link_at_once(app, stripe_api, mailbox):
    program = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    buyer, page = _buy(app, stripe_api, program, VICTIM)
    link = _order_link(page)
    assert VICTIM_LESSON in buyer.get(link + "/back-program/1").get_data(as_text=True)
    order = latest_order()
    payment_intent = order.stripe_payment_intent_id
    stripe_api.add_refund(payment_intent, "re_full", order.total_cents)
    charge = {
        "id": f"ch_{order.id}",
        "object": "charge",
        "payment_intent": payment_intent,
        "metadata": {"kind": "order", "id": str(order.id)},
    }

    assert post_event(buyer, make_event("charge.refunded", charge)).status_code == 200

    ended = buyer.get(link)
    text = ended.get_data(as_text=True)
    assert ended.status_code == 200 and "access ended" in text.lower()
    assert "/back-program/1" not in text
    lesson = buyer.get(link + "/back-program/1")
    assert lesson.status_code == 404 and VICTIM_LESSON not in lesson.get_data(as_text=True)


def test_a_tampered_order_link_opens_nothing(app, stripe_api, mailbox):
    program = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    buyer, page = _buy(app, stripe_api, program, VICTIM)
    link = _order_link(page)
    order = latest_order()
    forged = signer("shop.order-programs").dumps([order.id, "not-the-key"])
    for url in (link[:-3] + "xyz", f"/account/order/{forged}"):
        response = buyer.get(url)
        assert response.status_code == 404
        assert "12-Week Back Program" not in response.get_data(as_text=True)


def test_all_programs_of_an_address_go_only_to_that_mailbox(app, client, stripe_api, mailbox):
    program = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    _buy(app, stripe_api, program, VICTIM)
    mailbox.clear()

    form = client.get("/account/programs")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)
    answers = []
    for email in (VICTIM.upper(), "nobody@example.com"):
        response = client.post("/account/programs", data={"email": email}, follow_redirects=True)
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]*"', "", response.get_data(as_text=True)))
    assert answers[0] == answers[1]  # the same answer, whatever the address

    [message] = mailbox.wait_for(1)
    assert VICTIM in str(message["To"])
    [link] = re.findall(r"http://localhost(/account/programs/\S+)", text_part(message))
    page = client.get(link).get_data(as_text=True)
    assert "12-Week Back Program" in page
    assert VICTIM_LESSON in client.get(link + "/back-program/1").get_data(as_text=True)


def test_an_address_wide_link_from_before_the_fix_no_longer_opens(app, stripe_api, mailbox):
    program = _program("back-program", "12-Week Back Program", 14900, VICTIM_LESSON)
    buyer, _page = _buy(app, stripe_api, program, VICTIM)
    # What the success page used to show anyone who typed this address at Stripe.
    leaked = signer("shop.my-programs").dumps(VICTIM)
    response = buyer.get(f"/account/programs/{leaked}")
    assert response.status_code == 404
    assert "12-Week Back Program" not in response.get_data(as_text=True)
    assert buyer.get(f"/account/programs/{leaked}/back-program/1").status_code == 404
