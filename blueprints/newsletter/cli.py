"""``flask --app app newsletter send-weekly`` (cron, once a week)."""

from datetime import UTC

import click
from flask import current_app

from blueprints.newsletter.blueprint import bp
from blueprints.newsletter.sending import send_weekly


@bp.cli.command("send-weekly")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Start date (UTC) of the posts to include; default: where the last issue ended.",
)
def send_weekly_command(since):
    """Send the weekly issue, or finish the one a previous run left unfinished."""
    site_url = current_app.config["SITE_URL"]
    if current_app.config["ENV_NAME"] == "production" and not site_url.startswith("https://"):
        # RFC 8058 one-click unsubscribe needs an https link in every message.
        raise click.ClickException("Set FLASK_SITE_URL to the site's https:// address first.")
    since_at = since.replace(tzinfo=UTC) if since else None
    report = send_weekly(since_at=since_at)
    if report.no_posts:
        click.echo(f"No new posts since {report.since_at:%Y-%m-%d %H:%M} UTC: nothing sent.")
        return
    verb = "Started" if report.started else "Resumed"
    click.echo(
        f"{verb} issue #{report.issue_id}: sent {report.sent}, failed {report.failed}, "
        f"bounced {report.bounced}, skipped {report.skipped}, retry later {report.deferred}."
    )
    if report.finished:
        click.echo(f"Issue #{report.issue_id} is complete.")
    else:
        click.echo(f"Issue #{report.issue_id} is not finished: run the command again.")
    if report.interrupted:
        click.echo(f"Stopped early: {report.interrupted}", err=True)
        raise SystemExit(1)
