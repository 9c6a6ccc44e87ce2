"""Template helpers shared by every page: dates in the reader's zone, money, the year."""

from flask import current_app, request, url_for

from blueprints.core import timezones
from blueprints.core.types import utcnow


def format_money(cents, currency="usd"):
    """``$1,234.50`` from integer cents (only the currencies we sell in)."""
    symbol = {"usd": "$", "cad": "CA$", "eur": "€", "gbp": "£"}.get(currency.lower(), "")
    amount = f"{cents / 100:,.2f}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def init_layout(app):
    app.jinja_env.filters.update(
        date=timezones.format_date,
        time=timezones.format_time,
        # One way to write a moment, on every page (admin included): format_when.
        datetime=timezones.format_when,
        when=timezones.format_when,
        day_at=timezones.format_day_at,  # "On {{ t|day_at }}, ...": mid-sentence
        zone_name=timezones.zone_name,
        money=format_money,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    links = {}  # (endpoint, filename, script root) -> URL, for the life of the process

    def link(endpoint, filename=None):
        """``url_for`` for the layout's fixed links (a page without arguments, or a static
        file), built once per process instead of on every page: they never change while
        it runs. The debug server rebuilds them, so an edited static file shows at once."""
        key = (endpoint, filename, request.script_root)
        url = links.get(key)
        if url is None:
            url = url_for(endpoint, filename=filename) if filename else url_for(endpoint)
            if not app.debug:
                links[key] = url
        return url

    app.jinja_env.globals["link"] = link

    @app.context_processor
    def _layout_context():
        return {
            "site_name": current_app.config["SITE_NAME"],
            "current_year": utcnow().year,
            "reader_zone": timezones.reader_zone,
        }
