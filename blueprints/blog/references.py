"""A post's references as records: what a reference may hold (the editor's checks), how
it is cited (NLM/Vancouver style, with links to doi.org and PubMed), and saving a post's
list in order. The post's text cites reference N with ``[^N]`` (``core/markdown.py``).
"""

import re
from dataclasses import dataclass, fields
from urllib.parse import quote

from blueprints.blog.models import MAX_REFERENCE_YEAR, MIN_REFERENCE_YEAR, Reference
from blueprints.core.markdown import cited_numbers, render_post
from blueprints.media.library import sized_images

# The columns' sizes (models.py), so the editor refuses more rather than the database.
MAX_AUTHORS_LENGTH = 1000
MAX_REFERENCE_TITLE_LENGTH = 2000
MAX_JOURNAL_LENGTH = 300
MAX_PART_LENGTH = 30  # volume, issue, pages
MAX_DOI_LENGTH = 200
MAX_REFERENCE_URL_LENGTH = 500
# A reference list longer than this is no blog post's.
MAX_REFERENCES = 60

# Crossref's advice for modern DOIs: "10.", a registrant code of 4 to 9 digits, "/", a
# suffix. A suffix never holds spaces; the rest is the registrant's choice.
DOI_PATTERN = re.compile(r"10\.[0-9]{4,9}(?:\.[0-9]+)*/\S+")
# PubMed ids are whole numbers (eight digits today).
PMID_PATTERN = re.compile(r"[1-9][0-9]{0,9}")
# What people paste in front of the bare values; removed before checking.
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_PMID_PREFIX = re.compile(r"^(?:PMID:?\s*)", re.IGNORECASE)
_DOI_SAFE = "/:;()._-<>[]"  # kept as they are in the link; anything else is escaped


@dataclass(frozen=True)
class ReferenceData:
    """One reference as the editor (or the seed) gives it; empty text is ``""``."""

    title: str
    authors: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None


REFERENCE_FIELDS = tuple(f.name for f in fields(ReferenceData))


def clean_doi(text):
    """A DOI as typed or pasted (``doi:10.1/x``, ``https://doi.org/10.1/x``) to its bare
    form, or None when empty. Raises ValueError when it is no DOI."""
    text = _DOI_PREFIX.sub("", (text or "").strip())
    if not text:
        return None
    if len(text) > MAX_DOI_LENGTH or not DOI_PATTERN.fullmatch(text):
        raise ValueError(text)
    return text


def clean_pmid(text):
    """A PubMed id as typed (``PMID: 12052450``) to its digits, or None when empty.
    Raises ValueError when it is not a PubMed id."""
    text = _PMID_PREFIX.sub("", (text or "").strip())
    if not text:
        return None
    if not PMID_PATTERN.fullmatch(text):
        raise ValueError(text)
    return text


def clean_year(text, latest=MAX_REFERENCE_YEAR):
    """A year as typed, or None when empty. Raises ValueError unless it is a whole year
    from ``MIN_REFERENCE_YEAR`` to ``latest``."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise ValueError(text)
    year = int(text)
    if not MIN_REFERENCE_YEAR <= year <= latest:
        raise ValueError(text)
    return year


def doi_url(doi):
    """The DOI's resolver address."""
    return "https://doi.org/" + quote(doi, safe=_DOI_SAFE)


def pubmed_url(pmid):
    """The PubMed page of an article."""
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def _sentence(text):
    """``text`` ending with a full stop (or the mark it already ends with)."""
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def citation_text(ref):
    """The reference in NLM (Vancouver) style, without its identifiers:
    ``Lee D-Y, et al. Title. J Bone Metab. 2015;22(4):197-204.`` Parts it lacks are left
    out, so a book or an old free-text citation is its title alone."""
    parts = [_sentence(ref.authors), _sentence(ref.title)]
    if ref.journal:
        parts.append(_sentence(ref.journal))
    source = str(ref.year) if ref.year else ""
    if ref.volume:
        source += f";{ref.volume}" if source else ref.volume
    if ref.issue:
        source += f"({ref.issue})"
    if ref.pages:
        source += f":{ref.pages}" if source else ref.pages
    if source:
        parts.append(_sentence(source))
    return " ".join(part for part in parts if part)


@dataclass(frozen=True)
class Citation:
    """A reference as the post page lists it (number ``n``, text and links)."""

    n: int
    text: str
    doi: str | None
    pmid: str | None
    url: str | None

    @property
    def doi_url(self):
        return doi_url(self.doi) if self.doi else None

    @property
    def pubmed_url(self):
        return pubmed_url(self.pmid) if self.pmid else None


def citation(n, ref):
    """The ``Citation`` of reference number ``n`` (a row or ``ReferenceData``)."""
    return Citation(n=n, text=citation_text(ref), doi=ref.doi, pmid=ref.pmid, url=ref.url)


# --- the post's text and its list -----------------------------------------------------------


def render_body(body_md, reference_count):
    """The post's HTML: its citation marks link to its ``reference_count`` references,
    and a mark of a number beyond them is plain text."""
    return sized_images(render_post(body_md, references=reference_count))


def missing_citations(body_md, reference_count):
    """The numbers the text cites that no reference has (the editor warns of them)."""
    return [n for n in cited_numbers(body_md) if n > reference_count]


def as_reference_data(item):
    """``ReferenceData`` from what ``create_post`` takes: one already, a dict of its
    fields, a citation's text, or a ``(text, url)`` pair (an older free-text citation,
    kept whole as the title)."""
    if isinstance(item, ReferenceData):
        return item
    if isinstance(item, dict):
        return ReferenceData(**item)
    if isinstance(item, str):
        return ReferenceData(title=item)
    text, url = item
    return ReferenceData(title=text, url=url)


def set_references(post, references):
    """Make the post's list ``references`` (``ReferenceData``), in that order. Flushes
    nothing."""
    # Reuse rows by position: replacing the whole list would insert before deleting
    # and trip the (post_id, position) unique constraint.
    current = list(post.references)
    for position, ref in enumerate(references, start=1):
        values = {name: getattr(ref, name) for name in REFERENCE_FIELDS}
        if position <= len(current):
            row = current[position - 1]
            for name, value in values.items():
                setattr(row, name, value)
        else:
            post.references.append(Reference(position=position, **values))
    for row in current[len(references) :]:
        post.references.remove(row)


def reference_data_of(row):
    """The ``ReferenceData`` of a stored reference (the editor's rows)."""
    return ReferenceData(**{name: getattr(row, name) for name in REFERENCE_FIELDS})
