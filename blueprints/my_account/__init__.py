"""My account: what a signed-in customer sees of herself, gathered from every area (her
orders, programs and lesson progress, consultations, newsletter, comments), the program
pages her order's link opens, and staff's customer directory (``directory.py``, shown by
``admin/customer_views.py``).

An area of its own because its work reads every area, like ``privacy``: nothing imports
it but the app factory and the pages that show its work (admin's customer pages,
privacy's export of her progress), so the areas it reads may import ``account`` (her
identity, her sign-in) without a cycle through it. Its pages sit under /account beside
the sign-in's; its blueprint lives in blueprint.py.
"""

from blueprints.account.customer_sign_in import name_new_accounts_with
from blueprints.core.sessions import mark_staff_only
from blueprints.my_account import home_routes, routes  # noqa: F401  (views)
from blueprints.my_account.blueprint import bp
from blueprints.my_account.overview import name_on_record

# Her pages, like the sign-in's: forms never accept the shared page token of cached pages.
mark_staff_only(bp)
# A new account takes the name she gave with her latest order or booking.
name_new_accounts_with(bp, name_on_record)
