"""Rate limits on the public forms (a comment, the newsletter signup, the contact form):
what counts toward them, and the answer past them.

A person who leaves a field empty or mistypes her address has sent nothing: only the
tries a view accepted count toward the form's limit (Flask-Limiter's ``deduct_when``,
after the answer), so a few slips never turn her next, good try into a refusal. Refused
tries still cost a visitor something: every try counts toward ``FORM_ATTEMPT_LIMIT``, a
number no person reaches, so a flood of them is stopped too, and so is a burst of good
ones sent at once (an accepted try is counted only once answered). Past either limit
the view's ``on_breach`` answers 429 with her form again, holding what she typed.
"""

from math import ceil

from flask import current_app, g

from extensions import limiter

_ACCEPTED = "public_form_accepted"


def count_as_accepted():
    """The view took this try (stored, queued or sent it): it counts toward the form's
    limit."""
    g.setdefault(_ACCEPTED, True)


def _was_accepted(response):
    return g.get(_ACCEPTED, False)


def _attempt_limit():
    return current_app.config["FORM_ATTEMPT_LIMIT"]


def limit_public_form(limit_value, on_breach):
    """Limit a public form's POSTs: ``limit_value`` (a callable giving the setting)
    counts the tries its view marks with :func:`count_as_accepted`, and
    ``FORM_ATTEMPT_LIMIT`` every try. Past either, ``on_breach(seconds)`` gives the
    429 answer (her form again, with what she typed; ``seconds``: the length of the
    limit's window, for "please wait a minute"), or None for the plain 429 page."""

    def answer(request_limit):
        return on_breach(request_limit.limit.get_expiry())

    def decorator(view):
        # Every try first: of limits with windows alike, the first declared gives the
        # rate-limit headers, and this one always holds the try being answered (a limit
        # no try has reached yet would say "reset now", cutting a 503's Retry-After).
        # A scope of its own ("<endpoint>:every-try"): were both limits the same text,
        # they must still not share one count.
        every_try = limiter.limit(
            _attempt_limit, methods=["POST"], scope="every-try", on_breach=answer
        )
        accepted = limiter.limit(
            limit_value, methods=["POST"], deduct_when=_was_accepted, on_breach=answer
        )
        return accepted(every_try(view))

    return decorator


def wait_in_words(seconds):
    """How long to wait before trying again, in plain words: ``a minute``,
    ``10 minutes``, ``an hour``, ``a day``."""
    if seconds <= 60:
        return "a minute"
    if seconds < 3600:
        return f"{ceil(seconds / 60)} minutes"
    if seconds == 3600:
        return "an hour"
    if seconds < 86400:
        return f"{ceil(seconds / 3600)} hours"
    return "a day"
