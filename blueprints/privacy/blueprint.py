"""The privacy blueprint, in a module of its own: the modules that attach views or
commands to it import it from here, so none of them imports its package back.

Its pages sit under /account (they are part of My account) and its commands form the
``privacy`` group (``flask --app app privacy purge``)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/account", cli_group="privacy")
