"""The one base of every form, public and staff, and the field rules they share.

Whatever a field is, ``Form`` checks what was typed into it before anything else does:
- no control characters. PostgreSQL refuses a NUL in text outright (the insert fails, the
  page would be a 500), and a line break in a field that reaches an email header (a name,
  a subject) would add a header of the sender's choosing. Only a ``TextAreaField`` may
  hold CR, LF and tab;
- a date in ``CALENDAR_YEARS``: year 1 or 9999 overflows the first sum or change of zone;
- a whole number that fits a PostgreSQL INTEGER, so a 20-digit stock is a form error,
  never a DataError.
Amounts of money are typed as plain dollars (``Dollars``): no Infinity, NaN or exponent,
whole cents, at most ``MAX_DOLLARS``.
"""

import re
import unicodedata
from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FloatField, IntegerField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import Optional, StopValidation, ValidationError

from blueprints.core.types import CALENDAR_YEARS, MAX_INTEGER

# Where a line may end in a multi-line answer; everything else of category Cc is refused.
_LINE_ENDINGS = frozenset("\r\n\t")
# Unicode's own line and paragraph separators break a header line as surely as CR/LF.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})

# The most a price or a refund may be; in cents it fits an INTEGER column with room.
MAX_DOLLARS = 1_000_000
# Dollars as people type them: 25, 25.5, 1,234.50, $109.00. No sign, no exponent.
_DOLLARS = re.compile(r"\$?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# Longer than this is no amount a shop takes; shorter keeps the decimal sums exact.
_MAX_DOLLARS_TEXT = 24


def has_control_characters(text, multiline=False):
    """True when ``text`` holds a control character (or a line break, unless
    ``multiline``, which allows CR, LF and tab)."""
    allowed = _LINE_ENDINGS if multiline else frozenset()
    return any(unicodedata.category(ch) in _REFUSED_CATEGORIES and ch not in allowed for ch in text)


def _typed(field):
    """What was typed into ``field`` (every value sent), and its data if that is text."""
    values = [v for v in (field.raw_data or ()) if isinstance(v, str)]
    if isinstance(field.data, str):
        values.append(field.data)
    return values


class PlainText:
    """Refuses control characters (and line breaks, unless ``multiline``) with
    ``message``, and stops the field's other checks: none of them sees such text.

    ``Form`` puts one first on every field; give one in a field's validators to choose
    that field's message (it then takes the first place instead).
    """

    def __init__(self, message=None, multiline=False):
        self.multiline = multiline
        self.message = message or (
            "This answer holds a character we cannot store. Please remove it."
            if multiline
            else "Please write this on one line, without special characters."
        )

    def __call__(self, form, field):
        if any(has_control_characters(text, self.multiline) for text in _typed(field)):
            # A value the field could not even read already carries its message.
            raise StopValidation(None if field.errors else self.message)


class InCalendar:
    """A date (or date and time) in ``CALENDAR_YEARS``; stops the field's later checks,
    which may add days or change zones."""

    def __init__(self, message=None):
        first, last = CALENDAR_YEARS[0], CALENDAR_YEARS[-1]
        self.message = message or f"Please give a date between the years {first} and {last}."

    def __call__(self, form, field):
        if isinstance(field.data, date) and field.data.year not in CALENDAR_YEARS:
            raise StopValidation(self.message)


class FitsInteger:
    """A number an INTEGER column holds. Last in the field's checks: a field's own range
    (and its message) comes first, this only catches what nothing else bounded."""

    message = f"Please give a number between {-MAX_INTEGER:,} and {MAX_INTEGER:,}."

    def __call__(self, form, field):
        value = field.data
        if value is None or field.errors:
            return
        if value != value or not -MAX_INTEGER <= value <= MAX_INTEGER:  # NaN != NaN
            raise StopValidation(self.message)


def parse_dollars(text):
    """The cents in an amount typed in dollars ("25", "$1,234.50"), or None when it is
    not plain dollars and whole cents (a sign, an exponent, Infinity, NaN, "5,00")."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if len(text) > _MAX_DOLLARS_TEXT or not _DOLLARS.fullmatch(text):
        return None
    cents = Decimal(text.lstrip("$").replace(",", "")) * 100
    if cents != cents.to_integral_value():
        return None
    return int(cents)


class Dollars:
    """The field is an amount in dollars and cents, above zero if ``positive``, at most
    ``maximum`` dollars."""

    def __init__(self, message, positive=False, maximum=MAX_DOLLARS):
        self.message = message
        self.positive = positive
        self.maximum = maximum

    def __call__(self, form, field):
        cents = parse_dollars(field.data)
        if cents is None or (self.positive and cents <= 0):
            raise ValidationError(self.message)
        if cents > self.maximum * 100:
            raise ValidationError(f"Please give an amount of at most ${self.maximum:,}.")


def _shared_checks(field):
    """``field``'s validators with the shared checks in their places."""
    own = list(field.validators)
    text = next((v for v in own if isinstance(v, PlainText)), None)
    text = text or PlainText(multiline=isinstance(field, TextAreaField))
    first = [text]
    if not any(isinstance(v, InCalendar) for v in own):
        first.append(InCalendar())  # does nothing to a field whose data is not a date
    rest = [v for v in own if not isinstance(v, PlainText)]
    last = [FitsInteger()] if isinstance(field, IntegerField | DecimalField | FloatField) else []
    return [*first, *rest, *last]


class Form(FlaskForm):
    """The base of every form on the site: see the module's docstring."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if not isinstance(field, CSRFTokenField):  # its own check refuses any change
                # A new list: the one given belongs to the class and is shared.
                field.validators = _shared_checks(field)
            return field


class DayRangeForm(Form):
    """A range of days in Dr. Brown's zone, both included, either may be left empty (a
    GET form: it changes nothing, so no CSRF token). Staff's lists of money by day (the
    orders, the consultation payments) take it as ``first_day`` and ``last_day``."""

    class Meta:
        csrf = False

    first_day = DateField(
        "From (day)",
        description="Days as Dr. Brown's calendar shows them; both days are included.",
        validators=[Optional()],
    )
    last_day = DateField("To (day)", validators=[Optional()])

    def validate_last_day(self, field):
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError("The last day comes before the first: please swap them.")
