"""The customer's sign-in forms: her address, the emailed code, the link's button.
(The buttons of her account pages are ``my_account/forms.py``.)"""

from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

from blueprints.core.forms import Form

KEEP_LABEL = "Keep me signed in on this device for 30 days"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _digits_only(value):
    """What people type or paste for "123 456" or "123-456": the six digits."""
    return value.replace(" ", "").replace("-", "").strip() if isinstance(value, str) else value


class SignInForm(Form):
    """Her email address: a code and a link go to it."""

    email = EmailField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Please enter your email address."),
            Length(max=254, message="Please enter a shorter email address."),
            Email(
                "Please check your email address: it should look like name@example.com.",
                check_deliverability=False,
            ),
        ],
    )


class CodeForm(Form):
    """The 6-digit code from the email."""

    code = StringField(
        "The 6-digit code from the email",
        filters=[_digits_only],
        validators=[
            DataRequired("Please enter the 6-digit code from the email."),
            Regexp(r"^[0-9]{6}$", message="The code is 6 digits, such as 123456."),
        ],
        render_kw={"inputmode": "numeric", "maxlength": 11, "spellcheck": "false"},
    )
    keep = BooleanField(KEEP_LABEL)


class LinkForm(Form):
    """The one button of the emailed link's page."""

    keep = BooleanField(KEEP_LABEL)


class ButtonForm(Form):
    """A form that is one button (sign out, send a new code): its CSRF token only."""
