"""``flask --app app users ...``: staff accounts from the command line."""

import sys

import click
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from blueprints.account.blueprint import bp
from blueprints.account.models import StaffRole, User
from blueprints.account.services import create_staff, reset_totp
from blueprints.core.addresses import normalise_email
from extensions import db

bp.cli.help = "Staff accounts."

MIN_PASSWORD_LENGTH = 12


@bp.cli.command("create-staff")
@click.argument("email")
@click.option("--name", default="", help="Shown in the admin area.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    default=None,
    help="owner (the default for a new account) or assistant.",
)
def create_staff_command(email, name, password_stdin, role):
    """Create a staff account for EMAIL (or reset its password)."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    create_staff(email, password, name=name, role=role)
    db.session.commit()
    click.echo(f"Staff account ready: {email}")


@bp.cli.command("reset-totp")
@click.argument("email")
def reset_totp_command(email):
    """Turn off the second factor of EMAIL (a lost phone); they sign in with the password
    alone and can turn it on again. Every session of theirs is signed out."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        raise click.UsageError(f"No account for {email}.")
    reset_totp(user)
    db.session.commit()
    click.echo(f"Second factor turned off for {user.email}.")
