"""Accounts: who signs in. Staff users, their roles and sign-in (the staff pages live in
admin), and the customer's account with its sign-in by an emailed code: identities every
area may rely on (``staff_addresses``, ``check_refund``, ``current_customer``).

It imports no other area, only ``core`` (tests/core/test_imports.py): what a customer sees
of herself, gathered from the areas (My account's pages, her program progress, staff's
customer directory), is the ``my_account`` area, which imports this one. What other areas
need of the sign-in they give it through registries: the session keys to keep across it
(``core/sessions.keep_across_sign_in``), the name a new account takes
(``customer_sign_in.name_new_accounts_with``).

The blueprint lives in blueprint.py, and the modules that attach to it import it from
there, so no module of the area imports this package back (tests/core/test_imports.py).
"""

from blueprints.account import (  # noqa: F401  (commands, views, user loader)
    cli,
    services,
    sign_in_routes,
)
from blueprints.account.blueprint import bp
from blueprints.account.customers import SESSION_KEY
from blueprints.core.sessions import mark_private_session_keys, mark_staff_only

mark_staff_only(bp)
mark_private_session_keys(bp, SESSION_KEY)
