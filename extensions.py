"""Unbound extension instances. Import them from here, never from ``app``."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSQLAlchemySession
from flask_wtf.csrf import CSRFProtect
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


csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)


cache = Cache()
