"""The forms of "Your data": the emailed code that opens it, and deleting the account."""

from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from blueprints.blog.privacy import KEEP_ANONYMOUS, REMOVE
from blueprints.core.forms import Form


class RequestCodeForm(Form):
    """One button: email me a code (the form carries only its CSRF token)."""


class ConfirmCodeForm(Form):
    code = StringField(
        "The 6-digit code from the email",
        validators=[
            DataRequired(message="Please type the 6-digit code from the email."),
            Length(max=20, message="The code has 6 digits."),
        ],
    )


class DeleteAccountForm(Form):
    comments = RadioField(
        "What should happen to your comments on the blog?",
        choices=[
            (KEEP_ANONYMOUS, 'Keep them on the site, shown as written by "a reader"'),
            (REMOVE, "Remove them (and the replies to them)"),
        ],
        validators=[InputRequired(message="Please choose what happens to your comments.")],
    )
    understood = BooleanField(
        "I understand that my account and my data are deleted for good",
        validators=[DataRequired(message="Please tick the box to confirm.")],
    )
