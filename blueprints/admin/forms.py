"""Staff forms: sign-in, the post editor, and comment moderation. The rules they check
(slugs, references, moderation actions) are the blog's."""

import unicodedata

from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from blueprints.admin.reference_forms import (
    ReferencesMixin,
    reference_rows_field,
    reviewer_field,
)
from blueprints.blog.editing import MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH
from blueprints.blog.moderation import ModerationAction
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


class PostForm(ReferencesMixin, Form):
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
    references = reference_rows_field()
    reviewer = reviewer_field()
    reviewed_on = DateField(
        "Review date",
        description="The day the post was last checked. Leave empty if not yet reviewed.",
        validators=[Optional()],
    )
    # --- scheduling (issue #20.3): a wall-clock time in Dr. Brown's zone, whose name the
    # view adds to the description (``with_zone``); checked by ``blog/scheduling.py``.
    publish_at = DateTimeLocalField(
        "Publish on (date and time)",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )

    def with_zone(self, zone_label):
        """Say in which zone the publishing time is read (``zone_label``: "Pacific Time")."""
        self.publish_at.description = (
            f"In {zone_label}. Fill this in and choose “Schedule” to publish the post "
            "then; leave it empty to publish by hand."
        )
        return self

    # --- end of scheduling
    # The choices are the media library's images, set by the view (``with_hero_choices``).
    hero_image = SelectField(
        "Main picture",
        description="Shown at the top of the post. Upload pictures on the Images page.",
        choices=[],
        default="",
    )

    def with_hero_choices(self, choices):
        """Offer ``choices`` ((id, label) of the library's images) as the main picture."""
        self.hero_image.choices = [SelectChoice("", "No main picture")] + [
            SelectChoice(str(image_id), label) for image_id, label in choices
        ]
        return self

    @property
    def hero_image_id(self):
        """The chosen image's id, or None (for no picture, or a value that is no id)."""
        value = self.hero_image.data
        return (
            int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None
        )


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
