"""The media library's forms: an upload with its description, and a new description."""

from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from blueprints.core.forms import Form
from blueprints.media.models import MAX_ALT_TEXT_LENGTH


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _alt_text_field():
    return StringField(
        "Description for people who cannot see the image (alt text)",
        filters=[_strip],
        description=(
            "Say in one sentence what the picture shows, for example: Dr. Brown "
            "lifting a light dumbbell in her kitchen."
        ),
        validators=[
            DataRequired("Describe the image: screen readers read this aloud."),
            Length(max=MAX_ALT_TEXT_LENGTH),
        ],
    )


class UploadForm(Form):
    image = FileField(
        "Image file",
        description="A JPEG, PNG or WebP photo of at most 10 MB.",
        validators=[FileRequired("Choose an image file to upload.")],
    )
    alt_text = _alt_text_field()


class AltTextForm(Form):
    alt_text = _alt_text_field()
