"""The contact form and the staff page editor."""

from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from blueprints.core.forms import Form
from blueprints.pages.models import MAX_BODY_LENGTH, MAX_TITLE_LENGTH

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_MESSAGE_LENGTH = 5000


class ContactForm(Form):
    name = StringField(
        "Your name",
        validators=[
            DataRequired("Please tell us your name."),
            Length(
                max=MAX_NAME_LENGTH,
                message=f"Please keep your name under {MAX_NAME_LENGTH} characters.",
            ),
        ],
    )
    email = StringField(
        "Your email address",
        description="We answer to this address.",
        validators=[
            DataRequired("Please give your email address, so we can answer."),
            Length(max=MAX_EMAIL_LENGTH, message="That email address is too long."),
            Email("Please check your email address: it should look like name@example.com."),
        ],
    )
    message = TextAreaField(
        "Your message",
        validators=[
            DataRequired("Please write your message."),
            Length(
                max=MAX_MESSAGE_LENGTH,
                message=f"Please keep your message under {MAX_MESSAGE_LENGTH:,} characters.",
            ),
        ],
    )
    # The honeypot: hidden from people, filled in by form-filling bots.
    website = StringField("Leave this field empty")


class AddressCorrectionForm(Form):
    """The right address for the message just sent (on the "thank you" page); ``sent``
    is the signed note of that message (``sent_notes.py``)."""

    sent = HiddenField()
    email = StringField(
        "The right email address",
        validators=[
            DataRequired("Please give the right email address."),
            Length(max=MAX_EMAIL_LENGTH, message="That email address is too long."),
            Email("Please check your email address: it should look like name@example.com."),
        ],
    )


class PageForm(Form):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Please give the page a title."),
            Length(
                max=MAX_TITLE_LENGTH,
                message=f"Please keep the title under {MAX_TITLE_LENGTH} characters.",
            ),
        ],
    )
    body_md = TextAreaField(
        "Text (Markdown)",
        description="Headings with ##, lists with -, links as [words](address).",
        validators=[
            DataRequired("Please write the page's text."),
            Length(
                max=MAX_BODY_LENGTH,
                message=f"Please keep the text under {MAX_BODY_LENGTH:,} characters.",
            ),
        ],
    )
