"""``flask --app app privacy ...``: the privacy housekeeping run by cron.

Its work spans areas (booking's intake answers, account's codes), so it lives in the
privacy area, which only calls each area's service and commits; core knows no area.
"""

import click

from blueprints.booking.privacy import reencrypt_intake_answers
from blueprints.privacy.blueprint import bp
from blueprints.privacy.purge import purge
from extensions import db

bp.cli.help = "Privacy housekeeping: retention and encryption."


@bp.cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep intake answers this many days after the consultation "
    "(default: the INTAKE_RETENTION_DAYS setting).",
)
def purge_command(days):
    """Erase intake answers kept past their retention time and delete expired codes
    (cron: daily). Safe to run again: what is gone is not counted twice."""
    counts = purge(retention_days=days)
    db.session.commit()
    for what, count in counts.items():
        click.echo(f"{what}: {count}")


@bp.cli.command("reencrypt")
def reencrypt_command():
    """Encrypt every stored intake answer again with the first key of FLASK_DATA_KEY
    (after putting a new key in front; then the old one can be dropped)."""
    count = reencrypt_intake_answers()
    db.session.commit()
    click.echo(f"bookings re-encrypted: {count}")
