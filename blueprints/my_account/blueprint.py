"""The My account blueprint, in a module of its own: the modules that attach views to it
import it from here, so none of them imports its package back.

Its pages sit under /account, beside the sign-in's (``account``) and her data's
(``privacy``)."""

from flask import Blueprint

bp = Blueprint("my_account", __name__, url_prefix="/account")
