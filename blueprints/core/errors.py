"""Styled error pages. Every error answers with the site's layout and its headers."""

import logging

from flask import render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from extensions import db

log = logging.getLogger(__name__)


class UserError(Exception):
    """A refusal the person can understand: ``message`` is shown to them, ``status`` is
    the HTTP status of the page. Areas subclass it (the shop's, booking's, a taken slug,
    a refused change of status); one handler renders any that a view does not catch."""

    status = 400
    default_message = "Please go back and try again."

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(self.message)


MESSAGES = {
    400: (
        "That request could not be read",
        "Something in the form was missing or out of date. Please go back, reload the page and try again.",
    ),
    403: ("Not allowed", "You do not have permission to see this page."),
    404: (
        "Page not found",
        "We could not find that page. It may have moved, or the address may be mistyped.",
    ),
    405: ("Not allowed", "This page cannot be used that way."),
    409: (
        "That changed just now",
        "Someone else changed this at the same moment. Please go back and try again.",
    ),
    413: ("Too much to send", "What you sent is too large. Please shorten it and try again."),
    429: (
        "Please slow down",
        "You have tried this too many times in a short while. Please wait a few minutes and try again.",
    ),
    500: (
        "Something went wrong on our side",
        "We are sorry. The problem has been logged. Please try again in a few minutes.",
    ),
    503: (
        "We will be right back",
        "The site is briefly unavailable. Please try again in a minute.",
    ),
}


def render_error(status, message=None, template="core/error.html"):
    """The error page for ``status``; an area with a layout of its own (the staff area)
    passes its ``template``, which gets the same ``status``, ``title`` and ``message``."""
    title, default_message = MESSAGES.get(
        status, (f"Error {status}", "Please go back and try again.")
    )
    return render_template(
        template, status=status, title=title, message=message or default_message
    ), status


def _handle_http(error: HTTPException):
    if error.response is not None:
        # The view's own answer to this refusal: a public form past its rate limit,
        # given back with what she typed (``core/limits.py``).
        return error.response
    response = render_error(error.code or 500)
    if error.code == 405 and error.valid_methods:
        return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
    return response


def _handle_user_error(error: UserError):
    db.session.rollback()
    return render_error(error.status, error.message)


def _handle_csrf(error: CSRFError):
    db.session.rollback()
    return render_error(
        400,
        "This form had expired or was sent from elsewhere. Please reload the page and send it again.",
    )


def _handle_database_down(error: OperationalError):
    log.error("Database unavailable: %s", error)
    db.session.rollback()
    body, status = render_error(503)
    return body, status, {"Retry-After": "30"}


def _handle_server_error(error: InternalServerError):
    db.session.rollback()
    return render_error(500)


def init_error_handlers(app):
    app.register_error_handler(UserError, _handle_user_error)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(OperationalError, _handle_database_down)
    app.register_error_handler(InternalServerError, _handle_server_error)
    app.register_error_handler(HTTPException, _handle_http)
