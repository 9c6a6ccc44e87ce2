"""``flask blog ...``: the blog's cron job."""

import click

from blueprints.blog.blueprint import bp
from blueprints.blog.scheduling import publish_due_posts
from extensions import db


@bp.cli.command("publish-due")
def publish_due_command():
    """Publish the scheduled posts whose time has come (cron: every 5 minutes). Safe to
    run twice at once: each post is published once."""
    published = publish_due_posts()
    db.session.commit()  # the cached pages that show them are cleared after the commit
    for post in published:
        click.echo(f"Published “{post.title}” ({post.slug}).")
    click.echo(f"Published {len(published)} scheduled post(s).")
