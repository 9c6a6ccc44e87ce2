"""The blog's forms: a reader's comment (what she may send, and the messages when it is
not right), a staff reply, and the "confirm it's you" button."""

from email_validator import EmailNotValidError, validate_email
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from blueprints.core.forms import Form, PlainText
from blueprints.core.types import MAX_ID

MAX_NAME = 80
MAX_EMAIL = 254
MAX_BODY = 5000
# The same limits for the page's ``maxlength`` attributes (post.html writes the fields out).
COMMENT_LIMITS = {"name": MAX_NAME, "email": MAX_EMAIL, "body": MAX_BODY}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _normalise_newlines(value):
    # Browsers send textarea lines as CRLF; count and store plain newlines.
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else value


def _no_control_characters(allow_newlines):
    return PlainText(
        "Please remove the unusual invisible characters (for example from a copy and "
        "paste) and try again.",
        multiline=allow_newlines,
    )


def _deliverable_looking_email(form, field):
    if not field.data:
        return
    try:
        result = validate_email(field.data, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError("Please enter an email address like name@example.com.") from error
    field.data = result.normalized


def _is_id(value):
    return (
        bool(value)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 10
        and 0 < int(value) <= MAX_ID
    )


def _whole_number(form, field):
    if field.data and not _is_id(field.data):
        raise ValidationError("The comment you replied to could not be found.")


def name_field(**render_kw):
    """A reader's name as the comment form asks for it; My account keeps the same name
    with the same rules (``render_kw``: extra attributes of its input)."""
    return StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Please enter your name."),
            Length(max=MAX_NAME, message=f"Please keep your name to {MAX_NAME} characters."),
            _no_control_characters(allow_newlines=False),
        ],
        render_kw=render_kw or None,
    )


class CommentForm(Form):
    name = name_field()
    email = EmailField(
        "Your email address",
        filters=[_strip],
        description=(
            "We never show it. We email you when your comment is published, and otherwise "
            "only if we need to contact you."
        ),
        validators=[
            DataRequired("Please enter your email address."),
            Length(max=MAX_EMAIL, message="Please enter a shorter email address."),
            _no_control_characters(allow_newlines=False),
            _deliverable_looking_email,
        ],
    )
    body = TextAreaField(
        "Your comment",
        filters=[_normalise_newlines],
        description=(
            f"Up to {MAX_BODY:,} characters. You can use *italics*, **bold**, lists "
            "and [links](https://example.com)."
        ),
        validators=[
            DataRequired("Please write your comment."),
            Length(
                max=MAX_BODY,
                message=f"Please shorten your comment to {MAX_BODY:,} characters or fewer.",
            ),
            _no_control_characters(allow_newlines=True),
        ],
    )
    parent_id = HiddenField(validators=[Optional(), _whole_number])
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by bots.
    website = StringField("Leave this field empty")

    @property
    def is_bot(self):
        return bool(self.website.data)

    @property
    def parent_id_value(self):
        value = self.parent_id.data
        return int(value) if _is_id(value) else None


class StaffReplyForm(Form):
    """A reply written by someone signed in as staff: only the text. Who wrote it comes
    from the signed-in account, never from a field."""

    body = TextAreaField(
        "Your reply",
        filters=[_normalise_newlines],
        description="Published at once as Dr. Brown (the post's author) with the “Author” badge.",
        validators=[
            DataRequired("Please write your reply."),
            Length(
                max=MAX_BODY,
                message=f"Please shorten your reply to {MAX_BODY:,} characters or fewer.",
            ),
            _no_control_characters(allow_newlines=True),
        ],
    )


class ConfirmForm(Form):
    """The "confirm it's you" button: nothing but its CSRF token."""
