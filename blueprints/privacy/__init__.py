"""Her data, under her control (issue #18.3): "Download my data" and "Delete my account"
in My account, and the retention purge run by cron.

An area of its own because its work crosses every area: each area provides, in its
``privacy.py``, ``<x>_for_export(email)`` and ``erase_<x>_of(email)`` (and its share of
the purge); this area only assembles them. Nothing imports it but the app factory, so the
areas it calls may import ``account`` (as the emails do, for the staff addresses) without
a cycle through it; ``core`` still knows no area.
"""

from blueprints.core.sessions import mark_private_session_keys, mark_staff_only
from blueprints.privacy import cli, routes  # noqa: F401  (commands, views)
from blueprints.privacy.blueprint import bp
from blueprints.privacy.routes import DATA_WINDOW_KEY

# Her pages, like the account's: forms never accept the shared page token of cached pages.
mark_staff_only(bp)
mark_private_session_keys(bp, DATA_WINDOW_KEY)
