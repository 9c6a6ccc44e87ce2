"""The application factory. Each ``register_*`` step wires one concern."""

from flask import Flask
from flask_login import current_user

from config import load_config
from extensions import cache, csrf, db, limiter, login_manager, mail, migrate


def create_app(config=None):
    """Build the Flask application; ``config`` overrides settings (tests use it)."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_proxy_fix(app)
    register_error_handlers(app)
    register_cli(app)
    return app


def register_proxy_fix(app):
    """Trust X-Forwarded-* from TRUSTED_PROXIES reverse proxies (client IPs for rate limits).

    It wraps the WSGI app last, so it is the outermost layer: the page cache's middleware
    (installed with the request hooks) sees the fixed host and scheme like every view."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app):
    """Bind the unbound extensions from ``extensions.py`` to this app."""
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    mail.init_app(app)
    csrf.init_app(app)
    # Templates get ``current_user`` as a lazy global (below), not from Flask-Login's
    # context processor, which loads the user (and hashes the address and browser for
    # session protection) on every page, though only the staff pages show who is in.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.session_protection = "basic"
    limiter.init_app(app)
    cache.init_app(app)

    from blueprints.core.database import init_database

    init_database(app)


def register_url_converters(app):
    """``<int:...>`` stops at the largest id a row can have: a longer number is a 404."""
    from blueprints.core.routing import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter


def register_blueprints(app):
    """Mount every area's blueprint (each package exposes ``bp``) and load its models."""
    from importlib import import_module

    from blueprints import AREAS, area_modules

    for area in AREAS:
        app.register_blueprint(import_module(f"blueprints.{area}").bp)
    for _area, _models in area_modules("models"):
        pass  # importing is enough: the tables join db.metadata


def register_request_hooks(app):
    """Security headers, template helpers, the after-commit mail flush, the page cache
    and fingerprinted static files."""
    from blueprints.core import layout, security
    from blueprints.core.cache import init_page_cache
    from blueprints.core.outbox import init_outbox
    from blueprints.core.static import init_static

    security.init_security(app)
    layout.init_layout(app)
    init_outbox(app)
    init_page_cache(app)
    init_static(app)


def register_error_handlers(app):
    """Styled error pages for every status we answer with."""
    from blueprints.core.errors import init_error_handlers

    init_error_handlers(app)


def register_cli(app):
    """Top-level commands: ``seed``, ``outbox``, ``users``, ``stripe``."""
    from blueprints.core.cli import init_cli

    init_cli(app)
