"""The pages blueprint, in a module of its own: the modules that attach views to it
import it from here, so none of them imports its package back."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
