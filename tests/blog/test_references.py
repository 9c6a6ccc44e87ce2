"""A post's evidence as readers see it: numbered citation marks that jump to the
references and back, links to doi.org and PubMed, the author box, the medical review."""

from datetime import UTC, datetime

import pytest

from blueprints.blog.references import (
    ReferenceData,
    citation_text,
    clean_doi,
    clean_pmid,
    clean_year,
    doi_url,
    missing_citations,
)
from blueprints.blog.seed import SPINE_REFERENCES
from blueprints.core.markdown import cited_numbers, render_post
from blueprints.pages.content import save_page
from extensions import db

# The seed post's two: Lee 2015 (DOI and PMID) and Sinaki 2002 (PMID only).
LEE, SINAKI = SPINE_REFERENCES
BODY = "Muscle goes with bone.[^1] Back exercise helps.[^2] Again the first.[^1] And [^3]."


@pytest.fixture
def cited_post(make_post):
    return make_post(
        "Strong backs",
        BODY,
        references=[LEE, SINAKI],
        reviewed_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
        reviewer_name="Jane Smith, MD",
    )


def _page(client, slug="strong-backs"):
    response = client.get(f"/blog/{slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_citation_marks_link_to_their_reference_and_the_first_mark_is_the_target(
    client, cited_post
):
    html = _page(client)
    first = (
        '<sup class="citation" id="cite-1"><a href="#ref-1" aria-label="Reference 1" '
        'rel="noopener">[1]</a></sup>'
    )
    assert first in html
    assert html.count('id="cite-1"') == 1  # the second mark of 1 links, but is no target
    assert html.count('href="#ref-1"') == 2
    assert 'id="cite-2"' in html and 'aria-label="Reference 2"' in html
    # The list: each reference under its number, with the way back to the text.
    assert '<li id="ref-1"' in html and '<li id="ref-2"' in html
    assert '<a href="#cite-1" class="ref-back">Back to the text' in html
    assert '<a href="#cite-2" class="ref-back">Back to the text' in html


def test_a_mark_without_its_reference_is_plain_text(client, cited_post):
    html = _page(client)
    assert '<sup class="citation-missing">[3]</sup>' in html
    assert 'href="#ref-3"' not in html and 'id="ref-3"' not in html


def test_references_are_cited_in_nlm_style_with_doi_and_pubmed_links(client, cited_post):
    html = _page(client)
    refs = html[html.index('class="reference-list"') :]
    assert (
        "Lee D-Y, et al. Relationship between bone mineral density and spinal muscle area "
        "in magnetic resonance imaging. J Bone Metab. 2015;22(4):197-204."
    ) in refs
    assert (
        '<a href="https://doi.org/10.11005/jbm.2015.22.4.197" rel="noopener">'
        "doi:10.11005/jbm.2015.22.4.197</a>"
    ) in refs
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/26713311/" rel="noopener">' in refs
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/12052450/" rel="noopener">' in refs
    assert refs.index("Lee D-Y") < refs.index("Sinaki M")
    # Search engines get the same list.
    assert '"citation": [{"@type": "CreativeWork"' in html
    assert '"url": "https://doi.org/10.11005/jbm.2015.22.4.197"' in html


def test_the_review_line_names_the_reviewer_and_the_day_in_dr_browns_zone(client, cited_post):
    # 17:00 UTC on 2 March is noon in New York; a reader's own zone does not move it.
    client.set_cookie("tz", "Pacific/Kiritimati")
    html = _page(client)
    assert 'Medically reviewed by <span class="reviewer">Jane Smith, MD</span> on' in html
    assert ">2 March 2026</time>" in html
    assert "Last reviewed" not in html


