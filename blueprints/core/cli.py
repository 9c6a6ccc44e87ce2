"""Top-level commands: ``seed`` and ``outbox send``; areas add their own groups."""

import click
from flask.cli import AppGroup
from sqlalchemy import text

from blueprints import area_modules
from extensions import db

outbox_cli = AppGroup("outbox", help="The email outbox.")


@outbox_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in this run.")
def outbox_send(limit):
    """Send every queued email that is due (run by cron every minute)."""
    from blueprints.core.outbox import send_due

    sent = send_due(limit=limit)
    click.echo(f"Sent {sent} message(s).")


@click.command("seed")
@click.option("--large", is_flag=True, help="Add the large data set used by the benchmarks.")
def seed_command(large):
    """Load the demo content. Safe to run twice: existing rows are kept."""
    for area, module in area_modules("seed"):
        module.seed(large=large)
        db.session.commit()
        click.echo(f"Seeded {area}.")
    if large:
        # Fresh statistics after the bulk inserts, so the planner uses the indexes.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        click.echo("Updated the query planner's statistics.")


def init_cli(app):
    app.cli.add_command(seed_command)
    app.cli.add_command(outbox_cli)
    from blueprints.account.cli import users_cli

    app.cli.add_command(users_cli)
