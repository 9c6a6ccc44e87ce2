"""``flask bookings ...``: the cron jobs of the consultations."""

import click

from blueprints.booking import holds, services
from blueprints.booking.blueprint import bp
from blueprints.core.outbox import send_committed
from extensions import db


@bp.cli.command("send-reminders")
def send_reminders_command():
    """Email each client a reminder about 24 hours before (cron: every 15 minutes)."""
    queued = services.send_reminders()
    db.session.commit()
    send_committed()
    click.echo(f"Queued {queued} reminder(s).")


@bp.cli.command("release-expired")
def release_expired_command():
    """Free the times of holds that ran out unpaid (optional tidy-up for cron;
    availability already ignores them and a new hold releases them first)."""
    released = holds.release_expired_holds()
    db.session.commit()
    click.echo(f"Released {released} expired hold(s).")
