"""One package per area of the site; each exposes its blueprint as ``bp``.

An area may also have ``seed.py`` with ``seed(large=False)``, which
``flask --app app seed`` calls in this order.
"""

AREAS = (
    "core",
    "account",
    "media",
    "blog",
    "admin",
    "newsletter",
    "shop",
    "booking",
    "my_account",
    "privacy",
    "pages",
)


def area_modules(name):
    """Import ``blueprints.<area>.<name>`` for each area that has such a module."""
    from importlib import import_module
    from importlib.util import find_spec

    for area in AREAS:
        qualified = f"blueprints.{area}.{name}"
        if find_spec(qualified) is not None:
            yield area, import_module(qualified)
