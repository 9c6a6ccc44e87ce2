"""Shipping a vest: the rates staff set (:class:`ShippingRate`), free above a threshold
(each country's first rate), what the product page and the cart show of them, the
options Checkout offers (copied on the order when it is placed), the check of what
Stripe says she paid for shipping, and staff's edits.

Stripe's Checkout cannot tie a shipping option to a country: it shows every option
whatever address she types. So the cart asks where she ships to ("Ship to", kept in her
session, the first country by default) and Checkout is sent only that country's options
and only that country as the address's. The payment is still checked against the
amounts offered *for the country she gave*; any other amount is an amount mismatch
(flagged for staff, not fulfilled), like a wrong total.
"""

from dataclasses import dataclass
from itertools import groupby

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.shop import cache_tags
from blueprints.shop.errors import NotAvailable, RateTaken, ShopError, TooManyRates
from blueprints.shop.models import MAX_ACTIVE_RATES, SHIPPING_COUNTRIES, ShippingRate
from extensions import db


def free_above_cents():
    """The subtotal from which shipping is free (``SHIPPING_FREE_ABOVE_CENTS``), or None."""
    value = current_app.config.get("SHIPPING_FREE_ABOVE_CENTS")
    return None if value is None or isinstance(value, bool) else int(value)


def ships_free(subtotal_cents):
    threshold = free_above_cents()
    return threshold is not None and subtotal_cents >= threshold


_ACTIVE_RATES = (
    select(ShippingRate)
    .where(ShippingRate.active)
    .order_by(ShippingRate.position, ShippingRate.id)
    .limit(MAX_ACTIVE_RATES)
)


def active_rates(currency=None):
    """The rates Checkout offers, in staff's order (in ``currency`` when given)."""
    rates = db.session.scalars(_ACTIVE_RATES).all()
    return [rate for rate in rates if currency is None or rate.currency == currency]


def _by_country(rates):
    """``[(country code, [rates])]``, the United States first, each in staff's order."""
    rates = sorted(rates, key=lambda r: (r.country != "US", r.country))
    return [(country, list(group)) for country, group in groupby(rates, key=lambda r: r.country)]


def rates_by_country(currency=None):
    """``[(country name, [rates])]`` for the product page, in staff's order."""
    return [
        (SHIPPING_COUNTRIES.get(country, country), rates)
        for country, rates in _by_country(active_rates(currency))
    ]


def ship_to_countries(currency=None):
    """The countries the cart's "Ship to" offers: those with a rate on sale (in
    ``currency`` when given), the United States first."""
    return [country for country, _rates in _by_country(active_rates(currency))]


def check_ship_to(value, currency=None):
    """The country code ``value`` names when she may choose it; raises
    :class:`ShopError` (400) otherwise."""
    countries = ship_to_countries(currency)
    code = (value or "").strip().upper()
    if code not in countries:
        names = " or ".join(SHIPPING_COUNTRIES.get(c, c) for c in countries)
        raise ShopError(
            f"Please choose where we ship your order: {names}."
            if names
            else "We cannot ship right now."
        )
    return code


def _offer(rate, free):
    """One option as Checkout offers it and the order keeps it (plain JSON)."""
    return {
        "country": rate.country,
        "label": f"{rate.country_name}: {rate.label}",
        "name": f"{rate.country_name}: {rate.name}",
        "amount_cents": 0 if free else rate.amount_cents,
        "currency": rate.currency,
        "min_days": rate.min_days,
        "max_days": rate.max_days,
    }


def _offers(rates, subtotal_cents, country):
    """The options of ``rates`` to ``country`` for items of ``subtotal_cents``. Once the
    subtotal reaches the threshold, the country's first rate (its standard one) is free;
    faster ones keep their price."""
    free = ships_free(subtotal_cents)
    seen = set()
    offers = []
    for rate in rates:
        if rate.country != country:
            continue
        offers.append(_offer(rate, free and rate.country not in seen))
        seen.add(rate.country)
    return offers


def shipping_to(choice, subtotal_cents, currency):
    """``(country, countries, offers)``: where items of ``subtotal_cents`` ship, the
    ``choice`` made under the cart's "Ship to" while that country has a rate on sale,
    else the first country that has one (None when none has); every country she may
    choose; and the options Checkout offers to that country only."""
    rates = active_rates(currency)
    countries = [country for country, _rates in _by_country(rates)]
    country = choice if choice in countries else (countries[0] if countries else None)
    offers = _offers(rates, subtotal_cents, country) if country else []
    return country, countries, offers


