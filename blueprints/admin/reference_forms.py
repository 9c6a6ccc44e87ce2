"""The post editor's references and medical review: one row of fields per reference
(``ReferenceRowForm``), added, moved and removed with plain buttons so it all works
without script, and the reviewer's name. The rules they check are the blog's
(``blog/references.py``)."""

from datetime import date

from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.validators import URL, Length, Optional, ValidationError

from blueprints.blog.models import MAX_REVIEWER_LENGTH
from blueprints.blog.references import (
    MAX_AUTHORS_LENGTH,
    MAX_JOURNAL_LENGTH,
    MAX_PART_LENGTH,
    MAX_REFERENCE_TITLE_LENGTH,
    MAX_REFERENCE_URL_LENGTH,
    MAX_REFERENCES,
    REFERENCE_FIELDS,
    ReferenceData,
    clean_doi,
    clean_pmid,
    clean_year,
    missing_citations,
    reference_data_of,
)
from blueprints.core.forms import Form

# Empty rows offered under the filled ones: one more reference without a round trip.
SPARE_ROWS = 1
# The buttons that change the rows without saving: ``name`` and the value's shape.
ADD_BUTTON = "reference_add"
MOVE_BUTTON = "reference_move"  # "<row>:up", "<row>:down" or "<row>:remove"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _one_line(value):
    # The title is a text box (titles are long); a line break in it means nothing.
    return " ".join(value.split()) if isinstance(value, str) else value


def _text(label, max_length, description=None, field_class=StringField, filters=(_strip,)):
    return field_class(
        label,
        filters=list(filters),
        description=description,
        validators=[Length(max=max_length, message=f"Use at most {max_length} characters.")],
    )


def _checked(clean, message):
    """A validator that runs the blog's ``clean`` on the field and keeps its result as
    the field's value (a DOI without ``https://doi.org/``, say); ``message`` if it fails."""

    def check(form, field):
        try:
            field.cleaned = clean(field.data)
        except ValueError as error:
            raise ValidationError(message) from error

    return check


def _latest_year():
    # A paper "in press" may carry next year.
    return date.today().year + 1


class ReferenceRowForm(Form):
    """One reference. A row left empty is no reference; a filled one needs a title."""

    class Meta:
        csrf = False

    authors = _text(
        "Authors", MAX_AUTHORS_LENGTH, "Family name and initials, like: Lee D-Y, Shin SH, et al"
    )
    # Not labelled "Title": the post's own field is, and one label per page stays clear.
    title = _text(
        "Article, book or page",
        MAX_REFERENCE_TITLE_LENGTH,
        "Its title, as published.",
        field_class=TextAreaField,
        filters=(_strip, _one_line),
    )
    journal = _text("Journal", MAX_JOURNAL_LENGTH, "Abbreviated, like: J Bone Metab")
    year = StringField(
        "Year",
        filters=[_strip],
        validators=[
            _checked(
                lambda text: clean_year(text, _latest_year()),
                "Give the year as four digits, like 2015.",
            )
        ],
    )
    volume = _text("Volume", MAX_PART_LENGTH)
    issue = _text("Issue", MAX_PART_LENGTH)
    pages = _text("Pages", MAX_PART_LENGTH, "Like 197-204")
    doi = StringField(
        "DOI",
        filters=[_strip],
        description="Like 10.11005/jbm.2015.22.4.197",
        validators=[
            _checked(
                clean_doi, "A DOI starts with 10. and a slash, like 10.11005/jbm.2015.22.4.197."
            )
        ],
    )
    pmid = StringField(
        "PubMed ID (PMID)",
        filters=[_strip],
        description="Digits only, like 26713311",
        validators=[_checked(clean_pmid, "A PubMed ID is digits only, like 26713311.")],
    )
    url = StringField(
        "Web address",
        filters=[_strip],
        description="For a source with no DOI or PubMed ID.",
        validators=[
            Optional(),
            Length(max=MAX_REFERENCE_URL_LENGTH),
            URL(
                require_tld=True, message="Give a full web address, like https://example.org/page."
            ),
        ],
    )

    @property
    def is_empty(self):
        return not any(self[name].data for name in REFERENCE_FIELDS)

    def validate(self, extra_validators=None):
        if self.is_empty:
            return True
        valid = super().validate(extra_validators)
        if not self.title.data:
            self.title.errors = [*self.title.errors, "Give the reference a title."]
            valid = False
        return valid

    def reference(self):
        """The row's ``ReferenceData`` (after ``validate``)."""
        return ReferenceData(
            authors=self.authors.data or "",
            title=self.title.data,
            journal=self.journal.data or "",
            year=getattr(self.year, "cleaned", None),
            volume=self.volume.data or "",
            issue=self.issue.data or "",
            pages=self.pages.data or "",
            doi=getattr(self.doi, "cleaned", None),
            pmid=getattr(self.pmid, "cleaned", None),
            url=self.url.data or None,
        )


