"""Larger request bodies for the few forms that send a file.

``MAX_CONTENT_LENGTH`` (1 MB) bounds every request: a bigger body is refused with 413
before it is read. A view that takes a file says how much more it takes when its
blueprint is registered (``allow_larger_body``); the limit is raised for that endpoint
only, before anything reads the body (the CSRF check reads the form first of all).
"""

from flask import current_app, request

_EXTENSION = "better_bones_body_limits"
# Room for the form's other fields and the multipart boundaries around the file.
FORM_MARGIN = 64 * 1024


def allow_larger_body(bp, endpoint, config_key):
    """``bp``'s ``endpoint`` accepts a file of up to ``app.config[config_key]`` bytes."""

    def record(state):
        limits = state.app.extensions.setdefault(_EXTENSION, {})
        limits[f"{bp.name}.{endpoint}"] = config_key

    bp.record_once(record)


def raise_body_limit():
    """Before every other hook: this request's limit, when its endpoint takes a file."""
    config_key = current_app.extensions.get(_EXTENSION, {}).get(request.endpoint)
    if config_key is not None:
        request.max_content_length = current_app.config[config_key] + FORM_MARGIN


def init_body_limits(app):
    app.before_request(raise_body_limit)