@dataclass(frozen=True)
class CartShipping:
    """What the cart shows: where she ships to (``country``, one of ``countries``), the
    subtotal, the option Checkout starts with (that country's first), the others, and
    the total with the first."""

    subtotal_cents: int
    offers: list
    free_above_cents: int | None
    country: str | None = None
    countries: tuple = ()

    @property
    def country_choices(self):
        """``[(code, name)]`` for the "Ship to" list."""
        return [(code, SHIPPING_COUNTRIES.get(code, code)) for code in self.countries]

    @property
    def country_name(self):
        return SHIPPING_COUNTRIES.get(self.country, self.country)

    @property
    def first(self):
        return self.offers[0] if self.offers else None

    @property
    def shipping_cents(self):
        return self.first["amount_cents"] if self.first else 0

    @property
    def total_cents(self):
        return self.subtotal_cents + self.shipping_cents

    @property
    def free(self):
        """Her items reached the threshold: her country's first rate costs nothing."""
        return bool(self.offers) and ships_free(self.subtotal_cents)


def cart_shipping(cart, subtotal_cents, choice=None):
    """The cart's shipping to the country she chose (``choice``, see :func:`shipping_to`), or
    None when nothing in it is shipped (programs only)."""
    if cart is None or not cart.lines or subtotal_cents is None:
        return None
    if all(line.variant.product.is_program for line in cart.lines):
        return None
    currency = cart.lines[0].variant.currency
    country, countries, offers = shipping_to(choice, subtotal_cents, currency)
    return CartShipping(subtotal_cents, offers, free_above_cents(), country, tuple(countries))


def offer_shipping(order, choice=None):
    """Copy the options Checkout will offer onto a pending ``order`` that ships: those
    of the country she chose in the cart (``choice``, see :func:`shipping_to`) only. Raises
    :class:`NotAvailable` when there is no rate to offer (the caller rolls back)."""
    if not order.needs_shipping:
        order.shipping_offered = None
        return
    _country, _countries, offers = shipping_to(choice, order.lines_cents, order.currency)
    if not offers:
        raise NotAvailable(
            "Sorry, we cannot ship right now, so the vest cannot be bought today. "
            "Please try again later or contact us."
        )
    order.shipping_offered = offers


def checkout_shipping_options(order):
    """Stripe's ``shipping_options`` from the options copied on the order (our prices
    only, never Stripe's saved rates)."""
    options = []
    for offer in order.shipping_offered or ():
        data = {
            "type": "fixed_amount",
            "display_name": offer["name"],
            "fixed_amount": {"amount": offer["amount_cents"], "currency": offer["currency"]},
        }
        estimate = {
            bound: {"unit": "business_day", "value": offer[key]}
            for bound, key in (("minimum", "min_days"), ("maximum", "max_days"))
            if offer.get(key)
        }
        if estimate:
            data["delivery_estimate"] = estimate
        options.append({"shipping_rate_data": data})
    return options


def shipping_countries(order):
    """The countries Checkout lets her ship to: those of the offered options (the one
    she chose in the cart)."""
    return list(dict.fromkeys(offer["country"] for offer in order.shipping_offered or ()))


def check_paid_shipping(order, country, shipping_cents):
    """``(True, label)`` when ``shipping_cents`` to ``country`` is an amount Checkout
    offered this order for that country (``label``: the first such option's); an order
    offered nothing must have paid nothing. ``(False, None)`` otherwise."""
    offers = order.shipping_offered or []
    if not offers:
        return shipping_cents == 0, None
    for offer in offers:
        if offer["country"] == country and offer["amount_cents"] == shipping_cents:
            return True, offer["label"]
    return False, None


# --- staff -------------------------------------------------------------------------------


def all_rates():
    """Every rate, active or not, for staff."""
    return db.session.scalars(
        select(ShippingRate).order_by(ShippingRate.position, ShippingRate.id)
    ).all()


def _name_taken(rate, country, name):
    query = select(ShippingRate.id).where(
        ShippingRate.country == country, func.lower(ShippingRate.name) == name.lower()
    )
    if rate.id is not None:
        query = query.where(ShippingRate.id != rate.id)
    return db.session.scalar(query) is not None


def _active_others(rate):
    query = select(func.count()).select_from(ShippingRate).where(ShippingRate.active)
    if rate.id is not None:
        query = query.where(ShippingRate.id != rate.id)
    return db.session.scalar(query)


def save_rate(rate, fields, actor):
    """Create (``rate`` None) or update a shipping rate from ``fields`` (country, name,
    min_days, max_days, amount_cents, position, active) for staff ``actor``, with one
    audit entry. Raises :class:`RateTaken` or :class:`TooManyRates`. Flushes."""
    created = rate is None
    rate = rate or ShippingRate()
    if _name_taken(rate, fields["country"], fields["name"]):
        raise RateTaken()
    if fields["active"] and _active_others(rate) >= MAX_ACTIVE_RATES:
        raise TooManyRates()
    try:
        with db.session.begin_nested():
            for name, value in fields.items():
                setattr(rate, name, value)
            db.session.add(rate)
    except IntegrityError:
        # Another staff member saved the same country and name a moment earlier.
        raise RateTaken() from None
    record_staff_action(
        actor.id,
        "shipping_rate.create" if created else "shipping_rate.update",
        "shipping_rate",
        rate.id,
        {key: value for key, value in fields.items()},
    )
    # The product pages show the rates.
    invalidate_after_commit(cache_tags.SHIPPING)
    return rate
