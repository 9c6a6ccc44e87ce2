"""Every page the site shows, public and staff, with the demo content: no HTML id twice on
a page, and every field that its form requires marked ``required``.

The walk covers ``app.url_map``, so a page added later is checked too.
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from flask import url_for

from blueprints.admin.forms import CodeForm, LoginForm, PostForm
from blueprints.blog.forms import CommentForm
from blueprints.booking.forms import BlockForm, BookingForm, OverrideForm, WeeklyHoursForm
from blueprints.media.forms import AltTextForm, UploadForm
from blueprints.newsletter.forms import SignupForm
from blueprints.pages.forms import ContactForm, PageForm
from blueprints.shop.forms import (
    AddToCartForm,
    CartLineForm,
    ProductForm,
    RefundForm,
    ShipForm,
    ShippingRateForm,
    TrackingForm,
    VariantForm,
)
from tests.hardening.conftest import url_for_rule

# The form class each POST endpoint validates, with the prefix its page renders it with.
FORMS = {
    "admin.login": (LoginForm, ""),
    "admin.login_code": (CodeForm, ""),
    "admin.two_factor": (CodeForm, ""),
    "admin.two_factor_off": (CodeForm, ""),
    "admin.post_new": (PostForm, ""),
    "admin.post_edit": (PostForm, ""),
    "admin.product_edit": (ProductForm, ""),
    "admin.media_upload": (UploadForm, ""),
    "admin.media_image": (AltTextForm, ""),
    "admin.variant_save": (VariantForm, ""),
    "admin.shipping_rate_edit": (ShippingRateForm, ""),
    "admin.order_ship": (ShipForm, ""),
    "admin.order_refund": (RefundForm, ""),
    "admin.order_tracking": (TrackingForm, ""),
    "admin.availability_add_hours": (WeeklyHoursForm, "hours"),
    "admin.availability_add_override": (OverrideForm, "override"),
    "admin.availability_add_block": (BlockForm, "block"),
    "blog.comment": (CommentForm, ""),
    "booking.book": (BookingForm, ""),
    "shop.add_to_cart": (AddToCartForm, ""),
    "shop.update_cart": (CartLineForm, ""),
    "newsletter.signup": (SignupForm, ""),
    "pages.contact": (ContactForm, ""),
    "admin.page_edit": (PageForm, ""),
}

# Pages whose URL values the walk does not guess: a demo tag, a search with a second
# page, the demo vest (options and a quantity).
EXTRA_PAGES = ["/blog/tag/exercise", "/blog/search?q=bone", "/shop/weighted-walking-vest"]

# Answers that are not HTML pages.
NOT_HTML = ("xml", "csv", "calendar", "json", "text/plain")


class _Markup(HTMLParser):
    """The ids on a page, its forms (action and id), and each form control with the form
    it belongs to (the enclosing <form>, or the one its ``form`` attribute names)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = Counter()
        self.forms = []  # (action, id)
        self.controls = []  # (index into forms or the form attribute, name, attrs)
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        if tag == "form":
            self.forms.append((attrs.get("action", ""), attrs.get("id")))
            self._open = len(self.forms) - 1
        elif tag in ("input", "select", "textarea") and attrs.get("name"):
            owner = attrs.get("form", self._open)
            self.controls.append((owner, attrs["name"], attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None

    def controls_of(self, index):
        form_id = self.forms[index][1]
        return [
            (name, attrs)
            for owner, name, attrs in self.controls
            if owner == index or (form_id is not None and owner == form_id)
        ]

    def form_posting_to(self, action):
        return next(i for i, (a, _id) in enumerate(self.forms) if a.split("?")[0] == action)


def _markup(html):
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


def _pages(app, client, values):
    """(url, html) of every GET page that answers 200 with HTML."""
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        url = url_for_rule(rule, values)
        if rule.endpoint == "booking.book":
            url += f"?slot={values['free_slot']}"  # the form for one free time
        response = client.get(url)
        kind = response.headers.get("Content-Type", "")
        if response.status_code == 200 and "html" in kind and not any(k in kind for k in NOT_HTML):
            pages.append((url, response.get_data(as_text=True)))
    return pages


def _required_names(endpoint):
    form_class, prefix = FORMS[endpoint]
    form = form_class(formdata=None, meta={"csrf": False}, prefix=prefix)
    return {
        f.name for f in form if f.flags.required and f.type not in ("HiddenField", "CSRFTokenField")
    }


def _endpoint(app, action, page_url):
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(action.split("?")[0] or page_url, method="POST")
    except Exception:  # an action that is not ours, or a GET-only search form
        return None
    return endpoint


def _check_page(app, url, html, seen_forms):
    problems = []
    markup = _markup(html)
    twice = sorted(i for i, count in markup.ids.items() if count > 1)
    if twice:
        problems.append(f"{url}: id used more than once: {twice}")
    for index, (action, _form_id) in enumerate(markup.forms):
        endpoint = _endpoint(app, action, url.split("?")[0])
        if endpoint not in FORMS:
            continue
        seen_forms.add(endpoint)
        with app.test_request_context():
            required = _required_names(endpoint)
        for name, attrs in markup.controls_of(index):
            if name in required and "required" not in attrs and attrs.get("type") != "hidden":
                problems.append(f"{url}: {endpoint} field {name!r} is required but not marked")
    return problems


def test_every_page_has_unique_ids_and_marks_required_fields(app, client, seeded, auth):
    problems, seen_forms, checked = [], set(), []

    # As a reader: the public pages, then the cart with something in it.
    public = _pages(app, client, seeded)
    for url in EXTRA_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        public.append((url, response.text))
    product_page = client.get("/shop/weighted-walking-vest").text
    public.append(("/cart", _add_to_cart_and_view(client, _markup(product_page))))
    for url, html in public:
        problems += _check_page(app, url, html, seen_forms)
        checked.append(url)

    # As staff: every page again, the staff pages included.
    auth.login()
    for url, html in _pages(app, client, seeded):
        problems += _check_page(app, url, html, seen_forms)
        checked.append(url)

    assert not problems, "\n".join(dict.fromkeys(problems))
    assert {"/", "/admin/", "/admin/availability", "/newsletter/", "/cart"} <= set(checked)
    assert len(set(checked)) >= 35
    assert {"admin.post_new", "blog.comment", "booking.book", "admin.variant_save"} <= seen_forms


def _add_to_cart_and_view(client, product_markup):
    form = product_markup.form_posting_to("/cart/add")
    product = next(a["value"] for n, a in product_markup.controls_of(form) if n == "product_id")
    # The vest's size and weight, as the page's two choices send them.
    data = {"product_id": product, "size": "M", "weight": "8", "quantity": "1"}
    assert client.post("/cart/add", data=data).status_code == 303
    return client.get("/cart").text


@pytest.mark.parametrize(
    "endpoint",
    [
        "admin.login",
        "admin.post_new",
        "admin.product_edit",
        "booking.book",
        "newsletter.signup",
        "pages.contact",
    ],
)
def test_a_form_sent_empty_shows_its_errors_without_repeating_an_id(
    app, client, auth, seeded, endpoint
):
    if endpoint != "admin.login":
        auth.login()
    with app.test_request_context():
        url = url_for(endpoint, **({"slug": seeded["slug"]} if endpoint == "booking.book" else {}))
    response = client.post(url, data={})
    assert response.status_code in (400, 422) and 'class="form-errors"' in response.text
    problems = _check_page(app, url, response.get_data(as_text=True), set())
    assert not problems, "\n".join(dict.fromkeys(problems))
