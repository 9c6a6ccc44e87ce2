"""references as records: a post's references get their parts (authors, title, journal,
year, volume, issue, pages, DOI, PMID); posts get the name of their medical reviewer

Each old free-text citation is split into parts only when the parts give back the same
text (NLM style: ``Authors. Title. Journal. 2015;22(4):197-204.``, with a ``doi:`` and a
``PMID:`` taken out as identifiers); any other citation is kept whole as the title, so no
citation loses a word. The downgrade writes each reference's text back as its citation.

Revision ID: f3b8d2a6c914
Revises: d5a8e3f21c07
Create Date: 2026-12-05 13:20:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3b8d2a6c914"
down_revision = "d5a8e3f21c07"
branch_labels = None
depends_on = None

# A DOI or a PubMed id anywhere in an old citation, with what introduces it.
_DOI = re.compile(
    r"\s*(?:doi:\s*|https?://(?:dx\.)?doi\.org/)(?P<doi>10\.[0-9]{4,9}/\S+?)\.?(?=\s|$)",
    re.IGNORECASE,
)
_PMID = re.compile(r"\s*PMID:?\s*(?P<pmid>[1-9][0-9]{0,9})\.?(?=\s|$)", re.IGNORECASE)
# Authors. Title. Journal. Year;Volume(Issue):Pages.
_NLM = re.compile(
    r"(?P<authors>[^.]+)\.\s+(?P<title>.+?[.?!])\s+(?P<journal>[^.;]+)\.\s+"
    r"(?P<year>1[6-9][0-9]{2}|20[0-9]{2});(?P<volume>[^(:;\s]+)?"
    r"(?:\((?P<issue>[^)\s]+)\))?(?::(?P<pages>[0-9A-Za-z\-–]+))?\.?"
)
_TEXT_PARTS = ("authors", "journal", "volume", "issue", "pages")


def _one_line(text):
    return " ".join((text or "").split())


def _sentence(text):
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def _nlm(parts):
    """The text the site shows for these parts (``blog/references.py`` ``citation_text``)."""
    out = [_sentence(parts["authors"]), _sentence(parts["title"])]
    if parts["journal"]:
        out.append(_sentence(parts["journal"]))
    source = str(parts["year"]) if parts["year"] else ""
    if parts["volume"]:
        source += f";{parts['volume']}" if source else parts["volume"]
    if parts["issue"]:
        source += f"({parts['issue']})"
    if parts["pages"]:
        source += f":{parts['pages']}" if source else parts["pages"]
    if source:
        out.append(_sentence(source))
    return " ".join(part for part in out if part)


def split_citation(citation):
    """The parts of an old citation (a dict of the new columns), losing nothing."""
    text = _one_line(citation)
    whole = dict.fromkeys(_TEXT_PARTS, "") | {
        "title": text,
        "year": None,
        "doi": None,
        "pmid": None,
    }
    rest = text
    doi = _DOI.search(rest)
    if doi:
        rest = rest[: doi.start()] + rest[doi.end() :]
    pmid = _PMID.search(rest)
    if pmid:
        rest = rest[: pmid.start()] + rest[pmid.end() :]
    match = _NLM.fullmatch(rest.strip())
    if match is None:
        return whole
    parts = {name: (match[name] or "").strip() for name in (*_TEXT_PARTS, "title")}
    parts["year"] = int(match["year"])
    if _nlm(parts) != rest.strip():
        return whole
    lengths = {"authors": 1000, "journal": 300, "volume": 30, "issue": 30, "pages": 30}
    if any(len(parts[name]) > size for name, size in lengths.items()):
        return whole
    parts["doi"] = doi["doi"] if doi and len(doi["doi"]) <= 200 else None
    parts["pmid"] = pmid["pmid"] if pmid else None
    if (doi and parts["doi"] is None) or (pmid and len(pmid["pmid"]) > 12):
        return whole
    return parts


def _citation_of(row):
    """The downgrade's free text: the parts as the site showed them, and the ids."""
    text = _nlm(row)
    if row["doi"]:
        text += f" doi:{row['doi']}."
    if row["pmid"]:
        text += f" PMID: {row['pmid']}."
    return text


def upgrade():
    with op.batch_alter_table("reference") as batch:
        for name, size in (("authors", 1000), ("journal", 300)):
            batch.add_column(
                sa.Column(name, sa.String(length=size), nullable=False, server_default="")
            )
        batch.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("year", sa.Integer(), nullable=True))
        for name in ("volume", "issue", "pages"):
            batch.add_column(
                sa.Column(name, sa.String(length=30), nullable=False, server_default="")
            )
        batch.add_column(sa.Column("doi", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("pmid", sa.String(length=12), nullable=True))

    conn = op.get_bind()
    reference = sa.table(
        "reference",
        sa.column("id", sa.Integer()),
        sa.column("citation", sa.Text()),
        *(sa.column(name, sa.String()) for name in (*_TEXT_PARTS, "title", "doi", "pmid")),
        sa.column("year", sa.Integer()),
    )
    rows = conn.execute(sa.select(reference.c.id, reference.c.citation)).all()
    for row in rows:
        conn.execute(
            reference.update()
            .where(reference.c.id == row.id)
            .values(**split_citation(row.citation))
        )

    # SQLite rebuilds the table for these (no trigger depends on it: the search
    # triggers are the post table's); PostgreSQL alters it in place.
    with op.batch_alter_table("reference") as batch:
        batch.alter_column("title", existing_type=sa.Text(), nullable=False)
        batch.drop_column("citation")
        batch.create_check_constraint(
            op.f("ck_reference_year_plausible"), "year IS NULL OR year BETWEEN 1600 AND 2200"
        )
        batch.create_check_constraint(op.f("ck_reference_position_positive"), "position > 0")

    # The post table only gains a column: SQLite keeps its search triggers.
    op.add_column("post", sa.Column("reviewer_name", sa.String(length=120), nullable=True))


def downgrade():
    op.drop_column("post", "reviewer_name")
    with op.batch_alter_table("reference") as batch:
        batch.add_column(sa.Column("citation", sa.Text(), nullable=True))
    conn = op.get_bind()
    columns = ("id", *_TEXT_PARTS, "title", "year", "doi", "pmid")
    reference = sa.table(
        "reference", sa.column("citation", sa.Text()), *(sa.column(name) for name in columns)
    )
    for row in conn.execute(sa.select(*(reference.c[name] for name in columns))).mappings():
        conn.execute(
            reference.update().where(reference.c.id == row["id"]).values(citation=_citation_of(row))
        )
    with op.batch_alter_table("reference") as batch:
        batch.drop_constraint(op.f("ck_reference_position_positive"), type_="check")
        batch.drop_constraint(op.f("ck_reference_year_plausible"), type_="check")
        batch.alter_column("citation", existing_type=sa.Text(), nullable=False)
        for name in ("pmid", "doi", "pages", "issue", "volume", "year", "title", "journal"):
            batch.drop_column(name)
        batch.drop_column("authors")
