"""Accounts: staff users and their sign-in (the staff pages live in admin), and the
customer pages reached by signed link.

The blueprint lives in blueprint.py, and the modules that attach to it import it from
there, so no module of the area imports this package back (tests/core/test_imports.py).
"""

from blueprints.account import cli, routes, services  # noqa: F401  (commands, views, user loader)
from blueprints.account.blueprint import bp
from blueprints.core.sessions import mark_staff_only

mark_staff_only(bp)