def reference_rows_field():
    # A new post offers two empty rows; a stored one its rows and a spare (``rows_of``).
    return FieldList(
        FormField(ReferenceRowForm),
        label="References",
        min_entries=2,
        max_entries=MAX_REFERENCES,
    )


def reviewer_field():
    return StringField(
        "Medically reviewed by",
        filters=[_strip],
        description="The reviewer's name and credentials, like: Jane Smith, MD. Give the review date too.",
        validators=[Length(max=MAX_REVIEWER_LENGTH)],
    )


class ReferencesMixin:
    """What the post form gains: its ``references`` rows and ``reviewer`` (with the
    form's ``reviewed_on``), their checks, and the values to save."""

    def validate_references(self, field):
        # Runs after each row's own checks: name the row in its messages, so the list of
        # problems at the top of the page says which reference each one is about.
        for number, row in enumerate(field, start=1):
            for sub in row.form:
                sub.errors = [f"Reference {number}: {message}" for message in sub.errors]

    def validate_reviewer(self, field):
        if field.data and self.reviewed_on.data is None and not self.reviewed_on.errors:
            raise ValidationError("Give the date of the review too.")

    def reference_records(self):
        """The filled rows' references, in the order shown."""
        return [row.form.reference() for row in self.references if not row.form.is_empty]

    def missing_citations(self):
        """The numbers the body cites that no filled row has (a warning, not an error)."""
        return missing_citations(self.body.data or "", len(self.filled_rows()))

    def filled_rows(self):
        return [row for row in self.references if not row.form.is_empty]

    def rows_of(self, references):
        """Put the stored ``references`` (rows of the post) in the form, and a spare row."""
        self.set_rows([_row_dict(reference_data_of(ref)) for ref in references])

    def set_rows(self, rows, spare=SPARE_ROWS):
        """Show ``rows`` (dicts of the fields' values) then ``spare`` empty ones."""
        field = self.references
        field.entries = []
        field.last_index = -1
        for data in [*rows, *([{}] * spare)][:MAX_REFERENCES]:
            field.append_entry(data)

    rows_rearranged = False

    def rearrange_rows(self, formdata):
        """If one of the rows' buttons was pressed (its value in ``formdata``), change the
        rows and return True: the page shows them again, nothing is saved."""
        action = ADD_BUTTON if formdata.get(ADD_BUTTON) else formdata.get(MOVE_BUTTON)
        if action is None:
            return False
        self.rows_rearranged = self.rearrange(action)
        return True

    def rearrange(self, action):
        """Apply a row button (``ADD_BUTTON``, or ``MOVE_BUTTON``'s "<row>:up|down|remove")
        to the typed rows; nothing is saved. False when ``action`` means nothing."""
        rows = [_typed_row(row.form) for row in self.references if not row.form.is_empty]
        if action == ADD_BUTTON:
            empty = sum(1 for row in self.references if row.form.is_empty)
            self.set_rows(rows, spare=empty + 1)
            return True
        index, _, verb = (action or "").partition(":")
        if not index.isdigit() or verb not in {"up", "down", "remove"}:
            return False
        # The button's row among all rows (empty ones included) -> among the filled ones.
        filled = [i for i, row in enumerate(self.references) if not row.form.is_empty]
        if int(index) not in filled:
            return False
        at = filled.index(int(index))
        if verb == "remove":
            del rows[at]
        else:
            other = at - 1 if verb == "up" else at + 1
            if 0 <= other < len(rows):
                rows[at], rows[other] = rows[other], rows[at]
        self.set_rows(rows)
        return True


def _row_dict(data):
    return {
        name: ("" if getattr(data, name) is None else str(getattr(data, name)))
        for name in REFERENCE_FIELDS
    }


def _typed_row(form):
    return {name: form[name].data or "" for name in REFERENCE_FIELDS}