def test_a_review_date_without_a_reviewer_stays_last_reviewed(client, make_post):
    make_post("Plain", reviewed_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    html = _page(client, "plain")
    assert "Last reviewed" in html and "Medically reviewed" not in html


def test_every_post_has_the_author_box_from_the_about_page(app, client, make_post):
    make_post("No references")
    html = _page(client, "no-references")
    box = html[html.index('class="author-box"') : html.index("</aside>", html.index("author-box"))]
    assert "Dr. Susan E. Brown, PhD" in box
    assert "medical anthropologist and certified nutritionist" in box
    assert 'href="/about"' in box and "About Dr. Susan E. Brown" in box
    assert 'src="/static/img/author-placeholder.svg' in box and 'alt=""' in box


def test_editing_the_about_page_changes_the_author_box_of_cached_posts(app, client, make_post):
    app.config.update(PAGE_CACHE=True)
    make_post("Cached")
    assert "medical anthropologist" in _page(client, "cached")
    save_page("about", "About Dr. Brown", "Dr. Brown teaches **bone health** to women.\n")
    db.session.commit()
    html = _page(client, "cached")
    assert "Dr. Brown teaches bone health to women." in html
    assert ">About Dr. Brown</a>" in html


# --- the rules, without pages ---------------------------------------------------------------


def test_marks_are_the_footnote_syntax_never_a_markdown_link():
    html = render_post("A [link](https://x.example) and [1] and [^1] and `[^2]`.", 1)
    assert '<a href="https://x.example" rel="noopener">link</a>' in html
    assert " and [1] and " in html  # square brackets alone stay text
    assert 'href="#ref-1"' in html and "<code>[^2]</code>" in html
    assert cited_numbers("[^2] then [^1] then [^2]") == [2, 1]
    assert missing_citations("[^1] [^2] [^4]", 2) == [4]


def test_marks_cannot_smuggle_attributes_through_the_sanitiser():
    # Raw HTML is not passed through: only the renderer writes ids and labels.
    html = render_post('<sup id="cite-1" class="x" onclick="y">z</sup>', 1)
    assert "<sup" not in html


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("10.11005/jbm.2015.22.4.197", "10.11005/jbm.2015.22.4.197"),
        ("doi: 10.1016/S8756-3282(02)00739-1", "10.1016/S8756-3282(02)00739-1"),
        ("https://doi.org/10.1000/xyz123", "10.1000/xyz123"),
        ("", None),
    ],
)
def test_dois_as_people_paste_them(typed, clean):
    assert clean_doi(typed) == clean


@pytest.mark.parametrize("typed", ["11.1000/x", "10.12/x", "10.1000/", "10.1000/a b", "jbm.2015"])
def test_what_is_no_doi_is_refused(typed):
    with pytest.raises(ValueError):
        clean_doi(typed)


def test_pubmed_ids_and_years():
    assert clean_pmid("PMID: 12052450") == "12052450"
    assert clean_year("2015") == 2015
    for bad_pmid in ("1205x450", "0123", "-5"):
        with pytest.raises(ValueError):
            clean_pmid(bad_pmid)
    for bad_year in ("15", "1066", "3000", "２０１５"):
        with pytest.raises(ValueError):
            clean_year(bad_year)


def test_a_source_with_only_a_title_is_its_title():
    assert citation_text(ReferenceData(title="Better Bones, Better Body")) == (
        "Better Bones, Better Body."
    )
    assert doi_url("10.1/a b#c") == "https://doi.org/10.1/a%20b%23c"


def test_the_feed_resolves_citation_marks_against_the_post_page(client, cited_post):
    feed = client.get("/blog/feed.xml").get_data(as_text=True)
    assert '<content type="html" xml:base="http://localhost/blog/strong-backs">' in feed
    assert "href=&#34;#ref-1&#34;" in feed or "href=&quot;#ref-1&quot;" in feed


def test_the_about_pages_photo_is_the_author_boxs_and_is_kept_while_used(app, client, make_post):
    from blueprints.media.library import add_image, markdown_for
    from blueprints.media.uses import image_uses
    from tests.media.conftest import image_bytes

    photo = add_image(image_bytes(), filename="susan.jpg", alt_text="Dr. Brown smiling").image
    save_page("about", "About Dr. Brown", f"{markdown_for(photo)}\n\nShe teaches bone health.\n")
    db.session.commit()
    make_post("With photo")
    html = _page(client, "with-photo")
    box = html[html.index('class="author-box"') : html.index("</aside>", html.index("author-box"))]
    assert '<picture class="author-photo">' in box and 'alt="Dr. Brown smiling"' in box
    assert "She teaches bone health." in box and "author-placeholder" not in box
    assert image_uses(photo.id) == [
        "the page “About Dr. Brown” (and the author box under every post)"
    ]
