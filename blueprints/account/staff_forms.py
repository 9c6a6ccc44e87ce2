"""Forms of the owner's staff page and of the invitation's password page."""

from email_validator import EmailNotValidError, validate_email
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from blueprints.account.models import StaffRole
from blueprints.account.roles import ROLE_LABELS
from blueprints.core.forms import Form

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _deliverable_form(form, field):
    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("Enter an email address like name@example.com.") from exc


class InviteForm(Form):
    email = EmailField(
        "Their email address",
        filters=[_strip],
        validators=[DataRequired("Enter their email address."), Length(max=254), _deliverable_form],
    )
    role = SelectField(
        "Role",
        description=(
            "An assistant can do everything but manage staff, read the audit log and make "
            "large refunds. An owner can do everything."
        ),
        choices=[
            SelectChoice(StaffRole.ASSISTANT.value, ROLE_LABELS[StaffRole.ASSISTANT]),
            SelectChoice(StaffRole.OWNER.value, ROLE_LABELS[StaffRole.OWNER]),
        ],
        default=StaffRole.ASSISTANT.value,
        validators=[DataRequired("Choose a role.")],
    )


class StaffActionForm(Form):
    """The buttons on the staff page (disable, enable, reset, an invitation's cancel and
    resend): only the CSRF token."""


class StaffRoleForm(Form):
    """A staff member's role, changed from her row on the staff page."""

    role = SelectField(
        "Role",
        choices=[
            SelectChoice(StaffRole.ASSISTANT.value, ROLE_LABELS[StaffRole.ASSISTANT]),
            SelectChoice(StaffRole.OWNER.value, ROLE_LABELS[StaffRole.OWNER]),
        ],
        validators=[DataRequired("Choose a role.")],
    )


class AcceptInvitationForm(Form):
    name = StringField(
        "Your name",
        description="Shown to other staff in the admin area.",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(max=120)],
    )
    password = PasswordField(
        "Choose a password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words work well.",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords are not the same."),
        ],
    )
