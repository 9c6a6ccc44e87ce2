"""Newsletter forms."""

from wtforms import StringField
from wtforms.validators import Length, ValidationError

from blueprints.core.forms import Form, PlainText
from blueprints.newsletter.models import MAX_FIRST_NAME_LENGTH
from blueprints.newsletter.subscriptions import InvalidAddress, normalize_address


class SignupForm(Form):
    email = StringField(
        "Email address",
        validators=[
            PlainText("An email address cannot contain line breaks or special characters.")
        ],
    )
    first_name = StringField(
        "First name (optional)",
        validators=[
            PlainText("Please use letters only in your first name."),
            Length(
                max=MAX_FIRST_NAME_LENGTH,
                message=f"Please keep your first name under {MAX_FIRST_NAME_LENGTH} characters.",
            ),
        ],
    )
    # The honeypot: hidden from people, filled in by form-filling bots.
    website = StringField("Leave this field empty")

    def validate_email(self, field):
        try:
            normalize_address(field.data)
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from exc

    def validate_first_name(self, field):
        if field.data and any(ch in field.data for ch in "\r\n<>"):
            raise ValidationError("Please use letters only in your first name.")
