"""Text a public form may store: no control characters.

PostgreSQL refuses a NUL in text outright (the insert fails, the page would be a 500),
and a line break in a field that reaches an email header (a name, a subject) would add
a header of the sender's choosing. A form field refuses them with a message instead.
"""

import unicodedata

from wtforms.validators import ValidationError

# Where a line may end in a multi-line answer; everything else of category Cc is refused.
_LINE_ENDINGS = frozenset("\r\n\t")
# Unicode's own line and paragraph separators break a header line as surely as CR/LF.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def has_control_characters(text, multiline=False):
    """True when ``text`` holds a control character (or a line break, unless
    ``multiline``, which allows CR, LF and tab)."""
    allowed = _LINE_ENDINGS if multiline else frozenset()
    return any(unicodedata.category(ch) in _REFUSED_CATEGORIES and ch not in allowed for ch in text)


class PlainText:
    """A WTForms validator refusing control characters (and line breaks, unless
    ``multiline``) with ``message``."""

    def __init__(self, message=None, multiline=False):
        self.multiline = multiline
        self.message = message or (
            "This answer holds a character we cannot store. Please remove it."
            if multiline
            else "Please write this on one line, without special characters."
        )

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control_characters(field.data, self.multiline):
            raise ValidationError(self.message)
