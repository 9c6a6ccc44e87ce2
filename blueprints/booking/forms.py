"""Booking forms: the client's details and intake questions, and staff availability."""

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from blueprints.booking.meetings import BAD_MEETING_URL, MAX_MEETING_URL_LENGTH, is_meeting_url
from blueprints.core.forms import Form, PlainText
from blueprints.core.timezones import current_zone_name, parse_zone


def current_name(value):
    """Asia/Calcutta (an old name her browser may still send) is kept as Asia/Kolkata;
    anything unknown is left for ``known_zone`` to refuse."""
    return current_zone_name(value) or value


def known_zone(form, field):
    if field.data and parse_zone(field.data) is None:
        raise ValidationError("Please choose your time zone from the list.")


AGE_RANGES = [
    ("", "Choose one"),
    ("under-50", "Under 50"),
    ("50-59", "50 to 59"),
    ("60-69", "60 to 69"),
    ("70-79", "70 to 79"),
    ("80-plus", "80 or over"),
    ("not-said", "I would rather not say"),
]


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class BookingForm(Form):
    slot = HiddenField(validators=[DataRequired(message="Please choose a time.")])
    # The name reaches the staff email's headers: one line, nothing that could end it.
    name = StringField(
        "Your name",
        validators=[
            DataRequired(message="Please tell us your name."),
            Length(max=120),
            PlainText("Please give your name on one line, without special characters."),
        ],
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired(message="Please give your email address."),
            Email(
                message="Please check your email address: it should look like name@example.com.",
                check_deliverability=False,
            ),
            Length(max=254),
            PlainText(),
        ],
    )
    phone = TelField(
        "Phone number",
        description="With the country code if you live outside the USA, e.g. +44 20 7946 0000.",
        validators=[
            DataRequired(message="Please give a phone number, in case the call needs it."),
            Length(max=40),
            PlainText(),
            Regexp(
                r"^\+?[0-9 ()\-.]{6,40}$", message="Please use only digits, spaces and + ( ) -."
            ),
        ],
    )
    # Rendered with the same list as every booking page (display.zone_choices, set by
    # the view); any zone of the full list is accepted.
    timezone = SelectField(
        "Your time zone",
        description="We show times, and send your invitation, in this zone.",
        validate_choice=False,
        filters=[current_name],
        validators=[DataRequired(message="Please choose your time zone."), known_zone],
    )
    call_type = RadioField(
        "How would you like to talk?",
        validators=[InputRequired(message="Please choose phone or video.")],
    )
    age_range = SelectField("Your age", choices=AGE_RANGES, validators=[Optional()])
    t_scores = StringField(
        "Your most recent DEXA T-scores, if you know them",
        description="For example: spine -2.6, hip -2.1 (2025).",
        validators=[Optional(), Length(max=200), PlainText()],
    )
    fractures = TextAreaField(
        "Any fractures, and when",
        validators=[Optional(), Length(max=2000), PlainText(multiline=True)],
    )
    medications = TextAreaField(
        "Bone medications you take now",
        validators=[Optional(), Length(max=2000), PlainText(multiline=True)],
    )
    goals = TextAreaField(
        "What would you like from the consultation?",
        validators=[Optional(), Length(max=4000), PlainText(multiline=True)],
    )
    accept_policy = BooleanField(
        "I have read and accept the cancellation policy",
        validators=[DataRequired(message="Please accept the cancellation policy to continue.")],
    )

    def __init__(self, *args, ctype=None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"phone": "Phone call", "video": "Video call"}
        types = ctype.call_types if ctype else []
        self.call_type.choices = [SelectChoice(t.value, labels[t.value]) for t in types]
        if len(self.call_type.choices) == 1 and not self.call_type.data:
            self.call_type.data = self.call_type.choices[0].value


class RescheduleForm(Form):
    slot = HiddenField(validators=[DataRequired(message="Please choose a time.")])


class WeeklyHoursForm(Form):
    weekday = SelectField("Day", choices=[SelectChoice(str(i), d) for i, d in enumerate(WEEKDAYS)])
    start_time = TimeField("From", validators=[InputRequired(message="Please give a start time.")])
    end_time = TimeField("Until", validators=[InputRequired(message="Please give an end time.")])

    def validate_end_time(self, field):
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError("The end must be after the start.")


class OverrideForm(Form):
    on_date = DateField("Date", validators=[InputRequired(message="Please give a date.")])
    day_off = BooleanField("Day off (no consultations that day)")
    start_time = TimeField("From", validators=[Optional()])
    end_time = TimeField("Until", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=200), PlainText()])

    def validate(self, extra_validators=None):
        """The times are checked together, after each field's own checks: an empty
        (Optional) time stops its field's checks, so a ``validate_end_time`` never saw
        a missing end and the database refused the row instead."""
        valid = super().validate(extra_validators)
        if self.day_off.data or self.start_time.errors or self.end_time.errors:
            return valid
        if not self.start_time.data or not self.end_time.data:
            self.end_time.errors.append("Give both times, or tick day off.")
            return False
        if self.end_time.data <= self.start_time.data:
            self.end_time.errors.append("The end must be after the start.")
            return False
        return valid


class BlockForm(Form):
    on_date = DateField("Date", validators=[InputRequired(message="Please give a date.")])
    start_time = TimeField("From", validators=[InputRequired(message="Please give a start time.")])
    end_date = DateField(
        "Until date",
        validators=[Optional()],
        description="Leave empty for the same day.",
    )
    end_time = TimeField("Until", validators=[InputRequired(message="Please give an end time.")])
    reason = StringField(
        "Reason (staff only)", validators=[Optional(), Length(max=200), PlainText()]
    )


def _meeting_url(form, field):
    if field.data and not is_meeting_url(field.data.strip()):
        raise ValidationError(BAD_MEETING_URL)


class MeetingLinkForm(Form):
    """Staff give one video consultation its own meeting link (empty: the default room)."""

    meeting_url = URLField(
        "Meeting link",
        validators=[Optional(), Length(max=MAX_MEETING_URL_LENGTH), _meeting_url],
        description="The https address the client opens to join. Leave empty to use the "
        "usual room.",
    )


class UsualRoomForm(Form):
    """Staff set the practice's usual video room (empty: there is none)."""

    meeting_url = URLField(
        "Usual video room",
        validators=[Optional(), Length(max=MAX_MEETING_URL_LENGTH), _meeting_url],
        description="The https address clients open to join a video consultation that has "
        "no link of its own, for example https://zoom.us/j/123456789. Leave empty if there "
        "is no usual room: clients are then told the link will follow by email. Clients "
        "already booked keep the room they were sent; new bookings get this one.",
    )
