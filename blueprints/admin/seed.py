"""Demo data for the staff area: a demo staff account, in development only."""

import click
from flask import current_app
from sqlalchemy import select

from blueprints.account.models import User
from blueprints.account.services import create_staff
from extensions import db

DEMO_STAFF_EMAIL = "demo@betterbones.example"
DEMO_STAFF_PASSWORD = "better-bones-demo"


def seed(large=False):
    """Create the demo staff account when running in development (never elsewhere).
    Safe to run twice: an existing account is left as it is. Flushes."""
    if current_app.config["ENV_NAME"] != "development":
        return
    exists = db.session.scalar(select(User.id).where(User.email == DEMO_STAFF_EMAIL))
    if exists is None:
        create_staff(DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, name="Demo staff")
    click.echo(
        f"Demo staff account: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD} "
        "(development only; sign in at /admin/login)."
    )
