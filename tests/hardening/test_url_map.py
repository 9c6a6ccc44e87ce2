"""Every route that changes state refuses GET and refuses a POST without a CSRF token.

The walk covers ``app.url_map`` itself, so a route added later is checked too.
"""

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import RequestRedirect

from extensions import db
from tests.hardening.conftest import url_for_rule

# POSTs that cannot carry our CSRF token, and what guards them instead.
CSRF_EXEMPT = {
    # Stripe signs the raw body (Stripe-Signature, 300 s tolerance).
    "core.stripe_webhook",
    # RFC 8058 one-click unsubscribe: mail clients POST without our page; the signed
    # token in the URL is the credential.
    "newsletter.unsubscribe",
}

# Endpoints that answer GET and POST on one URL: GET shows the form, POST sends it. GET
# only reads (the test below checks that no row changes).
GET_AND_POST_FORMS = {
    "admin.login": "the sign-in form",
    "admin.login_code": "the second sign-in step (code form)",
    "admin.two_factor": "the second-factor page: shows the key, POST confirms it",
    "admin.post_new": "the new-post form",
    "admin.post_edit": "the post editor",
    "admin.comment_reply": "a staff reply to one comment",
    "admin.product_edit": "the product editor (new and existing)",
    "admin.shipping_rate_edit": "the shipping-rate editor (new and existing)",
    "admin.media_image": "one image of the library: shows it, POST saves its description",
    "booking.book": "the booking form for a chosen time",
    "booking.cancel": "the cancellation page that states the refund before she confirms",
    "booking.reschedule": "the calendar of other times, then the one she picks to confirm",
    "newsletter.signup": "the signup page",
    "pages.contact": "the contact page with its form",
    "admin.page_edit": "the editor of one page (About, Terms...)",
}

# GET routes that write, and why that is safe. The success page asks Stripe (never the
# browser) whether the order was paid and applies that answer exactly as the webhook
# would, so a reader sees her order at once even before the webhook arrives.
GET_THAT_APPLIES_STRIPE_STATE = {"shop.success"}

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _snapshot():
    """Every row of every table, to prove a request wrote nothing."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        snapshot[table.name] = sorted(repr(tuple(row)) for row in rows)
    db.session.rollback()
    return snapshot


def test_every_state_changing_route_uses_post_only_or_is_a_listed_form(app):
    for rule in _rules(app):
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert methods <= {"GET", "POST"}, f"{rule.endpoint} answers {methods}"
        if methods == {"GET", "POST"}:
            assert rule.endpoint in GET_AND_POST_FORMS, (
                f"{rule.rule} answers GET and POST: make GET read-only and list it, or split it"
            )


def test_post_only_routes_refuse_get_with_405(app, client, seeded, auth):
    auth.login()
    before = _snapshot()
    adapter = app.url_map.bind("localhost")
    checked = []
    for rule in _rules(app):
        if rule.methods - {"HEAD", "OPTIONS"} != {"POST"}:
            continue
        url = url_for_rule(rule, seeded)
        try:
            other, _args = adapter.match(url, method="GET")
        except RequestRedirect:  # /consultations/timezone -> /consultations/<slug>/
            other = None
        except MethodNotAllowed:
            response = client.get(url)
            assert response.status_code == 405, f"GET {rule.rule} gave {response.status_code}"
            assert "POST" in response.headers["Allow"]
        else:
            # The same address shows a page (a post and its comment form, say): GET
            # reaches that read-only view, never this one.
            assert other != rule.endpoint
            assert client.get(url).status_code in (200, 302, 308, 400, 404)
        checked.append(rule.endpoint)
    assert _snapshot() == before
    assert {"blog.comment", "shop.checkout", "admin.logout", "booking.release"} <= set(checked)
    assert len(checked) >= 29


def test_every_post_without_a_csrf_token_is_refused_with_400_and_writes_nothing(
    app, client, seeded, auth
):
    auth.login()  # staff routes too: a signed-in session is what CSRF protects
    before = _snapshot()
    refused = []
    for rule in _rules(app):
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        response = client.post(url_for_rule(rule, seeded), data={"anything": "1"}, csrf=False)
        assert response.status_code == 400, f"POST {rule.rule} gave {response.status_code}"
        assert "This form had expired" in response.get_data(as_text=True)
        refused.append(rule.endpoint)
    assert _snapshot() == before
    assert len(refused) >= 35


def test_the_two_csrf_exempt_posts_need_their_own_credentials(app, client, seeded):
    before = _snapshot()
    unsigned = client.post("/stripe/webhook", data=b"{}", content_type="application/json")
    assert unsigned.status_code == 400
    forged = client.post(
        "/stripe/webhook", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}, csrf=False
    )
    assert forged.status_code == 400
    bad_token = client.post("/newsletter/unsubscribe/not-a-real-token", csrf=False)
    assert bad_token.status_code in (400, 404)
    assert _snapshot() == before


def test_get_on_the_listed_form_routes_reads_only(app, client, seeded, auth):
    auth.login()
    before = _snapshot()
    for rule in _rules(app):
        if rule.endpoint not in GET_AND_POST_FORMS:
            continue
        url = url_for_rule(rule, seeded)
        if rule.endpoint == "booking.book":
            url += "?slot=" + seeded["free_slot"]
        response = client.get(url)
        assert response.status_code in (200, 302, 303), f"GET {url} gave {response.status_code}"
    assert _snapshot() == before


@pytest.mark.parametrize("endpoint", sorted(GET_THAT_APPLIES_STRIPE_STATE))
def test_get_that_writes_takes_nothing_from_the_browser(app, client, endpoint):
    # Without a session id it knows, the page writes nothing at all.
    before = _snapshot()
    with app.test_request_context():
        url = url_for(endpoint, session_id="cs_forged")
    assert client.get(url).status_code in (200, 404)
    assert _snapshot() == before
