"""Newsletter forms."""

from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, ValidationError

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


class SinceForm(Form):
    """Staff's list of subscribers narrowed to those who confirmed on or after a day of
    Dr. Brown's calendar (the dashboard's "new this week" link): a GET form, it changes
    nothing, so no CSRF token. The day is ``YYYY-MM-DD`` in the calendar's years."""

    class Meta:
        csrf = False

    since = DateField("Confirmed on or after (day)", validators=[Optional()])
