"""Response headers a view asks for with a decorator."""

from functools import wraps

from flask import make_response


def no_store(view):
    """Neither a browser nor a proxy keeps the page: for pages of one person (a cart,
    an order, programs, a booking), often opened by a private link on a shared device."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return wrapped
