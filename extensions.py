"""Unbound extension instances. Import them from here, never from ``app``."""

from flask import request
from flask_caching import Cache
from flask_limiter import Limiter as _FlaskLimiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSQLAlchemySession
from flask_wtf.csrf import CSRFProtect as _FlaskWTFCSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# ``Session.info`` key: the session reads without a transaction; its value maps each
# engine to its autocommit twin (``blueprints.core.database.read_without_transaction``).
READ_WITHOUT_TRANSACTION = "read_without_transaction"


class Session(_FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session, which takes its connections in autocommit once the
    request has said it only reads. The connection is still taken at the first query,
    so a page that reads nothing never connects."""

    def get_bind(self, *args, **kwargs):
        bind = super().get_bind(*args, **kwargs)
        twins = self.info.get(READ_WITHOUT_TRANSACTION)
        return twins.get(bind, bind) if twins else bind


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
mail = Mail()


class CSRFProtect(_FlaskWTFCSRFProtect):
    """Flask-WTF's protection, which also takes the page token of cached pages where a
    reader without a session may send one (``blueprints/core/csrf.py``)."""

    def protect(self, apply_exemptions=False):
        from flask import current_app, g

        from blueprints.core.csrf import accepts_page_token

        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        exempt = apply_exemptions and (not request.endpoint or self._is_exempt())
        if not exempt:
            field = current_app.config["WTF_CSRF_FIELD_NAME"]
            if accepts_page_token(request.form.get(field)):
                g.csrf_valid = True  # what Flask-WTF records, so forms skip a second check
                return
        super().protect(apply_exemptions=apply_exemptions)


csrf = CSRFProtect()
login_manager = LoginManager()
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class Limiter(_FlaskLimiter):
    """Flask-Limiter, which never counts reads: every limit guards a form (a POST).

    Its ``request_filter`` would exempt reads too, but only after the limiter has looked
    up the endpoint and gathered its limits; this returns before any of that."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if request.method in READ_METHODS:
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = Limiter(key_func=get_remote_address)


cache = Cache()
