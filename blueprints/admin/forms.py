"""Staff forms: sign-in, the post editor, and comment moderation. The rules they check
(slugs, references, moderation actions) are the blog's."""

import unicodedata

from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp, ValidationError

from blueprints.blog.comments import ModerationAction
from blueprints.blog.editing import (
    MAX_CITATION_LENGTH,
    MAX_SUMMARY_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    parse_references,
)
from blueprints.blog.posts import MAX_SLUG_LENGTH, SLUG_PATTERN
from blueprints.core.forms import Form


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _printable(form, field):
    # Control characters (NUL among them) cannot be in an address; PostgreSQL would
    # refuse a NUL in the lookup outright.
    if field.data and any(unicodedata.category(ch) == "Cc" for ch in field.data):
        raise ValidationError("Enter your email address without special characters.")


# What the post editor's text boxes take at most (the limits that follow the columns'
# sizes are in blueprints/blog/editing.py).
MAX_BODY_LENGTH = 200_000
MAX_TAGS_TEXT_LENGTH = 1000
MAX_REFERENCES_TEXT_LENGTH = 20_000


class LoginForm(Form):
    email = EmailField(
        "Email address",
        filters=[_strip],
        validators=[DataRequired("Enter your email address."), Length(max=254), _printable],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=1024)]
    )


def _optional_text(field_class, label, description, max_length):
    """A field that may be left empty, trimmed, of at most ``max_length`` characters."""
    return field_class(
        label, filters=[_strip], description=description, validators=[Length(max=max_length)]
    )


class PostForm(Form):
    title = StringField(
        "Title",
        filters=[_strip],
        validators=[DataRequired("Give the post a title."), Length(max=MAX_TITLE_LENGTH)],
    )
    slug = StringField(
        "Web address (slug)",
        filters=[_strip, lambda v: v.lower() if isinstance(v, str) else v],
        description=(
            "The last part of the post's address, like how-to-build-bone. Leave empty to "
            "make it from the title. Changing it on a published post breaks old links."
        ),
        validators=[
            Optional(),
            Length(max=MAX_SLUG_LENGTH),
            Regexp(
                SLUG_PATTERN,
                message="Use only lowercase letters, digits and single hyphens between words.",
            ),
        ],
    )
    summary = _optional_text(
        TextAreaField,
        "Summary",
        "One or two sentences shown in lists and search results.",
        MAX_SUMMARY_LENGTH,
    )
    body = TextAreaField(
        "Body (Markdown)",
        description=(
            "Write in Markdown: ## for a heading, **bold**, *italic*, - for a list, "
            "[text](https://example.com) for a link. Use Preview to check it."
        ),
        validators=[DataRequired("Write the body of the post."), Length(max=MAX_BODY_LENGTH)],
    )
    tags = _optional_text(
        StringField,
        "Tags",
        "Separate tags with commas, like: exercise, osteoporosis, nutrition.",
        MAX_TAGS_TEXT_LENGTH,
    )
    references = TextAreaField(
        "References",
        description="One reference per line. To link it, put its web address at the end of the line.",
        validators=[Length(max=MAX_REFERENCES_TEXT_LENGTH)],
    )
    reviewed_on = DateField(
        "Last reviewed",
        description="The date the content was last checked. Leave empty if not yet reviewed.",
        validators=[Optional()],
    )

    def validate_references(self, field):
        for ref in parse_references(field.data):
            if len(ref.citation) > MAX_CITATION_LENGTH:
                raise ValidationError(
                    f"A reference can have at most {MAX_CITATION_LENGTH} characters."
                )
            if ref.url is None:
                continue
            if len(ref.url) > MAX_URL_LENGTH:
                raise ValidationError(
                    f"A web address can have at most {MAX_URL_LENGTH} characters."
                )
            try:
                URL(require_tld=True)(self, _Value(ref.url))
            except ValidationError as exc:
                raise ValidationError(f"This web address is not valid: {ref.url}") from exc


class _Value:
    """Lets a WTForms validator check a value that is not a whole field."""

    def __init__(self, data):
        self.data = data
        self.errors = []

    def gettext(self, text):
        return text


class ModerationForm(Form):
    """The queue's bulk action; the comment ids come as repeated ``ids`` values."""

    action = SelectField(
        "With the selected comments",
        choices=[
            SelectChoice("", "Choose an action"),
            *(SelectChoice(value, label) for value, label in ModerationAction.CHOICES),
        ],
        validators=[DataRequired("Choose what to do with the selected comments.")],
    )


class CSRFOnlyForm(Form):
    """For buttons that only need the CSRF check (publish, unpublish, sign out)."""


class CodeForm(Form):
    code = StringField(
        "6-digit code from your authenticator app",
        filters=[lambda v: v.replace(" ", "").strip() if isinstance(v, str) else v],
        validators=[
            DataRequired("Enter the 6-digit code."),
            Regexp(r"^[0-9]{6}$", message="Enter the 6 digits your app shows."),
        ],
    )
