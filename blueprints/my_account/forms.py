"""The buttons and fields of her account pages (``/account/``): her name, her newsletter,
a lesson marked done."""

from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

# The comment form's name: the name she keeps here is the one it fills in.
from blueprints.blog.forms import MAX_NAME, name_field
from blueprints.core.forms import Form


class NameForm(Form):
    """Her name, as the comment form fills it in and staff see it."""

    name = name_field(maxlength=MAX_NAME, autocomplete="name")


NEWSLETTER_ACTIONS = ("subscribe", "pause", "resume", "unsubscribe")


class LessonProgressForm(Form):
    """Mark a lesson done ("yes") or not done again ("no")."""

    done = HiddenField(validators=[InputRequired(), AnyOf(("yes", "no"))])


class NewsletterChoiceForm(Form):
    """One of the newsletter buttons: each sends its own ``action``."""

    action = HiddenField(validators=[InputRequired(), AnyOf(NEWSLETTER_ACTIONS)])
