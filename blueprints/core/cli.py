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
    """Send every queued email that is due (run by cron every minute).

    Exits 0 when it ran: a message that can never be sent is marked failed and listed
    here, and the others still go out."""
    from blueprints.core.outbox import send_due

    report = send_due(limit=limit)
    click.echo(f"Sent {report.sent} message(s).")
    for message_id, address, reason in report.failed:
        click.echo(f"Failed for good: message {message_id} to {address}: {reason}")
    for message_id, address, reason in report.retrying:
        click.echo(f"Will retry message {message_id} to {address}: {reason}")
    if report.left:
        click.echo(f"Left {report.left} message(s) for the next run: the mail server timed out.")


stripe_cli = AppGroup("stripe", help="Stripe housekeeping.")


@stripe_cli.command("reconcile")
@click.option("--days", default=3, show_default=True, help="How far back to list sessions.")
@click.option("--stale-minutes", default=60, show_default=True, help="Report older pending.")
def stripe_reconcile(days, stale_minutes):
    """Fulfil paid Checkout Sessions whose webhook never arrived, release expired ones,
    and report what has been pending too long (run by cron every hour)."""
    from datetime import timedelta

    from blueprints.core.reconcile import reconcile_checkouts

    result = reconcile_checkouts(days=days, stale_after=timedelta(minutes=stale_minutes))
    for session_id, kind, event_type in result.applied:
        click.echo(f"Applied {event_type} to {kind} of {session_id}.")
    for session_id, error in result.failed:
        click.echo(f"FAILED {session_id}: {error} (will retry next run)", err=True)
    for line in result.stale:
        click.echo(f"Pending over {stale_minutes} min: {line}")
    click.echo(
        f"Checked {result.checked} session(s): {len(result.applied)} applied, "
        f"{len(result.failed)} failed, {len(result.stale)} pending too long."
    )
    if result.failed:
        raise SystemExit(1)


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
    app.cli.add_command(stripe_cli)
