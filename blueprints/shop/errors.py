"""What the shop refuses, as messages a customer or staff member can act on.

Each is a :class:`~blueprints.core.errors.UserError`: a view may catch one to show it
on its form; any it does not catch is rendered as the error page with its status.
"""

from blueprints.core.errors import UserError
from blueprints.shop.models import MAX_ACTIVE_RATES

PROGRAM_QUANTITY_MESSAGE = "A program is for one person: you can buy it once per order."


def quantity_message(maximum):
    """The one message for a quantity that is not a whole number from 1 to ``maximum``
    (the option's :func:`~blueprints.shop.cart.max_quantity`), as its hint says it."""
    return f"Please choose a quantity from 1 to {maximum}."


class ShopError(UserError):
    """A problem the customer (or, on staff pages, staff) can understand."""

    status = 400


class QuantityRefused(ShopError):
    """A quantity the option cannot have: the view shows it beside the quantity field."""


class NotAvailable(ShopError):
    """The item is not for sale (any more), or not in the cart."""

    status = 404


class SoldOut(ShopError):
    """Not enough stock left for what was asked."""

    status = 409


class PaymentUnavailable(ShopError):
    """Stripe could not be reached: nothing was charged, nothing is held."""

    status = 503


class SlugTaken(ShopError):
    """A product's address must be its own (staff)."""

    default_message = "Another product already uses this address."


class SkuTaken(ShopError):
    """A variant's SKU must be its own (staff)."""

    default_message = "Another variant already uses this SKU."


class TooManyHolds(ShopError):
    """One visitor already holds as much unpaid stock as they may."""

    status = 429


class RateTaken(ShopError):
    """Two shipping rates of one country may not share a name (staff)."""

    status = 409
    default_message = "This country already has a rate with this name."


class TooManyRates(ShopError):
    """Checkout could not offer every rate on sale (staff)."""

    status = 409
    default_message = (
        f"Checkout can offer at most {MAX_ACTIVE_RATES} rates: take another rate off sale first."
    )


class OrdersStillToShip(ShopError):
    """Her account cannot be deleted yet: a paid order still needs her name and address
    to be sent (see ``shop/privacy.py``)."""

    status = 409
