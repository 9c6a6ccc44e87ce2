"""Access logs without the bearer tokens in our links (``gunicorn.conf.py`` uses it).

A sign-in link, a booking's manage link, a program link or an unsubscribe link opens
what it names for whoever holds it: the token in its path is the key. Logs are read by
more people and kept longer than the mail they came in, so a log line shows
``/account/sign-in/link/[hidden]`` instead (in the request line, the path and the
Referer a page of ours sends back to us). ``deploy/nginx.conf`` hides the same paths with
a ``map``; ``tests/core/test_access_log.py`` checks that every rule of the app with a
``<token>`` is covered by :data:`TOKEN_PATH`.
"""

import re

from gunicorn.glogging import Logger

# The path before each bearer token: the same list as deploy/nginx.conf's map.
TOKEN_PATH = re.compile(
    r"(/account/sign-in/link/|/account/order/|/account/programs/|/admin/invitation/"
    r"|/blog/commenter/|/blog/reply-emails/|/consultations/manage/"
    r"|/newsletter/confirm/|/newsletter/unsubscribe/)[^/?#\s\"]+"
)
HIDDEN = r"\1[hidden]"


def hide_tokens(text):
    """``text`` with the token of every link of ours replaced by ``[hidden]``."""
    return TOKEN_PATH.sub(HIDDEN, text)


class TokenHidingLogger(Logger):
    """gunicorn's logger, with every text of an access log line passed through
    :func:`hide_tokens` (the format's atoms: request line, path, Referer, headers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: hide_tokens(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }
