"""Accounts: staff users and their sign-in (the staff pages live in admin), and the
customer pages reached by signed link.

The blueprint is created in routes.py, and the modules that attach to it import it from
there, so no module of the area imports this package back (tests/core/test_imports.py).
"""

from blueprints.account import cli, services  # noqa: F401  (commands, the user loader)
from blueprints.account.routes import bp
from blueprints.core.sessions import mark_staff_only

mark_staff_only(bp)
